/**
 * The `file_search` tool of /v1/responses, as a server tool of the conversations service: the
 * turn's last user message is searched in the declared `vector_store_ids` as the turn's caller
 * (its reach: an unknown or unreachable store is a 404), the passages go into the turn's context
 * to be numbered and cited, and a `file_search_call` output item lists the query and results.
 * `max_num_results` and `ranking_options.score_threshold` bound the results as on OpenAI;
 * `ranking_options.hybrid_search` fuses the vector ranking with a full-text one, weighted as asked.
 * `ranking_options.ranker` takes OpenAI's values (RankerVersionType: `auto`, `default-2024-11-15`)
 * and changes nothing: OpenAI's rankers re-score results with a model of theirs, and this retriever
 * has none, so results are ranked by cosine similarity (or the weighted fusion) whichever is named.
 */
import { badRequest } from '../../../plugin-api/index.ts'
import type { JsonObject } from '../../contracts/capabilities.ts'
import { lastUserText, type ServerTool } from '../../contracts/conversations.ts'
import type { HybridWeights, Rag } from '../../contracts/rag.ts'
import { parseFilter } from './data/filters.ts'
import { asVectorStoreError } from './not-found.ts'
import { fileSearchCall, passagesOf } from './retriever.ts'

/** OpenAI's RankerVersionType (`none` is the vector store search endpoint's alone). */
const RANKERS = ['auto', 'default-2024-11-15']
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

const FIELDS = new Set(['type', 'vector_store_ids', 'max_num_results', 'ranking_options', 'filters'])

/** `max_num_results` (1 to 50) and `ranking_options` as OpenAI's FileSearchTool types them, or a 400 naming the field. */
function searchOptionsOf(declaration: JsonObject): { topK?: number; scoreThreshold?: number; hybridWeights?: HybridWeights } {
  const stray = Object.keys(declaration).find((key) => !FIELDS.has(key))
  if (stray !== undefined) throw badRequest(`Unknown file_search parameter: '${stray}'.`, `tools.${stray}`, 'unknown_parameter')
  const max = declaration.max_num_results ?? undefined
  if (max !== undefined && !(Number.isInteger(max) && (max as number) >= 1 && (max as number) <= 50)) {
    throw badRequest('file_search `max_num_results` must be a whole number from 1 to 50.', 'tools.max_num_results', 'invalid_value')
  }
  const ranking = declaration.ranking_options ?? undefined
  if (ranking === undefined) return { topK: max as number | undefined }
  if (typeof ranking !== 'object' || Array.isArray(ranking)) throw badRequest('file_search `ranking_options` must be an object.', 'tools.ranking_options', 'invalid_value')
  const { ranker, score_threshold: threshold, hybrid_search: hybrid, ...rest } = ranking as JsonObject
  const unknown = Object.keys(rest)[0]
  if (unknown !== undefined) throw badRequest(`Unknown file_search parameter: 'ranking_options.${unknown}'.`, `tools.ranking_options.${unknown}`, 'unknown_parameter')
  if (ranker !== undefined && ranker !== null && !RANKERS.includes(ranker as string)) {
    throw badRequest(`Invalid value for 'tools.ranking_options.ranker': ${JSON.stringify(ranker)}. Supported values are: ${RANKERS.map((r) => `'${r}'`).join(', ')}.`, 'tools.ranking_options.ranker', 'invalid_value')
  }
  if (threshold !== undefined && !(isNumber(threshold) && threshold >= 0 && threshold <= 1)) {
    throw badRequest('file_search `ranking_options.score_threshold` must be a number from 0 to 1.', 'tools.ranking_options.score_threshold', 'invalid_value')
  }
  return { topK: max as number | undefined, scoreThreshold: threshold as number | undefined, hybridWeights: hybrid === undefined || hybrid === null ? undefined : weightsOf(hybrid) }
}

/** OpenAI's HybridSearchOptions: `embedding_weight` and `text_weight`, both required; here at least 0, not both 0. */
function weightsOf(hybrid: unknown): HybridWeights {
  const at = 'tools.ranking_options.hybrid_search'
  if (typeof hybrid !== 'object' || hybrid === null || Array.isArray(hybrid)) throw badRequest('file_search `ranking_options.hybrid_search` must be an object.', at, 'invalid_value')
  const { embedding_weight: embedding, text_weight: text, ...rest } = hybrid as JsonObject
  const unknown = Object.keys(rest)[0]
  if (unknown !== undefined) throw badRequest(`Unknown file_search parameter: 'ranking_options.hybrid_search.${unknown}'.`, `${at}.${unknown}`, 'unknown_parameter')
  for (const [name, weight] of [['embedding_weight', embedding], ['text_weight', text]] as const) {
    if (weight === undefined) throw badRequest(`Missing required parameter: '${at}.${name}'.`, `${at}.${name}`, 'missing_required_parameter')
    if (!(isNumber(weight) && weight >= 0)) throw badRequest(`file_search \`ranking_options.hybrid_search.${name}\` must be a number of at least 0.`, `${at}.${name}`, 'invalid_value')
  }
  if (embedding === 0 && text === 0) throw badRequest('file_search `ranking_options.hybrid_search` needs a weight above 0.', at, 'invalid_value')
  return { embedding: embedding as number, text: text as number }
}

export function fileSearchTool(rag: Rag): ServerTool {
  return {
    type: 'file_search',
    async prepare(declaration: JsonObject, turn) {
      const ids = declaration.vector_store_ids
      if (!Array.isArray(ids) || ids.length === 0 || ids.some((id) => typeof id !== 'string')) {
        throw badRequest('file_search needs `vector_store_ids`: a list of vector store ids.', 'tools.vector_store_ids', 'invalid_tool')
      }
      const { topK, scoreThreshold, hybridWeights } = searchOptionsOf(declaration)
      const query = lastUserText(turn.input)
      if (!query.trim()) return {}
      const hits = await rag.search(turn.caller, turn.gateway, ids as string[], query, {
        topK, scoreThreshold, hybridWeights, filters: declaration.filters === undefined || declaration.filters === null ? undefined : parseFilter(declaration.filters, 'tools.filters'), signal: turn.signal,
      }).catch((err: unknown) => { throw asVectorStoreError(err, 'tools.vector_store_ids') })
      return {
        ...(hits.length ? {} : { instructions: 'The file search found nothing relevant in the user\'s files; say so if the question depends on them.' }),
        passages: passagesOf(hits),
        output: [fileSearchCall(query, hits)],
      }
    },
  }
}
