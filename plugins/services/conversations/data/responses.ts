/** chat_responses rows (stored /v1/responses) and the writes that keep a turn: all of it or none. */
import { type SqlClient, type Store } from '../../../../plugin-api/index.ts'
import { jsonParam } from '../../../store/kit/sql.ts'
import type { JsonObject } from '../../../contracts/capabilities.ts'
import type { ItemRecord, NewItem, ResponseRecord, Responses } from '../../../contracts/conversations.ts'
import { ITEM_COLUMNS, insertItems, itemOf, listItems, type CountTokens, type ItemRow } from './items.ts'

interface ResponseRow {
  id: string
  user_id: string
  department: string | null
  thread_id: string | null
  previous_response_id: string | null
  body: JsonObject
  created_at: Date
  silent_ms: number | null
}

/** `silent_ms`: how long since its run's last heartbeat, by the database's clock (gateways' clocks may differ). */
const COLUMNS = `id, user_id, department, thread_id, previous_response_id, body, created_at,
  (extract(epoch FROM now() - heartbeat_at) * 1000)::float8 AS silent_ms`

/** A stored response, and for a background one how long its run has been silent (null: never beat, a row from before heartbeats). */
export interface StoredResponse extends ResponseRecord {
  readonly silentMs: number | null
}

const responseOf = (r: ResponseRow): StoredResponse => ({
  id: r.id, userId: r.user_id, department: r.department, threadId: r.thread_id, previousResponseId: r.previous_response_id, body: r.body, createdAt: r.created_at,
  silentMs: r.silent_ms,
})

export interface TurnRecord {
  readonly responseId: string
  readonly threadId: string | null
  /** The response row, when the client asked to store it. */
  readonly response?: Omit<ResponseRecord, 'createdAt' | 'id' | 'threadId'>
  readonly items: readonly (NewItem & { id?: string })[]
  /**
   * A background response's end: its queued row is updated (its input items, kept when it was
   * queued, are not among `items`), and nothing is kept if it was cancelled or deleted meanwhile.
   */
  readonly running?: boolean
}

/** The statuses of a background response whose run has not ended. */
const RUNNING = `body->>'status' IN ('queued', 'in_progress')`

export interface ResponseStore extends Omit<Responses, 'follow' | 'get' | 'runningIn'> {
  get(id: string): Promise<StoredResponse | undefined>
  /** The runs of these background responses are still going (in this process). */
  beat(ids: readonly string[]): Promise<void>
  /** A turn's response and items in one transaction. */
  saveTurn(turn: TurnRecord): Promise<ItemRecord[]>
  /**
   * Store a background response as it starts (status `queued`), with the items the client sent
   * (its input items are listed from then on; a thread gets them when the run's end is kept).
   */
  queue(id: string, threadId: string | null, response: Omit<ResponseRecord, 'createdAt' | 'id' | 'threadId'>, input: readonly NewItem[]): Promise<void>
  /** Replace a background response's body while its run has not ended (not cancelled, not deleted): whether it was. */
  update(id: string, body: JsonObject): Promise<boolean>
  /** Append a streamed background response's events from number `seq` on. */
  appendEvents(id: string, seq: number, events: readonly JsonObject[]): Promise<void>
  /** Its events numbered after `seq`, in order (at most `limit`). */
  events(id: string, seq: number, limit: number): Promise<{ seq: number; event: JsonObject }[]>
  /** Forget events older than `hours` (their responses keep their output): what they were kept for is a resume soon after. */
  pruneEvents(hours: number): Promise<void>
  /** The background responses of a thread whose runs have not ended (as their rows say). */
  runningIn(threadId: string): Promise<StoredResponse[]>
  /** The newest `limit` items of a thread, newest first. */
  threadHistory(threadId: string, limit: number): Promise<ItemRecord[]>
  /** The newest `limit` items of a response and its stored ancestors, newest first. */
  chainHistory(responseId: string, limit: number): Promise<ItemRecord[]>
}

export function responseRepository(store: Store, count: CountTokens): ResponseStore {
  const { sql } = store
  const get = async (id: string): Promise<StoredResponse | undefined> => {
    const { rows } = await sql.query<ResponseRow>(`SELECT ${COLUMNS} FROM chat_responses WHERE id = $1`, [id])
    return rows[0] ? responseOf(rows[0]) : undefined
  }
  return {
    get,
    async delete(id) {
      return store.transaction(async (tx) => {
        const { rowCount } = await tx.query('DELETE FROM chat_responses WHERE id = $1', [id])
        // Its items outside a thread go with it; a thread's items stay in the thread.
        if (rowCount > 0) await tx.query('DELETE FROM chat_items WHERE response_id = $1 AND thread_id IS NULL', [id])
        await tx.query('DELETE FROM chat_response_events WHERE response_id = $1', [id])
        return rowCount > 0
      })
    },
    inputItems: (id, options) => listItems(sql, 'response_id', id, options, `AND origin = 'input'`),
    async cancel(id) {
      await sql.query(`UPDATE chat_responses SET body = jsonb_set(body, '{status}', '"cancelled"') WHERE id = $1 AND body->>'background' = 'true' AND ${RUNNING}`, [id])
      return get(id)
    },
    async queue(id, threadId, r, input) {
      await store.transaction(async (tx) => {
        await tx.query(
          'INSERT INTO chat_responses (id, user_id, department, thread_id, previous_response_id, body, heartbeat_at) VALUES ($1, $2, $3, $4, $5, $6, now())',
          [id, r.userId, r.department, threadId, r.previousResponseId, jsonParam(r.body)],
        )
        await insertItems(tx, count, { threadId: null, responseId: id }, input)
      })
    },
    async beat(ids) {
      if (ids.length) await sql.query(`UPDATE chat_responses SET heartbeat_at = now() WHERE id = ANY($1::text[]) AND ${RUNNING}`, [ids])
    },
    async update(id, body) {
      const { rowCount } = await sql.query(`UPDATE chat_responses SET body = $2 WHERE id = $1 AND ${RUNNING}`, [id, jsonParam(body)])
      return rowCount > 0
    },
    async appendEvents(id, seq, events) {
      if (events.length === 0) return
      const values = events.map((_, i) => `($1, $${i * 2 + 2}, $${i * 2 + 3})`).join(', ')
      await sql.query(`INSERT INTO chat_response_events (response_id, seq, event) VALUES ${values}`, [id, ...events.flatMap((e, i) => [seq + i, jsonParam(e)])])
    },
    async events(id, seq, limit) {
      const { rows } = await sql.query<{ seq: number; event: JsonObject }>('SELECT seq, event FROM chat_response_events WHERE response_id = $1 AND seq > $2 ORDER BY seq LIMIT $3', [id, seq, limit])
      return rows
    },
    async pruneEvents(hours) {
      await sql.query(`DELETE FROM chat_response_events WHERE created_at < now() - ($1 || ' hours')::interval`, [String(hours)])
    },
    async saveTurn(turn) {
      return store.transaction(async (tx: SqlClient) => {
        let kept: ItemRecord[] = []
        if (turn.running) {
          const { rowCount } = await tx.query(`UPDATE chat_responses SET body = $2 WHERE id = $1 AND ${RUNNING}`, [turn.responseId, jsonParam(turn.response!.body)])
          // Cancelled or deleted while it ran: its answer goes nowhere, a thread's items included.
          if (rowCount === 0) return []
          // Its input items were kept when it was queued: the thread gets them now, before the answer.
          if (turn.threadId) {
            const { rows } = await tx.query<ItemRow>(
              `UPDATE chat_items SET thread_id = $2 WHERE response_id = $1 AND origin = 'input' AND thread_id IS NULL RETURNING ${ITEM_COLUMNS}`, [turn.responseId, turn.threadId],
            )
            kept = rows.map(itemOf).sort((a, b) => a.seq - b.seq)
          }
        } else if (turn.response) {
          const r = turn.response
          await tx.query(
            `INSERT INTO chat_responses (id, user_id, department, thread_id, previous_response_id, body) VALUES ($1, $2, $3, $4, $5, $6)`,
            [turn.responseId, r.userId, r.department, turn.threadId, r.previousResponseId, jsonParam(r.body)],
          )
        }
        const stored = [...kept, ...await insertItems(tx, count, { threadId: turn.threadId, responseId: turn.response ? turn.responseId : null }, turn.items)]
        if (turn.threadId) await tx.query('UPDATE chat_threads SET item_count = item_count + $2, last_activity_at = now() WHERE id = $1', [turn.threadId, stored.length])
        return stored
      })
    },
    async runningIn(threadId) {
      const { rows } = await sql.query<ResponseRow>(`SELECT ${COLUMNS} FROM chat_responses WHERE thread_id = $1 AND ${RUNNING}`, [threadId])
      return rows.map(responseOf)
    },
    async threadHistory(threadId, limit) {
      // Walk the (thread_id, seq) index backwards and stop at `limit`. Without statistics (the
      // embedded store has no autovacuum; a new PostgreSQL table) the planner guesses a thread is
      // small and reads all of it to sort it: a thread of 1,000 items then costs twice one of 40.
      const { rows } = await store.transaction(async (tx) => {
        await tx.exec('SET LOCAL enable_bitmapscan = off; SET LOCAL enable_seqscan = off')
        return tx.query<ItemRow>(`SELECT ${ITEM_COLUMNS} FROM chat_items WHERE thread_id = $1 ORDER BY seq DESC LIMIT $2`, [threadId, limit])
      })
      return rows.map(itemOf)
    },
    async chainHistory(responseId, limit) {
      // A chain that starts from a response made in a conversation continues all that response
      // saw: the conversation's items up to its own last one, then the chain's.
      const { rows } = await sql.query<ItemRow>(
        `WITH RECURSIVE chain(id, depth) AS (
           SELECT id, 0 FROM chat_responses WHERE id = $1
           UNION ALL
           SELECT r.previous_response_id, c.depth + 1 FROM chain c JOIN chat_responses r ON r.id = c.id
           WHERE r.previous_response_id IS NOT NULL AND c.depth < 10000
         ),
         root AS (
           SELECT r.id, r.thread_id FROM chat_responses r JOIN chain c ON c.id = r.id WHERE r.thread_id IS NOT NULL ORDER BY c.depth DESC LIMIT 1
         )
         (SELECT ${ITEM_COLUMNS} FROM chat_items WHERE response_id IN (SELECT id FROM chain) ORDER BY seq DESC LIMIT $2)
         UNION
         (SELECT ${ITEM_COLUMNS} FROM chat_items WHERE thread_id = (SELECT thread_id FROM root)
            AND seq <= (SELECT max(i.seq) FROM chat_items i WHERE i.response_id = (SELECT id FROM root)) ORDER BY seq DESC LIMIT $2)
         ORDER BY seq DESC LIMIT $2`,
        [responseId, limit],
      )
      return rows.map(itemOf)
    },
  }
}
