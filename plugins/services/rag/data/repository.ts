/**
 * The rag tables (migrations/0001_rag.sql): collections, documents and chunks. Scope rules are
 * not here (collections.ts decides who may see what); this module only reads and writes rows.
 */
import pgvector from 'pgvector'
import { type SqlClient, type Store } from '../../../../plugin-api/index.ts'
import { isUuid, jsonParam, pageOf, toNumber, type Page } from '../../../store/kit/sql.ts'
import type { ChunkingSettings, CollectionRecord, Cursor, DocumentFilter, DocumentRecord, DocumentStatus } from '../../../contracts/rag.ts'
import type { Chunk } from '../ingest/chunk.ts'
import type { Section } from '../ingest/extract.ts'

/** Whose calls embed a document, as stored with it. */
export interface Uploader {
  readonly userId: string
  readonly role: string
  readonly department?: string
  readonly keyId?: string
  readonly allowedModels?: readonly string[]
}

/** A document with what its ingest needs. */
export interface DocumentWork extends DocumentRecord {
  readonly sections: Section[]
  readonly uploader: Uploader
  readonly ingestId: string | null
}

const COLLECTION_COLUMNS = `c.*,
  (SELECT count(*) FILTER (WHERE status = 'queued') FROM rag_documents d WHERE d.collection_id = c.id) AS n_queued,
  (SELECT count(*) FILTER (WHERE status = 'processing') FROM rag_documents d WHERE d.collection_id = c.id) AS n_processing,
  (SELECT count(*) FILTER (WHERE status = 'completed') FROM rag_documents d WHERE d.collection_id = c.id) AS n_completed,
  (SELECT count(*) FILTER (WHERE status = 'failed') FROM rag_documents d WHERE d.collection_id = c.id) AS n_failed,
  (SELECT coalesce(sum(bytes), 0) FROM rag_documents d WHERE d.collection_id = c.id) AS n_bytes`

type Row = Record<string, unknown>
const date = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)))
const dateOrNull = (v: unknown): Date | null => (v === null || v === undefined ? null : date(v))

/** A collection without its documents' counts and bytes (which read every document of it): what deciding who may use it needs. */
export type CollectionRow = Omit<CollectionRecord, 'counts' | 'bytes'>

function collectionOf(r: Row): CollectionRecord {
  const counts = { queued: toNumber(r.n_queued), processing: toNumber(r.n_processing), completed: toNumber(r.n_completed), failed: toNumber(r.n_failed) }
  return { ...collectionRowOf(r), counts: { ...counts, total: counts.queued + counts.processing + counts.completed + counts.failed }, bytes: toNumber(r.n_bytes) }
}

const DAY_MS = 24 * 60 * 60 * 1000

function collectionRowOf(r: Row): CollectionRow {
  const lastActiveAt = dateOrNull(r.last_active_at)
  const expiresAfterDays = r.expires_after_days === null || r.expires_after_days === undefined ? null : toNumber(r.expires_after_days)
  return {
    id: String(r.id),
    name: String(r.name),
    description: (r.description as string | null) ?? null,
    ownerUserId: (r.owner_user_id as string | null) ?? null,
    department: (r.department as string | null) ?? null,
    deptScope: (r.dept_scope as string | null) ?? null,
    embeddingRoute: String(r.embedding_route),
    dimensions: toNumber(r.dimensions),
    chunking: { maxTokens: toNumber(r.chunk_max_tokens), overlapTokens: toNumber(r.chunk_overlap_tokens) },
    textSearch: String(r.text_search ?? 'english'),
    metadata: (r.metadata ?? {}) as Record<string, string>,
    createdAt: date(r.created_at),
    lastActiveAt,
    expiresAfterDays,
    // Anchored on the last use; a store never used counts from its creation.
    expiresAt: expiresAfterDays === null ? null : new Date((lastActiveAt ?? date(r.created_at)).getTime() + expiresAfterDays * DAY_MS),
  }
}

/** SQL: the collection `c` is past its expiry. */
const EXPIRED = `c.expires_after_days IS NOT NULL AND coalesce(c.last_active_at, c.created_at) + make_interval(days => c.expires_after_days) <= now()`

function documentOf(r: Row): DocumentWork {
  return {
    id: String(r.id),
    collectionId: String(r.collection_id),
    fileId: (r.file_id as string | null) ?? null,
    filename: String(r.filename),
    contentType: String(r.content_type),
    kind: r.kind as DocumentRecord['kind'],
    bytes: toNumber(r.bytes),
    contentHash: String(r.content_hash),
    attributes: (r.attributes ?? {}) as Record<string, string | number | boolean>,
    status: r.status as DocumentStatus,
    error: r.error_code ? { code: String(r.error_code), message: String(r.error_message ?? '') } : null,
    chunksDone: toNumber(r.chunks_done),
    chunksTotal: r.chunks_total === null || r.chunks_total === undefined ? null : toNumber(r.chunks_total),
    attempts: toNumber(r.attempts),
    createdAt: date(r.created_at),
    completedAt: dateOrNull(r.completed_at),
    sections: (r.sections ?? []) as Section[],
    chunking: { maxTokens: toNumber(r.chunk_max_tokens), overlapTokens: toNumber(r.chunk_overlap_tokens) },
    uploader: r.uploader as Uploader,
    ingestId: (r.ingest_id as string | null) ?? null,
  }
}

/** Index names carry the collection id: `rag_chunks_hnsw_<32 hex>`. */
const indexName = (collectionId: string): string => `rag_chunks_hnsw_${collectionId.replace(/-/g, '')}`

/**
 * `seq` bounds and the order for a cursor page: `before` alone reads backwards from its cursor
 * (the rows are turned back after), so the page is the one next to it. `cursorSeq` is the SQL of
 * the seq a cursor parameter names; one that names no row bounds nothing.
 */
function cursorSql(cursor: Cursor, params: unknown[], column: string, cursorSeq: (param: string) => string): { where: string[]; order: 'ASC' | 'DESC'; backwards: boolean } {
  const asc = cursor.order === 'asc'
  const backwards = cursor.before !== undefined && cursor.after === undefined
  const where: string[] = []
  const bound = (id: string, beyond: boolean) => {
    const seq = cursorSeq(`$${params.push(id)}`)
    where.push(`(${seq} IS NULL OR ${column} ${asc === beyond ? '>' : '<'} ${seq})`)
  }
  if (cursor.after !== undefined) bound(cursor.after, true)
  if (cursor.before !== undefined) bound(cursor.before, false)
  return { where, order: asc !== backwards ? 'ASC' : 'DESC', backwards }
}

/** A list's columns: not the extracted text (`sections`), which a list never shows. */
const LIST_DOCUMENT_COLUMNS = `id, collection_id, file_id, filename, content_type, kind, bytes, content_hash, attributes, status, error_code, error_message,
  chunks_done, chunks_total, attempts, chunk_max_tokens, chunk_overlap_tokens, ingest_id, created_at, completed_at`

export interface CollectionFilter extends Page, Cursor {
  /** Only collections these callers may see: all (undefined), or by owner / department / scope. */
  readonly visibleTo?: { readonly userId: string; readonly department: string | null; readonly departmentAdmin: boolean }
}

/** Thrown inside a transaction to undo it: the ingest it wrote for was taken away (deleted, queued again). */
class IngestTaken extends Error {}

/** Whether the server has a text search configuration of this name (text-search.ts). */
export async function hasTextSearch(sql: SqlClient, name: string): Promise<boolean> {
  const { rows } = await sql.query<{ found: boolean }>('SELECT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = $1) AS found', [name])
  return rows[0]?.found === true
}

export function ragRepository(store: Store) {
  const sql = store.sql
  return {
    async createCollection(input: {
      name: string; description: string | null; ownerUserId: string | null; department: string | null; deptScope: string | null
      embeddingRoute: string; dimensions: number; askDimensions: boolean; chunking: ChunkingSettings; textSearch?: string; metadata: Record<string, string>; expiresAfterDays?: number | null
    }): Promise<CollectionRecord> {
      return store.transaction(async (tx) => {
        const { rows } = await tx.query<Row>(
          `INSERT INTO rag_collections (name, description, owner_user_id, department, dept_scope, embedding_route, dimensions, chunk_max_tokens, chunk_overlap_tokens, metadata, ask_dimensions, expires_after_days, text_search)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, $13) RETURNING id`,
          [input.name, input.description, input.ownerUserId, input.department, input.deptScope, input.embeddingRoute, input.dimensions,
            input.chunking.maxTokens, input.chunking.overlapTokens, jsonParam(input.metadata), input.askDimensions, input.expiresAfterDays ?? null, input.textSearch ?? 'english'],
        )
        const id = String(rows[0].id)
        // DDL cannot take parameters: the id is the UUID just generated and the dimension an
        // integer checked by the table's constraint, so neither can carry SQL.
        await tx.exec(`CREATE INDEX ${indexName(id)} ON rag_chunks USING hnsw ((embedding::vector(${Math.trunc(input.dimensions)})) vector_cosine_ops) WHERE collection_id = '${id}'`)
        return collectionOf((await tx.query<Row>(`SELECT ${COLLECTION_COLUMNS} FROM rag_collections c WHERE c.id = $1`, [id])).rows[0])
      })
    },

    /** Whether embeddings requests for the collection ask for its dimension. */
    async asksDimensions(id: string): Promise<boolean> {
      const { rows } = await sql.query<{ ask_dimensions: boolean }>('SELECT ask_dimensions FROM rag_collections WHERE id = $1', [id])
      return rows[0]?.ask_dimensions === true
    },

    async getCollection(id: string): Promise<CollectionRecord | undefined> {
      const { rows } = await sql.query<Row>(`SELECT ${COLLECTION_COLUMNS} FROM rag_collections c WHERE c.id = $1`, [id])
      return rows[0] ? collectionOf(rows[0]) : undefined
    },

    /** The collection without its counts: one row, however many documents it holds. */
    async getCollectionRow(id: string): Promise<CollectionRow | undefined> {
      const { rows } = await sql.query<Row>('SELECT * FROM rag_collections WHERE id = $1', [id])
      return rows[0] ? collectionRowOf(rows[0]) : undefined
    },

    async listCollections(filter: CollectionFilter): Promise<CollectionRecord[]> {
      const [limit, offset] = pageOf(filter)
      const v = filter.visibleTo
      const where: string[] = []
      const params: unknown[] = [limit, offset]
      if (v) {
        params.push(v.userId, v.department, v.departmentAdmin)
        where.push(`(c.owner_user_id = $3 OR ($4::text IS NOT NULL AND c.dept_scope = $4) OR ($5 AND $4::text IS NOT NULL AND c.department = $4))`)
      }
      const cursor = cursorSql(filter, params, 'c.seq', (p) => `(SELECT seq FROM rag_collections WHERE id::text = ${p})`)
      where.push(...cursor.where)
      // Newest first by seq (migrations/0003), since created_at ties within a clock tick of the embedded store.
      const { rows } = await sql.query<Row>(`SELECT ${COLLECTION_COLUMNS} FROM rag_collections c ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY c.seq ${cursor.order} LIMIT $1 OFFSET $2`, params)
      const found = rows.map(collectionOf)
      return cursor.backwards ? found.reverse() : found
    },

    /** `expiresAfterDays`: undefined keeps it, null clears it. */
    async updateCollection(id: string, changes: { name?: string; metadata?: Record<string, string>; expiresAfterDays?: number | null }): Promise<void> {
      await sql.query(
        `UPDATE rag_collections SET name = coalesce($2, name), metadata = coalesce($3::jsonb, metadata), expires_after_days = CASE WHEN $4 THEN $5::integer ELSE expires_after_days END WHERE id = $1`,
        [id, changes.name ?? null, jsonParam(changes.metadata), changes.expiresAfterDays !== undefined, changes.expiresAfterDays ?? null],
      )
    },

    async deleteCollection(id: string): Promise<void> {
      await store.transaction(async (tx) => {
        await tx.exec(`DROP INDEX IF EXISTS ${indexName(id)}`)
        await tx.query('DELETE FROM rag_chunks WHERE collection_id = $1', [id])
        await tx.query('DELETE FROM rag_collections WHERE id = $1', [id])
      })
    },

    async touchCollection(id: string): Promise<void> {
      await sql.query('UPDATE rag_collections SET last_active_at = now() WHERE id = $1', [id])
    },

    /** Up to `limit` expired collections that still hold chunks (for the sweep that frees them). */
    async expiredWithChunks(limit: number): Promise<string[]> {
      const { rows } = await sql.query<{ id: string }>(
        `SELECT c.id FROM rag_collections c WHERE ${EXPIRED} AND EXISTS (SELECT 1 FROM rag_chunks k WHERE k.collection_id = c.id) LIMIT $1`, [limit])
      return rows.map((r) => String(r.id))
    },

    /** Delete up to `limit` chunks of an expired collection (none if it is no longer expired); how many went. */
    async freeExpiredChunks(id: string, limit: number): Promise<number> {
      const { rowCount } = await sql.query(
        `DELETE FROM rag_chunks WHERE id IN (SELECT k.id FROM rag_chunks k JOIN rag_collections c ON c.id = k.collection_id WHERE k.collection_id = $1 AND ${EXPIRED} LIMIT $2)`, [id, limit])
      return rowCount
    },

    /**
     * A new document, or the one already there, queued to be ingested again: its chunks are
     * replaced when the new ingest completes, never duplicated. "Already there" is the same
     * /v1/files file in the collection, or for an upload without one the same content.
     */
    async upsertDocument(input: {
      collectionId: string; fileId: string | null; filename: string; contentType: string; kind: DocumentRecord['kind']; bytes: number; contentHash: string
      sections: Section[]; attributes: Record<string, unknown>; chunking: ChunkingSettings; uploader: Uploader
      /** Stored failed with why (a file that could not be read): nothing to ingest. */
      failed?: { code: string; message: string }
    }): Promise<DocumentWork> {
      const failed = input.failed ?? null
      const { rows } = await sql.query<Row>(
        `INSERT INTO rag_documents (collection_id, file_id, filename, content_type, kind, bytes, content_hash, sections, attributes, chunk_max_tokens, chunk_overlap_tokens, uploader, status, error_code, error_message)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11, $12::jsonb, $13, $14, $15)
         ON CONFLICT ${input.fileId === null ? '(collection_id, content_hash) WHERE file_id IS NULL' : '(collection_id, file_id) WHERE file_id IS NOT NULL'} DO UPDATE SET
           filename = EXCLUDED.filename, content_type = EXCLUDED.content_type, kind = EXCLUDED.kind, sections = EXCLUDED.sections,
           attributes = EXCLUDED.attributes, chunk_max_tokens = EXCLUDED.chunk_max_tokens, chunk_overlap_tokens = EXCLUDED.chunk_overlap_tokens,
           uploader = EXCLUDED.uploader, status = EXCLUDED.status, error_code = EXCLUDED.error_code, error_message = EXCLUDED.error_message, lease_until = NULL, updated_at = now()
         RETURNING *`,
        [input.collectionId, input.fileId, input.filename, input.contentType, input.kind, input.bytes, input.contentHash, jsonParam(input.sections),
          jsonParam(input.attributes), input.chunking.maxTokens, input.chunking.overlapTokens, jsonParam(input.uploader),
          failed ? 'failed' : 'queued', failed?.code ?? null, failed ? failed.message.slice(0, 2000) : null],
      )
      return documentOf(rows[0])
    },

    async getDocument(collectionId: string, id: string): Promise<DocumentWork | undefined> {
      // By its own id, or by the /v1/files id it was attached from.
      const { rows } = await sql.query<Row>(
        isUuid(id) ? 'SELECT * FROM rag_documents WHERE collection_id = $1 AND (id = $2 OR file_id = $3) LIMIT 1' : 'SELECT * FROM rag_documents WHERE collection_id = $1 AND file_id = $2 LIMIT 1',
        isUuid(id) ? [collectionId, id, id] : [collectionId, id],
      )
      return rows[0] ? documentOf(rows[0]) : undefined
    },

    async documentById(id: string): Promise<DocumentWork | undefined> {
      const { rows } = await sql.query<Row>('SELECT * FROM rag_documents WHERE id = $1', [id])
      return rows[0] ? documentOf(rows[0]) : undefined
    },

    async listDocuments(collectionId: string, filter: DocumentFilter): Promise<DocumentRecord[]> {
      const [limit, offset] = pageOf(filter)
      const statuses = filter.status === undefined ? null : [filter.status].flat()
      const params: unknown[] = [collectionId, limit, offset, statuses]
      const where = ['collection_id = $1', '($4::text[] IS NULL OR status = ANY($4::text[]))']
      if (filter.fileIds) where.push(`file_id = ANY($${params.push(filter.fileIds)}::text[])`)
      const cursor = cursorSql(filter, params, 'seq', (p) => `(SELECT seq FROM rag_documents WHERE collection_id = $1 AND (file_id = ${p} OR id::text = ${p}))`)
      where.push(...cursor.where)
      const { rows } = await sql.query<Row>(
        // Newest first by seq (migrations/0003): created_at ties within a clock tick of the embedded store.
        `SELECT ${LIST_DOCUMENT_COLUMNS} FROM rag_documents WHERE ${where.join(' AND ')} ORDER BY seq ${cursor.order} LIMIT $2 OFFSET $3`,
        params,
      )
      const found = rows.map(documentOf)
      return cursor.backwards ? found.reverse() : found
    },

    async updateAttributes(id: string, attributes: Record<string, unknown>): Promise<DocumentWork> {
      const { rows } = await sql.query<Row>('UPDATE rag_documents SET attributes = $2::jsonb, updated_at = now() WHERE id = $1 RETURNING *', [id, jsonParam(attributes)])
      return documentOf(rows[0])
    },

    async deleteDocument(id: string): Promise<void> {
      await sql.query('DELETE FROM rag_documents WHERE id = $1', [id])
    },

    /** Every document attached from a /v1/files file, in any collection (its chunks go with it). */
    async deleteDocumentsOfFile(fileId: string): Promise<number> {
      const { rowCount } = await sql.query('DELETE FROM rag_documents WHERE file_id = $1', [fileId])
      return rowCount
    },

    /** Queue a failed document again. */
    async requeue(id: string): Promise<boolean> {
      const { rowCount } = await sql.query(`UPDATE rag_documents SET status = 'queued', error_code = NULL, error_message = NULL, lease_until = NULL, updated_at = now() WHERE id = $1 AND status = 'failed'`, [id])
      return rowCount > 0
    },

    /**
     * Take a document for ingesting: a queued one, or one whose worker stopped reporting (its
     * lease ran out). Exactly one worker wins; the leftovers of an attempt that died are deleted.
     */
    async claim(id: string, leaseSeconds: number): Promise<DocumentWork | undefined> {
      return store.transaction(async (tx) => {
        const { rows } = await tx.query<Row>(
          `UPDATE rag_documents SET status = 'processing', attempts = attempts + 1, ingest_id = gen_random_uuid(), chunks_done = 0, chunks_total = NULL,
             error_code = NULL, error_message = NULL, lease_until = now() + make_interval(secs => $2), updated_at = now()
           WHERE id = $1 AND (status = 'queued' OR (status = 'processing' AND lease_until < now())) RETURNING *`,
          [id, leaseSeconds],
        )
        if (!rows[0]) return undefined
        await tx.query('DELETE FROM rag_chunks WHERE document_id = $1 AND ingest_id IS DISTINCT FROM $2 AND ingest_id IS DISTINCT FROM $3', [id, rows[0].ingest_id, rows[0].ready_ingest])
        return documentOf(rows[0])
      })
    },

    /** Documents waiting for a worker, or whose worker died. */
    async pendingIds(limit: number): Promise<string[]> {
      const { rows } = await sql.query<{ id: string }>(
        `SELECT id FROM rag_documents WHERE status = 'queued' OR (status = 'processing' AND lease_until < now()) ORDER BY updated_at LIMIT $1`, [limit],
      )
      return rows.map((r) => String(r.id))
    },

    /** Total chunks known: false when the document was taken from this ingest (deleted, re-queued). */
    async setTotal(id: string, ingestId: string, total: number, leaseSeconds: number): Promise<boolean> {
      const { rowCount } = await sql.query(
        `UPDATE rag_documents SET chunks_total = $3, lease_until = now() + make_interval(secs => $4), updated_at = now() WHERE id = $1 AND ingest_id = $2 AND status = 'processing'`,
        [id, ingestId, total, leaseSeconds],
      )
      return rowCount > 0
    },

    /**
     * One batch of embedded chunks, written with the progress and a renewed lease in one
     * transaction; their tsvector in the collection's text search configuration.
     */
    async writeChunks(doc: { id: string; collectionId: string; textSearch: string }, ingestId: string, first: number, chunks: readonly Chunk[], vectors: readonly (readonly number[])[], leaseSeconds: number): Promise<boolean> {
      return store.transaction(async (tx) => {
        const { rowCount } = await tx.query(
          `UPDATE rag_documents SET chunks_done = $3, lease_until = now() + make_interval(secs => $4), updated_at = now() WHERE id = $1 AND ingest_id = $2 AND status = 'processing'`,
          [doc.id, ingestId, first + chunks.length, leaseSeconds],
        )
        if (rowCount === 0) return false
        const values: string[] = []
        const params: unknown[] = [doc.collectionId, doc.id, ingestId, doc.textSearch]
        chunks.forEach((c, i) => {
          const p = params.length
          values.push(`($1, $2, $3, $${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, $${p + 5}, $${p + 6}, $${p + 7}::vector, to_tsvector($4::regconfig, $${p + 2}))`)
          params.push(first + i, c.text, c.page, c.heading, c.startOffset, c.endOffset, pgvector.toSql(vectors[i]))
        })
        await tx.query(`INSERT INTO rag_chunks (collection_id, document_id, ingest_id, seq, text, page, heading, start_offset, end_offset, embedding, tsv) VALUES ${values.join(', ')}`, params)
        return true
      })
    },

    /**
     * Copy into this ingest the completed chunks (text, place, vector) of a document embedded
     * under the same key by the same uploader (ingest/reuse.ts), their tsvector made again in
     * this collection's configuration: the embeddings route is not called. In their order (ids
     * break ties between equal scores, as the original's did). A copy, not a
     * reference, so deleting either document leaves the other whole. The number of chunks
     * copied, or undefined when there is no such document (in a store that has not expired, whose
     * chunks may be swept) or this ingest was taken away.
     */
    async copyEmbedded(doc: { id: string; collectionId: string; textSearch: string }, ingestId: string, key: string, uploaderId: string): Promise<number | undefined> {
      return store.transaction(async (tx) => {
        const { rows } = await tx.query<{ id: string; ready_ingest: string }>(
          `SELECT s.id, s.ready_ingest FROM rag_documents s JOIN rag_collections c ON c.id = s.collection_id
           WHERE s.embedded_key = $1 AND s.ready_ingest IS NOT NULL AND s.uploader->>'userId' = $2 AND NOT (${EXPIRED})
           ORDER BY s.id = $3 DESC LIMIT 1`,
          [key, uploaderId, doc.id],
        )
        const source = rows[0]
        if (!source) return undefined
        const { rowCount } = await tx.query(
          `INSERT INTO rag_chunks (collection_id, document_id, ingest_id, seq, text, page, heading, start_offset, end_offset, embedding, tsv)
           SELECT $1, $2, $3, seq, text, page, heading, start_offset, end_offset, embedding, to_tsvector($4::regconfig, text)
           FROM rag_chunks WHERE document_id = $5 AND ingest_id = $6 ORDER BY seq`,
          [doc.collectionId, doc.id, ingestId, doc.textSearch, source.id, source.ready_ingest],
        )
        const { rowCount: still } = await tx.query(
          `UPDATE rag_documents SET chunks_total = $3, chunks_done = $3, updated_at = now() WHERE id = $1 AND ingest_id = $2 AND status = 'processing'`,
          [doc.id, ingestId, rowCount],
        )
        if (still === 0) throw new IngestTaken()
        return rowCount
      }).catch((err: unknown) => {
        if (err instanceof IngestTaken) return undefined
        throw err
      })
    },

    /** The ingest's chunks become the document's searchable ones (`embeddedKey`: what made their vectors, ingest/reuse.ts), the previous ones go: one transaction. */
    async complete(id: string, ingestId: string, embeddedKey: string): Promise<boolean> {
      return store.transaction(async (tx) => {
        const { rowCount } = await tx.query(
          `UPDATE rag_documents SET status = 'completed', ready_ingest = ingest_id, embedded_key = $3, lease_until = NULL, completed_at = now(), updated_at = now() WHERE id = $1 AND ingest_id = $2 AND status = 'processing'`,
          [id, ingestId, embeddedKey],
        )
        if (rowCount === 0) return false
        await tx.query('DELETE FROM rag_chunks WHERE document_id = $1 AND ingest_id <> $2', [id, ingestId])
        return true
      })
    },

    /** The ingest failed: why, and its chunks gone (an earlier completed ingest stays searchable). */
    async fail(id: string, ingestId: string, code: string, message: string): Promise<void> {
      await store.transaction(async (tx) => {
        const { rowCount } = await tx.query(
          `UPDATE rag_documents SET status = 'failed', error_code = $3, error_message = $4, lease_until = NULL, updated_at = now() WHERE id = $1 AND ingest_id = $2 AND status = 'processing'`,
          [id, ingestId, code, message.slice(0, 2000)],
        )
        if (rowCount > 0) await tx.query('DELETE FROM rag_chunks WHERE document_id = $1 AND ingest_id = $2', [id, ingestId])
      })
    },

    sql: sql as SqlClient,
  }
}

export type RagRepository = ReturnType<typeof ragRepository>
export { indexName }
