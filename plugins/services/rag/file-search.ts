/**
 * The `file_search` tool of /v1/responses, as a server tool of the conversations service: the
 * turn's last user message is searched in the declared `vector_store_ids`, the passages go into
 * the turn's instructions numbered [1]..[n] with their files, and a `file_search_call` output
 * item lists the queries and results (OpenAI's shape). The search runs as the turn's owner.
 */
import { randomUUID } from 'node:crypto'
import { badRequest, type Caller, type Owner } from '../../../core/plugins/api.ts'
import type { JsonObject } from '../../contracts/capabilities.ts'
import type { ServerTool } from '../../contracts/conversations.ts'
import type { Rag } from '../../contracts/rag.ts'
import { parseFilter } from './data/filters.ts'

/**
 * The tool hook gives the turn's owner, not its caller: the search sees what an own-data caller
 * in that department sees (the owner's collections and those shared with the department).
 */
function ownerCaller(owner: Owner): Caller {
  const reaches = (o: Owner): boolean => o.userId !== null && o.userId === owner.userId
  return {
    principal: { userId: owner.userId ?? '', role: 'user', department: owner.department ?? undefined, strategy: 'service.rag' },
    role: { name: 'user', scope: 'own_data', permissions: [], can: () => false },
    scope: 'own_data',
    reaches,
    requireReach: () => { throw badRequest('file_search only reads.') },
    mayGrant: () => false,
  }
}

export function fileSearchTool(rag: Rag): ServerTool {
  return {
    type: 'file_search',
    async prepare(declaration: JsonObject, turn) {
      const ids = declaration.vector_store_ids
      if (!Array.isArray(ids) || ids.length === 0 || ids.some((id) => typeof id !== 'string')) {
        throw badRequest('file_search needs `vector_store_ids`: a list of vector store ids.', 'tools.vector_store_ids', 'invalid_tool')
      }
      const lastUser = [...turn.input].reverse().find((i) => i.type === 'message' && i.role === 'user')
      const query = lastUser?.type === 'message' ? lastUser.content.map((p) => p.text).join('\n') : ''
      if (!query.trim()) return {}
      const max = typeof declaration.max_num_results === 'number' ? declaration.max_num_results : undefined
      const hits = await rag.search(ownerCaller(turn.owner), turn.gateway, ids as string[], query, {
        topK: max, filters: declaration.filters === undefined || declaration.filters === null ? undefined : parseFilter(declaration.filters, 'tools.filters'), signal: turn.signal,
      })
      const passages = hits.map((h, i) => `[${i + 1}] (${h.filename}${h.page ? `, page ${h.page}` : ''}${h.heading ? `, ${h.heading}` : ''})\n${h.text}`)
      return {
        instructions: hits.length
          ? `Answer from these passages of the user's files and cite them by number, like [1]:\n\n${passages.join('\n\n')}`
          : 'The file search found nothing relevant in the user\'s files; say so if the question depends on them.',
        output: [{
          id: `fs_${randomUUID().replace(/-/g, '')}`, type: 'file_search_call', status: 'completed', queries: [query],
          results: hits.map((h) => ({ file_id: h.fileId ?? h.documentId, filename: h.filename, score: Math.min(1, Math.max(0, h.score)), text: h.text, attributes: h.attributes })),
        }],
      }
    },
  }
}
