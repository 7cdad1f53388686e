/**
 * `include`: the output data a Responses or Conversations call asks to add (OpenAI's IncludeEnum).
 * A value OpenAI does not define is a 400 naming its place (`include[i]`), as OpenAI answers it.
 * What each value does here:
 *   file_search_call.results      a `file_search_call` item's `results`; without it they are null, as
 *                                 at OpenAI (kept all the same: a later retrieve or item read may ask)
 *   message.output_text.logprobs  the answer's log probabilities (on create, see `logprobsOf`); kept
 *                                 with a stored response, shown by a retrieve or item read only when asked
 *   reasoning.encrypted_content   a `reasoning` item's `encrypted_content`: the provider's signed
 *                                 thinking, sealed, to send back as input (contracts/thinking.ts)
 *   the others                    fields of items this gateway never makes (images it generates,
 *                                 computer use, code interpreter, web search): nothing to add
 */
import { badRequest } from '../../../plugin-api/index.ts'
import type { JsonObject } from '../../contracts/capabilities.ts'

const INCLUDABLE: readonly string[] = [
  'file_search_call.results', 'web_search_call.results', 'web_search_call.action.sources', 'message.input_image.image_url',
  'computer_call_output.output.image_url', 'code_interpreter_call.outputs', 'reasoning.encrypted_content', 'message.output_text.logprobs',
]

export type Include = ReadonlySet<string>

/** A create's `include` (a list of strings), checked value by value. */
export function includeOf(value: unknown): Include {
  if (value === undefined || value === null) return new Set()
  if (!Array.isArray(value)) throw badRequest('`include` must be an array of strings.', 'include', 'invalid_type')
  value.forEach((v, i) => {
    if (typeof v !== 'string' || !INCLUDABLE.includes(v)) {
      throw badRequest(`Invalid value: ${JSON.stringify(v)}. Supported values are: ${INCLUDABLE.map((s) => `'${s}'`).join(', ')}.`, `include[${i}]`, 'invalid_value')
    }
  })
  return new Set(value as string[])
}

/** A query's `include` (`include[]=a&include[]=b` as the SDKs send it, or `include=a&include=b`). */
export function includeQuery(query: Record<string, unknown>): Include {
  const raw = query['include[]'] ?? query.include
  return includeOf(raw === undefined ? undefined : Array.isArray(raw) ? raw : [raw])
}

/** The query fields a route that takes `include` declares. */
export const INCLUDE_QUERY = { include: {}, 'include[]': {} }

/** An output item as shown: a file search's results, an answer's log probabilities and sealed thinking only when asked for. */
export function itemShown(item: JsonObject, include: Include): JsonObject {
  if (item.type === 'file_search_call' && !include.has('file_search_call.results')) return { ...item, results: null }
  if (item.type === 'reasoning' && 'encrypted_content' in item && !include.has('reasoning.encrypted_content')) {
    const { encrypted_content: _sealed, ...shown } = item
    return shown
  }
  if (item.type === 'message' && !include.has('message.output_text.logprobs') && Array.isArray(item.content)) {
    const content = item.content as JsonObject[]
    if (content.some((p) => Array.isArray(p.logprobs) && p.logprobs.length)) return { ...item, content: content.map((p) => (Array.isArray(p.logprobs) ? { ...p, logprobs: [] } : p)) }
  }
  return item
}

/** What a create shows: what `include` asks, and the log probabilities `top_logprobs` asked for without it (the chat call gave them). */
export function createShows(include: Include, logprobs: { top: number } | undefined): Include {
  return logprobs && !include.has('message.output_text.logprobs') ? new Set([...include, 'message.output_text.logprobs']) : include
}

/** A Response object as shown (its output items as `itemShown` shows them). */
export function responseShown(response: JsonObject, include: Include): JsonObject {
  return Array.isArray(response.output) ? { ...response, output: (response.output as JsonObject[]).map((item) => itemShown(item, include)) } : response
}
