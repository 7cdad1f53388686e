/**
 * The `file_search` tool of /v1/responses, as a server tool of the conversations service: the
 * turn's last user message is searched in the declared `vector_store_ids` as the turn's caller
 * (its reach: an unknown or unreachable store is a 404), the passages go into the turn's context
 * to be numbered and cited, and a `file_search_call` output item lists the query and results.
 */
import { badRequest } from '../../../plugin-api/index.ts'
import type { JsonObject } from '../../contracts/capabilities.ts'
import { lastUserText, type ServerTool } from '../../contracts/conversations.ts'
import type { Rag } from '../../contracts/rag.ts'
import { parseFilter } from './data/filters.ts'
import { fileSearchCall, passagesOf } from './retriever.ts'

export function fileSearchTool(rag: Rag): ServerTool {
  return {
    type: 'file_search',
    async prepare(declaration: JsonObject, turn) {
      const ids = declaration.vector_store_ids
      if (!Array.isArray(ids) || ids.length === 0 || ids.some((id) => typeof id !== 'string')) {
        throw badRequest('file_search needs `vector_store_ids`: a list of vector store ids.', 'tools.vector_store_ids', 'invalid_tool')
      }
      const query = lastUserText(turn.input)
      if (!query.trim()) return {}
      const max = typeof declaration.max_num_results === 'number' ? declaration.max_num_results : undefined
      const hits = await rag.search(turn.caller, turn.gateway, ids as string[], query, {
        topK: max, filters: declaration.filters === undefined || declaration.filters === null ? undefined : parseFilter(declaration.filters, 'tools.filters'), signal: turn.signal,
      })
      return {
        ...(hits.length ? {} : { instructions: 'The file search found nothing relevant in the user\'s files; say so if the question depends on them.' }),
        passages: passagesOf(hits),
        output: [fileSearchCall(query, hits)],
      }
    },
  }
}
