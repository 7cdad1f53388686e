/**
 * The `rag_file_batches` table: OpenAI's vector store file batches (files attached together),
 * offered to the vector-stores surface of this folder through the FileBatches token. A batch's
 * progress is its documents', read by the surface.
 */
import { randomBytes } from 'node:crypto'
import { token, type SqlClient } from '../../../../plugin-api/index.ts'
import type { DocumentStatus } from '../../../contracts/rag.ts'

export interface FileBatchRecord {
  readonly id: string
  readonly collectionId: string
  readonly fileIds: readonly string[]
  readonly cancelled: boolean
  readonly createdAt: Date
}

export interface FileBatches {
  create(collectionId: string, fileIds: readonly string[]): Promise<FileBatchRecord>
  /** The batch of that collection, or undefined. */
  get(collectionId: string, id: string): Promise<FileBatchRecord | undefined>
  cancel(collectionId: string, id: string): Promise<void>
  /** The batch's files' documents by status, counted in one query (a batch holds up to 2,000). */
  statusCounts(batch: FileBatchRecord): Promise<Partial<Record<DocumentStatus, number>>>
}

/** service.rag's batches, for surface.vector-stores (this folder's own, not a shared capability). */
export const FileBatches = token<FileBatches>('FileBatches')

interface Row { id: string; collection_id: string; file_ids: string[]; cancelled: boolean; created_at: Date | string }
const toBatch = (r: Row): FileBatchRecord => ({ id: r.id, collectionId: r.collection_id, fileIds: r.file_ids, cancelled: r.cancelled, createdAt: new Date(r.created_at) })
const BATCH_ID = /^vsfb_[0-9a-f]{24}$/

export function fileBatchRepository(sql: SqlClient): FileBatches {
  return {
    async create(collectionId, fileIds) {
      const { rows } = await sql.query<Row>('INSERT INTO rag_file_batches (id, collection_id, file_ids) VALUES ($1, $2, $3) RETURNING *', [`vsfb_${randomBytes(12).toString('hex')}`, collectionId, fileIds])
      return toBatch(rows[0])
    },
    async get(collectionId, id) {
      if (!BATCH_ID.test(id)) return undefined
      const { rows } = await sql.query<Row>('SELECT * FROM rag_file_batches WHERE id = $1 AND collection_id = $2', [id, collectionId])
      return rows[0] && toBatch(rows[0])
    },
    async cancel(collectionId, id) {
      await sql.query('UPDATE rag_file_batches SET cancelled = true WHERE id = $1 AND collection_id = $2', [id, collectionId])
    },
    async statusCounts(batch) {
      const { rows } = await sql.query<{ status: DocumentStatus; n: number | string }>(
        'SELECT status, count(*) AS n FROM rag_documents WHERE collection_id = $1 AND file_id = ANY($2::text[]) GROUP BY status', [batch.collectionId, batch.fileIds],
      )
      return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]))
    },
  }
}
