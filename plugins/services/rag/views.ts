/** Collections, documents and hits as the management API shows them (snake_case, ISO dates). */
import type { CollectionRecord, DocumentRecord, SearchHit } from '../../contracts/rag.ts'

export const collectionView = (c: CollectionRecord) => ({
  id: c.id,
  name: c.name,
  description: c.description,
  owner_user_id: c.ownerUserId,
  department: c.department,
  dept_scope: c.deptScope,
  embedding_route: c.embeddingRoute,
  dimensions: c.dimensions,
  chunking: { max_tokens: c.chunking.maxTokens, overlap_tokens: c.chunking.overlapTokens },
  metadata: c.metadata,
  documents: c.counts,
  bytes: c.bytes,
  created_at: c.createdAt.toISOString(),
  last_active_at: c.lastActiveAt?.toISOString() ?? null,
})

export const documentView = (d: DocumentRecord) => ({
  id: d.id,
  collection_id: d.collectionId,
  file_id: d.fileId,
  filename: d.filename,
  content_type: d.contentType,
  kind: d.kind,
  bytes: d.bytes,
  content_hash: d.contentHash,
  attributes: d.attributes,
  status: d.status,
  error: d.error,
  progress: { chunks_done: d.chunksDone, chunks_total: d.chunksTotal },
  attempts: d.attempts,
  chunking: { max_tokens: d.chunking.maxTokens, overlap_tokens: d.chunking.overlapTokens },
  created_at: d.createdAt.toISOString(),
  completed_at: d.completedAt?.toISOString() ?? null,
})

export const hitView = (h: SearchHit) => ({
  score: h.score,
  text: h.text,
  collection_id: h.collectionId,
  document_id: h.documentId,
  file_id: h.fileId,
  filename: h.filename,
  attributes: h.attributes,
  source: { page: h.page, heading: h.heading, start_offset: h.startOffset, end_offset: h.endOffset },
})
