/**
 * /api/v1/rag (the envelope): collections, their documents (multipart upload, status and
 * progress, delete, retry) and search. Any caller with the `chat` permission may keep
 * collections of their own; sharing one with a department takes a scope that reaches it.
 */
import { badRequest, reply, type RouteSpec } from '../../../plugin-api/index.ts'
import { EMPTY_BODY_SCHEMA, listOf, objectSchema as object } from '../kit/schema.ts'
import type { DocumentAttributes, DocumentStatus, Rag } from '../../contracts/rag.ts'
import { checkAttributes } from './attributes.ts'
import type { RecordedRag } from './audit.ts'
import { FILTER_SCHEMA, parseFilter } from './data/filters.ts'
import { TEXT_SEARCH_SCHEMA } from './text-search.ts'
import { COLLECTION_SCHEMA, DELETED_SCHEMA, DOCUMENT_SCHEMA, HIT_SCHEMA, collectionView, documentView, hitView } from './views.ts'

const PERMISSION = 'chat'

const PAGE = { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, offset: { type: 'integer', minimum: 0, default: 0 } }
const ID = object({ id: { type: 'string', minLength: 1, maxLength: 64 } }, ['id'])
const DOC_ID = object({ id: { type: 'string', minLength: 1, maxLength: 64 }, document_id: { type: 'string', minLength: 1, maxLength: 128 } }, ['id', 'document_id'])
const METADATA = { type: 'object', maxProperties: 16, additionalProperties: { type: 'string', maxLength: 512 } }
const CHUNKING = object({
  max_tokens: { type: 'integer', minimum: 100, maximum: 4096 },
  overlap_tokens: { type: 'integer', minimum: 0, maximum: 2048, description: 'At most half of max_tokens.' },
})

const CREATE = object({
  name: { type: 'string', minLength: 1, maxLength: 200 },
  description: { type: 'string', maxLength: 2000 },
  embedding_route: { type: 'string', minLength: 1, maxLength: 200, description: 'A route of this gateway that embeds (default: services.rag.embedding_route).' },
  dimensions: { type: 'integer', minimum: 1, maximum: 16000, description: 'Asked of the route (default: what it gives).' },
  dept_scope: { type: ['string', 'null'], minLength: 1, maxLength: 64, description: 'Members of this department may search it.' },
  chunking: CHUNKING,
  text_search: { ...TEXT_SEARCH_SCHEMA, description: `${TEXT_SEARCH_SCHEMA.description} Default: services.rag.text_search; kept for the collection's life.` },
  metadata: METADATA,
}, ['name'])
const UPDATE = object({ name: { type: 'string', minLength: 1, maxLength: 200 }, metadata: METADATA })
const SEARCH = object({
  query: { type: 'string', minLength: 1, maxLength: 8000 },
  top_k: { type: 'integer', minimum: 1, maximum: 50 },
  filters: FILTER_SCHEMA,
  hybrid: { type: 'boolean', default: false, description: 'Fuse vector and full-text ranks (reciprocal rank fusion).' },
  score_threshold: { type: 'number' },
}, ['query'])

interface CreateBody { name: string; description?: string; embedding_route?: string; dimensions?: number; dept_scope?: string | null; chunking?: { max_tokens?: number; overlap_tokens?: number }; text_search?: string; metadata?: Record<string, string> }
interface SearchBody { query: string; top_k?: number; filters?: unknown; hybrid: boolean; score_threshold?: number }

/** Multipart fields: `attributes` (a JSON object of strings, numbers, booleans, bounded as OpenAI bounds them). */
function attributesField(text: string | undefined): DocumentAttributes | undefined {
  if (text === undefined || text === '') return undefined
  let parsed: unknown
  try { parsed = JSON.parse(text) } catch { throw badRequest('`attributes` must be a JSON object.', 'attributes', 'invalid_attributes') }
  return checkAttributes(parsed)
}

/** `recorded(req)` is the Rag the routes that change a collection go through (the audit trail's). */
export function ragRoutes(rag: Rag, recorded: RecordedRag = () => rag): RouteSpec[] {
  const create: RouteSpec<CreateBody> = {
    method: 'POST', path: '/collections', summary: 'Create a collection (embeddings route, dimension, department scope, chunking).', permission: PERMISSION, body: CREATE, status: 201, response: COLLECTION_SCHEMA,
    async handle(req) {
      const { caller, body, gateway, access } = req
      if (body.dept_scope && !access.isDepartment(body.dept_scope)) throw badRequest(`No department '${body.dept_scope}' in gateway.yaml.`, 'dept_scope', 'unknown_department')
      const c = await recorded(req).createCollection(caller, gateway, {
        name: body.name, description: body.description, embeddingRoute: body.embedding_route, dimensions: body.dimensions, deptScope: body.dept_scope,
        chunking: body.chunking && { maxTokens: body.chunking.max_tokens, overlapTokens: body.chunking.overlap_tokens }, textSearch: body.text_search, metadata: body.metadata,
      })
      return collectionView(c)
    },
  }
  const list: RouteSpec<unknown, { limit: number; offset: number }> = {
    method: 'GET', path: '/collections', summary: 'Collections the caller may search, newest first.', permission: PERMISSION, query: object(PAGE), response: listOf(COLLECTION_SCHEMA),
    async handle({ caller, query }) {
      const rows = await rag.listCollections(caller, query)
      return reply(rows.map(collectionView), { meta: { limit: query.limit, offset: query.offset, count: rows.length } })
    },
  }
  const get: RouteSpec<unknown, unknown, { id: string }> = {
    method: 'GET', path: '/collections/:id', summary: 'One collection, with its documents counted by status.', permission: PERMISSION, params: ID, response: COLLECTION_SCHEMA,
    handle: async ({ caller, params }) => collectionView(await rag.getCollection(caller, params.id)),
  }
  const update: RouteSpec<{ name?: string; metadata?: Record<string, string> }, unknown, { id: string }> = {
    method: 'PATCH', path: '/collections/:id', summary: 'Rename a collection or replace its metadata.', permission: PERMISSION, params: ID, body: UPDATE, response: COLLECTION_SCHEMA,
    handle: async (req) => collectionView(await recorded(req).updateCollection(req.caller, req.params.id, req.body)),
  }
  const remove: RouteSpec<unknown, unknown, { id: string }> = {
    method: 'DELETE', path: '/collections/:id', summary: 'Delete a collection with its documents and chunks.', permission: PERMISSION, params: ID, response: DELETED_SCHEMA,
    async handle(req) {
      const { caller, params } = req
      await recorded(req).deleteCollection(caller, params.id)
      return reply({ id: params.id, deleted: true }, { message: 'deleted' })
    },
  }
  const upload: RouteSpec<Record<string, string>, unknown, { id: string }> = {
    method: 'POST', path: '/collections/:id/documents', summary: 'Upload documents (multipart `file`, optional `attributes` JSON); embedded in the background.', permission: PERMISSION,
    params: ID, body: 'multipart', status: 202, response: listOf(DOCUMENT_SCHEMA),
    async handle(req) {
      const { caller, params, body, files } = req
      if (files.length === 0) throw badRequest('Attach the document as the multipart field `file`.', 'file', 'missing_file')
      const attributes = attributesField(body.attributes)
      // Every file is read before any is stored: a bad one stores none, and the error names it.
      const docs = await recorded(req).addDocuments(caller, params.id, files.map((f) => ({ filename: f.filename, contentType: f.contentType, data: f.data, attributes })))
      return reply(docs.map(documentView), { message: 'queued for ingestion' })
    },
  }
  const documents: RouteSpec<unknown, { limit: number; offset: number; status?: DocumentStatus }, { id: string }> = {
    method: 'GET', path: '/collections/:id/documents', summary: 'Documents with their ingestion status and progress.', permission: PERMISSION, params: ID, response: listOf(DOCUMENT_SCHEMA),
    query: object({ ...PAGE, status: { enum: ['queued', 'processing', 'completed', 'failed'] } }),
    async handle({ caller, params, query }) {
      const rows = await rag.listDocuments(caller, params.id, query)
      return reply(rows.map(documentView), { meta: { limit: query.limit, offset: query.offset, count: rows.length } })
    },
  }
  const document: RouteSpec<unknown, unknown, { id: string; document_id: string }> = {
    method: 'GET', path: '/collections/:id/documents/:document_id', summary: 'One document: status, progress, and why it failed.', permission: PERMISSION, params: DOC_ID, response: DOCUMENT_SCHEMA,
    handle: async ({ caller, params }) => documentView(await rag.getDocument(caller, params.id, params.document_id)),
  }
  const removeDocument: RouteSpec<unknown, unknown, { id: string; document_id: string }> = {
    method: 'DELETE', path: '/collections/:id/documents/:document_id', summary: 'Delete a document and its chunks.', permission: PERMISSION, params: DOC_ID, response: DELETED_SCHEMA,
    async handle(req) {
      const { caller, params } = req
      await recorded(req).deleteDocument(caller, params.id, params.document_id)
      return reply({ id: params.document_id, deleted: true }, { message: 'deleted' })
    },
  }
  const retry: RouteSpec<unknown, unknown, { id: string; document_id: string }> = {
    method: 'POST', path: '/collections/:id/documents/:document_id/retry', summary: 'Ingest a failed document again.', permission: PERMISSION, params: DOC_ID, body: EMPTY_BODY_SCHEMA, status: 202, response: DOCUMENT_SCHEMA,
    handle: async (req) => documentView(await recorded(req).retryDocument(req.caller, req.params.id, req.params.document_id)),
  }
  const search: RouteSpec<SearchBody, unknown, { id: string }> = {
    method: 'POST', path: '/collections/:id/search', summary: 'Top-k chunks with scores and sources (vector, or hybrid with full text).', permission: PERMISSION, params: ID, body: SEARCH, response: listOf(HIT_SCHEMA),
    async handle({ caller, params, body, gateway, signal }) {
      const hits = await rag.search(caller, gateway, [params.id], body.query, {
        topK: body.top_k, filters: body.filters === undefined ? undefined : parseFilter(body.filters), hybrid: body.hybrid, scoreThreshold: body.score_threshold, signal,
      })
      return reply(hits.map(hitView), { meta: { query: body.query, count: hits.length, hybrid: body.hybrid } })
    },
  }
  return [create, list, get, update, remove, upload, documents, document, removeDocument, retry, search]
}
