/**
 * service.rag, mounted at /api/v1/rag: collections of documents, embedded through a route of
 * this gateway into pgvector, searched by cosine distance (HNSW) or hybrid with full text. It
 * provides the `Rag` capability, which the OpenAI-shaped surface (/v1/vector_stores, in
 * vector-stores.ts) and other plugins use. Needs a store with pgvector: it refuses to load
 * without one (no silent slow path).
 *
 *   services: { rag: { embedding_route: embedder } }
 */
import { fileURLToPath } from 'node:url'
import { Store, Tokenizer, definePlugin, estimateTextTokens, type Principal, type Service } from '../../../plugin-api/index.ts'
import { AuditLog, Identity } from '../../contracts/capabilities.ts'
import { currentPrincipal as principalNow } from '../../contracts/principals.ts'
import { Queue } from '../../contracts/queue.ts'
import { Conversations } from '../../contracts/conversations.ts'
import { Files } from '../../contracts/files.ts'
import { Rag } from '../../contracts/rag.ts'
import { unansweredRoutes } from '../../contracts/route-names.ts'
import { auditTo } from '../../contracts/audit.ts'
import { recordedRag } from './audit.ts'
import { ragCollections } from './collections.ts'
import { fileSearchTool } from './file-search.ts'
import { assistantGrounding } from './retriever.ts'
import { documentReader } from './document-reader.ts'
import { ragRepository } from './data/repository.ts'
import { FileBatches, fileBatchRepository } from './data/file-batches.ts'
import { chunkSearch, hasIterativeScan } from './data/search.ts'
import { startExpirySweep } from './expiry.ts'
import { ingestDocument } from './ingest/ingest.ts'
import { startIngestJobs } from './ingest/jobs.ts'
import { ragRoutes } from './routes.ts'
import { configSchema, type RagConfig } from './schema.ts'
import vectorStores from './vector-stores.ts'

const MIGRATIONS = fileURLToPath(new URL('./migrations/', import.meta.url))
const SWEEP_MS = 10_000

const NO_PGVECTOR = (backend: string): string =>
  `service.rag needs the PostgreSQL extension 'vector' (pgvector), which this ${backend} database does not offer: ` +
  'install it on the server (e.g. the pgvector/pgvector Docker image, or `apt install postgresql-16-pgvector`; its migration is applied at the next start), ' +
  'or use store: { plugin: embedded }, which has it'

const rag = definePlugin<RagConfig, Service>({
  id: 'service.rag',
  kind: 'service',
  description: 'RAG collections: documents embedded through a gateway route into pgvector, searched by vector or hybrid ranking.',
  configSchema,
  needs: [Store],
  uses: [Queue, Conversations, Tokenizer, Files, Identity, AuditLog],
  provides: [Rag, FileBatches],
  checkConfig: (config, at) => unansweredRoutes(config, at, ['embedding_route']),
  async setup(ctx, config) {
    const store = ctx.tryGet(Store)
    if (!store) throw new Error('service.rag keeps its collections in the store: add `store:` (e.g. store: { plugin: embedded })')
    if (!await store.hasExtension('vector')) throw new Error(NO_PGVECTOR(store.backend))
    const { pending } = await store.migrate({ owner: 'rag', dir: MIGRATIONS })
    if (pending.length) throw new Error(`${NO_PGVECTOR(store.backend)} (${pending[0].reason})`)

    const repo = ragRepository(store)
    const search = chunkSearch(store, { iterativeScan: await hasIterativeScan(store) })
    const tokenizer = ctx.tryGet(Tokenizer)
    // A busy token worker refuses; that text is measured at 4 bytes a token rather than failing the ingest.
    const countTokens = tokenizer ? (text: string) => tokenizer.count(text).catch(() => estimateTextTokens(text)) : undefined
    const identity = ctx.tryGet(Identity)
    const currentPrincipal = async (p: Principal) => (identity ? principalNow(identity, p) : p)
    const ingested = ctx.metrics.counter('gateway_rag_chunks_ingested_total', 'Chunks embedded and stored by RAG ingestion.')
    const reused = ctx.metrics.counter('gateway_rag_chunks_reused_total', 'Chunks RAG ingestion copied from an earlier upload of the same text by the same user instead of embedding them again.')
    const jobs = await startIngestJobs({
      queue: ctx.tryGet(Queue),
      runsJobs: ctx.runsJobs,
      concurrency: config.ingest_concurrency,
      sweepMs: SWEEP_MS,
      logger: ctx.logger,
      run: (id, signal) => ingestDocument({ repo, config, logger: ctx.logger, callsAs: ctx.callsAs, currentPrincipal, onChunks: (n) => ingested.inc({}, n), onReused: (n) => reused.inc({}, n), countTokens }, id, signal),
      pending: (limit) => repo.pendingIds(limit),
    })
    const collections = ragCollections({ repo, search, jobs, config })
    ctx.provide(Rag, collections)
    ctx.provide(FileBatches, fileBatchRepository(store.sql))
    // /v1/responses' `file_search` tool, when the conversations service is configured.
    // and the grounding of assistants with attached collections.
    const conversations = ctx.tryGet(Conversations)
    // A deleted /v1/files file leaves every vector store it was attached to (as OpenAI's files.delete does).
    const detachDeleted = ctx.tryGet(Files)?.onDelete(async (file) => { await repo.deleteDocumentsOfFile(file.id) })
    // One sweeper per process that runs jobs (a worker of --workers does not).
    const stopSweep = ctx.runsJobs ? startExpirySweep(repo, config.expiry_sweep_ms, ctx.logger) : undefined
    const unregister = [conversations?.registerTool(fileSearchTool(collections)), conversations?.registerGrounding(assistantGrounding(collections, config.top_k)), conversations?.registerDocumentReader(documentReader(config.extraction)), detachDeleted, stopSweep]
    return {
      routes: ragRoutes(collections, recordedRag(collections, auditTo(ctx.tryGet(AuditLog), ctx.logger))),
      check(routes) {
        if (config.embedding_route === undefined) return
        const route = routes.resolve(config.embedding_route)
        if (!route) throw Object.assign(new Error(`no route answers '${config.embedding_route}'`), { path: ['embedding_route'] })
        if (!route.targets.some((t) => t.embeddings)) throw Object.assign(new Error(`the route '${config.embedding_route}' has no target that makes embeddings`), { path: ['embedding_route'] })
      },
      ready: () => store.ready?.(),
      async dispose() {
        for (const undo of unregister) undo?.()
        await jobs.dispose()
      },
    }
  },
})

export default [rag, vectorStores]
