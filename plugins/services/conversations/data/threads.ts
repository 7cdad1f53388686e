/** chat_threads rows (a thread is a /v1/conversations conversation) and their items. */
import { type SqlClient, type Store } from '../../../../plugin-api/index.ts'
import { jsonParam, toNumber } from '../../../store/kit/sql.ts'
import type { NewItem, ThreadRecord, Threads } from '../../../contracts/conversations.ts'
import { newId } from '../../kit/ids.ts'
import { ITEM_COLUMNS, insertItems, itemOf, listItems, type CountTokens, type ItemRow } from './items.ts'

interface ThreadRow {
  id: string
  user_id: string
  department: string | null
  assistant_id: string | null
  title: string | null
  metadata: Record<string, string>
  rag_collections: string[] | null
  item_count: number
  created_at: Date
  last_activity_at: Date
  total?: number | string
}

const COLUMNS = 'id, user_id, department, assistant_id, title, metadata, rag_collections, item_count, created_at, last_activity_at'

const threadOf = (row: ThreadRow): ThreadRecord => ({
  id: row.id, userId: row.user_id, department: row.department, assistantId: row.assistant_id, title: row.title, metadata: row.metadata ?? {}, ragCollections: row.rag_collections ?? [],
  itemCount: row.item_count, createdAt: row.created_at, lastActivityAt: row.last_activity_at,
})

export function threadRepository(store: Store, count: CountTokens): Threads {
  const { sql } = store

  async function appendIn(tx: SqlClient, threadId: string, items: readonly NewItem[], responseId: string | null = null) {
    const stored = await insertItems(tx, count, { threadId, responseId }, items)
    await tx.query('UPDATE chat_threads SET item_count = item_count + $2, last_activity_at = now() WHERE id = $1', [threadId, items.length])
    return stored
  }

  return {
    async create(input, items = []) {
      return store.transaction(async (tx) => {
        const { rows } = await tx.query<ThreadRow>(
          `INSERT INTO chat_threads (id, user_id, department, assistant_id, title, metadata, rag_collections) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
          [newId('conv'), input.userId, input.department, input.assistantId ?? null, input.title ?? null, jsonParam(input.metadata ?? {}), jsonParam(input.ragCollections ?? [])],
        )
        const thread = threadOf(rows[0])
        const stored = await appendIn(tx, thread.id, items)
        return { thread: { ...thread, itemCount: stored.length }, items: stored }
      })
    },
    async get(id) {
      const { rows } = await sql.query<ThreadRow>(`SELECT ${COLUMNS} FROM chat_threads WHERE id = $1`, [id])
      return rows[0] ? threadOf(rows[0]) : undefined
    },
    async list({ userId, department, search, limit, offset }) {
      const where: string[] = []
      const params: unknown[] = []
      if (userId !== undefined) where.push(`user_id = $${params.push(userId)}`)
      if (department !== undefined) where.push(`department = $${params.push(department)}`)
      if (search !== undefined) {
        const pattern = `$${params.push(`%${search.replace(/[\\%_]/g, '\\$&')}%`)}`
        // A message's words are its items' `text` fields (never the JSON's keys or types).
        where.push(`(title ILIKE ${pattern} OR EXISTS (SELECT 1 FROM chat_items i WHERE i.thread_id = chat_threads.id
          AND jsonb_path_query_array(i.content, 'lax $.**.text')::text ILIKE ${pattern}))`)
      }
      const filter = where.length ? `WHERE ${where.join(' AND ')}` : ''
      const { rows } = await sql.query<ThreadRow>(
        `SELECT ${COLUMNS}, count(*) OVER () AS total FROM chat_threads ${filter} ORDER BY last_activity_at DESC, id LIMIT $${params.push(limit)} OFFSET $${params.push(offset)}`,
        params,
      )
      let total = rows[0] ? toNumber(rows[0].total) : 0
      if (rows.length === 0 && offset > 0) total = toNumber((await sql.query<{ n: number }>(`SELECT count(*) AS n FROM chat_threads ${filter}`, params.slice(0, -2))).rows[0].n)
      return { threads: rows.map(threadOf), total }
    },
    async update(id, patch) {
      const sets: string[] = []
      const params: unknown[] = [id]
      if (patch.title !== undefined) sets.push(`title = $${params.push(patch.title)}`)
      if (patch.metadata !== undefined) sets.push(`metadata = $${params.push(jsonParam(patch.metadata))}`)
      if (patch.ragCollections !== undefined) sets.push(`rag_collections = $${params.push(jsonParam(patch.ragCollections))}`)
      if (sets.length === 0) return this.get(id)
      const { rows } = await sql.query<ThreadRow>(`UPDATE chat_threads SET ${sets.join(', ')} WHERE id = $1 RETURNING ${COLUMNS}`, params)
      return rows[0] ? threadOf(rows[0]) : undefined
    },
    async delete(id) {
      const { rowCount } = await sql.query('DELETE FROM chat_threads WHERE id = $1', [id])
      return rowCount > 0
    },
    append: (threadId, items) => store.transaction((tx) => appendIn(tx, threadId, items)),
    items: (threadId, options) => listItems(sql, 'thread_id', threadId, options),
    async item(threadId, itemId) {
      const { rows } = await sql.query<ItemRow>(`SELECT ${ITEM_COLUMNS} FROM chat_items WHERE thread_id = $1 AND id = $2`, [threadId, itemId])
      return rows[0] ? itemOf(rows[0]) : undefined
    },
    async deleteItem(threadId, itemId) {
      return store.transaction(async (tx) => {
        const { rowCount } = await tx.query('DELETE FROM chat_items WHERE thread_id = $1 AND id = $2', [threadId, itemId])
        if (rowCount > 0) await tx.query('UPDATE chat_threads SET item_count = greatest(item_count - 1, 0) WHERE id = $1', [threadId])
        return rowCount > 0
      })
    },
  }
}

/** Give a thread its first title (auto title): one its owner already gave it is kept. */
export async function titleUntitledThread(sql: SqlClient, id: string, title: string): Promise<void> {
  await sql.query('UPDATE chat_threads SET title = $2 WHERE id = $1 AND title IS NULL', [id, title])
}
