/**
 * The hot path to an OpenAI-wire upstream: a POST of the JSON body over a pooled keep-alive undici
 * Agent, the answer read as bytes and parsed once (a stream parsed event by event as it arrives).
 * Per call it builds no Request/Response/Headers objects and no AbortController, and formats no
 * debug log: the SDK's fetch machinery cost about three quarters of the gateway's own CPU per
 * request (issue 18's profile). The SDKs stay the source of the wire types and are still used for
 * the calls off the hot path (model lists, Azure's dated API).
 *
 * Failures come out as the errors below (or the caller's abort reason), which openai-wire.ts
 * maps to GatewayErrors exactly as it maps the SDKs' errors.
 */
import { StringDecoder } from 'node:string_decoder'
import type { Dispatcher } from 'undici'
// Only the Agent (and the pool, client and HTTP/1.1 parser beneath it) and its request function:
// undici's index also loads fetch, WebSocket, the cache and the mock agent, 110 modules and ~75 ms
// of CPU at every start against 31 modules and ~26 ms (bench/RESULTS.md, start). The same modules
// the index re-exports; it adds `request` to every dispatcher's prototype, here it is called on ours.
import Agent from 'undici/lib/dispatcher/agent.js'
import undiciApi from 'undici/lib/api/index.js'
import { createParser, type EventSourceMessage } from 'eventsource-parser'

const agentRequest = undiciApi.request

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
  /** Called when a call is sent again after its connection was reset before any answer. */
  readonly onRetry?: () => void
}

export interface WireCallOptions {
  readonly signal: AbortSignal
  readonly headers?: Readonly<Record<string, string>>
  /** Read the answer as server-sent events, each event's JSON yielded as it arrives. */
  readonly stream?: boolean
}

/** Socket failures that mean "this connection died before answering", worth one more try on a fresh one. */
const RESET_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET'])
const TIMEOUT_CODES: ReadonlySet<string> = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])

export class WireClient {
  readonly #agent = new Agent({ keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000 })
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
    const res = await this.send(path, payload, call)
    try {
      return events(res.body, call.signal)
    } catch (err) {
      if (!res.body.destroyed) res.body.destroy()
      throw failure(err, call.signal)
    }
  }

  /**
   * POST `payload` (JSON text, sent as it is) to `path` and resolve to a 2xx answer read whole, as
   * bytes. Read by a handler of its own on the pool (no response stream, no async resource, no
   * promise per chunk: about a tenth of a passthrough call's CPU, bench/RESULTS.md). Throws as `post` does.
   */
  async sendWhole(path: string, payload: string, call: WireCallOptions): Promise<WholeAnswer> {
    const request = this.#request(path, payload, call)
    let answer: WholeAnswer
    try {
      answer = await this.#once(call.signal, (progress) => readWhole(this.#agent, request, call.signal, progress))
    } catch (err) {
      throw failure(err, call.signal)
    }
    if (answer.statusCode >= 200 && answer.statusCode <= 299) return answer
    throw statusErrorOf(answer.statusCode, answer.bytes.toString('utf8'), answer.retryAfter)
  }

  /**
   * POST `payload` (JSON text, sent as it is) to `path` and resolve to a 2xx answer whose body is
   * still to be read: a stream, relayed event by event. The caller reads or destroys the body.
   * Throws as `post` does.
   */
  async send(path: string, payload: string, call: WireCallOptions): Promise<Dispatcher.ResponseData> {
    const request = { ...this.#request(path, payload, call), signal: call.signal }
    let res: Dispatcher.ResponseData
    try {
      res = await this.#once(call.signal, () => agentRequest.call(this.#agent, request))
    } catch (err) {
      throw failure(err, call.signal)
    }
    if (res.statusCode >= 200 && res.statusCode <= 299) return res
    try {
      throw await statusError(res)
    } catch (err) {
      if (!res.body.destroyed) res.body.destroy()
      throw failure(err, call.signal)
    }
  }

  #request(path: string, payload: string, call: WireCallOptions): Dispatcher.DispatchOptions {
    let headers = this.#headers
    if (call.headers) {
      headers = { ...headers }
      for (const [name, value] of Object.entries(call.headers)) headers[name.toLowerCase()] = value
    }
    return {
      origin: this.#origin, path: this.#prefix + path, method: 'POST', headers, body: payload,
      headersTimeout: this.#options.timeoutMs,
      // A stream may pause between events for as long as the model thinks; the route's timeout bounds it.
      bodyTimeout: call.stream ? 0 : this.#options.timeoutMs,
    }
  }

  /**
   * One send, and once more when the connection was reset before any answer arrived: a pooled
   * keep-alive socket the upstream had just closed. Nothing has reached the client then, and a
   * chat or embeddings call changes nothing upstream, so sending it again is safe. A send marks
   * `progress.answered` once the answer's headers are in (request() rejects only before them).
   */
  async #once<T>(signal: AbortSignal, send: (progress: { answered: boolean }) => Promise<T>): Promise<T> {
    const progress = { answered: false }
    try {
      return await send(progress)
    } catch (err) {
      if (signal.aborted || progress.answered || !RESET_CODES.has(codeOf(err) ?? '')) throw err
      this.#options.onRetry?.()
      return send({ answered: false })
    }
  }

  /** Close the pool's connections. */
  close(): Promise<void> {
    return this.#agent.close()
  }
}

export function isJson(contentType: string | string[] | undefined): boolean {
  const value = Array.isArray(contentType) ? contentType[0] : contentType
  return value !== undefined && value.includes('json')
}

async function statusError(res: Dispatcher.ResponseData): Promise<UpstreamStatusError> {
  const retryAfter = res.headers['retry-after']
  return statusErrorOf(res.statusCode, await res.body.text(), (Array.isArray(retryAfter) ? retryAfter[0] : retryAfter) ?? null)
}

function statusErrorOf(status: number, text: string, retryAfter: string | null): UpstreamStatusError {
  let body: unknown = text
  if (text) {
    try { body = JSON.parse(text) } catch { /* an HTML page or plain text: kept as text */ }
  }
  return new UpstreamStatusError(status, body, retryAfter, text || 'status code (no body)')
}

/** A whole answer: its status, the headers the kit reads, its body's bytes. */
export interface WholeAnswer {
  readonly statusCode: number
  readonly contentType: string | undefined
  readonly retryAfter: string | null
  readonly bytes: Buffer
}

/** One dispatch on the pool, its answer gathered as it arrives (undici's handler interface). */
function readWhole(agent: Dispatcher, request: Dispatcher.DispatchOptions, signal: AbortSignal, progress: { answered: boolean }): Promise<WholeAnswer> {
  return new Promise((resolve, reject) => {
    let statusCode = 0
    let contentType: string | undefined
    let retryAfter: string | null = null
    const chunks: Buffer[] = []
    let abort: ((reason: Error) => void) | undefined
    const onAbort = (): void => abort?.(signal.reason as Error)
    const done = (): void => signal.removeEventListener('abort', onAbort)
    const handler: Dispatcher.DispatchHandler = {
      onConnect(abortRequest) {
        if (signal.aborted) return abortRequest(signal.reason as Error)
        abort = abortRequest
        signal.addEventListener('abort', onAbort, { once: true })
      },
      onHeaders(status, rawHeaders) {
        progress.answered = true
        statusCode = status
        // Raw headers: name, value, name, value... as bytes.
        for (let i = 0; i < rawHeaders.length; i += 2) {
          const name = rawHeaders[i].toString('latin1').toLowerCase()
          if (name === 'content-type') contentType = rawHeaders[i + 1].toString('latin1')
          else if (name === 'retry-after') retryAfter = rawHeaders[i + 1].toString('latin1')
        }
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
        resolve({ statusCode, contentType, retryAfter, bytes: Buffer.concat(chunks) })
      },
      onError(err) {
        done()
        reject(err)
      },
    }
    agent.dispatch(request, handler)
  })
}

/** The end of an OpenAI-wire stream, as `sseData` yields it. */
export const DONE = '[DONE]'

/**
 * An SSE body's event data as it came, up to `[DONE]` (yielded once, as DONE); after it the rest
 * is read and ignored, so the connection goes back to the pool.
 */
export async function* sseData(body: Dispatcher.ResponseData['body']): AsyncGenerator<string> {
  const pending: EventSourceMessage[] = []
  const parser = createParser({ onEvent: (event) => pending.push(event) })
  // Keeps a character split across chunks for the next one, as TextDecoder's `stream` option does,
  // but on V8's own UTF-8 decode: TextDecoder in stream mode builds an ICU converter per stream.
  const decoder = new StringDecoder('utf8')
  let done = false
  for await (const bytes of body) {
    parser.feed(decoder.write(bytes as Buffer))
    for (let event = pending.shift(); event; event = pending.shift()) {
      if (done) continue
      done = event.data.startsWith(DONE)
      yield done ? DONE : event.data
    }
  }
}

/** The events' parsed data, as the SDKs yield them: `[DONE]` ends it, an event carrying `error` throws. */
async function* events(body: Dispatcher.ResponseData['body'], signal: AbortSignal): AsyncGenerator<unknown> {
  try {
    for await (const text of sseData(body)) {
      if (text === DONE) continue
      const data = JSON.parse(text) as { error?: unknown } | null
      if (data?.error) throw new UpstreamStatusError(undefined, data, null, 'upstream sent an error mid-stream')
      yield data
    }
  } catch (err) {
    throw failure(err, signal)
  } finally {
    // Ended early (the client left, an error): the connection is not reused half-read.
    if (!body.destroyed) body.destroy()
  }
}

/** An undici/socket failure in the kit's terms; the caller's abort and our own errors pass as they are. */
export function failure(err: unknown, signal: AbortSignal): unknown {
  if (signal.aborted || err instanceof UpstreamStatusError || err instanceof UpstreamTimeoutError || err instanceof UpstreamConnectionError) return err
  const code = codeOf(err)
  if (code && TIMEOUT_CODES.has(code)) return new UpstreamTimeoutError({ cause: err })
  if (code) return new UpstreamConnectionError(`Connection error. (${code})`, { cause: err })
  return err
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
