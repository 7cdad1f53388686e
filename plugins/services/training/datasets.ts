/** The training_datasets table: a checked dataset's files, stats, check result and split. */
import { randomBytes } from 'node:crypto'
import { type SqlClient } from '../../../plugin-api/index.ts'
import { jsonParam } from '../../store/kit/sql.ts'
import type { JsonObject } from '../../contracts/capabilities.ts'

export interface DatasetRecord {
  readonly id: string
  readonly userId: string | null
  readonly department: string | null
  readonly name: string
  readonly fileId: string
  readonly validationFileId: string | null
  readonly model: string | null
  readonly stats: JsonObject
  readonly validation: JsonObject
  readonly split: JsonObject | null
  readonly createdAt: Date
}

export type NewDataset = Omit<DatasetRecord, 'id' | 'createdAt'>

const json = (v: unknown): JsonObject | null => (v === null || v === undefined ? null : (typeof v === 'string' ? JSON.parse(v) : v) as JsonObject)

const toDataset = (r: Record<string, unknown>): DatasetRecord => ({
  id: r.id as string,
  userId: (r.user_id as string | null) ?? null,
  department: (r.department as string | null) ?? null,
  name: r.name as string,
  fileId: r.file_id as string,
  validationFileId: (r.validation_file_id as string | null) ?? null,
  model: (r.model as string | null) ?? null,
  stats: json(r.stats) ?? {},
  validation: json(r.validation) ?? {},
  split: json(r.split),
  createdAt: new Date(r.created_at as string),
})

export function datasetRepository(sql: SqlClient) {
  return {
    async create(input: NewDataset): Promise<DatasetRecord> {
      const { rows } = await sql.query(
        `INSERT INTO training_datasets (id, user_id, department, name, file_id, validation_file_id, model, stats, validation, split)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10::jsonb) RETURNING *`,
        [`ds-${randomBytes(12).toString('hex')}`, input.userId, input.department, input.name, input.fileId, input.validationFileId, input.model,
          jsonParam(input.stats), jsonParam(input.validation), jsonParam(input.split)],
      )
      return toDataset(rows[0])
    },
    async get(id: string): Promise<DatasetRecord | undefined> {
      const { rows } = await sql.query('SELECT * FROM training_datasets WHERE id = $1', [id])
      return rows[0] && toDataset(rows[0])
    },
    async list(filter: { userId?: string; department?: string; limit: number }): Promise<DatasetRecord[]> {
      const where: string[] = []
      const params: unknown[] = []
      if (filter.userId !== undefined) where.push(`user_id = $${params.push(filter.userId)}`)
      if (filter.department !== undefined) where.push(`department IS NOT DISTINCT FROM $${params.push(filter.department ?? null)}`)
      const { rows } = await sql.query(
        `SELECT * FROM training_datasets ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ${Math.min(Math.max(filter.limit, 1), 1000)}`,
        params,
      )
      return rows.map(toDataset)
    },
  }
}

export type DatasetRepository = ReturnType<typeof datasetRepository>
