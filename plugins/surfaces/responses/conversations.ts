/**
 * /v1/conversations: OpenAI's Conversations API over the chat threads (one record: a conversation
 * id is a thread id of /api/v1/chat/threads). Create (with initial items), get, update metadata,
 * delete; list, add, get and delete items. A conversation out of the caller's reach is a 404.
 */
import { notFound, type Caller, type RouteSpec } from '../../../plugin-api/index.ts'
import type { JsonObject } from '../../contracts/capabilities.ts'
import { auditTo, type Audit } from '../../contracts/audit.ts'
import { METADATA_SCHEMA } from '../../contracts/metadata.ts'
import { itemView, threadAuditEntry, type Conversations, type ItemRecord, type Slice, type ThreadRecord } from '../../contracts/conversations.ts'
import type { Files } from '../../contracts/files.ts'
import { checkFileParts, inputItems } from './input.ts'
import { INCLUDE_QUERY, includeQuery, itemShown, type Include } from './include.ts'

const CHAT = 'chat'
/** OpenAI's metadata: up to 16 pairs, keys up to 64 characters, values up to 512. */
export const METADATA = METADATA_SCHEMA
const ID = { type: 'string', minLength: 1, maxLength: 128 }
const CONVERSATION_PARAMS = { type: 'object', required: ['id'], properties: { id: ID } }
const ITEM_PARAMS = { type: 'object', required: ['id', 'item_id'], properties: { id: ID, item_id: ID } }
const LIST_QUERY = {
  type: 'object',
  properties: { limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 }, order: { enum: ['asc', 'desc'], default: 'desc' }, after: ID, ...INCLUDE_QUERY },
}
const INCLUDE_ONLY = { type: 'object', properties: INCLUDE_QUERY }
const MAX_ITEMS_PER_CALL = 20

export async function reachableConversation(conversations: Conversations, caller: Caller, id: string, param = 'id'): Promise<ThreadRecord> {
  const thread = /^conv_[0-9a-f]{32}$/.test(id) ? await conversations.threads.get(id) : undefined
  if (!thread || !caller.reaches(thread)) throw notFound(`No conversation with id '${id}'.`, 'conversation_not_found', param)
  return thread
}

/** An item as shown: a file search's results only when `include` asks for them. */
const itemOut = (item: ItemRecord, include: Include): JsonObject => itemShown(itemView(item.id, item.content, item.status), include)

/** OpenAI's list object for a page of items. */
export const listOf = (page: Slice<ItemRecord>, include: Include): JsonObject => ({
  object: 'list', data: page.data.map((item) => itemOut(item, include)), first_id: page.data[0]?.id ?? null, last_id: page.data.at(-1)?.id ?? null, has_more: page.hasMore,
})

const conversationOut = (t: ThreadRecord): JsonObject => ({ id: t.id, object: 'conversation', created_at: Math.floor(t.createdAt.getTime() / 1000), metadata: t.metadata })

/** `audit`: creating, updating and deleting a conversation is recorded as the console's threads are (thread.create, .update, .delete). */
export function conversationRoutes(conversations: Conversations, files: Files | undefined, audit: Audit = auditTo(undefined, undefined)): RouteSpec[] {
  const reach = (caller: Caller, id: string) => reachableConversation(conversations, caller, id)
  const items = async (raw: unknown, param: string, caller: Caller) => {
    const contents = inputItems(raw ?? [], param, conversations.maxInputChars)
    await checkFileParts(contents, param, caller, files)
    return contents.map((content) => ({ content, origin: 'input' as const }))
  }

  const create: RouteSpec<{ items?: unknown; metadata?: Record<string, string> | null }> = {
    method: 'POST', path: '/v1/conversations', summary: 'Create a conversation, optionally with items.', permission: CHAT,
    body: { type: 'object', additionalProperties: false, properties: { items: { type: ['array', 'null'], maxItems: MAX_ITEMS_PER_CALL }, metadata: METADATA } },
    async handle(req) {
      const { caller, body } = req
      const { thread } = await conversations.threads.create(
        { userId: caller.principal.userId, department: caller.principal.department ?? null, metadata: body.metadata ?? undefined },
        await items(body.items, 'items', caller),
      )
      await audit(req, threadAuditEntry('thread.create', thread))
      return conversationOut(thread)
    },
  }
  const get: RouteSpec<unknown, unknown, { id: string }> = {
    method: 'GET', path: '/v1/conversations/:id', summary: 'A conversation.', permission: CHAT, params: CONVERSATION_PARAMS,
    handle: async ({ caller, params }) => conversationOut(await reach(caller, params.id)),
  }
  const update: RouteSpec<{ metadata: Record<string, string> }, unknown, { id: string }> = {
    method: 'POST', path: '/v1/conversations/:id', summary: 'Replace a conversation\'s metadata.', permission: CHAT, params: CONVERSATION_PARAMS,
    body: { type: 'object', additionalProperties: false, required: ['metadata'], properties: { metadata: METADATA } },
    async handle(req) {
      const thread = await reach(req.caller, req.params.id)
      const updated = (await conversations.threads.update(thread.id, { metadata: req.body.metadata ?? {} }))!
      await audit(req, threadAuditEntry('thread.update', updated, { changed: ['metadata'] }))
      return conversationOut(updated)
    },
  }
  const remove: RouteSpec<unknown, unknown, { id: string }> = {
    method: 'DELETE', path: '/v1/conversations/:id', summary: 'Delete a conversation and its items.', permission: CHAT, params: CONVERSATION_PARAMS,
    async handle(req) {
      const thread = await reach(req.caller, req.params.id)
      // Not while a turn answers in it (it would keep writing into a conversation that is gone):
      // refused as a second turn or an item edit is, so a client retries all three alike.
      await conversations.exclusive(thread.id, () => conversations.threads.delete(thread.id))
      await audit(req, threadAuditEntry('thread.delete', thread))
      return { id: thread.id, object: 'conversation.deleted', deleted: true }
    },
  }
  const listItems: RouteSpec<unknown, { limit: number; order: 'asc' | 'desc'; after?: string } & Record<string, unknown>, { id: string }> = {
    method: 'GET', path: '/v1/conversations/:id/items', summary: 'A page of a conversation\'s items.', permission: CHAT, params: CONVERSATION_PARAMS, query: LIST_QUERY,
    async handle({ caller, params, query }) {
      const include = includeQuery(query)
      const thread = await reach(caller, params.id)
      return listOf(await conversations.threads.items(thread.id, query), include)
    },
  }
  const addItems: RouteSpec<{ items: unknown }, Record<string, unknown>, { id: string }> = {
    method: 'POST', path: '/v1/conversations/:id/items', summary: 'Add items to a conversation.', permission: CHAT, params: CONVERSATION_PARAMS, query: INCLUDE_ONLY,
    body: { type: 'object', additionalProperties: false, required: ['items'], properties: { items: { type: 'array', minItems: 1, maxItems: MAX_ITEMS_PER_CALL } } },
    async handle({ caller, params, body, query }) {
      const include = includeQuery(query)
      const thread = await reach(caller, params.id)
      const adding = await items(body.items, 'items', caller)
      // Items added while a turn answers would fall among its own: refused, as a second turn is.
      const added = await conversations.exclusive(thread.id, () => conversations.threads.append(thread.id, adding))
      return listOf({ data: added, hasMore: false }, include)
    },
  }
  const getItem: RouteSpec<unknown, Record<string, unknown>, { id: string; item_id: string }> = {
    method: 'GET', path: '/v1/conversations/:id/items/:item_id', summary: 'One item of a conversation.', permission: CHAT, params: ITEM_PARAMS, query: INCLUDE_ONLY,
    async handle({ caller, params, query }) {
      const include = includeQuery(query)
      const thread = await reach(caller, params.id)
      const item = await conversations.threads.item(thread.id, params.item_id)
      if (!item) throw notFound(`No item with id '${params.item_id}' in this conversation.`, 'item_not_found', 'item_id')
      return itemOut(item, include)
    },
  }
  const deleteItem: RouteSpec<unknown, unknown, { id: string; item_id: string }> = {
    method: 'DELETE', path: '/v1/conversations/:id/items/:item_id', summary: 'Delete an item; answers the conversation.', permission: CHAT, params: ITEM_PARAMS,
    async handle({ caller, params }) {
      const thread = await reach(caller, params.id)
      if (!(await conversations.exclusive(thread.id, () => conversations.threads.deleteItem(thread.id, params.item_id)))) throw notFound(`No item with id '${params.item_id}' in this conversation.`, 'item_not_found', 'item_id')
      return conversationOut(thread)
    },
  }
  return [create, get, update, remove, listItems, addItems, getItem, deleteItem]
}
