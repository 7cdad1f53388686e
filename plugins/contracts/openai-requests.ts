/**
 * OpenAI's chat completions, embeddings and legacy completions requests as the gateway takes them,
 * wherever they arrive: a body POSTed to /v1/chat/completions, /v1/embeddings or /v1/completions
 * (surface.openai) and a chat or embeddings line of a batch (service.batches) pass the same checks
 * and lose the same fields, so a batch line is never sent on where the same request would have been
 * refused.
 *
 * The parameters of a chat request are CreateChatCompletionRequest's in OpenAI's OpenAPI document.
 * Any other top-level field is not part of the API: a typo (`temperatur`) or a provider's own
 * extension (`top_k`). It reaches a provider only on a route that lists it (`extra_params`);
 * otherwise it is dropped (with an `x-gateway-warning` on a request), or refused on a `strict` route.
 */
import { badRequest, didYouMean, type ChatRequest, type EmbeddingRequest, type RouteInfo } from '../../plugin-api/index.ts'
import { CHAT_REQUEST, checkChatRequest } from './chat-request.ts'
import { checkTextsOrTokens, integer, nullable, number, requestCheck, type RequestSchema } from './request-check.ts'

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

/** Most inputs of one embeddings request, as OpenAI takes. */
const MAX_INPUTS = 2048

/**
 * The fields of an embeddings request besides `input` (CreateEmbeddingRequest in OpenAI's OpenAPI
 * document): `dimensions` an integer from 1, `encoding_format` float or base64.
 */
export const EMBEDDING_REQUEST: RequestSchema = {
  schema: {
    type: 'object',
    properties: {
      model: { type: 'string' },
      dimensions: { type: 'integer', minimum: 1 },
      encoding_format: { enum: ['float', 'base64'] },
      user: { type: 'string' },
    },
  },
  validator: 'embedding-request.validator.cjs',
}

const checkEmbeddingFields = requestCheck(EMBEDDING_REQUEST)

/**
 * An embeddings body as a request, or a 400 naming the field at fault: `input` a non-empty text, up
 * to 2,048 non-empty texts, one text as token ids or up to 2,048 of them (`input: 5` reached the
 * mock, which answered usage of null tokens), and the fields of EMBEDDING_REQUEST.
 */
export function embeddingRequest(body: unknown): EmbeddingRequest {
  const request = requireObject<EmbeddingRequest>(body)
  if (request.input === undefined || request.input === null) throw badRequest('`input` is required.', 'input', 'missing_input')
  checkTextsOrTokens(request.input, 'input', { minItems: 1, maxItems: MAX_INPUTS, nonEmptyText: true })
  checkEmbeddingFields(request)
  return request
}

/**
 * The fields of CreateCompletionRequest (OpenAI's OpenAPI document) with their types and ranges,
 * checked before the request is routed, whichever way it then goes: a wrong one is a 400 naming it,
 * never sent (`max_tokens: -5` reached the provider). `prompt` is checked by hand (checkTextsOrTokens).
 */
export const COMPLETION_REQUEST: RequestSchema = {
  schema: {
    type: 'object',
    properties: {
      model: { type: 'string' },
      best_of: integer(0, 20),
      echo: nullable('boolean'),
      frequency_penalty: number(-2, 2),
      logit_bias: { type: ['object', 'null'], additionalProperties: { type: 'number', minimum: -100, maximum: 100 } },
      logprobs: integer(0, 5),
      // Unlike chat's, 0 is allowed: with `echo`, the prompt's logprobs and no completion.
      max_tokens: integer(0),
      n: integer(1, 128),
      presence_penalty: number(-2, 2),
      seed: integer(),
      stop: { type: ['string', 'array', 'null'], items: { type: 'string' } },
      stream: nullable('boolean'),
      stream_options: { type: ['object', 'null'], properties: { include_usage: { type: 'boolean' }, include_obfuscation: { type: 'boolean' } } },
      suffix: nullable('string'),
      temperature: number(0, 2),
      top_p: number(0, 1),
      user: { type: 'string' },
    },
  },
  validator: 'completion-request.validator.cjs',
}

const checkCompletionFields = requestCheck(COMPLETION_REQUEST)

/** A legacy completions body's `prompt` (a string or a list, already known) and other fields, or a 400 naming the one at fault. */
export function checkCompletionRequest(body: { readonly prompt?: unknown }): void {
  checkTextsOrTokens(body.prompt, 'prompt', { minItems: 0, nonEmptyText: false })
  checkCompletionFields(body)
}

/** Every request check above, which `npm run build` writes as ajv standalone code beside request-check.ts (scripts/build.mjs), so none is compiled on a first request. */
export const REQUEST_SCHEMAS: readonly RequestSchema[] = [CHAT_REQUEST, COMPLETION_REQUEST, EMBEDDING_REQUEST]
export { REQUEST_CHECK_AJV_OPTIONS } from './request-check.ts'

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
    const text = `'${field}' is not a chat completions parameter${didYouMean(field, LIST)}`
    if (settings.strict === true) throw badRequest(`Unrecognized request argument supplied: ${text}; route '${name}' is strict.`, field, 'unknown_parameter')
    delete fields[field]
    warn(`dropped ${text}`)
  }
}
