/** The surface ends of the pipeline: `decode` into the unified request, and the writers of `encode` (a JSON body, or one loop pumping a stream). */
import type { ServerResponse } from 'node:http'
import { once } from 'node:events'
import type Koa from 'koa'
import { countedUsageChunk, type ChatChunk, type ChatRequest, type ChatStream } from '../../plugin-api/unified.ts'
import { toGatewayError, type GatewayError } from '../../plugin-api/errors.ts'
import type { ModelEndpoint, RouteRequest, SseFrame, StreamEncoder } from '../../plugin-api/types.ts'
import type { Exchange } from './exchange.ts'

const THREAD_HEADER = 'x-thread-id'
const JSON_TYPE = 'application/json; charset=utf-8'
/** Server-sent events go straight to the socket (no buffering). No `connection` header: Node sets it (keep-alive, or close while the server drains). */
const SSE_HEADERS: Readonly<Record<string, string>> = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' }

export async function decode(ctx: Koa.Context, x: Exchange, endpoint: ModelEndpoint, req: RouteRequest): Promise<void> {
  const decoded = await endpoint.decode(req.body, req)
  x.setRequest(decoded.request)
  x.translation = { warnings: decoded.warnings ?? [], error: decoded.untranslatable }
  if (endpoint.wire) x.wire = { name: endpoint.wire, body: req.body as Record<string, unknown>, headers: decoded.wireHeaders }
  x.routed = endpoint.routed?.bind(endpoint)
  if (x.operation === 'chat') {
    const chat = decoded.request as ChatRequest
    x.streaming = chat.stream === true
    x.clientWantsUsage = chat.stream_options?.include_usage === true
  }
  x.thread = decoded.thread ?? threadOf(ctx.get(THREAD_HEADER), (decoded.request as ChatRequest).metadata)
}

function threadOf(header: string, metadata: Readonly<Record<string, unknown>> | null | undefined): string | undefined {
  if (header) return header
  const fromBody = metadata?.thread_id
  return typeof fromBody === 'string' && fromBody.length > 0 ? fromBody : undefined
}

/** A whole JSON answer, serialised once here. */
export function writeJson(ctx: Koa.Context, x: Exchange, body: unknown): void {
  const text = JSON.stringify(body)
  writeWhole(ctx, x, text, Buffer.byteLength(text))
}

/** A whole JSON answer already serialised (an upstream's bytes, passed through): written as it is. */
export function writeJsonBytes(ctx: Koa.Context, x: Exchange, bytes: Uint8Array): void {
  writeWhole(ctx, x, bytes, bytes.byteLength)
}

/** Straight to the socket, as a stream is: koa's body setter and respond() have nothing to add to a JSON answer (2% of a request's CPU). */
function writeWhole(ctx: Koa.Context, x: Exchange, body: string | Uint8Array, length: number): void {
  ctx.respond = false
  const res = ctx.res
  res.statusCode = 200
  res.setHeader('Content-Type', JSON_TYPE)
  res.setHeader('Content-Length', length)
  res.end(body)
  x.status = 200
}

/** What a stream is made of: an exchange's unified chunks with the surface's encoder, or frames already in the wire format. */
export type StreamSource =
  | { readonly stream: ChatStream; readonly encoder: StreamEncoder; readonly x: Exchange }
  | { readonly frames: AsyncIterable<SseFrame>; readonly errorFrame?: (error: GatewayError) => SseFrame; readonly encoder?: undefined }

/** How a stream ended, for accounting. */
export interface StreamOutcome {
  error: GatewayError | undefined
  status: number
}

/** Pump a stream to the client as server-sent events; after the first byte a failure can only be an error frame. */
export async function writeStream(ctx: Koa.Context, source: StreamSource, outcome: StreamOutcome): Promise<void> {
  ctx.respond = false
  const res = ctx.res
  res.writeHead(200, { ...(ctx.response.headers as Record<string, string>), ...SSE_HEADERS })
  const write = async (frames: readonly SseFrame[]): Promise<void> => {
    for (const frame of frames) if (!res.destroyed) await writeEvent(res, frame.data, frame.event)
  }
  let complete = false
  try {
    if (source.encoder) {
      // The one loop over a streamed answer: the kernel notes each chunk, the stages' observers run, then the client gets it.
      const { encoder } = source
      const observed = new ObservedStream(source.x, source.stream)
      for await (const chunk of observed) await write(encoder.chunk(chunk))
      complete = observed.complete
      await write(await encoder.end(complete))
    } else {
      for await (const frame of source.frames) {
        if (res.destroyed) break
        await writeEvent(res, frame.data, frame.event)
      }
      complete = !res.destroyed
    }
  } catch (err) {
    const error = toGatewayError(err)
    outcome.error = error
    if (!res.destroyed) {
      const frame = source.encoder ? source.encoder.error(error) : source.errorFrame?.(error)
      if (frame) await writeEvent(res, frame.data, frame.event)
    }
  } finally {
    res.end()
  }
  if (!complete && !outcome.error && res.destroyed) outcome.status = 499
}

/** A streamed answer as its reader sees it: chunks noted and observed, the unasked-for usage chunk held back (the asked-for one counted if the upstream sent none), end hooks run once; a plain iterator, nothing queued. */
export class ObservedStream implements AsyncIterable<ChatChunk>, AsyncIterator<ChatChunk> {
  readonly #x: Exchange
  readonly #iterator: AsyncIterator<ChatChunk>
  readonly #onEnd: ((complete: boolean) => void) | undefined
  #ended = false
  #last: ChatChunk | undefined
  complete = false

  constructor(x: Exchange, stream: ChatStream, onEnd?: (complete: boolean) => void) {
    this.#x = x
    this.#iterator = stream[Symbol.asyncIterator]()
    this.#onEnd = onEnd
  }

  [Symbol.asyncIterator](): AsyncIterator<ChatChunk> {
    return this
  }

  async next(): Promise<IteratorResult<ChatChunk>> {
    const x = this.#x
    for (;;) {
      if (this.#ended) return { done: true, value: undefined }
      if (x.aborted) return this.return()
      let item: IteratorResult<ChatChunk>
      try {
        item = await this.#iterator.next()
      } catch (err) {
        x.error ??= toGatewayError(err)
        this.#end(false)
        throw err
      }
      if (item.done) {
        // The client asked for usage and the upstream sent none: the gateway's own count, the one it accounts.
        const last = x.clientWantsUsage && !x.usage && !x.aborted ? this.#last : undefined
        const counted = last && countedUsageChunk(last, (x.usage = await x.countUsage(x.completionParts.join(''))))
        if (counted) for (const [onChunk] of x.observers) onChunk(counted)
        this.#end(!x.aborted)
        return counted ? { done: false, value: counted } : item
      }
      const chunk = (this.#last = item.value)
      noteChunk(x, chunk)
      for (const [onChunk] of x.observers) onChunk(chunk)
      // The usage-only final chunk goes to readers that asked for it (the gateway always asks upstream).
      if (!x.clientWantsUsage && chunk.usage && chunk.choices.length === 0) continue
      return item
    }
  }

  async return(): Promise<IteratorResult<ChatChunk>> {
    if (!this.#ended) {
      this.#end(false)
      await this.#iterator.return?.()
    }
    return { done: true, value: undefined }
  }

  #end(complete: boolean): void {
    this.#ended = true
    this.complete = complete
    for (const [, onEnd] of this.#x.observers) onEnd?.(complete)
    this.#onEnd?.(complete)
  }
}

function noteChunk(x: Exchange, chunk: ChatChunk): void {
  if (chunk.usage) x.usage = chunk.usage
  const delta = chunk.choices[0]?.delta
  if (!delta) return
  if (delta.content) x.completionParts.push(delta.content)
  if (delta.tool_calls) for (const call of delta.tool_calls) if (call.function?.arguments) x.completionParts.push(call.function.arguments)
}

/** Write one SSE frame; waits for drain when the socket's buffer is full (a slow client's back-pressure pauses the upstream read). */
async function writeEvent(res: ServerResponse, data: string, event?: string): Promise<void> {
  const frame = event ? `event: ${event}\ndata: ${data}\n\n` : `data: ${data}\n\n`
  if (!res.write(frame) && !res.destroyed) await Promise.race([once(res, 'drain'), once(res, 'close')])
}
