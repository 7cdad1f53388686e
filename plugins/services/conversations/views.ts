/** How the management API shows threads, messages and assistants, and its page/per_page paging. */
import { attachmentsOf } from './attachments.ts'
import type { JsonSchema } from '../../../plugin-api/index.ts'
import { NULLABLE_STRING_SCHEMA as NULLABLE_STRING, objectSchema, TIME_SCHEMA as TIME } from '../kit/schema.ts'
import { partText, type AssistantRecord, type ItemRecord, type ThreadRecord } from '../../contracts/conversations.ts'
import { itemText } from './data/items.ts'

export const PAGE_QUERY: Readonly<Record<string, JsonSchema>> = {
  page: { type: 'integer', minimum: 1, default: 1, description: 'The page, from 1.' },
  per_page: { type: 'integer', minimum: 1, maximum: 100, default: 20, description: 'Records per page.' },
}
export interface PageQuery {
  readonly page: number
  readonly per_page: number
}
export const pageWindow = (q: PageQuery): { limit: number; offset: number } => ({ limit: q.per_page, offset: (q.page - 1) * q.per_page })
export const paginationMeta = (q: PageQuery, total: number) => ({
  pagination: { page: q.page, per_page: q.per_page, total, total_pages: Math.ceil(total / q.per_page) },
})

export const METADATA_SCHEMA: JsonSchema = {
  type: 'object', maxProperties: 16, propertyNames: { maxLength: 64 }, additionalProperties: { type: 'string', maxLength: 512 },
  description: 'Up to 16 string pairs (keys up to 64 characters, values up to 512).',
}

// What the routes answer (the `data` of the envelope), for the OpenAPI document; each view below has its schema beside it.
const STRING_MAP: JsonSchema = { type: 'object', additionalProperties: { type: 'string' } }

export const THREAD_SCHEMA: JsonSchema = objectSchema({
  id: { type: 'string', description: '`conv_...`: the same id in /v1/conversations.' }, title: NULLABLE_STRING, user_id: { type: 'string' }, department: NULLABLE_STRING,
  assistant_id: NULLABLE_STRING, metadata: STRING_MAP,
  rag_collections: { type: 'array', items: { type: 'string' }, description: 'Knowledge collections attached to the thread itself (its assistant\'s are on the assistant).' },
  message_count: { type: 'integer', minimum: 0 }, created_at: TIME, last_activity_at: TIME,
}, ['id', 'title', 'user_id', 'department', 'assistant_id', 'metadata', 'rag_collections', 'message_count', 'created_at', 'last_activity_at'])

export function threadView(t: ThreadRecord): Record<string, unknown> {
  return {
    id: t.id, title: t.title, user_id: t.userId, department: t.department, assistant_id: t.assistantId, metadata: t.metadata, rag_collections: t.ragCollections,
    message_count: t.itemCount, created_at: t.createdAt.toISOString(), last_activity_at: t.lastActivityAt.toISOString(),
  }
}

const SOURCE_SCHEMA: JsonSchema = objectSchema({
  number: { type: 'integer', minimum: 1 }, cited: { type: 'boolean' }, collection_id: { type: 'string' }, document_id: { type: 'string' },
  file_id: NULLABLE_STRING, filename: { type: 'string' }, page: { type: ['integer', 'null'] }, heading: NULLABLE_STRING,
  start_offset: { type: 'integer', minimum: 0 }, end_offset: { type: 'integer', minimum: 0 }, score: { type: 'number' },
}, ['number', 'cited', 'collection_id', 'document_id', 'file_id', 'filename', 'page', 'heading', 'start_offset', 'end_offset', 'score'])

export const MESSAGE_SCHEMA: JsonSchema = objectSchema({
  id: { type: 'string' }, type: { enum: ['message', 'tool_call', 'tool_result', 'reasoning'] }, role: { enum: ['user', 'assistant', 'system', 'developer', 'tool'] },
  content: { ...NULLABLE_STRING, description: 'The text (null for a tool call; a reasoning item: the model\'s thinking).' },
  tool_call: objectSchema({ id: { type: 'string' }, name: { type: 'string' }, arguments: { type: 'string' } }, ['id', 'name', 'arguments']),
  tool_call_id: { type: 'string', description: 'A tool result: the call it answers.' },
  status: { enum: ['completed', 'incomplete', 'in_progress'] }, tokens: { type: 'integer', minimum: 0 },
  cost_usd: { type: ['number', 'null'], description: 'A reply: what its call cost.' }, usage: { type: ['object', 'null'] }, created_at: TIME,
  attachments: {
    type: 'array', description: 'A user\'s message: the files sent with it (their content: /api/v1/files/{file_id}/content).',
    items: objectSchema({ file_id: { type: 'string' }, filename: NULLABLE_STRING, kind: { enum: ['image', 'file'] } }, ['file_id', 'filename', 'kind']),
  },
  sources: { type: 'array', description: "A grounded reply: the passages in its context, numbered as its [n] markers cite them.", items: SOURCE_SCHEMA },
}, ['id', 'type', 'role', 'content', 'status', 'tokens', 'cost_usd', 'usage', 'created_at'])

/** A thread's item as a message: a text message, a tool call (a file search the gateway ran included), a tool result, or the model's thinking before its reply. */
export function messageView(item: ItemRecord): Record<string, unknown> {
  const c = item.content
  const common = { id: item.id, status: item.status, tokens: item.tokens, cost_usd: item.costUsd, usage: item.usage, created_at: item.createdAt.toISOString() }
  switch (c.type) {
    case 'message': {
      const attachments = attachmentsOf(c.content)
      // The text alone: a message's files are listed beside it.
      const text = attachments.length ? c.content.map(partText).filter(Boolean).join('\n') : itemText(c)
      return { ...common, type: 'message', role: c.role, content: text, ...(attachments.length ? { attachments } : {}), ...(c.sources ? { sources: c.sources } : {}) }
    }
    case 'function_call': return { ...common, type: 'tool_call', role: 'assistant', content: null, tool_call: { id: c.call_id, name: c.name, arguments: c.arguments } }
    case 'function_call_output': return { ...common, type: 'tool_result', role: 'tool', content: c.output, tool_call_id: c.call_id }
    case 'file_search_call': return { ...common, type: 'tool_call', role: 'assistant', content: null, tool_call: { id: item.id, name: 'file_search', arguments: JSON.stringify({ queries: c.queries }) } }
    case 'reasoning': return { ...common, type: 'reasoning', role: 'assistant', content: itemText(c) }
  }
}

/** An assistant's function tool, as it takes and shows them. */
export const FUNCTION_TOOL_SCHEMA: JsonSchema = objectSchema({
  type: { const: 'function' },
  function: objectSchema({
    name: { type: 'string', pattern: '^[a-zA-Z0-9_-]{1,64}$' },
    description: { type: 'string', maxLength: 1024 },
    parameters: { type: 'object' },
    strict: { type: ['boolean', 'null'] },
  }, ['name']),
}, ['type', 'function'])

/** An assistant's default parameters. */
export const ASSISTANT_PARAMS_SCHEMA: JsonSchema = objectSchema({
  temperature: { type: 'number', minimum: 0, maximum: 2 }, top_p: { type: 'number', minimum: 0, maximum: 1 }, max_tokens: { type: 'integer', minimum: 1 },
})

export const ASSISTANT_SCHEMA: JsonSchema = objectSchema({
  id: { type: 'string' }, name: { type: 'string' }, description: NULLABLE_STRING, route: { type: 'string' }, instructions: NULLABLE_STRING,
  dept_scope: { ...NULLABLE_STRING, description: 'null: every department.' }, created_by: NULLABLE_STRING,
  params: ASSISTANT_PARAMS_SCHEMA, tools: { type: 'array', items: FUNCTION_TOOL_SCHEMA }, rag_collections: { type: 'array', items: { type: 'string' } },
  context_policy: objectSchema({ strategy: { enum: ['truncate', 'summarize'] }, max_context_tokens: { type: 'integer' } }, ['strategy']),
  metadata: STRING_MAP, created_at: TIME, updated_at: TIME,
}, ['id', 'name', 'description', 'route', 'instructions', 'dept_scope', 'created_by', 'params', 'tools', 'rag_collections', 'context_policy', 'metadata', 'created_at', 'updated_at'])

export const DELETED_SCHEMA: JsonSchema = objectSchema({ id: { type: 'string' }, deleted: { const: true } }, ['id', 'deleted'])

export function assistantView(a: AssistantRecord): Record<string, unknown> {
  return {
    id: a.id, name: a.name, description: a.description, route: a.route, instructions: a.instructions, dept_scope: a.department, created_by: a.userId,
    params: a.params, tools: a.tools, rag_collections: a.ragCollections, context_policy: a.contextPolicy, metadata: a.metadata,
    created_at: a.createdAt.toISOString(), updated_at: a.updatedAt.toISOString(),
  }
}
