/**
 * surface.vector-stores: OpenAI's /v1/vector_stores over the Rag capability, so the official
 * SDKs' `vectorStores.*` work unchanged. A vector store is a collection; a vector store file is a
 * document attached from /v1/files (service.files), its id the file's id. On whenever
 * service.rag is configured; attaching files needs service.files too.
 */
import { GatewayError, badRequest, definePlugin, notFound, type Caller, type ChatResponse, type GatewayCalls, type JsonSchema, type RouteSpec, type Surface } from '../../../plugin-api/index.ts'
import { AuditLog } from '../../contracts/capabilities.ts'
import { Files, type StoredFile } from '../../contracts/files.ts'
import { auditTo } from '../../contracts/audit.ts'
import { recordedRag, type RecordedRag } from './audit.ts'
import { TEXT_SEARCH_SCHEMA } from './text-search.ts'
import { unansweredRoutes } from '../../contracts/route-names.ts'
import { Rag, type ChunkingSettings, type CollectionRecord, type DocumentAttributes, type DocumentRecord, type DocumentStatus } from '../../contracts/rag.ts'
import { parseFilter } from './data/filters.ts'
import { ATTRIBUTES_SCHEMA, checkAttributes } from './attributes.ts'
import { FileBatches, type FileBatchRecord } from './data/file-batches.ts'
import { isExpired } from './expiry.ts'
import { asVectorStoreError } from './not-found.ts'

const PERMISSION = 'chat'
const unix = (d: Date): number => Math.floor(d.getTime() / 1000)

const object = (properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema =>
  ({ type: 'object', additionalProperties: false, properties, ...(required.length ? { required } : {}) })
const METADATA = { type: ['object', 'null'], maxProperties: 16, additionalProperties: { type: 'string', maxLength: 512 } }
/** OpenAI's most files in one batch (CreateVectorStoreFileBatchRequest). */
const MAX_BATCH_FILES = 2000
const CHUNKING = {
  type: 'object',
  description: '`{ type: auto }` or `{ type: static, static: { max_chunk_size_tokens, chunk_overlap_tokens } }`.',
  properties: {
    type: { enum: ['auto', 'static'] },
    static: object({ max_chunk_size_tokens: { type: 'integer', minimum: 100, maximum: 4096 }, chunk_overlap_tokens: { type: 'integer', minimum: 0 } }, ['max_chunk_size_tokens', 'chunk_overlap_tokens']),
  },
  required: ['type'],
  additionalProperties: false,
}
const STORE_ID = object({ id: { type: 'string', minLength: 1, maxLength: 64 } }, ['id'])
const BATCH_ID = object({ id: { type: 'string', minLength: 1, maxLength: 64 }, batch_id: { type: 'string', minLength: 1, maxLength: 64 } }, ['id', 'batch_id'])
const FILE_ID = object({ id: { type: 'string', minLength: 1, maxLength: 64 }, file_id: { type: 'string', minLength: 1, maxLength: 128 } }, ['id', 'file_id'])
const LIST = object({
  limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
  order: { enum: ['asc', 'desc'], default: 'desc' },
  after: { type: 'string' },
  before: { type: 'string' },
  filter: { enum: ['in_progress', 'completed', 'failed', 'cancelled'] },
})
interface ListQuery { limit: number; order: 'asc' | 'desc'; after?: string; before?: string; filter?: string }
interface Chunking { type: 'auto' | 'static'; static?: { max_chunk_size_tokens: number; chunk_overlap_tokens: number } }

function chunkingOf(strategy: Chunking | undefined): Partial<ChunkingSettings> | undefined {
  // OpenAI's `auto` takes `type` alone: sizes beside it would be ignored without a word.
  if (strategy?.type === 'auto' && strategy.static !== undefined) throw badRequest('`static` goes with `type: static`: the `auto` strategy takes no sizes (800 tokens, 400 of overlap).', 'chunking_strategy.static', 'invalid_chunking')
  if (!strategy || strategy.type === 'auto') return undefined
  if (!strategy.static) throw badRequest('A static chunking strategy needs `static`.', 'chunking_strategy.static')
  const { max_chunk_size_tokens: size, chunk_overlap_tokens: overlap } = strategy.static
  // Checked here to name the SDK's field (the Rag capability names its own, `chunking.overlap_tokens`).
  if (overlap > size / 2) throw badRequest(`\`chunk_overlap_tokens\` (${overlap}) may be at most half of \`max_chunk_size_tokens\` (${size}).`, 'chunking_strategy.static.chunk_overlap_tokens', 'invalid_chunking')
  return { maxTokens: size, overlapTokens: overlap }
}

/** OpenAI's `expires_after`: the only anchor is the last use; from a day to a year. */
const EXPIRES_AFTER = object({ anchor: { const: 'last_active_at' }, days: { type: 'integer', minimum: 1, maximum: 365 } }, ['anchor', 'days'])
interface ExpiresAfter { anchor: 'last_active_at'; days: number }

function storeView(c: CollectionRecord) {
  const inProgress = c.counts.queued + c.counts.processing
  const expired = isExpired(c)
  return {
    id: c.id, object: 'vector_store', created_at: unix(c.createdAt), name: c.name, description: c.description, usage_bytes: c.bytes,
    file_counts: { in_progress: inProgress, completed: c.counts.completed, failed: c.counts.failed, cancelled: 0, total: c.counts.total },
    // Without an expiry `expires_after` is left out, not null: OpenAI's schema types it as an object.
    ...(c.expiresAfterDays === null ? {} : { expires_after: { anchor: 'last_active_at', days: c.expiresAfterDays } }),
    status: expired ? 'expired' : inProgress > 0 ? 'in_progress' : 'completed', expires_at: c.expiresAt ? unix(c.expiresAt) : null,
    last_active_at: c.lastActiveAt ? unix(c.lastActiveAt) : null, metadata: c.metadata,
  }
}

/**
 * OpenAI's `last_error` code for a document's failure: a file that could not be read is
 * `invalid_file` (over max_file_bytes, corrupt, no text, or past an extraction bound), one of a kind not read is
 * `unsupported_file`, any other failure (embedding, a withdrawn uploader, a store that expired
 * before the file's turn) a `server_error`.
 */
const LAST_ERROR_CODES: Readonly<Record<string, string>> = { file_too_large: 'invalid_file', invalid_file: 'invalid_file', no_text: 'invalid_file', document_too_complex: 'invalid_file', unsupported_file: 'unsupported_file' }
const STATUS = { queued: 'in_progress', processing: 'in_progress', completed: 'completed', failed: 'failed' } as const

function fileView(d: DocumentRecord) {
  return {
    id: d.fileId ?? d.id, object: 'vector_store.file', usage_bytes: d.bytes, created_at: unix(d.createdAt), vector_store_id: d.collectionId,
    status: STATUS[d.status],
    last_error: d.error ? { code: LAST_ERROR_CODES[d.error.code] ?? 'server_error', message: d.error.message } : null,
    chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: d.chunking.maxTokens, chunk_overlap_tokens: d.chunking.overlapTokens } },
    attributes: d.attributes,
  }
}

/** The documents a list's `filter` names (none is ever `cancelled`). */
const STATUSES_OF: Record<string, DocumentStatus[]> = { in_progress: ['queued', 'processing'], completed: ['completed'], failed: ['failed'], cancelled: [] }
/** What a list asks the store for: its cursor and filter, and one record more than the page to tell `has_more`. */
const cursorOf = (q: ListQuery) => ({ order: q.order, after: q.after, before: q.before, limit: q.limit + 1, status: q.filter === undefined ? undefined : STATUSES_OF[q.filter] })

/**
 * A list's `after` and `before` name records the caller sees (`known`), or a 400 naming the cursor:
 * one that names nothing would bound nothing, and the first page came back as if it were the next.
 */
async function checkCursors(q: ListQuery, what: string, known: (id: string) => Promise<boolean>): Promise<void> {
  for (const name of ['after', 'before'] as const) {
    const id = q[name]
    if (id !== undefined && !await known(id)) throw badRequest(`Invalid '${name}': no ${what} '${id}' to page from.`, name, 'invalid_value')
  }
}

/** Whether `read` finds the record: a 404 is false, any other error is thrown. */
const found = (read: () => Promise<unknown>): Promise<boolean> => read().then(() => true, (err: unknown) => {
  if (err instanceof GatewayError && err.status === 404) return false
  throw err
})

/** OpenAI's cursor list of a page the store read with `cursorOf` (newest first unless asked otherwise). */
function page<T extends { id: string }>(rows: T[], q: ListQuery) {
  // Read back from `before`, the one record more is the farthest from it: first in the list's order.
  const data = q.before !== undefined && q.after === undefined ? rows.slice(-q.limit) : rows.slice(0, q.limit)
  // OpenAI's list schemas require string ids: an empty page has empty ones (the SDK pages by the last item, not these).
  return { object: 'list', data, first_id: data[0]?.id ?? '', last_id: data.at(-1)?.id ?? '', has_more: rows.length > data.length }
}

/**
 * A vector store's file by its /v1/files id: an unknown one is the `file_id` the SDK sent that is
 * not found (the Rag capability names it a document).
 */
async function storeFile<T>(fileId: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read()
  } catch (err) {
    if (err instanceof GatewayError && err.code === 'document_not_found') throw notFound(`No file '${fileId}' in this vector store.`, 'file_not_found', 'file_id')
    throw err
  }
}

/** surfaces.vector-stores in gateway.yaml. */
interface VectorStoresConfig {
  /** The chat route that rewrites a search's query when it asks (`rewrite_query: true`). */
  readonly rewrite_route?: string
}

const REWRITE_PROMPT = 'Rewrite the question as a short query for searching documents: its key terms and phrases only, without explanation. Answer with the query alone.'

/**
 * `question` as a search query, written by the `rewrite_route` model (OpenAI's `rewrite_query`).
 * When the call fails or answers nothing the question is searched as it came; the page's
 * `search_query` says which was searched.
 */
async function rewritten(gateway: GatewayCalls, route: string, question: string, signal: AbortSignal): Promise<string> {
  try {
    const call = await gateway.chat({ model: route, max_tokens: 64, temperature: 0, messages: [{ role: 'system', content: REWRITE_PROMPT }, { role: 'user', content: question }] }, { signal })
    const text = (call.result as ChatResponse).choices[0]?.message.content?.trim().split('\n')[0]?.trim()
    return text ? text.slice(0, 1000) : question
  } catch {
    return question
  }
}

/** A batch as OpenAI shows it: counts of its files by their documents' status. */
function batchView(b: FileBatchRecord, counts: Partial<Record<DocumentStatus, number>>) {
  const completed = counts.completed ?? 0
  const failed = counts.failed ?? 0
  const inProgress = b.cancelled ? 0 : (counts.queued ?? 0) + (counts.processing ?? 0)
  // Files detached since, or cut short by a cancel, count as cancelled.
  const cancelled = b.fileIds.length - completed - failed - inProgress
  return {
    id: b.id, object: 'vector_store.files_batch', created_at: unix(b.createdAt), vector_store_id: b.collectionId,
    status: b.cancelled ? 'cancelled' : inProgress > 0 ? 'in_progress' : 'completed',
    file_counts: { in_progress: inProgress, completed, failed, cancelled, total: b.fileIds.length },
  }
}

/** `recorded(req)` is the Rag the routes that change a store go through (the audit trail's). */
export function vectorStoreRoutes(rag: Rag, files: Files | undefined, batches?: FileBatches, config: VectorStoresConfig = {}, recorded: RecordedRag = () => rag): RouteSpec[] {
  const filesNeeded = (): Files => {
    if (!files) throw new GatewayError('Attaching files needs service.files (services: { files: {} }).', { status: 501, code: 'files_not_configured' })
    return files
  }
  const noFile = (fileId: string) => notFound(`No file '${fileId}'.`, 'file_not_found', 'file_id')

  /** The /v1/files records of `ids`, read at once, or a 404 naming the first the caller does not reach (before anything is attached). */
  async function filesOf(caller: Caller, ids: readonly string[]): Promise<StoredFile[]> {
    const found = new Map((await filesNeeded().getMany([...new Set(ids)])).map((f) => [f.id, f]))
    return ids.map((id) => {
      const stored = found.get(id)
      if (!stored || !caller.reaches({ userId: stored.userId, department: stored.department })) throw noFile(id)
      return stored
    })
  }

  async function attach(into: Rag, caller: Caller, storeId: string, stored: StoredFile, attributes: DocumentAttributes | undefined, chunking: Chunking | undefined) {
    const data = await filesNeeded().content(stored.id)
    if (!data) throw noFile(stored.id)
    // A file that cannot be read (too large, of a type not read, without text, corrupt) is attached failed, saying why (as on OpenAI): a batch goes on with the others.
    return into.addDocument(caller, storeId, { filename: stored.filename, contentType: stored.contentType, data, fileId: stored.id, attributes, chunking: chunkingOf(chunking), failUnreadable: true })
  }

  /** The batch, if the caller sees its store. */
  async function batchOf(caller: Caller, storeId: string, batchId: string) {
    const store = await rag.getCollection(caller, storeId)
    const batch = await batches?.get(store.id, batchId)
    if (!batch) throw notFound(`No file batch '${batchId}' in this vector store.`, 'batch_not_found', 'batch_id')
    return batch
  }

  const batchRoutes: RouteSpec[] = batches ? [
    {
      method: 'POST', path: '/v1/vector_stores/:id/file_batches', summary: 'Attach several files at once (`file_ids`, or `files` each with its own attributes and chunking).', permission: PERMISSION, params: STORE_ID,
      body: object({
        file_ids: { type: 'array', minItems: 1, maxItems: MAX_BATCH_FILES, items: { type: 'string', minLength: 1, maxLength: 128 }, description: 'The batch-wide `attributes` and `chunking_strategy` apply to each. Mutually exclusive with `files`.' },
        files: {
          type: 'array', minItems: 1, maxItems: MAX_BATCH_FILES, description: 'Each with its own `attributes` and `chunking_strategy`; the batch-wide ones are ignored. Mutually exclusive with `file_ids`.',
          items: object({ file_id: { type: 'string', minLength: 1, maxLength: 128 }, attributes: ATTRIBUTES_SCHEMA, chunking_strategy: CHUNKING }, ['file_id']),
        },
        attributes: ATTRIBUTES_SCHEMA, chunking_strategy: CHUNKING,
      }),
      async handle(req) {
        const { caller, params, body } = req
        const into = recorded(req)
        const b = body as { file_ids?: string[]; files?: { file_id: string; attributes?: unknown; chunking_strategy?: Chunking }[]; attributes?: unknown; chunking_strategy?: Chunking }
        if (b.file_ids !== undefined && b.files !== undefined) throw badRequest('`file_ids` and `files` are mutually exclusive: send one of them.', 'files', 'invalid_request')
        if (b.file_ids === undefined && b.files === undefined) throw badRequest('Missing required parameter: \'file_ids\' (or \'files\').', 'file_ids', 'missing_required_parameter')
        const attributes = checkAttributes(b.attributes)
        // With `files`, the batch-wide attributes and chunking_strategy are ignored (as OpenAI documents): each file says its own.
        const items = b.files
          ? b.files.map((f, i) => ({ fileId: f.file_id, attributes: checkAttributes(f.attributes, `files[${i}].attributes`), chunking: f.chunking_strategy }))
          : b.file_ids!.map((fileId) => ({ fileId, attributes, chunking: b.chunking_strategy }))
        for (const item of items) chunkingOf(item.chunking)
        const store = await rag.getCollection(caller, (params as { id: string }).id)
        // Every file is found in one read before any is attached; then each is extracted now (one that cannot be read is attached failed).
        const stored = await filesOf(caller, items.map((i) => i.fileId))
        for (const [i, item] of items.entries()) await attach(into, caller, store.id, stored[i]!, item.attributes, item.chunking)
        const batch = await batches.create(store.id, [...new Set(items.map((i) => i.fileId))])
        return batchView(batch, await batches.statusCounts(batch))
      },
    },
    {
      method: 'GET', path: '/v1/vector_stores/:id/file_batches/:batch_id', summary: 'A file batch with its files\' counts by status.', permission: PERMISSION, params: BATCH_ID,
      async handle({ caller, params }) {
        const { id, batch_id: batchId } = params as { id: string; batch_id: string }
        const batch = await batchOf(caller, id, batchId)
        return batchView(batch, await batches.statusCounts(batch))
      },
    },
    {
      method: 'POST', path: '/v1/vector_stores/:id/file_batches/:batch_id/cancel', summary: 'Mark a batch cancelled (files already accepted are still ingested; detach them to drop them).', permission: PERMISSION, params: BATCH_ID,
      async handle({ caller, params }) {
        const { id, batch_id: batchId } = params as { id: string; batch_id: string }
        const batch = await batchOf(caller, id, batchId)
        // Only who may change the store may cancel: an empty update checks that and changes nothing.
        await rag.updateCollection(caller, batch.collectionId, {})
        await batches.cancel(batch.collectionId, batch.id)
        return batchView({ ...batch, cancelled: true }, await batches.statusCounts(batch))
      },
    },
    {
      method: 'GET', path: '/v1/vector_stores/:id/file_batches/:batch_id/files', summary: 'The files of a batch with their status.', permission: PERMISSION, params: BATCH_ID, query: LIST,
      async handle({ caller, params, query }) {
        const q = query as ListQuery
        const { id, batch_id: batchId } = params as { id: string; batch_id: string }
        const batch = await batchOf(caller, id, batchId)
        await checkCursors(q, 'file of this batch', async (fileId) => batch.fileIds.includes(fileId) && found(() => rag.getDocument(caller, batch.collectionId, fileId)))
        const docs = await rag.listDocuments(caller, batch.collectionId, { ...cursorOf(q), fileIds: batch.fileIds })
        return page(docs.map(fileView), q)
      },
    },
  ] : []

  const routes: RouteSpec[] = [
    ...batchRoutes,
    {
      method: 'POST', path: '/v1/vector_stores', summary: 'Create a vector store (a RAG collection), optionally with files.', permission: PERMISSION,
      body: object({ name: { type: 'string', maxLength: 200 }, description: { type: 'string', maxLength: 2000 }, file_ids: { type: 'array', maxItems: 500, items: { type: 'string' } }, metadata: METADATA, chunking_strategy: CHUNKING, expires_after: EXPIRES_AFTER, text_search: { ...TEXT_SEARCH_SCHEMA, description: `${TEXT_SEARCH_SCHEMA.description} This gateway's own parameter (the SDKs send it with \`extra_body\` or as an extra property); default: services.rag.text_search.` } }),
      async handle(req) {
        const { caller, body, gateway } = req
        const into = recorded(req)
        const b = body as { name?: string; description?: string; file_ids?: string[]; metadata?: Record<string, string> | null; chunking_strategy?: Chunking; expires_after?: ExpiresAfter; text_search?: string }
        const c = await into.createCollection(caller, gateway, { name: b.name ?? 'vector store', description: b.description, metadata: b.metadata ?? undefined, chunking: chunkingOf(b.chunking_strategy), textSearch: b.text_search, expiresAfterDays: b.expires_after?.days })
        try {
          const stored = await filesOf(caller, b.file_ids ?? [])
          for (const file of stored) await attach(into, caller, c.id, file, undefined, undefined)
        } catch (err) {
          // All or nothing: a refused file leaves no store behind (the caller never learnt its id).
          await into.deleteCollection(caller, c.id).catch(() => undefined)
          throw err
        }
        return storeView(await rag.getCollection(caller, c.id))
      },
    },
    {
      method: 'GET', path: '/v1/vector_stores', summary: 'Vector stores the caller may search.', permission: PERMISSION, query: LIST,
      async handle({ caller, query }) {
        const q = query as ListQuery
        await checkCursors(q, 'vector store', (id) => found(() => rag.getCollection(caller, id)))
        return page((await rag.listCollections(caller, cursorOf(q))).map(storeView), q)
      },
    },
    {
      method: 'GET', path: '/v1/vector_stores/:id', summary: 'One vector store.', permission: PERMISSION, params: STORE_ID,
      handle: async ({ caller, params }) => storeView(await rag.getCollection(caller, (params as { id: string }).id)),
    },
    {
      method: 'POST', path: '/v1/vector_stores/:id', summary: 'Rename a vector store, replace its metadata, or set its expiry (`expires_after: null` never expires).', permission: PERMISSION, params: STORE_ID,
      body: object({ name: { type: ['string', 'null'], maxLength: 200 }, metadata: METADATA, expires_after: { ...EXPIRES_AFTER, type: ['object', 'null'] } }),
      async handle(req) {
        const { caller, params, body } = req
        const b = body as { name?: string | null; metadata?: Record<string, string> | null; expires_after?: ExpiresAfter | null }
        const expiresAfterDays = b.expires_after === undefined ? undefined : b.expires_after?.days ?? null
        return storeView(await recorded(req).updateCollection(caller, (params as { id: string }).id, { name: b.name ?? undefined, metadata: b.metadata ?? undefined, expiresAfterDays }))
      },
    },
    {
      method: 'DELETE', path: '/v1/vector_stores/:id', summary: 'Delete a vector store and its chunks (the files stay in /v1/files).', permission: PERMISSION, params: STORE_ID,
      async handle(req) {
        const { id } = req.params as { id: string }
        await recorded(req).deleteCollection(req.caller, id)
        return { id, object: 'vector_store.deleted', deleted: true }
      },
    },
    {
      method: 'POST', path: '/v1/vector_stores/:id/files', summary: 'Attach a file: extracted now (one of a type not read, without text or corrupt is attached `failed`, saying why), embedded in the background.', permission: PERMISSION, params: STORE_ID,
      body: object({ file_id: { type: 'string', minLength: 1, maxLength: 128 }, attributes: ATTRIBUTES_SCHEMA, chunking_strategy: CHUNKING }, ['file_id']),
      async handle(req) {
        const { caller, params, body } = req
        const b = body as { file_id: string; attributes?: unknown; chunking_strategy?: Chunking }
        const attributes = checkAttributes(b.attributes)
        const [stored] = await filesOf(caller, [b.file_id])
        return fileView(await attach(recorded(req), caller, (params as { id: string }).id, stored!, attributes, b.chunking_strategy))
      },
    },
    {
      method: 'GET', path: '/v1/vector_stores/:id/files', summary: 'Files of a vector store with their status.', permission: PERMISSION, params: STORE_ID, query: LIST,
      async handle({ caller, params, query }) {
        const q = query as ListQuery
        const storeId = (params as { id: string }).id
        // The store first: an unknown store is a 404 whatever the cursor.
        await rag.getCollection(caller, storeId)
        await checkCursors(q, 'file in this vector store', (fileId) => found(() => rag.getDocument(caller, storeId, fileId)))
        const docs = await rag.listDocuments(caller, storeId, cursorOf(q))
        return page(docs.map(fileView), q)
      },
    },
    {
      method: 'GET', path: '/v1/vector_stores/:id/files/:file_id', summary: 'One file of a vector store, with its status.', permission: PERMISSION, params: FILE_ID,
      async handle({ caller, params }) {
        const { id, file_id: fileId } = params as { id: string; file_id: string }
        return fileView(await storeFile(fileId, () => rag.getDocument(caller, id, fileId)))
      },
    },
    {
      method: 'POST', path: '/v1/vector_stores/:id/files/:file_id', summary: 'Replace a file\'s attributes (search filters read them at once).', permission: PERMISSION, params: FILE_ID,
      body: object({ attributes: ATTRIBUTES_SCHEMA }, ['attributes']),
      async handle(req) {
        const { caller, params, body } = req
        const { id, file_id: fileId } = params as { id: string; file_id: string }
        const attributes = checkAttributes((body as { attributes: unknown }).attributes)
        return fileView(await storeFile(fileId, () => recorded(req).updateDocument(caller, id, fileId, { attributes: attributes ?? {} })))
      },
    },
    {
      method: 'GET', path: '/v1/vector_stores/:id/files/:file_id/content', summary: 'The text extracted from a file, section by section, as it was chunked.', permission: PERMISSION, params: FILE_ID,
      async handle({ caller, params }) {
        const { id, file_id: fileId } = params as { id: string; file_id: string }
        const sections = await storeFile(fileId, () => rag.documentText(caller, id, fileId))
        // One page holds the whole text: a file's extracted text is bounded by services.rag.max_file_bytes.
        return { object: 'vector_store.file_content.page', data: sections.map((s) => ({ type: 'text', text: s.text })), has_more: false, next_page: null }
      },
    },
    {
      method: 'DELETE', path: '/v1/vector_stores/:id/files/:file_id', summary: 'Detach a file (its chunks are deleted; the file stays).', permission: PERMISSION, params: FILE_ID,
      async handle(req) {
        const { id, file_id: fileId } = req.params as { id: string; file_id: string }
        await storeFile(fileId, () => recorded(req).deleteDocument(req.caller, id, fileId))
        return { id: fileId, object: 'vector_store.file.deleted', deleted: true }
      },
    },
    {
      method: 'POST', path: '/v1/vector_stores/:id/search', summary: 'Search a vector store: chunks with scores and their files.', permission: PERMISSION, params: STORE_ID,
      body: object({
        query: { oneOf: [{ type: 'string', minLength: 1 }, { type: 'array', minItems: 1, maxItems: 10, items: { type: 'string', minLength: 1 } }] },
        max_num_results: { type: 'integer', minimum: 1, maximum: 50, default: 10 },
        filters: { type: 'object' },
        ranking_options: object({
          ranker: { enum: ['none', 'auto', 'default-2024-11-15'], description: 'OpenAI\'s values, each ranking alike: their rankers re-score with a model of theirs, this gateway has none (results are ranked by cosine similarity).' },
          score_threshold: { type: 'number', minimum: 0, maximum: 1 },
        }),
        rewrite_query: { type: 'boolean' },
      }, ['query']),
      async handle({ caller, params, body, gateway, signal }) {
        const b = body as { query: string | string[]; max_num_results: number; filters?: unknown; ranking_options?: { score_threshold?: number }; rewrite_query?: boolean }
        const asked = Array.isArray(b.query) ? b.query : [b.query]
        const storeId = (params as { id: string }).id
        // Without a rewrite_route the query is searched as sent (search_query says so). Before a
        // rewrite, an unknown store is refused (no model call); rag.search checks the store itself.
        const rewrite = b.rewrite_query && config.rewrite_route
        if (rewrite) await rag.getCollection(caller, storeId)
        const queries = rewrite ? [await rewritten(gateway, rewrite, asked.join('\n'), signal)] : asked
        const hits = await rag.search(caller, gateway, [storeId], queries.join('\n'), {
          topK: b.max_num_results, filters: b.filters === undefined ? undefined : parseFilter(b.filters), scoreThreshold: b.ranking_options?.score_threshold, signal,
        })
        return {
          object: 'vector_store.search_results.page', search_query: queries, has_more: false, next_page: null,
          data: hits.map((h) => ({ file_id: h.fileId ?? h.documentId, filename: h.filename, score: Math.min(1, Math.max(0, h.score)), attributes: h.attributes, content: [{ type: 'text', text: h.text }] })),
        }
      },
    },
  ]
  // The store in the path that the caller does not see is a vector store here, not a collection.
  return routes.map((route) => ({
    ...route,
    async handle(req) {
      try {
        return await route.handle(req)
      } catch (err) {
        throw asVectorStoreError(err, 'id')
      }
    },
  }))
}

export default definePlugin<VectorStoresConfig, Surface>({
  id: 'surface.vector-stores',
  kind: 'surface',
  enabledByDefault: true,
  description: 'OpenAI\'s /v1/vector_stores, when service.rag is configured.',
  configSchema: {
    type: 'object', additionalProperties: false,
    properties: {
      rewrite_route: { type: 'string', minLength: 1, description: 'The chat route that rewrites a search\'s query when it asks (`rewrite_query: true`); without it the query is searched as sent.' },
    },
  },
  uses: [Rag, Files, FileBatches, AuditLog],
  checkConfig: (config, at) => unansweredRoutes(config, at, ['rewrite_route']),
  setup(ctx, config) {
    const rag = ctx.tryGet(Rag)
    return {
      endpoints: rag ? vectorStoreRoutes(rag, ctx.tryGet(Files), ctx.tryGet(FileBatches), config, recordedRag(rag, auditTo(ctx.tryGet(AuditLog), ctx.logger))) : [],
      check(routes) {
        if (config.rewrite_route !== undefined && !routes.resolve(config.rewrite_route)) throw Object.assign(new Error(`no route answers '${config.rewrite_route}'`), { path: ['rewrite_route'] })
      },
    }
  },
})
