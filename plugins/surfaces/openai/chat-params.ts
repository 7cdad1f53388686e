/**
 * The parameters of OpenAI's chat completions request (CreateChatCompletionRequest in OpenAI's
 * OpenAPI document). Any other top-level field is not part of the API: a typo (`temperatur`) or a
 * provider's own extension (`top_k`). It reaches a provider only on a route that lists it
 * (`extra_params`); otherwise it is dropped with an `x-gateway-warning`, or refused on a `strict` route.
 */
import { badRequest, closest, type StageExchange } from '../../../plugin-api/index.ts'

export const CHAT_PARAMETERS: ReadonlySet<string> = new Set([
  'audio', 'frequency_penalty', 'function_call', 'functions', 'logit_bias', 'logprobs', 'max_completion_tokens', 'max_tokens',
  'messages', 'metadata', 'modalities', 'model', 'moderation', 'n', 'parallel_tool_calls', 'prediction', 'presence_penalty',
  'prompt_cache_key', 'prompt_cache_options', 'prompt_cache_retention', 'reasoning_effort', 'response_format', 'safety_identifier',
  'seed', 'service_tier', 'stop', 'store', 'stream', 'stream_options', 'temperature', 'tool_choice', 'tools', 'top_logprobs',
  'top_p', 'user', 'verbosity', 'web_search_options',
])

const LIST = [...CHAT_PARAMETERS]

/** Drop (or, on a strict route, refuse) the request's fields outside the chat API that its route does not list in `extra_params`. */
export function dropUnknownParameters(x: StageExchange): void {
  const { name: route, settings } = x.route!
  const extra = settings.extra_params as boolean | readonly string[] | undefined
  if (extra === true) return
  const request = x.request as unknown as Record<string, unknown>
  for (const name of Object.keys(request)) {
    if (CHAT_PARAMETERS.has(name) || (Array.isArray(extra) && extra.includes(name))) continue
    const guess = closest(name, LIST)
    const text = `'${name}' is not a chat completions parameter${guess ? ` (did you mean '${guess}'?)` : ''}`
    if (settings.strict === true) throw badRequest(`Unrecognized request argument supplied: ${text}; route '${route}' is strict.`, name, 'unknown_parameter')
    // The request is the wire body (decode passes it on) unless a stage replaced it, and then the body is not sent.
    delete request[name]
    x.warn(`dropped ${text}`)
  }
}
