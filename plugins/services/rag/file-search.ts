/**
 * The `file_search` tool of /v1/responses, as a server tool of the conversations service: the
 * turn's last user message is searched in the declared `vector_store_ids` as the turn's caller
 * (its reach: an unknown or unreachable store is a 404), the passages go into the turn's context
 * to be numbered and cited, and a `file_search_call` output item lists the query and results.
 * `max_num_results` and `ranking_options.score_threshold` bound the results as on OpenAI.
 */
import { badRequest } from '../../../plugin-api/index.ts'
import type { JsonObject } from '../../contracts/capabilities.ts'
import { lastUserText, type ServerTool } from '../../contracts/conversations.ts'
import type { Rag } from '../../contracts/rag.ts'
import { parseFilter } from './data/filters.ts'
import { fileSearchCall, passagesOf } from './retriever.ts'

const RANKERS = ['none', 'auto', 'default-2024-11-15']
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

const FIELDS = new Set(['type', 'vector_store_ids', 'max_num_results', 'ranking_options', 'filters'])

/** `max_num_results` (1 to 50) and `ranking_options` as OpenAI's FileSearchTool types them, or a 400 naming the field. */
function searchOptionsOf(declaration: JsonObject): { topK?: number; scoreThreshold?: number } {
  const stray = Object.keys(declaration).find((key) => !FIELDS.has(key))
  if (stray !== undefined) throw badRequest(`Unknown file_search parameter: '${stray}'.`, `tools.${stray}`, 'unknown_parameter')
  const max = declaration.max_num_results ?? undefined
  if (max !== undefined && !(Number.isInteger(max) && (max as number) >= 1 && (max as number) <= 50)) {
    throw badRequest('file_search `max_num_results` must be a whole number from 1 to 50.', 'tools.max_num_results', 'invalid_value')
  }
  const ranking = declaration.ranking_options ?? undefined
  if (ranking === undefined) return { topK: max as number | undefined }
  if (typeof ranking !== 'object' || Array.isArray(ranking)) throw badRequest('file_search `ranking_options` must be an object.', 'tools.ranking_options', 'invalid_value')
  const { ranker, score_threshold: threshold, ...rest } = ranking as JsonObject
  const unknown = Object.keys(rest)[0]
  // hybrid_search's weights have no counterpart here: refused rather than ignored.
  if (unknown !== undefined) throw badRequest(`file_search \`ranking_options.${unknown}\` is not supported by this gateway.`, `tools.ranking_options.${unknown}`, 'unsupported_parameter')
  if (ranker !== undefined && !RANKERS.includes(ranker as string)) throw badRequest(`file_search \`ranking_options.ranker\` must be one of ${RANKERS.join(', ')}.`, 'tools.ranking_options.ranker', 'invalid_value')
  if (threshold !== undefined && !(isNumber(threshold) && threshold >= 0 && threshold <= 1)) {
    throw badRequest('file_search `ranking_options.score_threshold` must be a number from 0 to 1.', 'tools.ranking_options.score_threshold', 'invalid_value')
  }
  return { topK: max as number | undefined, scoreThreshold: threshold as number | undefined }
}

export function fileSearchTool(rag: Rag): ServerTool {
  return {
    type: 'file_search',
    async prepare(declaration: JsonObject, turn) {
      const ids = declaration.vector_store_ids
      if (!Array.isArray(ids) || ids.length === 0 || ids.some((id) => typeof id !== 'string')) {
        throw badRequest('file_search needs `vector_store_ids`: a list of vector store ids.', 'tools.vector_store_ids', 'invalid_tool')
      }
      const { topK, scoreThreshold } = searchOptionsOf(declaration)
      const query = lastUserText(turn.input)
      if (!query.trim()) return {}
      const hits = await rag.search(turn.caller, turn.gateway, ids as string[], query, {
        topK, scoreThreshold, filters: declaration.filters === undefined || declaration.filters === null ? undefined : parseFilter(declaration.filters, 'tools.filters'), signal: turn.signal,
      })
      return {
        ...(hits.length ? {} : { instructions: 'The file search found nothing relevant in the user\'s files; say so if the question depends on them.' }),
        passages: passagesOf(hits),
        output: [fileSearchCall(query, hits)],
      }
    },
  }
}
