/**
 * Retrieval for grounded answers: search hits as the passages a turn numbers and cites, the
 * `file_search_call` output item that lists them (OpenAI's shape), and the Grounding of
 * assistants with attached collections. Every search runs as the turn's caller, so department
 * scoping applies: an assistant's collection the caller may not search gives it nothing.
 */
import { GatewayError, randomUuid, type Caller } from '../../../plugin-api/index.ts'
import type { JsonObject } from '../../contracts/capabilities.ts'
import type { Grounding, Passage } from '../../contracts/conversations.ts'
import type { Rag, SearchHit } from '../../contracts/rag.ts'

export function passagesOf(hits: readonly SearchHit[]): Passage[] {
  return hits.map((h) => ({
    text: h.text,
    source: {
      collection_id: h.collectionId, document_id: h.documentId, file_id: h.fileId, filename: h.filename,
      page: h.page, heading: h.heading, start_offset: h.startOffset, end_offset: h.endOffset, score: h.score,
    },
  }))
}

/** The output item a search adds to a Response: its query and results. */
export function fileSearchCall(query: string, hits: readonly SearchHit[]): JsonObject {
  return {
    id: `fs_${randomUuid().replace(/-/g, '')}`, type: 'file_search_call', status: 'completed', queries: [query],
    results: hits.map((h) => ({ file_id: h.fileId ?? h.documentId, filename: h.filename, score: Math.min(1, Math.max(0, h.score)), text: h.text, attributes: h.attributes })),
  }
}

const isNotFound = (err: unknown): boolean => err instanceof GatewayError && err.status === 404

export function assistantGrounding(rag: Rag, topK: number): Grounding {
  /** The collections `caller` sees, in order (undefined for one it does not). */
  const seenBy = (caller: Caller, collections: readonly string[]) => Promise.all(collections.map((id) => rag.getCollection(caller, id).then((c) => c.id, (err: unknown) => {
    if (isNotFound(err)) return undefined
    throw err
  })))
  return {
    async unseen(collections, caller) {
      const seen = await seenBy(caller, collections)
      return collections.filter((_, i) => seen[i] === undefined)
    },
    async retrieve(collections, query, turn) {
      // Collections out of the caller's reach are skipped, not an error: the assistant stays usable.
      const ids = (await seenBy(turn.caller, collections)).filter((id): id is string => id !== undefined)
      if (!ids.length) return {}
      const hits = await rag.search(turn.caller, turn.gateway, ids, query, { topK, signal: turn.signal })
      return { passages: passagesOf(hits), output: [fileSearchCall(query, hits)] }
    },
  }
}
