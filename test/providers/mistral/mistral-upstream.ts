/**
 * A mock Mistral API: the REST paths, snake_case JSON bodies, SSE framing (`data:` chunks, then
 * `[DONE]`) and error shapes of api.mistral.ai, as the @mistralai/mistralai SDK sends and reads them.
 */
import type http from 'node:http'
import { sendJson, sendSse, startRoutedUpstream, type RoutedUpstream, type UpstreamHandler } from '../../helpers/upstream.ts'

export const MODEL = 'mistral-small-latest'
export const EMBEDDING_MODEL = 'mistral-embed'
export const API_KEY = 'test-mistral-key'
export const CHAT_PATH = '/v1/chat/completions'
export const EMBEDDINGS_PATH = '/v1/embeddings'

export interface MistralToolCall {
  id: string
  type?: 'function'
  function: { name: string; arguments: string }
  index?: number
}

export interface MistralUsage {
  prompt_tokens: number
  completion_tokens: number
  total_tokens: number
  prompt_tokens_details?: { cached_tokens: number }
}

const USAGE: MistralUsage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 }

/** A chat completion as Mistral writes it. */
export function completion(
  message: { content: string | null | unknown[]; tool_calls?: MistralToolCall[] | null },
  options: { finishReason?: string; usage?: MistralUsage; choices?: unknown[] } = {},
): Record<string, unknown> {
  return {
    id: 'cmpl-0123456789abcdef0123456789abcdef',
    object: 'chat.completion',
    model: MODEL,
    usage: options.usage ?? USAGE,
    created: 1_750_000_000,
    choices: options.choices ?? [{ index: 0, message: { role: 'assistant', prefix: false, tool_calls: null, ...message }, finish_reason: options.finishReason ?? 'stop' }],
  }
}

/** One chat.completion.chunk as Mistral streams it. */
export function streamChunk(delta: Record<string, unknown>, options: { finishReason?: string | null; usage?: MistralUsage } = {}): Record<string, unknown> {
  return {
    id: 'cmpl-stream-0001',
    object: 'chat.completion.chunk',
    created: 1_750_000_001,
    model: MODEL,
    choices: [{ index: 0, delta, finish_reason: options.finishReason ?? null }],
    ...(options.usage ? { usage: options.usage } : {}),
  }
}

/** A reasoning model's (Magistral's) notes, as a content chunk of its answer or a streamed delta. */
export function thinkingChunk(text: string): Record<string, unknown> {
  return { type: 'thinking', thinking: [{ type: 'text', text }] }
}

/** Mistral's usual error body. */
export function mistralError(message: unknown, type: string, code: string | null = null): Record<string, unknown> {
  return { object: 'error', message, type, param: null, code }
}

export async function sendMistralStream(res: http.ServerResponse, chunks: unknown[], options: { delayMs?: number } = {}): Promise<void> {
  await sendSse(res, [...chunks.map((data) => ({ data })), { data: '[DONE]' }], options)
}

/** A mock Mistral upstream; `routes` answers by path, anything else is a 404 in Mistral's shape. */
export function startMistralUpstream(routes: Record<string, UpstreamHandler> = {}): Promise<RoutedUpstream> {
  return startRoutedUpstream(routes, (_req, res) => sendJson(res, 404, { detail: 'Not Found' }))
}

export function gatewayConfig(baseUrl: string, options: { timeoutMs?: number; extra?: string } = {}): string {
  return `
version: 1
providers:
  mistral: { plugin: mistral, api_key: ${API_KEY}, base_url: '${baseUrl}', timeout_ms: ${options.timeoutMs ?? 5000}${options.extra ?? ''} }
routes:
  - model: chat
    extra_params: [safe_prompt]
    targets: [ { provider: mistral, model: ${MODEL} } ]
  - model: chat-strict
    strict: true
    targets: [ { provider: mistral, model: ${MODEL} } ]
  - model: embed
    targets: [ { provider: mistral, model: ${EMBEDDING_MODEL} } ]
`
}
