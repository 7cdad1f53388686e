/**
 * Anthropic's Message Batches API (`/v1/messages/batches`) over the same batches as /v1/batches:
 * the requests come inline (`requests: [{ custom_id, params }]`), each `params` checked as
 * `POST /v1/messages` checks its body, kept as the batch's lines and run by the same worker, as the
 * creator, through the pipeline; the results are read back from the files the worker writes.
 */
import { Readable } from 'node:stream'
import { badRequest, notFound, raw, toGatewayError, type Caller, type RouteRequest, type RouteSpec } from '../../../plugin-api/index.ts'
import type { JsonObject } from '../../contracts/capabilities.ts'
import type { Files } from '../../contracts/files.ts'
import { ownerFilter } from '../../contracts/files.ts'
import type { MessagesCodec } from '../../contracts/message-batches.ts'
import type { Queue } from '../../contracts/queue.ts'
import { publicBase } from '../../contracts/public-url.ts'
import { routingHeaders } from '../../contracts/routing-headers.ts'
import { unknownCursor } from '../kit/cursor.ts'
import { isId, newId } from '../kit/ids.ts'
import { commonModel, MESSAGES_MAX_LINES, type BatchLine } from './input.ts'
import { jsonlChunks, jsonlLines } from './jsonl.ts'
import { messageBatchView, messageResult } from './message-views.ts'
import type { MessageBatch } from '@anthropic-ai/sdk/resources/messages/batches'
import { MESSAGES_ENDPOINT, OPEN, type BatchRecord, type BatchRepository } from './repository.ts'
import { queueStep } from './worker.ts'
import { cancelBatch, ID_PARAMS, PERMISSION, WINDOW_MS } from './route-parts.ts'

const PREFIX = 'msgbatch'

interface CreateBody { readonly requests: readonly { readonly custom_id: string; readonly params: JsonObject }[] }

const CREATE_BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['requests'],
  properties: {
    requests: {
      type: 'array', minItems: 1, maxItems: MESSAGES_MAX_LINES,
      items: {
        type: 'object', additionalProperties: false, required: ['custom_id', 'params'],
        properties: { custom_id: { type: 'string', pattern: '^[a-zA-Z0-9_-]{1,64}$' }, params: { type: 'object' } },
      },
    },
  },
}
const LIST_QUERY = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 20 },
    before_id: { type: 'string', minLength: 1, maxLength: 128 },
    after_id: { type: 'string', minLength: 1, maxLength: 128 },
  },
}

export interface MessageBatchParts {
  readonly batches: BatchRepository
  readonly files: Files
  readonly queue: Queue
  /** surface.anthropic's reading of a /v1/messages body; absent without it. */
  readonly messages?: MessagesCodec
}

/** The gateway's public URL (service.auth's `public_url`), when configured: `results_url` is built on it. */
type PublicUrl = string | URL | undefined

/** The lines of a create request, each `params` refused (400 naming `requests.N...`) as /v1/messages would refuse it. */
function checkedLines(body: CreateBody, codec: MessagesCodec, version: string | undefined): BatchLine[] {
  const seen = new Set<string>()
  return body.requests.map(({ custom_id: customId, params }, i) => {
    if (seen.has(customId)) throw badRequest(`Duplicate custom_id '${customId}': each request of a batch needs its own.`, `requests.${i}.custom_id`, 'duplicate_custom_id')
    seen.add(customId)
    if (params.stream === true) throw badRequest('A batch\'s requests cannot stream.', `requests.${i}.params.stream`, 'invalid_value')
    try {
      codec.check(params, version)
    } catch (err) {
      const e = toGatewayError(err)
      if (e.status !== 400) throw err
      // The field as it stands in this body; its message without the prefix the inner field gave it.
      const param = `requests.${i}.params${e.param ? `.${e.param}` : ''}`
      throw badRequest(e.param && e.message.startsWith(`${e.param}: `) ? e.message.slice(e.param.length + 2) : e.message, param, e.code)
    }
    return { line: i + 1, customId, body: params }
  })
}

/** An ended batch's results in Anthropic's shape, one line at a time: its output file's, then its error file's. */
async function* results(files: Files, batch: BatchRecord): AsyncGenerator<string> {
  for (const [file, ok] of [[batch.outputFileId, true], [batch.errorFileId, false]] as const) {
    if (!file) continue
    for await (const line of jsonlLines(files.contentPages(file))) yield JSON.stringify(messageResult(JSON.parse(line) as JsonObject, ok))
  }
}

export function messageBatchRoutes(parts: MessageBatchParts, publicUrl: PublicUrl): RouteSpec[] {
  const { batches, files, queue } = parts
  const view = (batch: BatchRecord, headers: RouteRequest['headers']): MessageBatch => messageBatchView(batch, publicBase(publicUrl, headers))
  // Another's batch, or an OpenAI batch's id, is not found: as every other record of the gateway.
  const reachable = async (caller: Caller, id: string): Promise<BatchRecord> => {
    const batch = isId(id, PREFIX) ? await batches.get(id) : undefined
    if (!batch || batch.endpoint !== MESSAGES_ENDPOINT || !caller.reaches(batch)) throw notFound(`No message batch with id '${id}'.`, 'batch_not_found', 'message_batch_id')
    return batch
  }
  const cursor = async (caller: Caller, id: string | undefined, param: string): Promise<void> => {
    if (id !== undefined && !(await reachable(caller, id).then(() => true, () => false))) throw unknownCursor('message batch', id, param)
  }
  return [
    {
      method: 'POST', path: '/v1/messages/batches', summary: 'Create a message batch: up to 100,000 /v1/messages requests, run in the background.', permission: PERMISSION, body: CREATE_BODY,
      async handle({ caller, body, headers }: { caller: Caller; body: CreateBody; headers: RouteRequest['headers'] }) {
        if (!parts.messages) throw notFound('Message batches need surface.anthropic, which serves /v1/messages.', 'unknown_url')
        const version = headers['anthropic-version']
        const lines = checkedLines(body, parts.messages, Array.isArray(version) ? version[0] : version)
        const batch = await batches.createWithLines({
          id: newId(PREFIX), userId: caller.principal.userId, department: caller.principal.department ?? null, principal: caller.principal,
          endpoint: MESSAGES_ENDPOINT, completionWindow: '24h', metadata: {}, headers: routingHeaders(headers), outputExpiresAfter: null,
        }, WINDOW_MS, lines, commonModel(lines))
        await queueStep(queue, batch.id)
        return view(batch, headers)
      },
    },
    {
      method: 'GET', path: '/v1/messages/batches', summary: 'The message batches the caller may see, newest first.', permission: PERMISSION, query: LIST_QUERY,
      async handle({ caller, query, headers }: { caller: Caller; query: { limit: number; before_id?: string; after_id?: string }; headers: RouteRequest['headers'] }) {
        await cursor(caller, query.after_id, 'after_id')
        await cursor(caller, query.before_id, 'before_id')
        const found = await batches.list({ ...ownerFilter(caller), messages: true, after: query.after_id, before: query.before_id, limit: query.limit + 1 })
        // Before a cursor, the extra one read is the farthest from it: the newest, first.
        const page = found.length > query.limit ? (query.before_id && !query.after_id ? found.slice(1) : found.slice(0, query.limit)) : found
        const data = page.map((b) => view(b, headers))
        return { data, has_more: found.length > query.limit, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null }
      },
    },
    {
      method: 'GET', path: '/v1/messages/batches/:id', summary: 'A message batch: its processing status and request counts.', permission: PERMISSION, params: ID_PARAMS,
      async handle({ caller, params, headers }: { caller: Caller; params: { id: string }; headers: RouteRequest['headers'] }) {
        return view(await reachable(caller, params.id), headers)
      },
    },
    {
      method: 'POST', path: '/v1/messages/batches/:id/cancel', summary: 'Cancel a message batch: `canceling` until what its requests answered so far is kept, then ended.', permission: PERMISSION, params: ID_PARAMS,
      async handle({ caller, params, headers }: { caller: Caller; params: { id: string }; headers: RouteRequest['headers'] }) {
        // An ended batch stays as it is.
        return view(await cancelBatch(batches, queue, await reachable(caller, params.id)), headers)
      },
    },
    {
      method: 'DELETE', path: '/v1/messages/batches/:id', summary: 'Delete an ended message batch and its results.', permission: PERMISSION, params: ID_PARAMS,
      async handle({ caller, params }: { caller: Caller; params: { id: string } }) {
        const batch = await reachable(caller, params.id)
        if (OPEN.includes(batch.status)) throw badRequest(`Message batch ${batch.id} is still processing: cancel it, and delete it once it has ended.`, 'message_batch_id', 'batch_not_ended')
        for (const file of [batch.outputFileId, batch.errorFileId]) if (file) await files.delete(file)
        await batches.delete(batch.id)
        return { id: batch.id, type: 'message_batch_deleted' }
      },
    },
    {
      method: 'GET', path: '/v1/messages/batches/:id/results', summary: 'An ended message batch\'s results, one JSON line per request.', permission: PERMISSION, params: ID_PARAMS, produces: 'application/x-jsonl',
      async handle({ caller, params }: { caller: Caller; params: { id: string } }) {
        const batch = await reachable(caller, params.id)
        if (OPEN.includes(batch.status)) throw badRequest(`Message batch ${batch.id} has not ended yet: its results are read once processing_status is ended.`, 'message_batch_id', 'batch_not_ended')
        // Streamed from the files a page at a time: a 100,000-request batch's results are hundreds of MB.
        return raw(Readable.from(jsonlChunks(results(files, batch))), 'application/x-jsonl')
      },
    },
  ] as RouteSpec[]
}
