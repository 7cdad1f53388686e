/**
 * The Rag capability: collections, documents and search with the scope rules. A collection is
 * seen (listed, read, searched) by its owner, by the members of its `dept_scope`, by admins of
 * its department and by callers with all_data; it is changed (documents added or deleted, the
 * collection deleted) only by those whose data scope reaches it. One not seen is a 404.
 */
import { createHash } from 'node:crypto'
import { GatewayError, badRequest, notFound, type Caller, type GatewayCalls } from '../../../plugin-api/index.ts'
import { isUuid } from '../../store/kit/sql.ts'
import type { ChunkingSettings, CollectionRecord, DocumentRecord, NewCollection, NewDocument, Rag, SearchHit, SearchOptions } from '../../contracts/rag.ts'
import { checkAttributes } from './attributes.ts'
import { hasTextSearch, type CollectionRow, type DocumentWork, type RagRepository } from './data/repository.ts'
import type { Section } from './ingest/extract.ts'
import type { chunkSearch } from './data/search.ts'
import { SUPPORTED, extractInWorker, kindOf } from './ingest/extract.ts'
import type { IngestJobs } from './ingest/jobs.ts'
import { refuseExpired } from './expiry.ts'
import { CollectionNotFound } from './not-found.ts'
import type { RagConfig } from './schema.ts'

const PROBE_TEXT = 'dimension probe'
const TOUCH_EVERY_MS = 60_000

export interface RagDeps {
  readonly repo: RagRepository
  readonly search: ReturnType<typeof chunkSearch>
  readonly jobs: IngestJobs
  readonly config: RagConfig
}

const seesCollection = (caller: Caller, c: CollectionRow): boolean =>
  caller.scope === 'all_data' ||
  (c.ownerUserId !== null && c.ownerUserId === caller.principal.userId) ||
  (c.deptScope !== null && c.deptScope === caller.principal.department) ||
  caller.reaches({ userId: c.ownerUserId, department: c.department })

/**
 * A failure that is the file's own (over max_file_bytes, of a type not read, with no text,
 * corrupt, or past an extraction bound): kept on a failed document when asked, as OpenAI attaches
 * such a file `failed`. A busy reader (503) or a crashed one (500) refuses the call.
 */
const UNREADABLE = new Set(['file_too_large', 'unsupported_file', 'no_text', 'invalid_file', 'document_too_complex'])
const unreadable = (err: unknown): err is GatewayError => err instanceof GatewayError && err.status < 500 && UNREADABLE.has(err.code)

export function ragCollections(deps: RagDeps): Rag {
  const { repo, config } = deps
  /** When each collection's last_active_at was last written by this process. */
  const touched = new Map<string, number>()
  /** Mark the collections used (their expiry counts from now), to the minute: a write per use would queue behind the store's one connection. */
  const touch = (ids: readonly string[]): void => {
    const now = Date.now()
    const stale = ids.filter((id) => now - (touched.get(id) ?? 0) > TOUCH_EVERY_MS)
    for (const id of stale) touched.set(id, now)
    void Promise.all(stale.map((id) => repo.touchCollection(id))).catch(() => undefined)
  }

  async function visible(caller: Caller, id: string): Promise<CollectionRecord> {
    const found = isUuid(id) ? await repo.getCollection(id) : undefined
    if (!found || !seesCollection(caller, found)) throw new CollectionNotFound(id)
    return found
  }
  /**
   * As visible, without the documents' counts: what adding a document or searching needs. Counting
   * read every document of the collection, once per file of a batch (quadratic in its size).
   */
  async function seen(caller: Caller, id: string): Promise<CollectionRow> {
    const found = isUuid(id) ? await repo.getCollectionRow(id) : undefined
    if (!found || !seesCollection(caller, found)) throw new CollectionNotFound(id)
    return found
  }
  async function manageable(caller: Caller, id: string): Promise<CollectionRow> {
    const c = await seen(caller, id)
    caller.requireReach({ userId: c.ownerUserId, department: c.department }, 'collection')
    return c
  }
  async function documentOf(caller: Caller, collectionId: string, id: string, write: boolean): Promise<DocumentWork> {
    const c = write ? await manageable(caller, collectionId) : await seen(caller, collectionId)
    const doc = await repo.getDocument(c.id, id)
    if (!doc) throw notFound(`No document '${id}' in collection '${collectionId}'.`, 'document_not_found', 'document_id')
    return doc
  }

  function chunkingOf(asked: Partial<ChunkingSettings> | undefined, base: ChunkingSettings): ChunkingSettings {
    const maxTokens = asked?.maxTokens ?? base.maxTokens
    const overlapTokens = asked?.overlapTokens ?? Math.min(base.overlapTokens, Math.floor(maxTokens / 2))
    if (overlapTokens > maxTokens / 2) throw badRequest(`The chunk overlap (${overlapTokens} tokens) may be at most half the chunk size (${maxTokens}).`, 'chunking.overlap_tokens', 'invalid_chunking')
    return { maxTokens, overlapTokens }
  }

  /** Embed `texts` as the caller through the collection's route, checking the dimension. */
  async function embedAs(gateway: GatewayCalls, route: string, texts: string[], dimensions: number | undefined, signal?: AbortSignal): Promise<number[][]> {
    const call = await gateway.embed({ model: route, input: texts, encoding_format: 'float', ...(dimensions ? { dimensions } : {}) }, { signal })
    return [...call.result.data].sort((a, b) => a.index - b.index).map((d) => d.embedding as number[])
  }

  /** What reading `doc` gave: its sections, or why it could not be read (when `failUnreadable` keeps it failed). */
  async function read(doc: NewDocument): Promise<{ kind: DocumentRecord['kind'] | undefined; sections: Section[]; failed?: { code: string; message: string } }> {
    if (doc.data.length === 0) throw badRequest(`'${doc.filename}' is empty.`, 'file', 'empty_file')
    const kind = kindOf(doc.filename, doc.contentType, doc.data)
    const tooLarge = (): never => {
      throw new GatewayError(`'${doc.filename}' is too large: ${doc.data.length} bytes, over the limit of ${config.max_file_bytes} (services.rag.max_file_bytes).`, { status: 413, code: 'file_too_large', param: 'file' })
    }
    const unsupported = (): never => { throw badRequest(`'${doc.filename}' (${doc.contentType}) is not a supported file type: send ${SUPPORTED}.`, 'file', 'unsupported_file') }
    // A file over the limit is not read at all.
    const reading = doc.data.length > config.max_file_bytes ? Promise.resolve().then(tooLarge)
      : kind ? extractInWorker(kind, doc.data, doc.filename, config.extraction) : Promise.resolve().then(unsupported)
    return reading.then(
      (sections) => ({ kind, sections }),
      (err: unknown) => {
        if (doc.failUnreadable && unreadable(err)) return { kind, sections: [], failed: { code: err.code, message: err.message } }
        throw err
      },
    )
  }

  /**
   * Every document is read before any is stored: one refused (empty, too large, of a type not
   * read, without text...) stores none of them, and the error names it.
   */
  async function addDocuments(caller: Caller, collectionId: string, docs: readonly NewDocument[]): Promise<DocumentRecord[]> {
    for (const doc of docs) checkAttributes(doc.attributes)
    const c = await manageable(caller, collectionId)
    refuseExpired(c)
    const chunking = docs.map((doc) => chunkingOf(doc.chunking, c.chunking))
    const texts = []
    for (const doc of docs) texts.push(await read(doc))
    const { principal } = caller
    const records: DocumentWork[] = []
    for (const [i, doc] of docs.entries()) {
      const { kind, sections, failed } = texts[i]!
      const record = await repo.upsertDocument({
        collectionId: c.id,
        fileId: doc.fileId ?? null,
        filename: doc.filename,
        contentType: doc.contentType,
        kind: kind ?? 'other',
        bytes: doc.data.length,
        contentHash: createHash('sha256').update(doc.data).digest('hex'),
        sections,
        failed,
        attributes: { ...(doc.attributes ?? {}) },
        chunking: chunking[i]!,
        uploader: { userId: principal.userId, role: principal.role, department: principal.department, keyId: principal.keyId, allowedModels: principal.allowedModels },
      })
      if (record.status === 'queued') await deps.jobs.submit(record.id)
      records.push(record)
    }
    touch([c.id])
    return records
  }

  return {
    async createCollection(caller, gateway, input: NewCollection) {
      const route = input.embeddingRoute ?? config.embedding_route
      if (!route) throw badRequest('Name the route that embeds this collection\'s documents (or set services.rag.embedding_route).', 'embedding_route', 'embedding_route_required')
      const info = gateway.routes(route)
      if (!info) throw badRequest(`No route '${route}' that you may use.`, 'embedding_route', 'unknown_route')
      if (!info.targets.some((t) => t.embeddings)) throw badRequest(`The route '${route}' does not make embeddings (none of its providers embeds).`, 'embedding_route', 'route_cannot_embed')
      const textSearch = input.textSearch ?? config.text_search
      if (!await hasTextSearch(repo.sql, textSearch)) throw badRequest(`This database has no text search configuration '${textSearch}'.`, 'text_search', 'unknown_text_search')
      const deptScope = input.deptScope ?? null
      if (deptScope !== null) caller.requireReach({ userId: null, department: deptScope }, 'department collection')
      // One call now finds the dimension (or proves the route gives the one asked for) and that the route works.
      const [probe] = await embedAs(gateway, route, [PROBE_TEXT], input.dimensions)
      if (!probe?.length) throw new GatewayError(`The route '${route}' answered no embedding.`, { status: 502, code: 'embedding_failed', param: 'embedding_route' })
      if (input.dimensions !== undefined && probe.length !== input.dimensions) {
        throw badRequest(`The route '${route}' gives ${probe.length}-dimension vectors, not ${input.dimensions}.`, 'dimensions', 'dimension_mismatch')
      }
      return repo.createCollection({
        name: input.name,
        description: input.description ?? null,
        ownerUserId: caller.principal.userId,
        department: caller.principal.department ?? deptScope,
        deptScope,
        embeddingRoute: route,
        dimensions: probe.length,
        askDimensions: input.dimensions !== undefined,
        chunking: chunkingOf(input.chunking, { maxTokens: config.chunking.max_tokens, overlapTokens: config.chunking.overlap_tokens }),
        textSearch,
        metadata: { ...(input.metadata ?? {}) },
        expiresAfterDays: input.expiresAfterDays ?? null,
      })
    },

    listCollections(caller, page) {
      if (caller.scope === 'all_data') return repo.listCollections({ ...page })
      const { userId, department } = caller.principal
      return repo.listCollections({ ...page, visibleTo: { userId, department: department ?? null, departmentAdmin: caller.scope === 'department_data' } })
    },

    getCollection: visible,

    async updateCollection(caller, id, changes) {
      const c = await manageable(caller, id)
      // Its chunks may already be freed: an expired store stays expired.
      if (changes.expiresAfterDays !== undefined) refuseExpired(c, 'expires_after')
      await repo.updateCollection(c.id, { name: changes.name, metadata: changes.metadata ? { ...changes.metadata } : undefined, expiresAfterDays: changes.expiresAfterDays })
      return (await repo.getCollection(c.id))!
    },

    async deleteCollection(caller, id) {
      const c = await manageable(caller, id)
      await repo.deleteCollection(c.id)
    },

    async addDocument(caller, collectionId, doc: NewDocument) {
      const [record] = await addDocuments(caller, collectionId, [doc])
      return record!
    },

    addDocuments,

    async listDocuments(caller, collectionId, filter) {
      const c = await seen(caller, collectionId)
      return repo.listDocuments(c.id, { ...filter })
    },

    getDocument: (caller, collectionId, id) => documentOf(caller, collectionId, id, false),

    async deleteDocument(caller, collectionId, id) {
      const doc = await documentOf(caller, collectionId, id, true)
      await repo.deleteDocument(doc.id)
    },

    async updateDocument(caller, collectionId, id, changes) {
      checkAttributes(changes.attributes)
      const doc = await documentOf(caller, collectionId, id, true)
      return repo.updateAttributes(doc.id, { ...changes.attributes })
    },

    async documentText(caller, collectionId, id) {
      const { sections } = await documentOf(caller, collectionId, id, false)
      return sections.map(({ text, page, heading }) => ({ text, page, heading }))
    },

    async retryDocument(caller, collectionId, id) {
      const doc = await documentOf(caller, collectionId, id, true)
      refuseExpired((await seen(caller, collectionId)))
      if (doc.status === 'failed' && doc.sections.length === 0) throw new GatewayError(`'${doc.filename}' could not be read (${doc.error?.message ?? 'no text'}); attach it again once that is fixed.`, { status: 409, code: 'document_unreadable', param: 'document_id' })
      if (!await repo.requeue(doc.id)) throw new GatewayError(`The document is ${doc.status}; only a failed one can be retried.`, { status: 409, code: 'document_not_failed', param: 'document_id' })
      await deps.jobs.submit(doc.id)
      return (await repo.documentById(doc.id))!
    },

    async search(caller, gateway, collectionIds, query, options: SearchOptions = {}) {
      if (!query.trim()) throw badRequest('The query is empty.', 'query', 'empty_query')
      const collections = await Promise.all([...new Set(collectionIds)].map((id) => seen(caller, id)))
      for (const c of collections) refuseExpired(c)
      const topK = options.topK ?? config.top_k
      // The query is embedded once per (route, dimension) the collections use.
      const vectors = new Map<string, Promise<number[]>>()
      const vectorFor = async (c: CollectionRow): Promise<number[]> => {
        const asks = await repo.asksDimensions(c.id)
        const key = `${c.embeddingRoute}\u0000${asks ? c.dimensions : ''}`
        let v = vectors.get(key)
        if (!v) vectors.set(key, (v = embedAs(gateway, c.embeddingRoute, [query], asks ? c.dimensions : undefined, options.signal).then((r) => r[0])))
        const vector = await v
        if (vector?.length !== c.dimensions) throw new GatewayError(`The route '${c.embeddingRoute}' now gives ${vector?.length ?? 0}-dimension vectors; collection '${c.id}' holds ${c.dimensions}.`, { status: 409, code: 'dimension_mismatch' })
        return vector
      }
      const perCollection = await Promise.all(collections.map(async (c) =>
        deps.search.search({ collection: c, vector: await vectorFor(c), text: query, topK, filters: options.filters, hybrid: options.hybrid === true || options.hybridWeights !== undefined, weights: options.hybridWeights })))
      touch(collections.map((c) => c.id))
      const threshold = options.scoreThreshold ?? -Infinity
      return perCollection.flat().filter((h) => h.score >= threshold).sort((a, b) => b.score - a.score).slice(0, topK) satisfies SearchHit[]
    },
  }
}
