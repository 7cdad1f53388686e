/**
 * OpenAI tool call ids for Gemini function calls, and back.
 *
 * A Gemini function call may carry an id of its own and, on thinking models, a `thoughtSignature`
 * that must come back with the call on the next turn (Gemini 3 rejects the request without it).
 * An OpenAI client keeps nothing of a tool call but its id, so the id carries both, reversibly:
 *
 *   call_<key>                             neither (older models): nothing to send back
 *   gm1_<base64url of {"k","id"?,"sig"?}>  an upstream id and/or a thought signature
 *
 * Both forms use only [A-Za-z0-9_-], so they survive clients that restrict id characters. The key
 * is derived from the request and the call's position: the same answer gets the same ids.
 */
import { createHash } from 'node:crypto'

const ENVELOPE = 'gm1_'

/** What a Gemini function call part needs back on a later turn. */
export interface GeminiCallRef {
  id?: string
  thoughtSignature?: string
}

interface Envelope {
  k: string
  id?: string
  sig?: string
}

/** The OpenAI id for a function call; `seed` names the call uniquely (request, candidate, position). */
export function toolCallId(seed: string, ref: GeminiCallRef): string {
  const key = createHash('sha256').update(seed).digest('base64url').slice(0, 24)
  if (!ref.id && !ref.thoughtSignature) return `call_${key}`
  const envelope: Envelope = { k: key, id: ref.id, sig: ref.thoughtSignature }
  return ENVELOPE + Buffer.from(JSON.stringify(envelope)).toString('base64url')
}

/** What an OpenAI tool call id carries for Gemini; nothing for ids minted elsewhere. */
export function callRefOf(toolCallId: string): GeminiCallRef {
  if (!toolCallId.startsWith(ENVELOPE)) return {}
  try {
    const envelope = JSON.parse(Buffer.from(toolCallId.slice(ENVELOPE.length), 'base64url').toString('utf8')) as Partial<Envelope>
    return {
      id: typeof envelope.id === 'string' ? envelope.id : undefined,
      thoughtSignature: typeof envelope.sig === 'string' ? envelope.sig : undefined,
    }
  } catch {
    return {}
  }
}
