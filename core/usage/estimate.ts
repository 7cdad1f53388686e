/**
 * A cheap, bounded token estimate for admission (limits, budgets): a quarter of the prompt's UTF-8
 * bytes, plus the most the answer may use. It never runs a tokenizer, so a huge prompt costs a
 * byte count, not seconds of BPE on the event loop; the actual usage corrects it afterwards.
 */
import type { ChatRequest, EmbeddingRequest } from '../api/types.ts'
import type { Operation, TokenEstimate } from '../plugins/types.ts'

const BYTES_PER_TOKEN = 4
/** Per-message overhead of the chat format (role and separators), as OpenAI counts it. */
const TOKENS_PER_MESSAGE = 3

export function estimateTokens(operation: Operation, request: ChatRequest | EmbeddingRequest): TokenEstimate {
  if (operation === 'embeddings') return { prompt: embeddingBytes(request as EmbeddingRequest), completion: 0 }
  const chat = request as ChatRequest
  let bytes = 0
  let overhead = 0
  for (const message of chat.messages ?? []) {
    overhead += TOKENS_PER_MESSAGE
    bytes += contentBytes((message as { content?: unknown }).content)
    for (const call of (message as { tool_calls?: { function?: { name?: string; arguments?: string } }[] }).tool_calls ?? []) {
      bytes += byteLength(call.function?.name) + byteLength(call.function?.arguments)
    }
  }
  if (chat.tools?.length) bytes += byteLength(JSON.stringify(chat.tools))
  const bound = positive(chat.max_completion_tokens) ?? positive(chat.max_tokens) ?? 0
  return { prompt: Math.ceil(bytes / BYTES_PER_TOKEN) + overhead, completion: bound * (positive(chat.n) ?? 1) }
}

function embeddingBytes(request: EmbeddingRequest): number {
  const inputs: unknown[] = Array.isArray(request.input) ? request.input : [request.input]
  let tokens = 0
  for (const input of inputs) {
    if (typeof input === 'string') tokens += Math.ceil(byteLength(input) / BYTES_PER_TOKEN)
    // Token ids count as given.
    else if (Array.isArray(input)) tokens += input.length
  }
  return tokens
}

function contentBytes(content: unknown): number {
  if (typeof content === 'string') return byteLength(content)
  if (!Array.isArray(content)) return 0
  let bytes = 0
  for (const part of content as { type?: string; text?: string }[]) if (part?.type === 'text') bytes += byteLength(part.text)
  return bytes
}

const byteLength = (text: string | undefined): number => (typeof text === 'string' ? Buffer.byteLength(text, 'utf8') : 0)
const positive = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined)
