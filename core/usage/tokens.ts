/**
 * Counting tokens when a provider reports none (a stream aborted or ended without usage): a real
 * BPE tokenizer (js-tiktoken, o200k_base — the encoding of current OpenAI models), never a
 * character heuristic. For other providers' models it is an estimate from a real tokenizer; the
 * usage event records it the same way, as the provider did not give its own count.
 */
import type { Tiktoken } from 'js-tiktoken/lite'
import type { ChatRequest } from '../api/types.ts'

let encoder: Promise<Tiktoken> | undefined

/** Loaded on first use: the rank table is a few MB and most requests never need it. */
function getEncoder(): Promise<Tiktoken> {
  encoder ??= Promise.all([import('js-tiktoken/lite'), import('js-tiktoken/ranks/o200k_base')]).then(
    ([{ Tiktoken }, ranks]) => new Tiktoken((ranks as unknown as { default: ConstructorParameters<typeof Tiktoken>[0] }).default),
  )
  return encoder
}

/** Per-message overhead of the chat format (role and separators), as OpenAI counts it. */
const TOKENS_PER_MESSAGE = 3
const TOKENS_PER_REPLY = 3

export async function countTokens(text: string): Promise<number> {
  if (!text) return 0
  return (await getEncoder()).encode(text).length
}

/** Prompt tokens of a chat request: each message's text, name and tool calls, plus the format's overhead. */
export async function countPromptTokens(req: ChatRequest): Promise<number> {
  const enc = await getEncoder()
  let tokens = TOKENS_PER_REPLY
  for (const message of req.messages) {
    tokens += TOKENS_PER_MESSAGE
    const content = (message as { content?: unknown }).content
    if (typeof content === 'string') tokens += enc.encode(content).length
    else if (Array.isArray(content)) {
      for (const part of content as { type?: string; text?: string }[]) if (part.type === 'text' && part.text) tokens += enc.encode(part.text).length
    }
    const name = (message as { name?: string }).name
    if (name) tokens += enc.encode(name).length + 1
    for (const call of (message as { tool_calls?: { function?: { name?: string; arguments?: string } }[] }).tool_calls ?? []) {
      tokens += enc.encode(`${call.function?.name ?? ''}${call.function?.arguments ?? ''}`).length
    }
  }
  if (req.tools?.length) tokens += enc.encode(JSON.stringify(req.tools)).length
  return tokens
}
