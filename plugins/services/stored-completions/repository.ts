/** The stored_chat_completions table: a completion kept with `store: true`, its request's messages and metadata. */
import type { ChatMessage, ChatResponse, Owner, SqlClient } from '../../../plugin-api/index.ts'
import type { CompletionToKeep } from '../../contracts/stored-completions.ts'
import { jsonParam } from '../../store/kit/sql.ts'

export interface StoredCompletion extends Owner {
  readonly seq: number
  readonly id: string
  readonly metadata: Readonly<Record<string, string>>
  readonly completion: ChatResponse
  readonly messages: readonly ChatMessage[]
}

export interface CompletionFilter {
  readonly userId?: string
  readonly department?: string
  /** The completion's model or the route name the client asked for. */
  readonly model?: string
  /** Completions whose metadata holds every one of these pairs. */
  readonly metadata?: Readonly<Record<string, string>>
  /** After this row in `order`. */
  readonly afterSeq?: number
  readonly order: 'asc' | 'desc'
  readonly limit: number
}

const toRecord = (r: Record<string, unknown>): StoredCompletion => ({
  seq: Number(r.seq),
  id: r.id as string,
  userId: (r.user_id as string | null) ?? null,
  department: (r.department as string | null) ?? null,
  metadata: (typeof r.metadata === 'string' ? JSON.parse(r.metadata) : r.metadata) as Record<string, string>,
  completion: JSON.parse(r.completion as string) as ChatResponse,
  messages: JSON.parse(r.messages as string) as ChatMessage[],
})

export function completionRepository(sql: SqlClient) {
  return {
    /** Keep it; the same completion kept twice for one owner (a cache hit's id) stays the first. */
    async insert(c: CompletionToKeep): Promise<void> {
      await sql.query(
        `INSERT INTO stored_chat_completions (id, user_id, department, model, requested_model, metadata, completion, messages)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8) ON CONFLICT (id, user_id) DO NOTHING`,
        [c.completion.id, c.owner.userId, c.owner.department, c.completion.model ?? c.requestedModel, c.requestedModel, jsonParam(c.metadata), JSON.stringify(c.completion), JSON.stringify(c.messages)],
      )
    },
    /** Every row with this completion id, newest first (one per owner). */
    async byId(id: string): Promise<StoredCompletion[]> {
      const { rows } = await sql.query('SELECT * FROM stored_chat_completions WHERE id = $1 ORDER BY seq DESC', [id])
      return rows.map(toRecord)
    },
    async list(filter: CompletionFilter): Promise<StoredCompletion[]> {
      const where: string[] = []
      const params: unknown[] = []
      const add = (clause: string, value: unknown): void => { params.push(value); where.push(clause.replace('?', `$${params.length}`)) }
      if (filter.userId !== undefined) add('user_id = ?', filter.userId)
      if (filter.department !== undefined) add('department = ?', filter.department)
      if (filter.model !== undefined) {
        params.push(filter.model)
        where.push(`(model = $${params.length} OR requested_model = $${params.length})`)
      }
      if (filter.metadata !== undefined) add('metadata @> ?::jsonb', jsonParam(filter.metadata))
      if (filter.afterSeq !== undefined) add(filter.order === 'asc' ? 'seq > ?' : 'seq < ?', filter.afterSeq)
      const { rows } = await sql.query(
        `SELECT * FROM stored_chat_completions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ${filter.order === 'asc' ? 'ASC' : 'DESC'} LIMIT ${Math.min(Math.max(filter.limit, 1), 1001)}`,
        params,
      )
      return rows.map(toRecord)
    },
    async setMetadata(seq: number, metadata: Readonly<Record<string, string>>): Promise<StoredCompletion | undefined> {
      const { rows } = await sql.query('UPDATE stored_chat_completions SET metadata = $2::jsonb WHERE seq = $1 RETURNING *', [seq, jsonParam(metadata)])
      return rows[0] && toRecord(rows[0])
    },
    async delete(seq: number): Promise<boolean> {
      const { rowCount } = await sql.query('DELETE FROM stored_chat_completions WHERE seq = $1', [seq])
      return rowCount > 0
    },
  }
}

export type CompletionRepository = ReturnType<typeof completionRepository>
