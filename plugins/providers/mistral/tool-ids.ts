/**
 * Tool call ids in the form Mistral accepts: exactly nine characters from [a-zA-Z0-9]. An id of
 * another form (OpenAI's `call_...`, another provider's) is replaced by a digest of itself, so an
 * assistant's tool call and the tool result that answers it still share one id, with no state.
 * Mistral's own ids pass unchanged, in both directions.
 */
import { createHash } from 'node:crypto'

const MISTRAL_ID = /^[a-zA-Z0-9]{9}$/
const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

export function toMistralToolCallId(id: string): string {
  if (MISTRAL_ID.test(id)) return id
  const digest = createHash('sha256').update(id).digest()
  let out = ''
  for (let i = 0; i < 9; i++) out += ALPHABET[digest[i]! % ALPHABET.length]
  return out
}
