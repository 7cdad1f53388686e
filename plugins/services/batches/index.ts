/**
 * Batches: OpenAI's Batch API (/v1/batches) over the gateway's own pipeline, for every provider.
 * A batch is a `batch` file of requests to /v1/chat/completions or /v1/embeddings; queue workers
 * run its lines as the user who created it (each line routed, limited and accounted like any
 * request) and write the answers to an output and an error file (purpose `batch_output`).
 *
 *   service.batches   the tables, the worker (queue topic `batches.steps`) and the sweep
 *   surface.batches   POST/GET /v1/batches, GET /v1/batches/{id}, POST /v1/batches/{id}/cancel
 *   surface.message-batches   Anthropic's Message Batches, /v1/messages/batches... (message-batches.ts)
 */
import { fileURLToPath } from 'node:url'
import { badRequest, definePlugin, notFound, Store, token, within, type Caller, type HttpMethod, type RouteRequest, type RouteSpec, type Service, type Surface, type Token } from '../../../plugin-api/index.ts'
import { Identity } from '../../contracts/capabilities.ts'
import { Files, ownerFilter, type StoredFile } from '../../contracts/files.ts'
import { currentPrincipal } from '../../contracts/principals.ts'
import { Queue } from '../../contracts/queue.ts'
import { MessagesCodec } from '../../contracts/message-batches.ts'
import { StoredCompletions } from '../../contracts/stored-completions.ts'
import { Sessions } from '../../contracts/sessions.ts'
import { anthropicErrorBody } from '../../contracts/anthropic.ts'
import { messageBatchRoutes, type MessageBatchParts } from './message-batches.ts'
import { cancelBatch, ID_PARAMS, PERMISSION, WINDOW_MS } from './route-parts.ts'
import { newId, isId } from '../kit/ids.ts'
import { unknownCursor } from '../kit/cursor.ts'
import { METADATA_SCHEMA } from '../../contracts/metadata.ts'
import { ENDPOINTS, type BatchEndpoint } from './input.ts'
import { routingHeaders } from '../../contracts/routing-headers.ts'
import { batchRepository, type BatchRecord } from './repository.ts'
import { batchView } from './views.ts'
import { batchWorker, queueStep, TOPIC, type StepMessage } from './worker.ts'

const MIGRATIONS = fileURLToPath(new URL('./migrations/', import.meta.url))

interface BatchesConfig {
  concurrency: number
  step_ms: number
  lease_ms: number
  sweep_ms: number
  rate_limit_pause_ms: number
  prefetch: number
}

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    concurrency: { type: 'integer', minimum: 1, maximum: 64, default: 4, description: 'Lines of one batch sent at once (each a request through the pipeline, under the creator\'s limits).' },
    step_ms: { type: 'integer', minimum: 100, maximum: 600000, default: 20000, description: 'How long a step takes new lines before it queues the next step (other batches get their turn).' },
    lease_ms: { type: 'integer', minimum: 1000, default: 60000, description: 'A step holds its batch this long, renewed while it runs; a step lost with its process is taken over after it.' },
    sweep_ms: { type: 'integer', minimum: 100, default: 30000, description: 'How often open batches whose step was lost (the memory queue at a restart) are queued again.' },
    rate_limit_pause_ms: { type: 'integer', minimum: 10, default: 5000, description: 'How long a batch waits after a 429 that gives no retry-after (it waits, not fails: the lines run when the limit lifts).' },
    prefetch: { type: 'integer', minimum: 1, maximum: 64, default: 2, description: 'Batch steps this process runs at once.' },
  },
}

/** What the batches surfaces use of the service. */
type BatchParts = MessageBatchParts
const BatchParts: Token<BatchParts> = token<BatchParts>('BatchParts')

const service = definePlugin<BatchesConfig, Service>({
  id: 'service.batches',
  kind: 'service',
  description: 'OpenAI\'s Batch API run through the gateway\'s own pipeline by queue workers: every provider, every line routed, limited and accounted.',
  configSchema,
  needs: [Store, Queue, Files],
  // MessagesCodec: how a message batch's lines (/v1/messages bodies) are read and answered, surface.anthropic's.
  // StoredCompletions: where a chat line with `store: true` is kept, as a direct request's is.
  uses: [Identity, MessagesCodec, StoredCompletions],
  provides: [BatchParts],
  async setup(ctx, config) {
    const store = ctx.tryGet(Store)
    const queue = ctx.tryGet(Queue)
    const files = ctx.tryGet(Files)
    if (!store || !queue || !files) throw new Error('batches need `store:`, `queue:` and the files service (`services: { files: {} }`)')
    await store.migrate({ owner: 'batches', dir: MIGRATIONS })
    const batches = batchRepository(store.sql)
    const messages = ctx.tryGet(MessagesCodec)
    ctx.provide(BatchParts, { batches, files, queue, messages })
    let stop: (() => Promise<void>) | undefined
    let sweeper: NodeJS.Timeout | undefined
    if (ctx.runsJobs) {
      // Kept across reloads, so released first when the gateway stops (while the store is open).
      const stopping = ctx.keep('stopping', () => new Stopping())
      const identity = ctx.tryGet(Identity)
      const worker = batchWorker({
        stopping: stopping.signal, batches, files, queue, callsAs: (p) => ctx.callsAs(p), settings: config, logger: ctx.logger,
        currentPrincipal: async (p) => (identity ? currentPrincipal(identity, p) : p), messages, stored: ctx.tryGet(StoredCompletions),
      })
      // A step routes its lines (calls.routes reads the serving config): a message taken during the start waits for it.
      stop = await queue.consume<StepMessage>(TOPIC, (msg) => stopping.track(ctx.serving.then(() => worker.step(msg.body.batchId))), { prefetch: config.prefetch })
      // A step lost with a process (the memory queue keeps nothing across a restart) is queued again.
      const sweep = (idleMs: number) => batches.lost(idleMs)
        .then((ids) => Promise.all(ids.map((id) => queueStep(queue, id))))
        .catch((err: Error) => ctx.logger.warn({ err: err.message }, 'batch sweep failed'))
      void sweep(0)
      sweeper = setInterval(() => void sweep(config.lease_ms + config.step_ms), config.sweep_ms)
      sweeper.unref()
    }
    return {
      async dispose() {
        clearInterval(sweeper)
        await stop?.()
      },
    }
  },
})

/** The gateway's stop, as the worker sees it: its steps are told, and waited for (bounded). */
class Stopping {
  readonly #controller = new AbortController()
  readonly #steps = new Set<Promise<void>>()
  readonly signal = this.#controller.signal

  track(step: Promise<void>): Promise<void> {
    this.#steps.add(step)
    void step.catch(() => undefined).finally(() => this.#steps.delete(step))
    return step
  }

  async dispose(timeoutMs: number): Promise<void> {
    this.#controller.abort()
    await within(Promise.all(this.#steps), timeoutMs)
  }
}

interface CreateBody {
  input_file_id: string
  endpoint: string
  completion_window: '24h'
  metadata?: Record<string, string> | null
  output_expires_after?: { anchor: 'created_at'; seconds: number } | null
}

const CREATE_BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['input_file_id', 'endpoint', 'completion_window'],
  properties: {
    input_file_id: { type: 'string', minLength: 1, maxLength: 128 },
    endpoint: { type: 'string', minLength: 1 },
    completion_window: { enum: ['24h'] },
    metadata: METADATA_SCHEMA,
    output_expires_after: {
      type: ['object', 'null'], required: ['anchor', 'seconds'], additionalProperties: false,
      properties: { anchor: { enum: ['created_at'] }, seconds: { type: 'integer', minimum: 3600, maximum: 2592000 } },
    },
  },
}
const LIST_QUERY = { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 }, after: { type: 'string', minLength: 1, maxLength: 128 } } }

function batchRoutes(parts: BatchParts): RouteSpec[] {
  const { batches, files, queue } = parts
  const reachable = async (caller: Caller, id: string): Promise<BatchRecord> => {
    const batch = isId(id, 'batch') ? await batches.get(id) : undefined
    if (!batch || !caller.reaches(batch)) throw notFound(`No batch with id '${id}'.`, 'batch_not_found', 'id')
    return batch
  }
  const inputFile = async (caller: Caller, id: string): Promise<StoredFile> => {
    const file = await files.get(id)
    if (!file || !caller.reaches(file)) throw notFound(`No file with id '${id}'.`, 'file_not_found', 'input_file_id')
    if (file.purpose !== 'batch') throw badRequest(`The file ${id} was uploaded with purpose '${file.purpose}'; a batch's input needs purpose 'batch'.`, 'input_file_id', 'invalid_file_purpose')
    return file
  }
  return [
    {
      method: 'POST', path: '/v1/batches', summary: 'Create a batch from a `batch` file of requests; it is checked, then run in the background.', permission: PERMISSION, body: CREATE_BODY,
      async handle({ caller, body, headers }: { caller: Caller; body: CreateBody; headers: RouteRequest['headers'] }) {
        if (!(ENDPOINTS as readonly string[]).includes(body.endpoint)) {
          throw badRequest(`This gateway runs batches of ${ENDPOINTS.join(' and ')}, not ${body.endpoint}.`, 'endpoint', 'unsupported_value')
        }
        const file = await inputFile(caller, body.input_file_id)
        const batch = await batches.create({
          id: newId('batch'), userId: caller.principal.userId, department: caller.principal.department ?? null, principal: caller.principal,
          endpoint: body.endpoint as BatchEndpoint, inputFileId: file.id, completionWindow: body.completion_window, expiresAt: new Date(Date.now() + WINDOW_MS),
          metadata: body.metadata ?? {}, headers: routingHeaders(headers), outputExpiresAfter: body.output_expires_after ?? null,
        })
        await queueStep(queue, batch.id)
        return batchView(batch)
      },
    },
    {
      method: 'GET', path: '/v1/batches', summary: 'The batches the caller may see, newest first.', permission: PERMISSION, query: LIST_QUERY,
      async handle({ caller, query }: { caller: Caller; query: { limit: number; after?: string } }) {
        if (query.after !== undefined) {
          const cursor = isId(query.after, 'batch') ? await batches.get(query.after) : undefined
          if (!cursor || !caller.reaches(cursor)) throw unknownCursor('batch', query.after)
        }
        const found = await batches.list({ ...ownerFilter(caller), messages: false, after: query.after, limit: query.limit + 1 })
        const data = found.slice(0, query.limit).map(batchView)
        // OpenAI's ListBatchesResponse types the ids as strings: an empty page has empty ones (the SDK pages by the last item, not these).
        return { object: 'list', data, first_id: data[0]?.id ?? '', last_id: data.at(-1)?.id ?? '', has_more: found.length > query.limit }
      },
    },
    {
      method: 'GET', path: '/v1/batches/:id', summary: 'A batch: its status, counts and files.', permission: PERMISSION, params: ID_PARAMS,
      async handle({ caller, params }: { caller: Caller; params: { id: string } }) {
        return batchView(await reachable(caller, params.id))
      },
    },
    {
      method: 'POST', path: '/v1/batches/:id/cancel', summary: 'Cancel a batch: it is `cancelling` until what its lines answered so far is written, then `cancelled`.', permission: PERMISSION, params: ID_PARAMS,
      async handle({ caller, params }: { caller: Caller; params: { id: string } }) {
        const after = await cancelBatch(batches, queue, await reachable(caller, params.id))
        if (after.status !== 'cancelling' && after.status !== 'cancelled') {
          throw badRequest(`The batch has already ended (${after.status}): only a validating or in-progress batch can be cancelled.`, 'id', 'batch_not_cancellable')
        }
        return batchView(after)
      },
    },
  ] as RouteSpec[]
}

const surface = definePlugin<Record<string, never>, Surface>({
  id: 'surface.batches',
  kind: 'surface',
  enabledByDefault: true,
  description: 'OpenAI\'s /v1/batches, when service.batches is configured.',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  uses: [BatchParts],
  setup(ctx) {
    const parts = ctx.tryGet(BatchParts)
    return { endpoints: parts ? batchRoutes(parts) : [] }
  },
})

/** Without service.batches, /v1/messages/batches... is a 404 in Anthropic's shape that says what to configure. */
const notConfigured = (method: HttpMethod): RouteSpec<unknown, unknown, { rest: string }> => ({
  method,
  path: '/v1/messages/:rest(batches(?:/.*)?)',
  summary: 'Message batches, without service.batches: 404 not_found_error.',
  permission: null,
  public: true,
  handle: () => {
    throw notFound('Message batches are not enabled on this gateway: its config needs `services: { files: {}, batches: {} }` (with `store:` and `queue:`).', 'unknown_url')
  },
})

const messagesSurface = definePlugin<Record<string, never>, Surface>({
  id: 'surface.message-batches',
  kind: 'surface',
  enabledByDefault: true,
  description: 'Anthropic\'s Message Batches (/v1/messages/batches), when service.batches is configured.',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  // Sessions: service.auth's public_url, which results_url is built on when configured.
  uses: [BatchParts, Sessions],
  setup(ctx) {
    const parts = ctx.tryGet(BatchParts)
    const sessions = ctx.tryGet(Sessions)
    return {
      endpoints: parts ? messageBatchRoutes(parts, sessions?.publicUrl) : (['GET', 'POST', 'DELETE'] as const).map(notConfigured),
      // Anthropic's wire: its error body, and the request id where its SDK reads it.
      errorBody: anthropicErrorBody,
      requestIdHeader: 'request-id',
    }
  },
})

export default [service, surface, messagesSurface]
