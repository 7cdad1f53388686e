/** The `batches`, `batch_lines` and `batch_results` tables: batches as records, a step's lease, their lines and what each answered. */
import type { Owner, Principal, SqlClient } from '../../../plugin-api/index.ts'
import { jsonParam } from '../../store/kit/sql.ts'
import type { JsonObject } from '../../contracts/capabilities.ts'
import type { BatchError, BatchLine } from './input.ts'

export type BatchStatus = 'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled'
/** A batch in one of these still has a step to run. */
export const OPEN: readonly BatchStatus[] = ['validating', 'in_progress', 'finalizing', 'cancelling']

/** `failed` counts every line of the error file; of them, a message batch's counts those its end left unrun apart (Anthropic's `canceled`, `expired`). */
export interface RequestCounts { readonly total: number; readonly completed: number; readonly failed: number; readonly canceled?: number; readonly expired?: number }

/** The endpoint of Anthropic's Message Batches (`/v1/messages/batches`): their lines are /v1/messages bodies, given inline. */
export const MESSAGES_ENDPOINT = '/v1/messages'

export interface BatchRecord extends Owner {
  readonly id: string
  readonly userId: string
  readonly department: string | null
  /** Who its lines run as (the creator, as they were when they created it). */
  readonly principal: Principal
  readonly endpoint: string
  readonly inputFileId: string
  readonly completionWindow: string
  readonly status: BatchStatus
  readonly model: string | null
  readonly outputFileId: string | null
  readonly errorFileId: string | null
  readonly errors: readonly BatchError[] | null
  readonly requestCounts: RequestCounts
  readonly usage: JsonObject | null
  readonly metadata: Readonly<Record<string, string>>
  /** The creating request's headers that routes may read (no credentials): each line is routed with them. */
  readonly headers: Readonly<Record<string, string | string[]>>
  readonly outputExpiresAfter: { readonly anchor: string; readonly seconds: number } | null
  readonly createdAt: Date
  readonly expiresAt: Date
  readonly inProgressAt: Date | null
  readonly finalizingAt: Date | null
  readonly completedAt: Date | null
  readonly failedAt: Date | null
  readonly expiredAt: Date | null
  readonly cancellingAt: Date | null
  readonly cancelledAt: Date | null
}

export type BatchCreate = Pick<BatchRecord, 'id' | 'userId' | 'department' | 'principal' | 'endpoint' | 'inputFileId' | 'completionWindow' | 'expiresAt' | 'metadata' | 'headers' | 'outputExpiresAfter'>

/** What a step may change (timestamps as they happen). */
export interface BatchPatch {
  readonly status?: BatchStatus
  readonly model?: string | null
  readonly outputFileId?: string | null
  readonly errorFileId?: string | null
  readonly errors?: readonly BatchError[] | null
  readonly requestCounts?: RequestCounts
  readonly usage?: JsonObject | null
  readonly inProgressAt?: Date
  readonly finalizingAt?: Date
  readonly completedAt?: Date
  readonly failedAt?: Date
  readonly expiredAt?: Date
  readonly cancelledAt?: Date
}

const COLUMN: Record<keyof BatchPatch, string> = {
  status: 'status', model: 'model', outputFileId: 'output_file_id', errorFileId: 'error_file_id', errors: 'errors', requestCounts: 'request_counts', usage: 'usage',
  inProgressAt: 'in_progress_at', finalizingAt: 'finalizing_at', completedAt: 'completed_at', failedAt: 'failed_at', expiredAt: 'expired_at', cancelledAt: 'cancelled_at',
}
const JSON_COLUMNS = new Set<keyof BatchPatch>(['errors', 'requestCounts', 'usage'])

type Row = Record<string, unknown>
const date = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(v as string))

const batchOf = (r: Row): BatchRecord => ({
  id: r.id as string, userId: r.user_id as string, department: (r.department as string | null) ?? null, principal: r.principal as Principal,
  endpoint: r.endpoint as string, inputFileId: r.input_file_id as string, completionWindow: r.completion_window as string, status: r.status as BatchStatus,
  model: (r.model as string | null) ?? null, outputFileId: (r.output_file_id as string | null) ?? null, errorFileId: (r.error_file_id as string | null) ?? null,
  errors: (r.errors as BatchError[] | null) ?? null, requestCounts: r.request_counts as RequestCounts, usage: (r.usage as JsonObject | null) ?? null,
  metadata: (r.metadata as Record<string, string>) ?? {}, headers: (r.headers as Record<string, string | string[]>) ?? {}, outputExpiresAfter: (r.output_expires_after as BatchRecord['outputExpiresAfter']) ?? null,
  createdAt: date(r.created_at)!, expiresAt: date(r.expires_at)!, inProgressAt: date(r.in_progress_at), finalizingAt: date(r.finalizing_at), completedAt: date(r.completed_at),
  failedAt: date(r.failed_at), expiredAt: date(r.expired_at), cancellingAt: date(r.cancelling_at), cancelledAt: date(r.cancelled_at),
})

/** Lines per INSERT when a batch's lines are kept (4 parameters each, well under PostgreSQL's 65,535). */
const LINES_PER_INSERT = 500

const OPEN_SQL = OPEN.map((s) => `'${s}'`).join(', ')

export interface ResultRow { readonly line: number; readonly ok: boolean; readonly result: JsonObject; readonly usage: JsonObject | null }

export function batchRepository(sql: SqlClient) {
  const get = async (id: string): Promise<BatchRecord | undefined> => {
    const { rows } = await sql.query<Row>('SELECT * FROM batches WHERE id = $1', [id])
    return rows[0] ? batchOf(rows[0]) : undefined
  }
  /** Keep a checked batch's lines (again after a lost step: a line kept already stays as it is). */
  const saveLines = async (batchId: string, lines: readonly BatchLine[]): Promise<void> => {
    for (let i = 0; i < lines.length; i += LINES_PER_INSERT) {
      const chunk = lines.slice(i, i + LINES_PER_INSERT)
      const values = chunk.map((_, j) => `($1, $${j * 3 + 2}, $${j * 3 + 3}, $${j * 3 + 4})`).join(', ')
      await sql.query(`INSERT INTO batch_lines (batch_id, line, custom_id, body) VALUES ${values} ON CONFLICT DO NOTHING`, [batchId, ...chunk.flatMap((l) => [l.line, l.customId, jsonParam(l.body)])])
    }
  }
  return {
    get,
    async create(b: BatchCreate): Promise<BatchRecord> {
      const { rows } = await sql.query<Row>(
        `INSERT INTO batches (id, user_id, department, principal, endpoint, input_file_id, completion_window, status, expires_at, metadata, output_expires_after, headers)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'validating', $8, $9, $10, $11) RETURNING *`,
        [b.id, b.userId, b.department, jsonParam(b.principal), b.endpoint, b.inputFileId, b.completionWindow, b.expiresAt, jsonParam(b.metadata), jsonParam(b.outputExpiresAfter), jsonParam(b.headers)],
      )
      return batchOf(rows[0]!)
    },
    /**
     * A message batch, its lines given (checked) with it: it starts in progress. It is held (its lease) until its lines are
     * kept, so no step (a sweep's) takes it up with none and ends it.
     */
    async createWithLines(b: Omit<BatchCreate, 'inputFileId' | 'expiresAt'>, windowMs: number, lines: readonly BatchLine[], model: string | null): Promise<BatchRecord> {
      const { rows } = await sql.query<Row>(
        `INSERT INTO batches (id, user_id, department, principal, endpoint, input_file_id, completion_window, status, expires_at, metadata, output_expires_after, headers, model, request_counts, in_progress_at, lease_until)
         VALUES ($1, $2, $3, $4, $5, '', $6, 'in_progress', now() + ($7 || ' milliseconds')::interval, $8, $9, $10, $11, $12, now(), now() + interval '10 minutes') RETURNING *`,
        // Expiring exactly its window after its creation, both the store's clock.
        [b.id, b.userId, b.department, jsonParam(b.principal), b.endpoint, b.completionWindow, String(windowMs), jsonParam(b.metadata), jsonParam(b.outputExpiresAfter), jsonParam(b.headers), model,
          jsonParam({ total: lines.length, completed: 0, failed: 0 })],
      )
      try {
        await saveLines(b.id, lines)
      } catch (err) {
        await sql.query('DELETE FROM batches WHERE id = $1', [b.id])
        throw err
      }
      await sql.query('UPDATE batches SET lease_until = NULL WHERE id = $1', [b.id])
      return batchOf({ ...rows[0]!, lease_until: null })
    },
    /**
     * Newest first; `after`: a batch id, those older than it; `before`: those newer than it (the nearest `limit`). `messages`:
     * Anthropic's message batches only (true), or OpenAI's only (false): each API lists its own.
     */
    async list(filter: { readonly userId?: string; readonly department?: string; readonly after?: string; readonly before?: string; readonly messages?: boolean; readonly limit: number }): Promise<BatchRecord[]> {
      const where: string[] = []
      const params: unknown[] = []
      if (filter.userId !== undefined) where.push(`user_id = $${params.push(filter.userId)}`)
      if (filter.department !== undefined) where.push(`department = $${params.push(filter.department)}`)
      if (filter.messages !== undefined) where.push(`endpoint ${filter.messages ? '=' : '<>'} $${params.push(MESSAGES_ENDPOINT)}`)
      if (filter.after) where.push(`seq < (SELECT seq FROM batches WHERE id = $${params.push(filter.after)})`)
      if (filter.before) where.push(`seq > (SELECT seq FROM batches WHERE id = $${params.push(filter.before)})`)
      // Before a cursor: the nearest newer ones, read upwards and given newest first like any page.
      const order = filter.before && !filter.after ? 'ASC' : 'DESC'
      const { rows } = await sql.query<Row>(`SELECT * FROM batches ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ${order} LIMIT $${params.push(filter.limit)}`, params)
      const found = rows.map(batchOf)
      return order === 'ASC' ? found.reverse() : found
    },
    /** An ended batch, gone with its lines (the caller removes its files). */
    async delete(id: string): Promise<void> {
      await sql.query('DELETE FROM batches WHERE id = $1', [id])
    },
    async update(id: string, patch: BatchPatch): Promise<BatchRecord | undefined> {
      const sets: string[] = ['updated_at = now()']
      const params: unknown[] = [id]
      for (const [key, value] of Object.entries(patch) as [keyof BatchPatch, unknown][]) {
        if (value === undefined) continue
        sets.push(`${COLUMN[key]} = $${params.push(JSON_COLUMNS.has(key) ? jsonParam(value) : value)}`)
      }
      const { rows } = await sql.query<Row>(`UPDATE batches SET ${sets.join(', ')} WHERE id = $1 RETURNING *`, params)
      return rows[0] ? batchOf(rows[0]) : undefined
    },
    /** Ask a batch that has not ended to stop: it is `cancelling` until its step writes what it has. */
    async cancel(id: string): Promise<BatchRecord | undefined> {
      await sql.query(`UPDATE batches SET status = 'cancelling', cancelling_at = now(), updated_at = now() WHERE id = $1 AND status IN ('validating', 'in_progress')`, [id])
      return get(id)
    },
    /** Take the batch for one step, if no other step holds it. */
    async claim(id: string, leaseMs: number): Promise<BatchRecord | undefined> {
      const { rows } = await sql.query<Row>(
        `UPDATE batches SET lease_until = now() + ($2 || ' milliseconds')::interval WHERE id = $1 AND status IN (${OPEN_SQL}) AND (lease_until IS NULL OR lease_until < now()) RETURNING *`,
        [id, String(leaseMs)],
      )
      return rows[0] ? batchOf(rows[0]) : undefined
    },
    async renew(id: string, leaseMs: number): Promise<void> {
      await sql.query(`UPDATE batches SET lease_until = now() + ($2 || ' milliseconds')::interval WHERE id = $1`, [id, String(leaseMs)])
    },
    /** Give the step's lease back, counting a crashed step (`failed`) or clearing the count: the crashed steps in a row. */
    async release(id: string, failed = false): Promise<number> {
      const { rows } = await sql.query<{ failed_steps: number }>(
        'UPDATE batches SET lease_until = NULL, updated_at = now(), failed_steps = CASE WHEN $2 THEN failed_steps + 1 ELSE 0 END WHERE id = $1 RETURNING failed_steps', [id, failed],
      )
      return Number(rows[0]?.failed_steps ?? 0)
    },
    /** Open batches no step holds and none has touched for `idleMs`: their step was lost with a process. */
    async lost(idleMs: number): Promise<string[]> {
      const { rows } = await sql.query<{ id: string }>(
        `SELECT id FROM batches WHERE status IN (${OPEN_SQL}) AND (lease_until IS NULL OR lease_until < now()) AND updated_at < now() - ($1 || ' milliseconds')::interval ORDER BY seq LIMIT 1000`,
        [String(idleMs)],
      )
      return rows.map((r) => r.id)
    },
    saveLines,
    /** Up to `limit` lines without an answer yet, in order. */
    async pendingLines(batchId: string, limit: number): Promise<BatchLine[]> {
      const { rows } = await sql.query<{ line: number; custom_id: string; body: string }>(
        `SELECT l.line, l.custom_id, l.body FROM batch_lines l WHERE l.batch_id = $1
           AND NOT EXISTS (SELECT 1 FROM batch_results r WHERE r.batch_id = l.batch_id AND r.line = l.line) ORDER BY l.line LIMIT $2`,
        [batchId, limit],
      )
      return rows.map((r) => ({ line: r.line, customId: r.custom_id, body: JSON.parse(r.body) as JsonObject }))
    },
    async saveResult(batchId: string, line: number, ok: boolean, result: JsonObject, usage: JsonObject | null): Promise<void> {
      await sql.query('INSERT INTO batch_results (batch_id, line, ok, result, usage) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [batchId, line, ok, jsonParam(result), jsonParam(usage)])
    },
    async counts(batchId: string): Promise<{ completed: number; failed: number }> {
      const { rows } = await sql.query<{ completed: string; failed: string }>(
        'SELECT count(*) FILTER (WHERE ok) AS completed, count(*) FILTER (WHERE NOT ok) AS failed FROM batch_results WHERE batch_id = $1', [batchId],
      )
      return { completed: Number(rows[0]?.completed ?? 0), failed: Number(rows[0]?.failed ?? 0) }
    },
    async results(batchId: string): Promise<ResultRow[]> {
      const { rows } = await sql.query<Omit<ResultRow, 'result'> & { result: string }>('SELECT line, ok, result, usage FROM batch_results WHERE batch_id = $1 ORDER BY line', [batchId])
      return rows.map((r) => ({ ...r, result: JSON.parse(r.result) as JsonObject }))
    },
    /** Once its files are written: its lines and answers are in them. */
    async dropLines(batchId: string): Promise<void> {
      await sql.query('DELETE FROM batch_results WHERE batch_id = $1', [batchId])
      await sql.query('DELETE FROM batch_lines WHERE batch_id = $1', [batchId])
    },
  }
}

export type BatchRepository = ReturnType<typeof batchRepository>
