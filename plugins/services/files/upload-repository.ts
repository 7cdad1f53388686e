/** The `uploads` and `upload_parts` tables (service.files owns them): OpenAI's Uploads, a file sent in parts. */
import { type Owner, type SqlClient } from '../../../plugin-api/index.ts'
import { randomUUID } from 'node:crypto'
import { isId, newId } from '../kit/ids.ts'

/**
 * How long a complete holds an upload: a `completing` upload claimed longer ago than this was
 * abandoned (the gateway crashed, or a store call never returned) and is open again.
 */
export const CLAIM_SECONDS = 60

/** `completing`: a complete is making the file (shown as `pending`; a failed one sets it back, an abandoned one is taken over). */
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
  /** While `completing`: when the complete claimed it (null for a claim made before claims were timed: abandoned). */
  readonly claimedAt: Date | null
  readonly createdAt: Date
  readonly expiresAt: Date
}

/** A claimed upload, and the claim only its complete may finish or release. */
export interface Claimed { readonly upload: UploadRecord; readonly claim: string }

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

const COLUMNS = 'id, user_id, department, filename, purpose, mime_type, bytes, status, file_expires_after, file_id, claimed_at, created_at, expires_at'
/** An upload that can take parts or be completed: not past its expiry, pending or its complete abandoned. */
const OPEN = `expires_at > now() AND (status = 'pending'
  OR (status = 'completing' AND (claimed_at IS NULL OR claimed_at < now() - make_interval(secs => ${CLAIM_SECONDS}))))`

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
  claimed_at: Date | string | null
  created_at: Date | string
  expires_at: Date | string
}
interface PartRow { id: string; upload_id: string; bytes: number; created_at: Date | string }

const toUpload = (row: UploadRow): UploadRecord => ({
  id: row.id, userId: row.user_id, department: row.department, filename: row.filename, purpose: row.purpose, mimeType: row.mime_type,
  bytes: Number(row.bytes), status: row.status, fileExpiresAfter: row.file_expires_after, fileId: row.file_id,
  claimedAt: row.claimed_at === null ? null : new Date(row.claimed_at), createdAt: new Date(row.created_at), expiresAt: new Date(row.expires_at),
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
  /** Move an open upload (an abandoned complete's too) to `completing` under a new claim; undefined when it is not open. */
  claim(id: string): Promise<Claimed | undefined>
  /** A complete that failed: the upload is pending again, unless another complete took its claim over. */
  release(id: string, claim: string): Promise<void>
  /** A complete that made `fileId`: completed, its parts deleted; undefined when its claim was taken over (the upload was not changed). */
  finish(id: string, claim: string, fileId: string): Promise<UploadRecord | undefined>
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
         WHERE u.id = $2 AND ${OPEN}
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
      const claim = randomUUID()
      const { rows } = await sql.query<UploadRow>(`UPDATE uploads SET status = 'completing', claim = $2, claimed_at = now() WHERE id = $1 AND ${OPEN} RETURNING ${COLUMNS}`, [id, claim])
      return rows[0] && { upload: toUpload(rows[0]), claim }
    },
    async release(id, claim) {
      await sql.query(`UPDATE uploads SET status = 'pending', claim = NULL, claimed_at = NULL WHERE id = $1 AND status = 'completing' AND claim = $2`, [id, claim])
    },
    async finish(id, claim, fileId) {
      const { rows } = await sql.query<UploadRow>(
        `UPDATE uploads SET status = 'completed', file_id = $3, claim = NULL, claimed_at = NULL WHERE id = $1 AND status = 'completing' AND claim = $2 RETURNING ${COLUMNS}`,
        [id, claim, fileId],
      )
      if (!rows[0]) return undefined
      // Completed: the file is made. Parts a failed delete leaves go with the sweep's (it deletes those of ended uploads).
      await deleteParts(id).catch(() => undefined)
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
