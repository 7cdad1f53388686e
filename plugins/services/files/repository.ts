/** The `files` table (service.files owns it): rows in, StoredFile records out. */
import { randomBytes } from 'node:crypto'
import { type SqlClient } from '../../../plugin-api/index.ts'
import { jsonParam } from '../../store/kit/sql.ts'
import type { FileListQuery, FileUpload, StoredFile } from '../../contracts/files.ts'
import type { JsonObject } from '../../contracts/capabilities.ts'

const COLUMNS = 'id, user_id, department, filename, purpose, content_type, bytes, metadata, created_at, expires_at'
/** A file past its `expires_at` is gone for every read, before the sweep deletes it. */
const LIVE = '(expires_at IS NULL OR expires_at > now())'
const FILE_ID = /^file-[0-9a-f]{24}$/
/** Bytes per read of a file streamed out (contentPages). */
const PAGE_BYTES = 1 << 20

interface FileRow {
  id: string
  user_id: string | null
  department: string | null
  filename: string
  purpose: string
  content_type: string
  bytes: number
  metadata: JsonObject | string
  created_at: Date | string
  expires_at: Date | string | null
}

const toFile = (row: FileRow): StoredFile => ({
  id: row.id,
  userId: row.user_id,
  department: row.department,
  filename: row.filename,
  purpose: row.purpose,
  contentType: row.content_type,
  bytes: Number(row.bytes),
  metadata: typeof row.metadata === 'string' ? (JSON.parse(row.metadata) as JsonObject) : row.metadata ?? {},
  createdAt: new Date(row.created_at),
  expiresAt: row.expires_at === null ? null : new Date(row.expires_at),
})

export const newFileId = (): string => `file-${randomBytes(12).toString('hex')}`

export interface FileRepository {
  insert(upload: FileUpload, metadata: JsonObject): Promise<StoredFile>
  /** `expired`: a file past its `expires_at` too (for the sweep). */
  get(id: string, expired?: boolean): Promise<StoredFile | undefined>
  getMany(ids: readonly string[]): Promise<StoredFile[]>
  content(id: string): Promise<Buffer | undefined>
  contentPages(id: string): AsyncIterable<Buffer>
  list(query: FileListQuery): Promise<StoredFile[]>
  delete(id: string): Promise<boolean>
  /** Ids of files past their `expires_at`, oldest expiry first. */
  expired(limit: number): Promise<string[]>
}

export function fileRepository(sql: SqlClient): FileRepository {
  return {
    async insert(upload, metadata) {
      const { rows } = await sql.query<FileRow>(
        `INSERT INTO files (id, user_id, department, filename, purpose, content_type, bytes, content, metadata, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10) RETURNING ${COLUMNS}`,
        [newFileId(), upload.owner.userId, upload.owner.department, upload.filename, upload.purpose, upload.contentType ?? 'application/octet-stream', upload.data.length, upload.data, jsonParam(metadata) ?? '{}', upload.expiresAt ?? null],
      )
      return toFile(rows[0])
    },
    async get(id, expired = false) {
      if (!FILE_ID.test(id)) return undefined
      const { rows } = await sql.query<FileRow>(`SELECT ${COLUMNS} FROM files WHERE id = $1${expired ? '' : ` AND ${LIVE}`}`, [id])
      return rows[0] && toFile(rows[0])
    },
    async getMany(ids) {
      const valid = ids.filter((id) => FILE_ID.test(id))
      if (valid.length === 0) return []
      const { rows } = await sql.query<FileRow>(`SELECT ${COLUMNS} FROM files WHERE id = ANY($1::text[]) AND ${LIVE}`, [valid])
      return rows.map(toFile)
    },
    async content(id) {
      if (!FILE_ID.test(id)) return undefined
      const { rows } = await sql.query<{ content: Uint8Array }>(`SELECT content FROM files WHERE id = $1 AND ${LIVE}`, [id])
      return rows[0] && Buffer.from(rows[0].content)
    },
    async *contentPages(id) {
      if (!FILE_ID.test(id)) return
      // A slice per read: the store sends one page, not the column (a live check each time: a file deleted meanwhile ends here).
      for (let from = 1; ; from += PAGE_BYTES) {
        const { rows } = await sql.query<{ page: Uint8Array }>(`SELECT substring(content FROM $2 FOR $3) AS page FROM files WHERE id = $1 AND ${LIVE}`, [id, from, PAGE_BYTES])
        const page = rows[0]?.page
        if (!page || page.length === 0) return
        yield Buffer.from(page)
        if (page.length < PAGE_BYTES) return
      }
    },
    async list(query) {
      const where: string[] = [LIVE]
      const params: unknown[] = []
      const add = (clause: string, value: unknown) => {
        params.push(value)
        where.push(clause.replace('?', `$${params.length}`))
      }
      if (query.purpose !== undefined) add('purpose = ?', query.purpose)
      if (query.userId !== undefined) add('user_id = ?', query.userId)
      if (query.department !== undefined) add('department IS NOT DISTINCT FROM ?', query.department ?? null)
      const order = query.order === 'asc' ? 'ASC' : 'DESC'
      if (query.after !== undefined) add(`seq ${order === 'ASC' ? '>' : '<'} (SELECT seq FROM files WHERE id = ?)`, query.after)
      // A page of 10,000 (the most a list asks) and the one more that tells it has_more.
      const limit = Math.min(Math.max(query.limit ?? 100, 1), 10_001)
      const { rows } = await sql.query<FileRow>(
        `SELECT ${COLUMNS} FROM files WHERE ${where.join(' AND ')} ORDER BY seq ${order} LIMIT ${limit}`,
        params,
      )
      return rows.map(toFile)
    },
    async delete(id) {
      if (!FILE_ID.test(id)) return false
      const { rowCount } = await sql.query('DELETE FROM files WHERE id = $1', [id])
      return rowCount > 0
    },
    async expired(limit) {
      const { rows } = await sql.query<{ id: string }>('SELECT id FROM files WHERE expires_at <= now() ORDER BY expires_at LIMIT $1', [limit])
      return rows.map((r) => r.id)
    },
  }
}
