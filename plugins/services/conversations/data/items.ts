/** chat_items rows: the items of threads and responses, read newest first and in bounded pages. */
import { badRequest, estimateTextTokens, type SqlClient } from '../../../../plugin-api/index.ts'
import { jsonParam, toNumber, toNumberOrNull } from '../../../store/kit/sql.ts'
import { partText, reasoningText, type ItemContent, type ItemListOptions, type ItemRecord, type NewItem, type Slice } from '../../../contracts/conversations.ts'
import type { JsonObject } from '../../../contracts/capabilities.ts'
import { newId } from '../../kit/ids.ts'

export interface ItemRow {
  seq: number | string
  id: string
  thread_id: string | null
  response_id: string | null
  origin: 'input' | 'output'
  content: ItemContent
  status: ItemRecord['status']
  tokens: number
  cost_usd: number | string | null
  usage: JsonObject | null
  created_at: Date
}

export const ITEM_COLUMNS = 'seq, id, thread_id, response_id, origin, content, status, tokens, cost_usd, usage, created_at'

export function itemOf(row: ItemRow): ItemRecord {
  return {
    id: row.id, seq: toNumber(row.seq), threadId: row.thread_id, responseId: row.response_id, origin: row.origin, content: row.content,
    status: row.status, tokens: row.tokens, costUsd: toNumberOrNull(row.cost_usd), usage: row.usage, createdAt: row.created_at,
  }
}

const PREFIX: Record<ItemContent['type'], string> = { message: 'msg', function_call: 'fc', function_call_output: 'fco', file_search_call: 'fs', reasoning: 'rs' }

/** An item's text, as a tokenizer counts it. */
export function itemText(content: ItemContent): string {
  switch (content.type) {
    case 'message': return content.content.map(partText).join('\n')
    case 'function_call': return `${content.name}(${content.arguments})`
    case 'function_call_output': return content.output
    // Its passages are not sent again: it adds nothing to a later turn's context.
    case 'file_search_call': return ''
    // What a later turn may send again of it (its signed blocks hold the same text).
    case 'reasoning': return reasoningText(content)
  }
}

export type CountTokens = (text: string) => Promise<number>

/** A count without a tokenizer (bytes / 4), for a gateway that has none. */
export const estimateTokens: CountTokens = async (text) => estimateTextTokens(text)

/** A new item's id: the one it was streamed under, or a fresh one of its type's prefix. */
export const itemIdOf = (item: NewItem & { id?: string }): string => item.id ?? newId(PREFIX[item.content.type])

/** Insert items in order in one statement (unnest keeps their order in `seq`). */
export async function insertItems(
  sql: SqlClient, count: CountTokens, where: { threadId: string | null; responseId: string | null }, items: readonly (NewItem & { id?: string })[],
): Promise<ItemRecord[]> {
  if (items.length === 0) return []
  const tokens = await Promise.all(items.map((i) => count(itemText(i.content))))
  const { rows } = await sql.query<ItemRow>(
    `INSERT INTO chat_items (id, thread_id, response_id, origin, content, status, tokens, cost_usd, usage)
     SELECT id, thread_id, response_id, origin, content, status, tokens, cost_usd, usage FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::text[], $7::int[], $8::numeric[], $9::jsonb[]) WITH ORDINALITY
       AS t(id, thread_id, response_id, origin, content, status, tokens, cost_usd, usage, n)
     ORDER BY n
     RETURNING ${ITEM_COLUMNS}`,
    [
      items.map(itemIdOf), items.map(() => where.threadId), items.map(() => where.responseId), items.map((i) => i.origin),
      items.map((i) => jsonParam(i.content)), items.map((i) => i.status ?? 'completed'), tokens, items.map((i) => i.costUsd ?? null), items.map((i) => jsonParam(i.usage ?? null)),
    ],
  )
  return rows.map(itemOf).sort((a, b) => a.seq - b.seq)
}

/**
 * A page of items under `column = key`, after the cursor, in the order asked. A cursor that names
 * no item of the list is a 400 naming `after`: an empty page would read as the list's end, and a
 * client paging through it would stop there without a word.
 */
export async function listItems(sql: SqlClient, column: 'thread_id' | 'response_id', key: string, options: ItemListOptions, extra = ''): Promise<Slice<ItemRecord>> {
  const params: unknown[] = [key, options.limit + 1]
  let cursor = ''
  if (options.after) {
    const { rows } = await sql.query<{ seq: number | string }>(`SELECT seq FROM chat_items WHERE id = $2 AND ${column} = $1 ${extra}`, [key, options.after])
    if (!rows[0]) throw badRequest(`\`after\` names no item of this list: '${options.after}'. Page on from an id a previous page gave.`, 'after', 'invalid_value')
    params.push(rows[0].seq)
    cursor = `AND seq ${options.order === 'asc' ? '>' : '<'} $3`
  }
  const { rows } = await sql.query<ItemRow>(
    `SELECT ${ITEM_COLUMNS} FROM chat_items WHERE ${column} = $1 ${extra} ${cursor} ORDER BY seq ${options.order === 'asc' ? 'ASC' : 'DESC'} LIMIT $2`,
    params,
  )
  return { data: rows.slice(0, options.limit).map(itemOf), hasMore: rows.length > options.limit }
}
