/**
 * Collections, documents and hits as the management API shows them (snake_case, ISO dates), each
 * with the schema of what /api/v1/rag answers beside it (the OpenAPI document, the console's types).
 */
import type { JsonSchema } from '../../../plugin-api/index.ts'
import { nullable, NULLABLE_STRING_SCHEMA as NULLABLE_STRING, NULLABLE_TIME_SCHEMA as NULLABLE_TIME, recordSchema, TIME_SCHEMA as TIME } from '../kit/schema.ts'
import type { CollectionRecord, DocumentRecord, SearchHit } from '../../contracts/rag.ts'

const COUNT: JsonSchema = { type: 'integer', minimum: 0 }
const STRING_MAP: JsonSchema = { type: 'object', additionalProperties: { type: 'string' } }
const ATTRIBUTES: JsonSchema = { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } }
const CHUNKING: JsonSchema = recordSchema({ max_tokens: { type: 'integer' }, overlap_tokens: { type: 'integer' } }, [])

export const COLLECTION_SCHEMA: JsonSchema = recordSchema({
  id: { type: 'string' }, name: { type: 'string' }, description: NULLABLE_STRING, owner_user_id: NULLABLE_STRING,
  department: { ...NULLABLE_STRING, description: 'The owner\'s department: its department admins manage the collection.' },
  dept_scope: { ...NULLABLE_STRING, description: 'Members of this department may search it (null: only the owner and admins).' },
  embedding_route: { type: 'string' }, dimensions: { type: 'integer', minimum: 1 }, chunking: CHUNKING, text_search: { type: 'string' }, metadata: STRING_MAP,
  documents: { ...recordSchema({ queued: COUNT, processing: COUNT, completed: COUNT, failed: COUNT, total: COUNT }), description: 'Documents by status.' },
  bytes: COUNT, created_at: TIME, last_active_at: NULLABLE_TIME,
  expires_after_days: { type: ['integer', 'null'], minimum: 1, maximum: 365, description: 'Days after its last use (or its creation) it expires, set on /v1/vector_stores; null: never.' },
  expires_at: { ...NULLABLE_TIME, description: 'From then on it is expired: searches and new documents are refused, and its chunks are freed.' },
})

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
  text_search: c.textSearch,
  metadata: c.metadata,
  documents: c.counts,
  bytes: c.bytes,
  created_at: c.createdAt.toISOString(),
  last_active_at: c.lastActiveAt?.toISOString() ?? null,
  expires_after_days: c.expiresAfterDays,
  expires_at: c.expiresAt?.toISOString() ?? null,
})

export const DOCUMENT_SCHEMA: JsonSchema = recordSchema({
  id: { type: 'string' }, collection_id: { type: 'string' }, file_id: { ...NULLABLE_STRING, description: 'The /v1/files id it was attached from, if any.' },
  filename: { type: 'string' }, content_type: { type: 'string' }, kind: { enum: ['text', 'markdown', 'html', 'pdf', 'docx', 'pptx', 'other'], description: '`other`: a file of a type not read, attached failed (`unsupported_file`) through /v1.' }, bytes: COUNT, content_hash: { type: 'string' },
  attributes: ATTRIBUTES, status: { enum: ['queued', 'processing', 'completed', 'failed'] },
  error: { ...nullable(recordSchema({ code: { type: 'string' }, message: { type: 'string' } })), description: 'Why it failed.' },
  progress: recordSchema({ chunks_done: COUNT, chunks_total: { type: ['integer', 'null'], minimum: 0 } }),
  attempts: COUNT, chunking: CHUNKING, created_at: TIME, completed_at: NULLABLE_TIME,
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

export const HIT_SCHEMA: JsonSchema = recordSchema({
  score: { type: 'number', description: 'Cosine similarity (vector search) or the fused rank score (hybrid), scaled so first in both rankings is 1.' },
  text: { type: 'string' }, collection_id: { type: 'string' }, document_id: { type: 'string' }, file_id: NULLABLE_STRING, filename: { type: 'string' }, attributes: ATTRIBUTES,
  source: recordSchema({ page: { type: ['integer', 'null'] }, heading: NULLABLE_STRING, start_offset: COUNT, end_offset: COUNT }),
})

/** A deleted collection or document. */
export const DELETED_SCHEMA: JsonSchema = recordSchema({ id: { type: 'string' }, deleted: { const: true } })

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
