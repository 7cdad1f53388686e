/**
 * service.chat, mounted at /api/v1/chat: the caller's chat threads and their messages. Sending a
 * message runs a turn (history fitted to the window, the model called through the pipeline as the
 * caller, the reply kept with its tokens and cost); `stream: true` answers with server-sent events.
 *
 * A thread may carry knowledge of its own (`rag_collections`, collections the caller sees): each
 * message is grounded in it, with citations, as an assistant's attached collections ground it.
 *
 *   POST/GET /threads   GET/PATCH/DELETE /threads/:id   GET/POST /threads/:id/messages
 */
import { badRequest, definePlugin, forbidden, reply, sse, type Caller, type GatewayError, type RouteSpec, type Service, type SseFrame } from '../../../plugin-api/index.ts'
import { listOf, objectSchema } from '../kit/schema.ts'
import { Conversations, threadAuditEntry, type ItemContent, type Turn } from '../../contracts/conversations.ts'
import { AuditLog, type JsonObject } from '../../contracts/capabilities.ts'
import { auditTo, type Audit } from '../../contracts/audit.ts'
import { ownerOf, reachableThread, requireSeenCollections, visibleAssistant } from './access.ts'
import { routingHeaders } from '../../contracts/routing-headers.ts'
import { Files } from '../../contracts/files.ts'
import { ATTACHMENTS_SCHEMA, attachmentParts, type Attachment } from './attachments.ts'
import {
  DELETED_SCHEMA, MESSAGE_SCHEMA, METADATA_SCHEMA, PAGE_QUERY, THREAD_SCHEMA, messageView, pageWindow, paginationMeta, threadView, type PageQuery,
} from './views.ts'

const CHAT = 'chat'
const ID_PARAMS = objectSchema({ id: { type: 'string', minLength: 1, maxLength: 64 } }, ['id'])

const RAG_COLLECTIONS = {
  type: 'array', maxItems: 32, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 128 },
  description: 'Knowledge collections (ids the caller sees) each message of the thread is grounded in, with citations; an id the caller does not see is a 400 `unknown_collection`.',
}
const CREATE_BODY = objectSchema({
  title: { type: 'string', minLength: 1, maxLength: 200 },
  rag_collections: RAG_COLLECTIONS,
  assistant_id: { type: 'string', minLength: 1, maxLength: 64, description: 'Bind the thread to an assistant: its route, instructions and tools apply to every message.' },
  metadata: METADATA_SCHEMA,
})
const LIST_QUERY = objectSchema({
  ...PAGE_QUERY,
  user_id: { type: 'string', minLength: 1, description: 'Department admins and admins: another user\'s threads.' },
  q: { type: 'string', minLength: 1, maxLength: 200, description: 'Only threads whose title or a message contains this text (any case).' },
})
const PATCH_BODY = objectSchema({ title: { type: ['string', 'null'], maxLength: 200 }, metadata: METADATA_SCHEMA, rag_collections: { ...RAG_COLLECTIONS, description: 'Replaces the thread\'s knowledge (`[]`: none).' } })
const MESSAGES_QUERY = objectSchema({
  limit: { type: 'integer', minimum: 1, maximum: 100, default: 50 },
  order: { enum: ['asc', 'desc'], default: 'asc' },
  after: { type: 'string', minLength: 1, maxLength: 64, description: 'The cursor: the id of the last message of the previous page.' },
})
const SEND_BODY = objectSchema({
  content: { type: 'string', minLength: 1, description: 'The user\'s message.' },
  attachments: ATTACHMENTS_SCHEMA,
  tool_results: {
    type: 'array', minItems: 1, maxItems: 64,
    items: objectSchema({ call_id: { type: 'string', minLength: 1, maxLength: 128 }, output: { type: 'string' } }, ['call_id', 'output']),
    description: 'Results of the tool calls of the last reply, instead of a message.',
  },
  model: { type: 'string', minLength: 1, description: 'Default: the thread\'s assistant\'s route, else the service\'s default_route.' },
  instructions: { type: 'string', maxLength: 100000 },
  temperature: { type: 'number', minimum: 0, maximum: 2 },
  max_tokens: { type: 'integer', minimum: 1 },
  stream: { type: 'boolean', default: false },
})

const THREAD_WITH_MESSAGES = {
  ...THREAD_SCHEMA,
  properties: { ...(THREAD_SCHEMA.properties as object), messages: listOf(MESSAGE_SCHEMA) },
  required: [...(THREAD_SCHEMA.required as string[]), 'messages'],
}
/** What a sent message answers (and, with `stream: true`, the `done` event's data). */
const TURN_SCHEMA = objectSchema({
  thread_id: { type: 'string' }, response_id: { type: 'string', description: 'The turn\'s Response id (`resp_...`).' },
  status: { enum: ['completed', 'incomplete', 'failed'] },
  messages: { ...listOf(MESSAGE_SCHEMA), description: 'What was kept: the input, then the reply.' }, reply: listOf(MESSAGE_SCHEMA),
  usage: { type: 'object', description: 'The Responses API\'s usage object (absent when the provider reported none in time).' },
  cost_usd: { type: ['number', 'null'] },
}, ['thread_id', 'response_id', 'status', 'messages', 'reply', 'cost_usd'])

interface SendBody {
  content?: string
  attachments?: Attachment[]
  tool_results?: { call_id: string; output: string }[]
  model?: string
  instructions?: string
  temperature?: number
  max_tokens?: number
  stream: boolean
}

export function chatService(conversations: Conversations, audit: Audit = auditTo(undefined, undefined), files?: Files): Service {
  /** Knowledge needs the RAG service: without it a thread given some would answer ungrounded without a word. */
  async function checkKnowledge(caller: Caller, given: readonly string[] | undefined, kept?: readonly string[]): Promise<void> {
    if (given?.length && !conversations.grounding()) throw badRequest('Knowledge collections need the rag service, which this gateway does not run.', 'rag_collections', 'unknown_collection')
    await requireSeenCollections(conversations, caller, given, kept)
  }

  const create: RouteSpec<{ title?: string; assistant_id?: string; metadata?: Record<string, string>; rag_collections?: string[] }> = {
    method: 'POST', path: '/threads', summary: 'Start a thread (optionally bound to an assistant).', permission: CHAT, body: CREATE_BODY, status: 201, response: THREAD_SCHEMA,
    async handle(req) {
      const { caller, body } = req
      const assistant = body.assistant_id ? await visibleAssistant(conversations, caller, body.assistant_id, 'assistant_id') : undefined
      await checkKnowledge(caller, body.rag_collections)
      const { thread } = await conversations.threads.create({
        ...ownerOf(caller), assistantId: assistant?.id ?? null, title: body.title ?? null, metadata: body.metadata, ragCollections: body.rag_collections,
      })
      await audit(req, threadAuditEntry('thread.create', thread))
      return threadView(thread)
    },
  }

  const list: RouteSpec<unknown, PageQuery & { user_id?: string; q?: string }> = {
    method: 'GET', path: '/threads', summary: 'The caller\'s threads, latest activity first; `q` finds them by title or by what was said.', permission: CHAT, query: LIST_QUERY, response: listOf(THREAD_SCHEMA),
    async handle({ caller, query }) {
      const userId = query.user_id ?? caller.principal.userId
      // Another user's threads: only within the caller's scope, and for a department admin within the department.
      let department: string | undefined
      if (userId !== caller.principal.userId) {
        if (caller.scope === 'own_data') throw forbidden('You may only list your own threads.', 'out_of_scope')
        if (caller.scope === 'department_data') department = caller.principal.department
      }
      const { threads, total } = await conversations.threads.list({ userId, department, search: query.q?.trim() || undefined, ...pageWindow(query) })
      return reply(threads.map(threadView), { meta: paginationMeta(query, total) })
    },
  }

  const get: RouteSpec<unknown, { limit: number; order: 'asc' | 'desc'; after?: string }, { id: string }> = {
    method: 'GET', path: '/threads/:id', summary: 'A thread with its first page of messages.', permission: CHAT, params: ID_PARAMS, query: MESSAGES_QUERY, response: THREAD_WITH_MESSAGES,
    async handle({ caller, params, query }) {
      const thread = await reachableThread(conversations, caller, params.id)
      const page = await conversations.threads.items(thread.id, query)
      return reply({ ...threadView(thread), messages: page.data.map(messageView) }, { meta: { has_more: page.hasMore, next_cursor: page.hasMore ? page.data.at(-1)?.id ?? null : null } })
    },
  }

  const messages: RouteSpec<unknown, { limit: number; order: 'asc' | 'desc'; after?: string }, { id: string }> = {
    method: 'GET', path: '/threads/:id/messages', summary: 'A page of a thread\'s messages (cursor: `after`).', permission: CHAT, params: ID_PARAMS, query: MESSAGES_QUERY, response: listOf(MESSAGE_SCHEMA),
    async handle({ caller, params, query }) {
      const thread = await reachableThread(conversations, caller, params.id)
      const page = await conversations.threads.items(thread.id, query)
      return reply(page.data.map(messageView), { meta: { has_more: page.hasMore, next_cursor: page.hasMore ? page.data.at(-1)?.id ?? null : null } })
    },
  }

  const rename: RouteSpec<{ title?: string | null; metadata?: Record<string, string>; rag_collections?: string[] }, unknown, { id: string }> = {
    method: 'PATCH', path: '/threads/:id', summary: 'Rename a thread, or replace its metadata or its knowledge.', permission: CHAT, params: ID_PARAMS, body: PATCH_BODY, response: THREAD_SCHEMA,
    async handle(req) {
      const { caller, params, body } = req
      const thread = await reachableThread(conversations, caller, params.id)
      await checkKnowledge(caller, body.rag_collections, thread.ragCollections)
      const updated = (await conversations.threads.update(thread.id, { title: body.title, metadata: body.metadata, ragCollections: body.rag_collections }))!
      const renamed: JsonObject = thread.title !== updated.title ? { title: { from: thread.title, to: updated.title } } : {}
      await audit(req, threadAuditEntry('thread.update', updated, { changed: Object.keys(body).sort(), ...renamed }))
      return threadView(updated)
    },
  }

  const remove: RouteSpec<unknown, unknown, { id: string }> = {
    method: 'DELETE', path: '/threads/:id', summary: 'Delete a thread and its messages.', permission: CHAT, params: ID_PARAMS, response: DELETED_SCHEMA,
    async handle(req) {
      const thread = await reachableThread(conversations, req.caller, req.params.id)
      // Not while a turn answers in it: a 400 conversation_locked, as on /v1/conversations.
      await conversations.exclusive(thread.id, () => conversations.threads.delete(thread.id))
      await audit(req, threadAuditEntry('thread.delete', thread))
      return reply({ id: thread.id, deleted: true })
    },
  }

  const send: RouteSpec<SendBody, unknown, { id: string }> = {
    method: 'POST', path: '/threads/:id/messages', summary: 'Send a message (or tool results) and get the reply; `stream: true` streams it.', permission: CHAT,
    params: ID_PARAMS, body: SEND_BODY, response: TURN_SCHEMA, status: 201,
    async handle({ caller, params, body, gateway, signal, headers }) {
      const thread = await reachableThread(conversations, caller, params.id)
      if ((body.content === undefined) === (body.tool_results === undefined)) throw badRequest('Send either `content` or `tool_results`.', 'content', 'invalid_message')
      if (body.content !== undefined && body.content.length > conversations.maxInputChars) {
        throw badRequest(`The message is longer than ${conversations.maxInputChars} characters.`, 'content', 'message_too_long')
      }
      if (body.attachments?.length && body.content === undefined) throw badRequest('Attachments go with a message\'s `content`, not with tool results.', 'attachments', 'invalid_message')
      const attached = await attachmentParts(body.attachments ?? [], caller, files, conversations.documentReader())
      const input: ItemContent[] = body.content !== undefined
        ? [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: body.content }, ...attached] }]
        : body.tool_results!.map((r) => ({ type: 'function_call_output', call_id: r.call_id, output: r.output }))
      const assistant = thread.assistantId ? await conversations.assistants.get(thread.assistantId) : undefined
      const turn = await conversations.turn({
        owner: ownerOf(caller), caller, threadId: thread.id, assistant, collections: thread.ragCollections, model: body.model, instructions: body.instructions, input,
        temperature: body.temperature, maxOutputTokens: body.max_tokens, store: false, stream: body.stream, signal, headers: routingHeaders(headers),
      }, gateway)
      if (!turn.events) return reply(await turnSummary(turn), { status: 201 })
      return sse(threadFrames(turn), errorFrame)
    },
  }

  return { routes: [create, list, get, messages, rename, remove, send] }
}

/** What a finished turn answers: the kept messages (input then reply), its usage and cost. */
async function turnSummary(turn: Turn): Promise<Record<string, unknown>> {
  const response = await turn.response()
  const items = await turn.items()
  const output = items.filter((i) => i.origin === 'output')
  return {
    thread_id: turn.threadId, response_id: turn.id, status: response.status,
    messages: items.map(messageView), reply: output.map(messageView), usage: response.usage, cost_usd: output.at(-1)?.costUsd ?? null,
  }
}

async function* threadFrames(turn: Turn): AsyncGenerator<SseFrame> {
  for await (const event of turn.events!) {
    if (event.type === 'text.delta') yield { event: 'delta', data: JSON.stringify({ item_id: event.itemId, delta: event.delta }) }
    else yield { event: event.type, data: JSON.stringify(event) }
  }
  yield { event: 'done', data: JSON.stringify(await turnSummary(turn)) }
}

const errorFrame = (error: GatewayError): SseFrame => ({ event: 'error', data: JSON.stringify({ error: { message: error.message, code: error.code ?? null, type: error.type } }) })

export default definePlugin<Record<string, never>, Service>({
  id: 'service.chat',
  kind: 'service',
  description: 'Chat threads and their messages (send, stream), over the Conversations capability.',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  needs: [Conversations],
  uses: [AuditLog, Files],
  setup(ctx) {
    const conversations = ctx.tryGet(Conversations)
    if (!conversations) throw new Error('chat threads need the conversations service: add `conversations: {}` under `services:` (and a `store:`)')
    return chatService(conversations, auditTo(ctx.tryGet(AuditLog), ctx.logger), ctx.tryGet(Files))
  },
})
