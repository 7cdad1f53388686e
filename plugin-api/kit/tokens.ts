/** The admission estimate of a request's tokens: ceil(UTF-8 bytes / 4), linear and cheap; actual usage corrects it afterwards. */
import type { ChatRequest, EmbeddingRequest } from '../unified.ts'
import type { Operation, TokenEstimate } from '../types.ts'

const BYTES_PER_TOKEN = 4

// ---------------------------------------------------------------------------------------------
// estimates, for admission

/** ceil(UTF-8 bytes / 4) of `text`. */
export function estimateTextTokens(text: string): number {
  return text ? Math.ceil(Buffer.byteLength(text, 'utf8') / BYTES_PER_TOKEN) : 0
}

/** The admission estimate of a model call: its prompt's bytes / 4, and the most its answer may use (max_tokens × n). */
export function estimateTokens(operation: Operation, request: ChatRequest | EmbeddingRequest): TokenEstimate {
  if (operation === 'embeddings') return { prompt: estimateEmbeddingTokens(request as EmbeddingRequest), completion: 0 }
  const chat = request as ChatRequest
  const bound = positive(chat.max_completion_tokens) ?? positive(chat.max_tokens) ?? 0
  return { prompt: estimatePromptTokens(chat), completion: bound * (positive(chat.n) ?? 1) }
}

/**
 * An embeddings request's inputs, one per embedding it is answered: a text, or a text as token ids.
 * `[1, 2, 3]` is one input (one tokenised text), `[[1, 2], [3]]` and `['a', 'b']` two each.
 */
export function embeddingInputs(input: EmbeddingRequest['input']): ReadonlyArray<string | readonly number[]> {
  if (!Array.isArray(input)) return [input]
  const items = input as ReadonlyArray<string | number | readonly number[]>
  return items.length > 0 && items.every((i) => typeof i === 'number') ? [items as readonly number[]] : (items as ReadonlyArray<string | readonly number[]>)
}

/** Estimated tokens of an embeddings request's inputs (token-id inputs count as given). */
function estimateEmbeddingTokens(request: EmbeddingRequest): number {
  let prompt = 0
  for (const item of embeddingInputs(request.input)) prompt += typeof item === 'string' ? estimateTextTokens(item) : Array.isArray(item) ? item.length : 0
  return prompt
}

const positive = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined)

/** ceil(UTF-8 bytes / 4) of a chat request's prompt text (messages, names, tool calls, tools). */
export function estimatePromptTokens(req: ChatRequest): number {
  return estimateTexts(promptTexts(req))
}

export function estimateTexts(texts: readonly string[]): number {
  let bytes = 0
  for (const text of texts) bytes += Buffer.byteLength(text, 'utf8')
  return Math.ceil(bytes / BYTES_PER_TOKEN)
}

/** The texts of a chat request a tokenizer reads: message contents and text parts, names, tool calls, the tools. */
export function promptTexts(req: ChatRequest): string[] {
  const texts: string[] = []
  for (const message of req.messages) {
    const content = (message as { content?: unknown }).content
    if (typeof content === 'string') texts.push(content)
    else if (Array.isArray(content)) {
      for (const part of content as { type?: string; text?: string }[]) if (part.type === 'text' && part.text) texts.push(part.text)
    }
    const name = (message as { name?: string }).name
    if (name) texts.push(name)
    for (const call of (message as { tool_calls?: { function?: { name?: string; arguments?: string } }[] }).tool_calls ?? []) {
      texts.push(`${call.function?.name ?? ''}${call.function?.arguments ?? ''}`)
    }
  }
  if (req.tools?.length) texts.push(JSON.stringify(req.tools))
  return texts
}

