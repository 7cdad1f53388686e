/**
 * The `rag_file_batches` table: OpenAI's vector store file batches (files attached together),
 * offered to the vector-stores surface of this folder through the FileBatches token. A batch's
 * progress is its documents', read by the surface.
 */
import { randomBytes } from 'node:crypto'
import { token, type SqlClient } from '../../../../plugin-api/index.ts'

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
  }
}
