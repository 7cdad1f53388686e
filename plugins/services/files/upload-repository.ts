/** The `uploads` and `upload_parts` tables (service.files owns them): OpenAI's Uploads, a file sent in parts. */
import { type Owner, type SqlClient } from '../../../plugin-api/index.ts'
import { isId, newId } from '../kit/ids.ts'

/** `completing`: a complete is making the file (shown as `pending`; a failed one sets it back). */
export type UploadStatus = 'pending' | 'completing' | 'completed' | 'cancelled' | 'expired'

export interface UploadRecord extends Owner {
  readonly id: string
  readonly filename: string
  readonly purpose: string
  readonly mimeType: string
  readonly bytes: number
  readonly status: UploadStatus
  /** The completed file's `expires_after.seconds`, or null (kept until deleted). */
  readonly fileExpiresAfter: number | null
  readonly fileId: string | null
  readonly createdAt: Date
  readonly expiresAt: Date
}

export interface UploadPartRecord {
  readonly id: string
  readonly uploadId: string
  readonly bytes: number
  readonly createdAt: Date
}

export interface NewUpload extends Owner {
  readonly filename: string
  readonly purpose: string
  readonly mimeType: string
  readonly bytes: number
  readonly fileExpiresAfter: number | null
  readonly expiresAt: Date
}

const COLUMNS = 'id, user_id, department, filename, purpose, mime_type, bytes, status, file_expires_after, file_id, created_at, expires_at'
/** An upload that can take parts or be completed: pending and not past its expiry. */
const OPEN = `status = 'pending' AND expires_at > now()`

interface UploadRow {
  id: string
  user_id: string | null
  department: string | null
  filename: string
  purpose: string
  mime_type: string
  bytes: number | string
  status: UploadStatus
  file_expires_after: number | null
  file_id: string | null
  created_at: Date | string
  expires_at: Date | string
}
interface PartRow { id: string; upload_id: string; bytes: number; created_at: Date | string }

const toUpload = (row: UploadRow): UploadRecord => ({
  id: row.id, userId: row.user_id, department: row.department, filename: row.filename, purpose: row.purpose, mimeType: row.mime_type,
  bytes: Number(row.bytes), status: row.status, fileExpiresAfter: row.file_expires_after, fileId: row.file_id,
  createdAt: new Date(row.created_at), expiresAt: new Date(row.expires_at),
})
const toPart = (row: PartRow): UploadPartRecord => ({ id: row.id, uploadId: row.upload_id, bytes: Number(row.bytes), createdAt: new Date(row.created_at) })

export interface UploadRepository {
  create(upload: NewUpload): Promise<UploadRecord>
  get(id: string): Promise<UploadRecord | undefined>
  /** Store a part if the upload is open and its parts stay within `cap` bytes; undefined when not. */
  addPart(uploadId: string, data: Buffer, cap: number): Promise<UploadPartRecord | undefined>
  /** Those of `ids` that are parts of the upload (no bytes). */
  parts(uploadId: string, ids: readonly string[]): Promise<UploadPartRecord[]>
  /** The parts' bytes, joined in the order of `ids`. */
  content(uploadId: string, ids: readonly string[]): Promise<Buffer>
  /** Move an open upload to `completing` (one complete at a time); undefined when it is not open. */
  claim(id: string): Promise<UploadRecord | undefined>
  /** A complete that failed: the upload is pending again. */
  release(id: string): Promise<void>
  /** A complete that made `fileId`: completed, its parts deleted. */
  finish(id: string, fileId: string): Promise<UploadRecord>
  /** Cancel an open upload and delete its parts; undefined when it is not open. */
  cancel(id: string): Promise<UploadRecord | undefined>
  /**
   * One bounded sweep: up to `uploads` open uploads past their expiry become `expired`, up to
   * `parts` parts of ended uploads are deleted, and up to `uploads` records of uploads ended 30
   * days ago are deleted; how many of each.
   */
  sweep(uploads: number, parts: number): Promise<{ expired: number; parts: number; forgotten: number }>
}

export function uploadRepository(sql: SqlClient): UploadRepository {
  const deleteParts = (id: string) => sql.query('DELETE FROM upload_parts WHERE upload_id = $1', [id])
  return {
    async create(u) {
      const { rows } = await sql.query<UploadRow>(
        `INSERT INTO uploads (id, user_id, department, filename, purpose, mime_type, bytes, file_expires_after, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${COLUMNS}`,
        [newId('upload'), u.userId, u.department, u.filename, u.purpose, u.mimeType, u.bytes, u.fileExpiresAfter, u.expiresAt],
      )
      return toUpload(rows[0])
    },
    async get(id) {
      if (!isId(id, 'upload')) return undefined
      const { rows } = await sql.query<UploadRow>(`SELECT ${COLUMNS} FROM uploads WHERE id = $1`, [id])
      return rows[0] && toUpload(rows[0])
    },
    async addPart(uploadId, data, cap) {
      const { rows } = await sql.query<PartRow>(
        `INSERT INTO upload_parts (id, upload_id, bytes, content)
         SELECT $1, u.id, $3::integer, $4 FROM uploads u
         WHERE u.id = $2 AND u.status = 'pending' AND u.expires_at > now()
           AND (SELECT coalesce(sum(p.bytes), 0) FROM upload_parts p WHERE p.upload_id = u.id) + $3::integer <= $5::bigint
         RETURNING id, upload_id, bytes, created_at`,
        [newId('part'), uploadId, data.length, data, cap],
      )
      return rows[0] && toPart(rows[0])
    },
    async parts(uploadId, ids) {
      const valid = ids.filter((id) => isId(id, 'part'))
      if (valid.length === 0) return []
      const { rows } = await sql.query<PartRow>('SELECT id, upload_id, bytes, created_at FROM upload_parts WHERE upload_id = $1 AND id = ANY($2::text[])', [uploadId, valid])
      return rows.map(toPart)
    },
    async content(uploadId, ids) {
      const { rows } = await sql.query<{ id: string; content: Uint8Array }>('SELECT id, content FROM upload_parts WHERE upload_id = $1 AND id = ANY($2::text[])', [uploadId, [...ids]])
      const byId = new Map(rows.map((r) => [r.id, Buffer.from(r.content)]))
      return Buffer.concat(ids.map((id) => byId.get(id) ?? Buffer.alloc(0)))
    },
    async claim(id) {
      const { rows } = await sql.query<UploadRow>(`UPDATE uploads SET status = 'completing' WHERE id = $1 AND ${OPEN} RETURNING ${COLUMNS}`, [id])
      return rows[0] && toUpload(rows[0])
    },
    async release(id) {
      await sql.query(`UPDATE uploads SET status = 'pending' WHERE id = $1 AND status = 'completing'`, [id])
    },
    async finish(id, fileId) {
      const { rows } = await sql.query<UploadRow>(`UPDATE uploads SET status = 'completed', file_id = $2 WHERE id = $1 RETURNING ${COLUMNS}`, [id, fileId])
      await deleteParts(id)
      return toUpload(rows[0])
    },
    async cancel(id) {
      const { rows } = await sql.query<UploadRow>(`UPDATE uploads SET status = 'cancelled' WHERE id = $1 AND ${OPEN} RETURNING ${COLUMNS}`, [id])
      if (rows[0]) await deleteParts(id)
      return rows[0] && toUpload(rows[0])
    },
    async sweep(uploads, parts) {
      const expired = await sql.query(
        `UPDATE uploads SET status = 'expired' WHERE id IN (
           SELECT id FROM uploads WHERE status IN ('pending', 'completing') AND expires_at <= now() ORDER BY expires_at LIMIT $1)`,
        [uploads],
      )
      const deleted = await sql.query(
        `DELETE FROM upload_parts WHERE id IN (
           SELECT p.id FROM upload_parts p JOIN uploads u ON u.id = p.upload_id WHERE u.status IN ('completed', 'cancelled', 'expired') LIMIT $1)`,
        [parts],
      )
      // An ended upload's record answers a late complete or cancel with why for 30 days, then goes.
      const forgotten = await sql.query(
        `DELETE FROM uploads WHERE id IN (
           SELECT id FROM uploads WHERE status IN ('completed', 'cancelled', 'expired') AND expires_at < now() - interval '30 days' ORDER BY expires_at LIMIT $1)`,
        [uploads],
      )
      return { expired: expired.rowCount, parts: deleted.rowCount, forgotten: forgotten.rowCount }
    },
  }
}
