/**
 * Mistral's wire as JSON, both ways, without the SDK's zod schemas: they cost 0.1-3 ms of CPU a
 * request to write (more the longer the conversation) and ~15 µs an answer or streamed event to
 * read (bench/RESULTS.md), against a few µs for JSON itself. Requests are typed by the SDK's own
 * wire types (request.ts); answers are read here as the API reference gives them (snake_case),
 * checked for what the gateway reads, and anything else is left alone.
 */
import type { ChatCompletionRequest$Outbound } from '@mistralai/mistralai/models/components/chatcompletionrequest.js'
import type { EmbeddingRequest$Outbound } from '@mistralai/mistralai/models/components/embeddingrequest.js'
import { requestNotSent, upstreamError } from '../../../plugin-api/index.ts'
import { DONE, type EventData } from '../kit/wire-client.ts'

const MAX_MESSAGE = 1000

/** A content chunk of an answer: `text`, `thinking` (a reasoning model's notes, as chunks of their own), and others the gateway skips. */
export interface WireContentChunk {
  readonly type: string
  readonly text?: string
  readonly thinking?: readonly WireContentChunk[]
}

export interface WireToolCall {
  readonly id?: string | null
  readonly type?: string
  readonly function: { readonly name: string; readonly arguments: string | Record<string, unknown> }
  readonly index?: number
}

export interface WireMessage {
  readonly role?: string | null
  readonly content?: string | readonly WireContentChunk[] | null
  readonly tool_calls?: readonly WireToolCall[] | null
}

export interface WireUsage {
  readonly prompt_tokens?: number
  readonly completion_tokens?: number
  readonly total_tokens?: number
  /** A prompt cache hit. */
  readonly prompt_tokens_details?: { readonly cached_tokens?: number } | null
}

/** A chat completion as Mistral answers it. */
export interface WireCompletion {
  readonly id: string
  readonly model: string
  readonly created: number
  readonly choices: readonly { readonly index: number; readonly message?: WireMessage | null; readonly finish_reason: string }[]
  readonly usage?: WireUsage
}

/** One streamed chunk (the last one carries the usage). */
export interface WireCompletionChunk {
  readonly id: string
  readonly model: string
  readonly created?: number
  readonly choices: readonly { readonly index: number; readonly delta?: WireMessage | null; readonly finish_reason?: string | null }[]
  readonly usage?: WireUsage | null
}

export interface WireEmbeddings {
  readonly model: string
  readonly data: readonly { readonly index?: number; readonly embedding?: readonly number[] }[]
  readonly usage?: WireUsage
}

/** A request as JSON text. Serialising an over-deep value overflows the stack: nothing was sent then. */
function written(provider: string, body: ChatCompletionRequest$Outbound | EmbeddingRequest$Outbound): string {
  try {
    return JSON.stringify(body)
  } catch (err) {
    throw requestNotSent(provider, err)
  }
}

export const chatRequestJson = (request: ChatCompletionRequest$Outbound, provider: string): string => written(provider, request)
export const embeddingRequestJson = (request: EmbeddingRequest$Outbound, provider: string): string => written(provider, request)

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** An answer that is not what the API reference says is the upstream's fault. */
function unreadable(provider: string, what: string, cause?: unknown): Error {
  return upstreamError(502, `unreadable answer: ${what.slice(0, MAX_MESSAGE)}`, { provider, cause })
}

function parsed(text: string, provider: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw unreadable(provider, (err as Error).message, err)
  }
  if (!isRecord(value)) throw unreadable(provider, 'not a JSON object')
  return value
}

/** Each choice's message (or delta) and tool calls have the shape the gateway reads. */
function checkChoices(answer: Record<string, unknown>, part: 'message' | 'delta', provider: string): void {
  if (typeof answer.id !== 'string') throw unreadable(provider, '`id` is not a string')
  if (typeof answer.model !== 'string') throw unreadable(provider, '`model` is not a string')
  if (!Array.isArray(answer.choices)) throw unreadable(provider, '`choices` is not a list')
  answer.choices.forEach((choice: unknown, i) => {
    if (!isRecord(choice) || typeof choice.index !== 'number') throw unreadable(provider, `choices[${i}] has no index`)
    const message = choice[part]
    // The SDK's schema lets a choice's message be absent (read as empty): so does this.
    if (message === undefined || message === null) return
    if (!isRecord(message)) throw unreadable(provider, `choices[${i}].${part} is not an object`)
    const content = message.content
    if (content !== undefined && content !== null && typeof content !== 'string' && !Array.isArray(content)) throw unreadable(provider, `choices[${i}].${part}.content is neither text nor a list`)
    const calls = message.tool_calls
    if (calls === undefined || calls === null) return
    if (!Array.isArray(calls)) throw unreadable(provider, `choices[${i}].${part}.tool_calls is not a list`)
    calls.forEach((call: unknown, j) => {
      const fn = isRecord(call) ? call.function : undefined
      if (!isRecord(fn) || typeof fn.name !== 'string') throw unreadable(provider, `choices[${i}].${part}.tool_calls[${j}].function has no name`)
    })
  })
}

export function chatResponseOf(bytes: Buffer, provider: string): WireCompletion {
  const answer = parsed(bytes.toString('utf8'), provider)
  checkChoices(answer, 'message', provider)
  for (const [i, choice] of (answer.choices as Record<string, unknown>[]).entries()) {
    if (typeof choice.finish_reason !== 'string') throw unreadable(provider, `choices[${i}].finish_reason is not a string`)
  }
  return answer as unknown as WireCompletion
}

export function embeddingResponseOf(bytes: Buffer, provider: string): WireEmbeddings {
  const answer = parsed(bytes.toString('utf8'), provider)
  if (typeof answer.model !== 'string') throw unreadable(provider, '`model` is not a string')
  if (!Array.isArray(answer.data) || !answer.data.every((item: unknown) => isRecord(item) && (item.embedding === undefined || Array.isArray(item.embedding)))) {
    throw unreadable(provider, '`data` is not a list of embeddings')
  }
  return answer as unknown as WireEmbeddings
}

/** The stream's chunks, to `[DONE]`. */
export async function* completionEvents(data: EventData, provider: string): AsyncGenerator<WireCompletionChunk> {
  for await (const text of data) {
    if (text === DONE) continue
    const chunk = parsed(text, provider)
    checkChoices(chunk, 'delta', provider)
    yield chunk as unknown as WireCompletionChunk
  }
}
