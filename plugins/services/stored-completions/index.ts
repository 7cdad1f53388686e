/**
 * Stored chat completions: OpenAI's `store: true` on /v1/chat/completions, for every provider. The
 * completion the client got (a streamed one assembled from its chunks) is kept with its request's
 * messages and metadata, written after the answer has gone; the caller then lists, reads, tags and
 * deletes it as OpenAI's API offers. A completion out of the caller's reach is a 404, as anywhere.
 *
 *   service.stored-completions   the table (migrated at setup), its writer; the StoredCompletions capability surface.openai hands completions to
 *   surface.stored-completions   GET /v1/chat/completions, GET/POST/DELETE /v1/chat/completions/{id}, GET /v1/chat/completions/{id}/messages
 */
import { fileURLToPath } from 'node:url'
import { definePlugin, notFound, Store, token, type Caller, type RouteSpec, type Service, type Surface, type Token } from '../../../plugin-api/index.ts'
import { ownerFilter } from '../../contracts/files.ts'
import { StoredCompletions } from '../../contracts/stored-completions.ts'
import { unknownCursor } from '../kit/cursor.ts'
import { METADATA_SCHEMA, metadataFilter } from '../../contracts/metadata.ts'
import { completionRepository, type CompletionRepository, type StoredCompletion } from './repository.ts'
import { completionView, listOf, messageView } from './views.ts'
import { CompletionWriter } from './writer.ts'

const MIGRATIONS = fileURLToPath(new URL('./migrations/', import.meta.url))
const PERMISSION = 'chat'

/** What the surface reads: the table, and the writer (a read waits for this process's writes before it). */
interface CompletionParts {
  readonly completions: CompletionRepository
  readonly writer: CompletionWriter
}
const CompletionParts: Token<CompletionParts> = token<CompletionParts>('StoredCompletionParts')

const service = definePlugin<Record<string, never>, Service>({
  id: 'service.stored-completions',
  kind: 'service',
  description: 'Chat completions created with `store: true`, kept in the store for every provider: OpenAI\'s list, retrieve, update, delete and messages.',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  enabledByDefault: { requires: ['store'] },
  needs: [Store],
  provides: [StoredCompletions, CompletionParts],
  async setup(ctx) {
    const store = ctx.get(Store)
    await store.migrate({ owner: 'stored-completions', dir: MIGRATIONS })
    const completions = completionRepository(store.sql)
    // Kept across reloads: writes in flight go on, and the gateway's stop waits for them.
    const writer = ctx.keep('writer', () => new CompletionWriter())
    writer.pointAt(completions, ctx.logger)
    ctx.provide(StoredCompletions, { keep: (completion) => writer.add(completion) })
    ctx.provide(CompletionParts, { completions, writer })
    return {}
  },
})

const ID_PARAMS = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 256 } } }
const PAGE = {
  after: { type: 'string', minLength: 1, maxLength: 300 },
  limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
  // OpenAI's default for both lists: oldest first.
  order: { enum: ['asc', 'desc'], default: 'asc' },
}
const LIST_QUERY = { type: 'object', properties: { ...PAGE, model: { type: 'string', minLength: 1 } } }
const MESSAGES_QUERY = { type: 'object', properties: PAGE }
interface PageQuery { after?: string; limit: number; order: 'asc' | 'desc' }

function completionRoutes({ completions, writer }: CompletionParts): RouteSpec[] {
  /** The caller's completion with this id (waiting for this process's writes first): another's is not found. */
  const reachable = async (caller: Caller, id: string, param = 'id'): Promise<StoredCompletion> => {
    await writer.settled()
    const found = (await completions.byId(id)).find((c) => caller.reaches(c))
    if (!found) throw notFound(`No chat completion found with id '${id}'.`, 'not_found', param)
    return found
  }
  return [
    {
      method: 'GET', path: '/v1/chat/completions', summary: 'The chat completions the caller stored (`store: true`), oldest first; filtered by `model` and `metadata[key]=value`.', permission: PERMISSION,
      query: LIST_QUERY,
      async handle({ caller, query }: { caller: Caller; query: PageQuery & { model?: string } & Record<string, unknown> }) {
        await writer.settled()
        const after = query.after === undefined ? undefined : await reachable(caller, query.after, 'after').catch(() => { throw unknownCursor('chat completion', query.after!) })
        const found = await completions.list({ ...ownerFilter(caller), model: query.model, metadata: metadataFilter(query), afterSeq: after?.seq, order: query.order, limit: query.limit + 1 })
        return listOf(found.slice(0, query.limit).map(completionView), found.length > query.limit)
      },
    },
    {
      method: 'GET', path: '/v1/chat/completions/:id', summary: 'A stored chat completion.', permission: PERMISSION, params: ID_PARAMS,
      async handle({ caller, params }: { caller: Caller; params: { id: string } }) {
        return completionView(await reachable(caller, params.id))
      },
    },
    {
      method: 'POST', path: '/v1/chat/completions/:id', summary: 'Replace a stored chat completion\'s metadata (the only field that can change).', permission: PERMISSION, params: ID_PARAMS,
      body: { type: 'object', additionalProperties: false, required: ['metadata'], properties: { metadata: METADATA_SCHEMA } },
      async handle({ caller, params, body }: { caller: Caller; params: { id: string }; body: { metadata: Record<string, string> | null } }) {
        const found = await reachable(caller, params.id)
        const updated = await completions.setMetadata(found.seq, body.metadata ?? {})
        if (!updated) throw notFound(`No chat completion found with id '${params.id}'.`, 'not_found', 'id')
        return completionView(updated)
      },
    },
    {
      method: 'DELETE', path: '/v1/chat/completions/:id', summary: 'Delete a stored chat completion.', permission: PERMISSION, params: ID_PARAMS,
      async handle({ caller, params }: { caller: Caller; params: { id: string } }) {
        const found = await reachable(caller, params.id)
        await completions.delete(found.seq)
        return { object: 'chat.completion.deleted', id: found.id, deleted: true }
      },
    },
    {
      method: 'GET', path: '/v1/chat/completions/:id/messages', summary: 'The messages of a stored chat completion\'s request, paged.', permission: PERMISSION, params: ID_PARAMS,
      query: MESSAGES_QUERY,
      async handle({ caller, params, query }: { caller: Caller; params: { id: string }; query: PageQuery }) {
        const found = await reachable(caller, params.id)
        const all = found.messages.map((m, i) => messageView(found.id, m, i))
        const ordered = query.order === 'desc' ? all.reverse() : all
        let from = 0
        if (query.after !== undefined) {
          const at = ordered.findIndex((m) => m.id === query.after)
          if (at < 0) throw unknownCursor('message', query.after)
          from = at + 1
        }
        const page = ordered.slice(from, from + query.limit)
        return listOf(page, from + query.limit < ordered.length)
      },
    },
  ] as RouteSpec[]
}

const surface = definePlugin<Record<string, never>, Surface>({
  id: 'surface.stored-completions',
  kind: 'surface',
  enabledByDefault: true,
  description: 'OpenAI\'s stored chat completions (list, retrieve, update, delete, messages), when service.stored-completions runs (a store is configured).',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  uses: [CompletionParts],
  setup(ctx) {
    const parts = ctx.tryGet(CompletionParts)
    return { endpoints: parts ? completionRoutes(parts) : [] }
  },
})

export default [service, surface]
