/**
 * OpenAI's chat completions and embeddings requests as the gateway takes them, wherever they arrive:
 * a body POSTed to /v1/chat/completions or /v1/embeddings (surface.openai) and a line of a batch
 * (service.batches) pass the same checks and lose the same fields, so a batch line is never sent on
 * where the same request would have been refused.
 *
 * The parameters of a chat request are CreateChatCompletionRequest's in OpenAI's OpenAPI document.
 * Any other top-level field is not part of the API: a typo (`temperatur`) or a provider's own
 * extension (`top_k`). It reaches a provider only on a route that lists it (`extra_params`);
 * otherwise it is dropped (with an `x-gateway-warning` on a request), or refused on a `strict` route.
 */
import { badRequest, closest, type ChatRequest, type EmbeddingRequest, type RouteInfo } from '../../plugin-api/index.ts'
import { checkChatRequest } from './chat-request.ts'

export const CHAT_PARAMETERS: ReadonlySet<string> = new Set([
  'audio', 'frequency_penalty', 'function_call', 'functions', 'logit_bias', 'logprobs', 'max_completion_tokens', 'max_tokens',
  'messages', 'metadata', 'modalities', 'model', 'moderation', 'n', 'parallel_tool_calls', 'prediction', 'presence_penalty',
  'prompt_cache_key', 'prompt_cache_options', 'prompt_cache_retention', 'reasoning_effort', 'response_format', 'safety_identifier',
  'seed', 'service_tier', 'stop', 'store', 'stream', 'stream_options', 'temperature', 'tool_choice', 'tools', 'top_logprobs',
  'top_p', 'user', 'verbosity', 'web_search_options',
])

const LIST = [...CHAT_PARAMETERS]

/** The parsed body as the endpoint's request type, once it is known to be a JSON object. */
export function requireObject<T>(body: unknown): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('The request body must be a JSON object.', null, 'invalid_body')
  return body as T
}

/** A chat completions body as a request, or a 400 naming the first field at fault. */
export function chatCompletionRequest(body: unknown): ChatRequest {
  const request = requireObject<ChatRequest>(body)
  checkChatRequest(request)
  if (!Array.isArray(request.messages) || request.messages.length === 0) throw badRequest('`messages` must be a non-empty array.', 'messages', 'invalid_messages')
  return request
}

/** An embeddings body as a request, or a 400. */
export function embeddingRequest(body: unknown): EmbeddingRequest {
  const request = requireObject<EmbeddingRequest>(body)
  if (request.input === undefined || request.input === null) throw badRequest('`input` is required.', 'input', 'missing_input')
  return request
}

/**
 * Once its route is known: drop (or, on a strict route, refuse) the fields of `request` outside the
 * chat API that `route` does not list in `extra_params`; `warn` is told what was dropped.
 * The request is changed in place: on a request it is the wire body a same-wire target is sent.
 */
export function dropUnknownChatParameters(request: ChatRequest, route: RouteInfo, warn: (text: string) => void): void {
  const { name, settings } = route
  const extra = settings.extra_params as boolean | readonly string[] | undefined
  if (extra === true) return
  const fields = request as unknown as Record<string, unknown>
  for (const field of Object.keys(fields)) {
    if (CHAT_PARAMETERS.has(field) || (Array.isArray(extra) && extra.includes(field))) continue
    const guess = closest(field, LIST)
    const text = `'${field}' is not a chat completions parameter${guess ? ` (did you mean '${guess}'?)` : ''}`
    if (settings.strict === true) throw badRequest(`Unrecognized request argument supplied: ${text}; route '${name}' is strict.`, field, 'unknown_parameter')
    delete fields[field]
    warn(`dropped ${text}`)
  }
}
