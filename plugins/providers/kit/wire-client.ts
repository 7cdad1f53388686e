/**
 * The hot path to an OpenAI-wire upstream: a POST of the JSON body over a pooled keep-alive undici
 * Agent, the answer read by a dispatch handler of the kit's own: gathered as bytes and parsed once,
 * or for a stream fed to the SSE parser as it arrives, event by event. Per call it builds no
 * Request/Response/Headers objects, no AbortController and no response stream, and formats no
 * debug log: the SDK's fetch machinery cost about three quarters of the gateway's own CPU per
 * request (issue 18's profile). The SDKs stay the source of the wire types and are still used for
 * the calls off the hot path (model lists, Azure's dated API).
 *
 * Failures come out as the errors below (or the caller's abort reason), which openai-wire.ts
 * maps to GatewayErrors exactly as it maps the SDKs' errors.
 */
import { StringDecoder } from 'node:string_decoder'
import type { Dispatcher } from 'undici'
import { createParser, type EventSourceParser } from 'eventsource-parser'
import { GatewayError, abortReason, isAborted, onAbort, redirectMessage, upstreamError, type AbortSource, type JsonSchema, type PluginContext } from '../../../plugin-api/index.ts'
import { upstreamDispatcher } from './egress.ts'
import { DEFAULT_MAX_ANSWER_MB, MB, tooLargeIn, UpstreamTooLargeError } from './answer-limit.ts'

/** The upstream answered with a non-2xx status, or sent an `error` object inside a stream (no status). */
export class UpstreamStatusError extends Error {
  constructor(
    readonly status: number | undefined,
    /** The answer's body: parsed JSON when it was JSON, else its text. */
    readonly body: unknown,
    readonly retryAfter: string | null,
    message: string,
  ) {
    super(message)
    this.name = 'UpstreamStatusError'
  }
}

/**
 * A 2xx answer to a stream request that came whole, as JSON: some OpenAI-compatible servers ignore
 * `stream: true`, and a failure may come as a 200 with an error body. `body` is the parsed answer.
 * An OpenAI-wire caller replays a completion as a stream; to any other it is the upstream failing
 * (no status: a 502), with the body's error when it has one.
 */
export class UpstreamNotStreamedError extends UpstreamStatusError {
  constructor(body: unknown) {
    super(undefined, body, null, 'the upstream answered a stream request with one JSON answer, not a stream')
    this.name = 'UpstreamNotStreamedError'
  }
}

/** No answer (headers, or a whole JSON body) within the provider's timeout_ms. */
export class UpstreamTimeoutError extends Error {
  constructor(options: { cause: unknown }) {
    super('Request timed out.', options)
    this.name = 'UpstreamTimeoutError'
  }
}

/** The connection failed (refused, reset, closed mid-answer); the message names the socket's code. */
export class UpstreamConnectionError extends Error {
  constructor(message: string, options: { cause: unknown }) {
    super(message, options)
    this.name = 'UpstreamConnectionError'
  }
}

export interface WireClientOptions {
  /** The upstream's base URL; `paths` are appended to its path. */
  readonly baseURL: string
  /** Headers sent with every call (lower-cased here); a null value removes a default one. */
  readonly headers: Readonly<Record<string, string | null>>
  /** How long to wait for the answer's headers, and for a whole (non-streamed) body between bytes. */
  readonly timeoutMs: number
  /** The largest answer body read, in MiB (DEFAULT_MAX_ANSWER_MB when unset); past it UpstreamTooLargeError. */
  readonly maxAnswerMb?: number
  /** Called when a call is sent again after its connection was reset before any answer. */
  readonly onRetry?: () => void
}

export interface WireCallOptions {
  /** What aborts the call: a ProviderCall itself, so its signal is made only if it aborts (kit/abort.ts). */
  readonly signal: AbortSource
  readonly headers?: Readonly<Record<string, string>>
  /** Read the answer as server-sent events, each event's JSON yielded as it arrives. */
  readonly stream?: boolean
}

/** Socket failures that mean "this connection died before answering", worth one more try on a fresh one. */
const RESET_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET'])
const TIMEOUT_CODES: ReadonlySet<string> = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])

/** How soon after sending a reset means a stale pooled socket, not an upstream that had the request. */
export const STALE_SOCKET_WINDOW_MS = 1000

export class WireClient {
  readonly #agent: Dispatcher
  readonly #maxAnswerBytes: number
  readonly #origin: string
  readonly #prefix: string
  readonly #headers: Record<string, string>
  readonly #options: WireClientOptions

  constructor(options: WireClientOptions) {
    const base = new URL(options.baseURL)
    this.#origin = base.origin
    this.#prefix = base.pathname.replace(/\/+$/, '')
    this.#headers = { 'content-type': 'application/json', accept: 'application/json', 'user-agent': 'ai-gateway' }
    for (const [name, value] of Object.entries(options.headers)) {
      if (value === null) delete this.#headers[name.toLowerCase()]
      else this.#headers[name.toLowerCase()] = value
    }
    this.#options = options
    // undici counts the body's bytes as they arrive and closes the socket past the bound (its
    // ResponseExceededMaxSizeError), for every answer: whole, streamed, or an error's.
    this.#maxAnswerBytes = (options.maxAnswerMb ?? DEFAULT_MAX_ANSWER_MB) * MB
    this.#agent = upstreamDispatcher({ keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000, maxResponseSize: this.#maxAnswerBytes })
  }

  /**
   * POST `body` as JSON to `path`. Resolves to the parsed answer, or for `stream` to an async
   * iterable of the events' parsed data (ending at `[DONE]`). Throws UpstreamStatusError for a
   * non-2xx answer, UpstreamTimeoutError, UpstreamConnectionError, the signal's reason when it
   * aborted, or what serialising the body threw (nothing was sent then).
   */
  async post(path: string, body: unknown, call: WireCallOptions): Promise<unknown> {
    const payload = JSON.stringify(body)
    if (!call.stream) {
      const answer = await this.sendWhole(path, payload, call)
      if (answer.statusCode === 204) return {}
      const text = answer.bytes.toString('utf8')
      try {
        return isJson(answer.contentType) ? JSON.parse(text) : text
      } catch (err) {
        throw failure(err, call.signal)
      }
    }
    return events(await this.send(path, payload, call), call.signal)
  }

  /**
   * POST `body` as JSON to `path` and resolve to the 2xx answer's JSON object, for a call whose
   * answer is read as the provider's schema. Any other 2xx (a login page, no body, a bare value) is
   * an UpstreamStatusError without a status: the upstream failed, not the client. Throws as `post` does.
   */
  async postForObject(path: string, body: unknown, call: WireCallOptions): Promise<Record<string, unknown>> {
    const answer = await this.sendWhole(path, JSON.stringify(body), call)
    const text = answer.bytes.toString('utf8')
    let parsed: unknown
    if (isJson(answer.contentType)) {
      try {
        parsed = JSON.parse(text)
      } catch (err) {
        throw failure(err, call.signal)
      }
    }
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>
    throw new UpstreamStatusError(undefined, text, null, text || 'the upstream answered without a JSON object')
  }

  /**
   * POST `payload` (JSON text, or bytes of the type `call.headers` names, sent as it is) to `path` and resolve to a 2xx answer read whole, as
   * bytes. Read by a handler of its own on the pool (no response stream, no async resource, no
   * promise per chunk: about a tenth of a passthrough call's CPU, bench/RESULTS.md). Throws as `post` does.
   */
  async sendWhole(path: string, payload: string | Buffer, call: WireCallOptions): Promise<WholeAnswer> {
    const request = this.#request(path, payload, call.headers, false)
    let answer: WholeAnswer
    try {
      answer = await this.#once(call.signal, (progress) => readWhole(this.#agent, request, call.signal, progress, this.#maxAnswerBytes))
    } catch (err) {
      throw failure(err, call.signal)
    }
    if (answer.statusCode >= 200 && answer.statusCode <= 299) return answer
    throw statusErrorOf(answer.statusCode, answer.bytes.toString('utf8'), answer.retryAfter, answer.location)
  }

  /**
   * POST `payload` (JSON text, sent as it is) to `path` and resolve, once a 2xx answer's headers are
   * in, to its server-sent events' data as they arrive (EventData). Throws as `post` does (a non-2xx
   * answer's body is read for its UpstreamStatusError).
   */
  async send(path: string, payload: string, call: WireCallOptions): Promise<EventData> {
    const request = this.#request(path, payload, call.headers, true)
    try {
      return await this.#once(call.signal, (progress) => readEvents(this.#agent, request, call.signal, progress, this.#maxAnswerBytes))
    } catch (err) {
      throw failure(err, call.signal)
    }
  }

  #request(path: string, payload: string | Buffer, callHeaders: Readonly<Record<string, string>> | undefined, stream: boolean): Dispatcher.DispatchOptions {
    let headers = this.#headers
    if (callHeaders) {
      headers = { ...headers }
      for (const [name, value] of Object.entries(callHeaders)) headers[name.toLowerCase()] = value
    }
    return {
      origin: this.#origin, path: this.#prefix + path, method: 'POST', headers, body: payload,
      headersTimeout: this.#options.timeoutMs,
      // A stream may pause between events for as long as the model thinks; the route's timeout bounds it.
      bodyTimeout: stream ? 0 : this.#options.timeoutMs,
    }
  }

  /**
   * One send, and once more when the connection was reset before any answer arrived and soon after
   * sending: a pooled keep-alive socket the upstream had just closed, which never took the request.
   * Nothing has reached the client then, so sending it again is safe. A send marks
   * `progress.answered` once the answer's headers are in.
   */
  async #once<T>(signal: AbortSource, send: (progress: { answered: boolean }) => Promise<T>): Promise<T> {
    const progress = { answered: false }
    const sent = performance.now()
    try {
      return await send(progress)
    } catch (err) {
      if (isAborted(signal) || progress.answered || !RESET_CODES.has(codeOf(err) ?? '')) throw err
      // A pooled socket the upstream had closed fails as the request is written, within a round
      // trip. A reset later than that came while the upstream worked on the request (a proxy's idle
      // timeout during a long generation): sending it again could generate, and bill, it twice.
      if (performance.now() - sent > STALE_SOCKET_WINDOW_MS) throw err
      this.#options.onRetry?.()
      return send({ answered: false })
    }
  }

  /** Close the pool's connections. */
  close(): Promise<void> {
    return this.#agent.close()
  }
}

/**
 * A provider instance's pooled client. Sends again after a reset keep-alive connection are counted
 * in gateway_upstream_retries_total{provider,reason}.
 */
export function providerWireClient(ctx: Pick<PluginContext, 'name' | 'metrics'>, options: Omit<WireClientOptions, 'onRetry'>): WireClient {
  const retries = ctx.metrics.counter('gateway_upstream_retries_total', 'Upstream calls sent again on a fresh connection after the pooled one was reset before any answer.', ['provider', 'reason'])
  return new WireClient({ ...options, onRetry: () => retries.inc({ provider: ctx.name, reason: 'connection_reset' }) })
}

/** The kit's timeout (504) and connection (502) failures as the gateway's errors; undefined for anything else. */
export function transportError(err: unknown, provider: string): GatewayError | undefined {
  if (err instanceof UpstreamTimeoutError) return upstreamError(undefined, 'no answer within timeout_ms', { kind: 'timeout', provider, cause: err })
  if (err instanceof UpstreamConnectionError) return upstreamError(undefined, err.message, { kind: 'connection', provider, cause: err })
  // An SDK's fetch (answer-limit.ts) may come wrapped in the SDK's connection error.
  const tooLarge = tooLargeIn(err)
  if (tooLarge) {
    // Retryable as an upstream's failure is: another target may answer within the bound.
    return new GatewayError(`${provider}: ${tooLarge.message}`, { status: 502, code: 'upstream_answer_too_large', retryable: true, cause: err })
  }
  return undefined
}

export function isJson(contentType: string | string[] | undefined): boolean {
  const value = Array.isArray(contentType) ? contentType[0] : contentType
  return value !== undefined && value.includes('json')
}

function statusErrorOf(status: number, text: string, retryAfter: string | null, location: string | undefined): UpstreamStatusError {
  if (status >= 300 && status <= 399) {
    // Not followed: upstreamError makes it a 502 upstream_redirect, said with its target.
    const message = redirectMessage(status, location)
    return new UpstreamStatusError(status, message, null, message)
  }
  return new UpstreamStatusError(status, parsedOrText(text), retryAfter, text || 'status code (no body)')
}

/** An answer's body: its JSON, or its text when it is not JSON (an HTML page, plain text). */
function parsedOrText(text: string): unknown {
  if (!text) return text
  try { return JSON.parse(text) } catch { return text }
}

/** A whole answer: its status, the headers the kit reads, its body's bytes. */
export interface WholeAnswer {
  readonly statusCode: number
  readonly contentType: string | undefined
  readonly retryAfter: string | null
  /** A redirect's target. */
  readonly location?: string
  readonly bytes: Buffer
}

/** The headers the kit reads, from undici's raw headers (name, value, name, value... as bytes). */
function headersOf(rawHeaders: Buffer[]): { contentType: string | undefined; retryAfter: string | null; location?: string } {
  let contentType: string | undefined
  let retryAfter: string | null = null
  let location: string | undefined
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toString('latin1').toLowerCase()
    if (name === 'content-type') contentType = rawHeaders[i + 1].toString('latin1')
    else if (name === 'retry-after') retryAfter = rawHeaders[i + 1].toString('latin1')
    else if (name === 'location') location = rawHeaders[i + 1].toString('latin1')
  }
  return { contentType, retryAfter, location }
}

/** One dispatch on the pool, its answer gathered as it arrives (undici's handler interface). */
function readWhole(agent: Dispatcher, request: Dispatcher.DispatchOptions, signal: AbortSource, progress: { answered: boolean }, maxAnswerBytes: number): Promise<WholeAnswer> {
  return new Promise((resolve, reject) => {
    let statusCode = 0
    let headers: ReturnType<typeof headersOf> = { contentType: undefined, retryAfter: null }
    const chunks: Buffer[] = []
    let stopListening: (() => void) | undefined
    const done = (): void => stopListening?.()
    const handler: Dispatcher.DispatchHandler = {
      onConnect(abortRequest) {
        if (isAborted(signal)) return abortRequest(abortReason(signal) as Error)
        stopListening = onAbort(signal, (reason) => abortRequest(reason as Error))
      },
      onHeaders(status, rawHeaders) {
        progress.answered = true
        statusCode = status
        headers = headersOf(rawHeaders)
        return true
      },
      onData(chunk) {
        chunks.push(chunk)
        return true
      },
      onComplete() {
        done()
        // Copied, even from one chunk: a chunk is a view of the socket's whole read buffer (64 kB),
        // which the answer would otherwise keep alive until it is collected.
        resolve({ statusCode, ...headers, bytes: Buffer.concat(chunks) })
      },
      onError(err) {
        done()
        reject(tooLargeOr(err, maxAnswerBytes))
      },
    }
    agent.dispatch(request, handler)
  })
}

/** The end of an OpenAI-wire stream, as EventData yields it. */
export const DONE = '[DONE]'

/**
 * A stream's event data as it came, up to `[DONE]` (yielded once, as DONE). After it the rest is
 * read and ignored, so the connection goes back to the pool; the iteration ends with the body.
 * A reader that leaves early (the client went away, an error) aborts the request: the connection
 * is not reused half-read. The caller's signal aborting ends it with the signal's reason.
 */
export type EventData = AsyncIterable<string>

/**
 * Events parsed but not yet read before the socket is paused: a few, so a reader slower than the
 * upstream (a slow client) holds the upstream back rather than the gateway's memory.
 */
const MAX_QUEUED = 8

/**
 * One streamed dispatch on the pool, resolved once a 2xx answer's headers are in; a non-2xx
 * answer's body is read whole for its UpstreamStatusError. Marks `progress.answered` at the headers.
 */
export function readEvents(agent: Pick<Dispatcher, 'dispatch'>, request: Dispatcher.DispatchOptions, signal: AbortSource, progress: { answered: boolean }, maxAnswerBytes = -1): Promise<EventData> {
  return new EventReader(signal, progress, maxAnswerBytes).dispatch(agent, request)
}

/**
 * The handler of a streamed dispatch (undici's handler interface): the answer's bytes go straight
 * from onData through the decoder into the SSE parser, and its events into a small queue that one
 * reader drains. No response stream, no async iterator over it, no promise per chunk: only one
 * when the reader waits for the upstream.
 */
class EventReader implements Dispatcher.DispatchHandler {
  readonly #signal: AbortSource
  readonly #progress: { answered: boolean }
  readonly #maxAnswerBytes: number
  // Keeps a character split across chunks for the next one, on V8's own UTF-8 decode
  // (TextDecoder's stream mode builds an ICU converter per stream).
  readonly #decoder = new StringDecoder('utf8')
  readonly #parser: EventSourceParser
  readonly #queue: string[] = []
  #started: { resolve: (events: EventData) => void; reject: (err: unknown) => void } | undefined
  /** A non-2xx answer: its status, retry-after and body, read whole for the error. */
  #failed: { status: number; retryAfter: string | null; location?: string; chunks: Buffer[] } | undefined
  /**
   * A 2xx answer labelled JSON, gathered while it looks like one JSON value (its first byte `{` or
   * `[`), for UpstreamNotStreamedError; anything else is read as the stream it is (`#sniffing` until
   * that first byte came).
   */
  #whole: Buffer[] | undefined
  #sniffing = false
  #contentType: string | undefined
  /** Bytes of the answer while it has held no event and no comment: one that ends so is not the stream asked for. */
  #quietBytes: number | undefined = 0
  #abort: ((reason?: Error) => void) | undefined
  #resume: (() => void) | undefined
  #paused = false
  #sawDone = false
  #ended = false
  #error: { reason: unknown } | undefined
  /** Wakes the reader waiting for the next event. */
  #wake: (() => void) | undefined
  #stopListening: (() => void) | undefined

  constructor(signal: AbortSource, progress: { answered: boolean }, maxAnswerBytes: number) {
    this.#signal = signal
    this.#progress = progress
    this.#maxAnswerBytes = maxAnswerBytes
    this.#parser = createParser({
      onComment: () => { this.#quietBytes = undefined },
      onEvent: (event) => {
        this.#quietBytes = undefined
        if (this.#sawDone) return
        this.#sawDone = event.data.startsWith(DONE)
        this.#queue.push(this.#sawDone ? DONE : event.data)
      },
    })
  }

  dispatch(agent: Pick<Dispatcher, 'dispatch'>, request: Dispatcher.DispatchOptions): Promise<EventData> {
    return new Promise((resolve, reject) => {
      this.#started = { resolve, reject }
      agent.dispatch(request, this)
    })
  }

  onConnect(abort: (reason?: Error) => void): void {
    if (isAborted(this.#signal)) return abort(abortReason(this.#signal) as Error)
    this.#abort = abort
    this.#stopListening = onAbort(this.#signal, (reason) => abort(reason as Error))
  }

  onHeaders(status: number, rawHeaders: Buffer[], resume: () => void): boolean {
    this.#progress.answered = true
    if (status >= 200 && status <= 299) {
      this.#resume = resume
      this.#contentType = headersOf(rawHeaders).contentType
      if (isJson(this.#contentType)) {
        this.#whole = []
        this.#sniffing = true
      } else this.#startReading()
    } else {
      this.#failed = { ...headersOf(rawHeaders), status, chunks: [] }
    }
    return true
  }

  onData(chunk: Buffer): boolean {
    const whole = this.#failed?.chunks ?? this.#whole
    if (whole) {
      whole.push(chunk)
      if (!this.#sniffing) return true
      const first = chunk.findIndex((byte) => byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09)
      if (first < 0) return true
      this.#sniffing = false
      if (chunk[first] === 0x7b /* { */ || chunk[first] === 0x5b /* [ */) return true
      // Labelled JSON, but not one JSON value: a stream its server mislabelled, read as it comes.
      this.#whole = undefined
      this.#startReading()
      chunk = Buffer.concat(whole)
    }
    this.#feed(this.#decoder.write(chunk), chunk.length)
    if (this.#queue.length === 0) return true
    this.#wakeReader()
    if (this.#queue.length < MAX_QUEUED) return true
    this.#paused = true
    return false
  }

  #feed(text: string, bytes: number): void {
    if (this.#quietBytes !== undefined) this.#quietBytes += bytes
    this.#parser.feed(text)
  }

  #startReading(): void {
    this.#started?.resolve(this.#read())
    this.#started = undefined
  }

  onComplete(): void {
    this.#stopListening?.()
    this.#ended = true
    if (this.#failed) {
      const { status, retryAfter, location, chunks } = this.#failed
      this.#started?.reject(statusErrorOf(status, Buffer.concat(chunks).toString('utf8'), retryAfter, location))
      return this.#wakeReader()
    }
    if (this.#whole) {
      const bytes = Buffer.concat(this.#whole)
      this.#whole = undefined
      const body = parsedOrText(bytes.toString('utf8'))
      if (typeof body !== 'string') {
        this.#started?.reject(new UpstreamNotStreamedError(body))
        return this.#wakeReader()
      }
      // Not JSON after all (several values, a cut-off one) or empty: read as events, if it holds any.
      this.#startReading()
      this.#feed(body, bytes.length)
    }
    if (this.#quietBytes !== undefined) {
      // Not one event or comment (not even [DONE]): whatever this is, it is not the stream that was asked for.
      const what = this.#quietBytes ? `${this.#quietBytes} bytes${this.#contentType ? ` of ${this.#contentType}` : ''}` : 'an empty body'
      const message = `the upstream's answer to a stream request held no server-sent events (${what})`
      this.#error = { reason: new UpstreamStatusError(undefined, message, null, message) }
    }
    this.#wakeReader()
  }

  onError(err: Error): void {
    err = tooLargeOr(err, this.#maxAnswerBytes)
    this.#stopListening?.()
    // The caller gave up: its reason comes next, not the events still queued. A socket failing
    // mid-answer comes after them (the client gets the text that arrived before it).
    if (isAborted(this.#signal)) this.#queue.length = 0
    this.#error = { reason: err }
    this.#started?.reject(err)
    this.#wakeReader()
  }

  #wakeReader(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  async *#read(): AsyncGenerator<string> {
    try {
      for (;;) {
        const data = this.#queue.shift()
        if (data !== undefined) {
          if (this.#paused && this.#queue.length === 0) {
            // Set first: resume() may feed more data, and pause again, before it returns.
            this.#paused = false
            this.#resume?.()
          }
          yield data
        } else if (this.#error) throw this.#error.reason
        else if (this.#ended) return
        else await new Promise<void>((resolve) => { this.#wake = resolve })
      }
    } finally {
      // Left early (the client went away, an error): the connection is not reused half-read.
      if (!this.#ended && !this.#error) this.#abort?.()
    }
  }
}

/** The events' parsed data, as the SDKs yield them: `[DONE]` ends it, an event carrying `error` throws. */
async function* events(data: EventData, signal: AbortSource): AsyncGenerator<unknown> {
  try {
    for await (const text of data) {
      if (text === DONE) continue
      const event = JSON.parse(text) as { error?: unknown } | null
      if (event?.error) throw new UpstreamStatusError(undefined, event, null, 'upstream sent an error mid-stream')
      yield event
    }
  } catch (err) {
    throw failure(err, signal)
  }
}

/** undici's words for a proxy that answered a tunnel with another status than 200. */
const PROXY_REFUSAL = /^Proxy response \(\d{3}\)/

/** An undici/socket failure in the kit's terms; the caller's abort and our own errors pass as they are. */
export function failure(err: unknown, signal: AbortSource): unknown {
  if (isAborted(signal) || err instanceof UpstreamStatusError || err instanceof UpstreamTimeoutError || err instanceof UpstreamConnectionError || err instanceof UpstreamTooLargeError) return err
  const code = codeOf(err)
  if (code && TIMEOUT_CODES.has(code)) return new UpstreamTimeoutError({ cause: err })
  // A proxy that refused the tunnel says why (its status) only in the message.
  const refused = PROXY_REFUSAL.exec((err as Error).message)
  if (code) return new UpstreamConnectionError(`Connection error. (${code}${refused ? `: ${refused[0]}` : ''})`, { cause: err })
  return err
}

/** undici's error for a body past the pool's maxResponseSize, as the kit's, with the bound it passed. */
function tooLargeOr(err: Error, maxAnswerBytes: number): Error {
  return codeOf(err) === 'UND_ERR_RES_EXCEEDED_MAX_SIZE' ? new UpstreamTooLargeError(maxAnswerBytes, { cause: err }) : err
}

/** The socket or undici error code, also inside an AggregateError (happy eyeballs) or a cause. */
function codeOf(err: unknown): string | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 3; depth++) {
    const code = (e as Error & { code?: unknown }).code
    if (typeof code === 'string') return code
    e = e instanceof AggregateError && e.errors.length ? e.errors[0] : e.cause
  }
  return undefined
}
