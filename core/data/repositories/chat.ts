import type { SqlClient } from '../../plugins/types.ts'
import { isUuid, jsonParam, pageOf, rethrowAsGatewayError, toNumberOrNull } from '../sql.ts'
import type {
  ChatMessageInput, ChatMessageRecord, ChatMessageRepository, ChatRole, ChatThreadRecord, ChatThreadRepository, JsonObject,
} from '../types.ts'

interface ThreadRow {
  id: string
  user_id: string
  assistant_id: string | null
  title: string | null
  model: string | null
  metadata: JsonObject
  created_at: Date
  updated_at: Date
}

interface MessageRow {
  id: string
  thread_id: string
  role: ChatRole
  content: unknown
  tool_calls: unknown[] | null
  model: string | null
  prompt_tokens: number | null
  completion_tokens: number | null
  created_at: Date
}

const THREAD_COLUMNS = 'id, user_id, assistant_id, title, model, metadata, created_at, updated_at'
const MESSAGE_COLUMNS = 'id, thread_id, role, content, tool_calls, model, prompt_tokens, completion_tokens, created_at'

const CREATE_THREAD = `INSERT INTO chat_threads (user_id, assistant_id, title, model, metadata)
  VALUES ($1, $2, $3, $4, COALESCE($5::jsonb, '{}'::jsonb)) RETURNING ${THREAD_COLUMNS}`
const GET_THREAD = `SELECT ${THREAD_COLUMNS} FROM chat_threads WHERE id = $1`
const THREADS_BY_USER = `SELECT ${THREAD_COLUMNS} FROM chat_threads WHERE user_id = $1
  ORDER BY updated_at DESC, id LIMIT $2 OFFSET $3`
// $3 says whether a title was given, so a title can be cleared on purpose.
const UPDATE_THREAD = `UPDATE chat_threads SET
    title = CASE WHEN $3 THEN $2 ELSE title END,
    metadata = COALESCE($4::jsonb, metadata),
    updated_at = now()
  WHERE id = $1 RETURNING ${THREAD_COLUMNS}`
const DELETE_THREAD = 'DELETE FROM chat_threads WHERE id = $1'

// One round trip: insert the message and move the thread to the top of its user's list.
const APPEND = `WITH message AS (
    INSERT INTO chat_messages (thread_id, role, content, tool_calls, model, prompt_tokens, completion_tokens)
    VALUES ($1, $2, $3::jsonb, $4::jsonb, $5, $6, $7) RETURNING ${MESSAGE_COLUMNS}
  ), touched AS (
    UPDATE chat_threads SET updated_at = now() WHERE id = $1
  )
  SELECT ${MESSAGE_COLUMNS} FROM message`
const MESSAGES = `SELECT ${MESSAGE_COLUMNS} FROM chat_messages WHERE thread_id = $1 ORDER BY seq LIMIT $2 OFFSET $3`

const toThread = (r: ThreadRow): ChatThreadRecord => ({
  id: r.id,
  userId: r.user_id,
  assistantId: r.assistant_id,
  title: r.title,
  model: r.model,
  metadata: r.metadata,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
})

const toMessage = (r: MessageRow): ChatMessageRecord => ({
  id: r.id,
  threadId: r.thread_id,
  role: r.role,
  content: r.content,
  toolCalls: r.tool_calls,
  model: r.model,
  promptTokens: toNumberOrNull(r.prompt_tokens),
  completionTokens: toNumberOrNull(r.completion_tokens),
  createdAt: r.created_at,
})

export function chatThreadRepository(db: SqlClient): ChatThreadRepository {
  const one = async (text: string, params: unknown[]): Promise<ChatThreadRecord | undefined> => {
    const { rows } = await db.query<ThreadRow>(text, params).catch(rethrowAsGatewayError)
    return rows[0] && toThread(rows[0])
  }
  return {
    async create(input) {
      const thread = await one(CREATE_THREAD, [input.userId, input.assistantId ?? null, input.title ?? null, input.model ?? null, jsonParam(input.metadata)])
      return thread!
    },
    get: (id) => (isUuid(id) ? one(GET_THREAD, [id]) : Promise.resolve(undefined)),
    async listByUser(userId, page) {
      if (!isUuid(userId)) return []
      const [limit, offset] = pageOf(page)
      return (await db.query<ThreadRow>(THREADS_BY_USER, [userId, limit, offset])).rows.map(toThread)
    },
    update: (id, patch) =>
      isUuid(id) ? one(UPDATE_THREAD, [id, patch.title ?? null, patch.title !== undefined, jsonParam(patch.metadata)]) : Promise.resolve(undefined),
    async delete(id) {
      return isUuid(id) && (await db.query(DELETE_THREAD, [id])).rowCount > 0
    },
  }
}

export function chatMessageRepository(db: SqlClient): ChatMessageRepository {
  return {
    async append(threadId, message: ChatMessageInput) {
      const { rows } = await db.query<MessageRow>(APPEND, [
        threadId, message.role, JSON.stringify(message.content ?? null), jsonParam(message.toolCalls),
        message.model ?? null, message.promptTokens ?? null, message.completionTokens ?? null,
      ]).catch(rethrowAsGatewayError)
      return toMessage(rows[0])
    },
    async list(threadId, page) {
      if (!isUuid(threadId)) return []
      const [limit, offset] = pageOf(page)
      return (await db.query<MessageRow>(MESSAGES, [threadId, limit, offset])).rows.map(toMessage)
    },
  }
}
