/** The HTTP server around the app: request timeouts and head limits, a JSON answer to what Node refuses, and a drain that closes keep-alives politely. */
import http from 'node:http'
import net from 'node:net'
import type { Duplex } from 'node:stream'
import type { ServerConfig } from '../config/types.ts'
import { GatewayError } from '../../plugin-api/errors.ts'
import { randomUuid } from '../../plugin-api/kit/ids.ts'
import type { Logger } from '../logger.ts'
import type { ErrorBody } from './errors.ts'

export interface ServerSettings {
  readonly headersTimeoutMs: number
  readonly requestTimeoutMs: number
  readonly maxHeaderBytes: number
  readonly keepAliveTimeoutMs: number
}

// Keep-alive: longer than common load balancers' 60 s (AWS ALB, nginx), so they close an idle connection first.
const SERVER_DEFAULTS: ServerSettings = { headersTimeoutMs: 10_000, requestTimeoutMs: 60_000, maxHeaderBytes: 16_384, keepAliveTimeoutMs: 65_000 }
/** At shutdown, how long a keep-alive connection idle since its last response may still bring a request. */
const IDLE_GRACE_MS = 100
/** How long a refused client's answer may take to leave before its connection is torn down. */
const LINGER_MS = 1000

export function serverSettings(config: ServerConfig | undefined): ServerSettings {
  const requestTimeoutMs = config?.request_timeout_ms ?? SERVER_DEFAULTS.requestTimeoutMs
  return {
    // Node requires headers within the request's time; a longer headers timeout would mean nothing.
    headersTimeoutMs: Math.min(config?.headers_timeout_ms ?? SERVER_DEFAULTS.headersTimeoutMs, requestTimeoutMs),
    requestTimeoutMs,
    maxHeaderBytes: config?.max_header_bytes ?? SERVER_DEFAULTS.maxHeaderBytes,
    keepAliveTimeoutMs: config?.keep_alive_timeout_ms ?? SERVER_DEFAULTS.keepAliveTimeoutMs,
  }
}

export interface GatewayServer {
  readonly server: http.Server
  /** Apply settings from a reloaded config (new connections get the new header limit). */
  apply(settings: ServerSettings): void
  /** Stop accepting and close every connection without resetting a request (`Connection: close` on responses, idle ones after a grace); resolves when all are closed. */
  drain(): Promise<void>
}

/** `errorsFor(path)`: how an error is written for a request to `path` that Node refuses before the app sees it. */
export function createGatewayServer(handler: http.RequestListener, settings: ServerSettings, logger: Logger, errorsFor: (path: string) => ErrorBody): GatewayServer {
  const server = http.createServer({
    requestTimeout: settings.requestTimeoutMs,
    headersTimeout: settings.headersTimeoutMs,
    maxHeaderSize: settings.maxHeaderBytes,
    keepAliveTimeout: settings.keepAliveTimeoutMs,
    // Node checks the timeouts above every this often (30 s by default: a slow client would get half a minute more).
    connectionsCheckingInterval: Math.max(25, Math.min(1000, Math.floor(settings.headersTimeoutMs / 4))),
  }, handler)
  let current = settings
  let draining = false
  /** Open connections (a drain ends each one's `_httpMessage`), not responses: a Set churned per request kept finished ones alive through young GCs (bench/RESULTS.md). */
  const connections = new Set<SocketWithResponse>()
  server.on('connection', (socket: Duplex) => {
    connections.add(socket)
    socket.once('close', () => connections.delete(socket))
  })

  /** The last request each connection brought to the app (to tell whose time ran out). */
  const lastRequest = new WeakMap<Duplex, http.IncomingMessage>()
  /** When a response last ended: connections idle since less than IDLE_GRACE_MS may be about to be reused. */
  let lastResponseEnd = 0
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    lastRequest.set(req.socket, req)
    res.once('close', () => { lastResponseEnd = performance.now() })
    if (draining) closeAfter(res)
  })
  const refused = new WeakSet<Duplex>()
  server.on('clientError', (err: ClientError, socket: Duplex) => {
    // The parser reports each later chunk of a refused request again: answer once.
    if (refused.has(socket)) return
    refused.add(socket)
    // A request the app already answered, whose body is still dribbling in: no second answer.
    const last = lastRequest.get(socket)
    const answered = last !== undefined && !last.complete && (socket as SocketWithResponse)._httpMessage == null
    if (answered) socket.destroy()
    else answerRefusal(err, socket, current, logger, errorsFor)
  })

  return {
    server,
    apply(next) {
      current = next
      // maxHeaderSize is read by Node for each new connection's parser (typed only as a createServer option).
      Object.assign(server, { requestTimeout: next.requestTimeoutMs, headersTimeout: next.headersTimeoutMs, keepAliveTimeout: next.keepAliveTimeoutMs, maxHeaderSize: next.maxHeaderBytes })
    },
    drain() {
      draining = true
      for (const socket of connections) if (socket._httpMessage) closeAfter(socket._httpMessage)
      // Stop accepting, but not http.Server#close, which also closes every idle connection at once.
      const closed = new Promise<void>((resolve) => net.Server.prototype.close.call(server, () => {
        // Now http.Server#close only stops its timeout checks (the server is no longer listening).
        server.close(() => undefined)
        resolve()
      }))
      const wait = Math.max(0, lastResponseEnd + IDLE_GRACE_MS - performance.now()) // then idle connections close, and ones that never sent a byte (a client's spare: undici opens one beside an aborted stream), which closeIdleConnections leaves to the timeout
      setTimeout(() => { server.closeIdleConnections(); for (const socket of connections) if ((socket as net.Socket).bytesRead === 0) socket.destroy() }, wait).unref()
      return closed
    },
  }
}

/** This response's connection ends with it. */
function closeAfter(res: http.ServerResponse): void {
  if (!res.headersSent) {
    res.setHeader('connection', 'close')
    return
  }
  // Too late to say so (a stream under way): close the connection as soon as the response ends.
  const socket = res.socket
  res.once('finish', () => socket?.end())
}

type ClientError = Error & { code?: string; rawPacket?: Buffer }
/** Node keeps the response being written on a connection here. */
type SocketWithResponse = Duplex & { _httpMessage?: http.ServerResponse | null }

/** What a request Node refused before the app saw it gets; undefined: the client is gone, say nothing. */
function refusalOf(err: ClientError, settings: ServerSettings): GatewayError | undefined {
  switch (err.code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return undefined
    case 'HPE_HEADER_OVERFLOW':
      return new GatewayError(`The request's headers are larger than the limit of ${settings.maxHeaderBytes} bytes (server.max_header_bytes).`, { status: 431, code: 'request_headers_too_large' })
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new GatewayError(
        `The request did not arrive in time: its headers must arrive within ${settings.headersTimeoutMs} ms, the whole request within ${settings.requestTimeoutMs} ms (server.headers_timeout_ms, server.request_timeout_ms).`,
        { status: 408, code: 'request_timeout' },
      )
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new GatewayError('The request\'s chunk extensions are too large.', { status: 413, code: 'request_too_large' })
    default:
      return new GatewayError('Malformed HTTP request.', { status: 400, code: 'invalid_http_request' })
  }
}

/** The path of the request on this connection, from the app's response or the refused bytes. */
function requestPath(err: ClientError, res: http.ServerResponse | undefined): string {
  const target = res?.req?.url ?? /^[A-Z]+ (\S+) HTTP\//.exec(err.rawPacket?.subarray(0, 4096).toString('latin1') ?? '')?.[1] ?? '/'
  const query = target.indexOf('?')
  return query >= 0 ? target.slice(0, query) : target
}

function answerRefusal(err: ClientError, socket: Duplex, settings: ServerSettings, logger: Logger, errorsFor: (path: string) => ErrorBody): void {
  const refusal = refusalOf(err, settings)
  // The app's response on this connection, if a request reached it (a body that arrives too slowly).
  const res = (socket as SocketWithResponse)._httpMessage ?? undefined
  if (!refusal || !socket.writable || res?.headersSent) {
    socket.destroy()
    return
  }
  const requestId = randomUuid()
  const body = JSON.stringify(errorsFor(requestPath(err, res))(refusal, requestId))
  logger.info({ reqId: requestId, status: refusal.status, code: refusal.code, reason: err.code }, 'request refused before it reached the gateway')
  const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), 'x-request-id': requestId, connection: 'close' }
  if (res) {
    res.writeHead(refusal.status, headers)
    res.end(body)
  } else {
    const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')
    socket.end(`HTTP/1.1 ${refusal.status} ${http.STATUS_CODES[refusal.status]}\r\n${head}\r\n${body}`)
  }
  // The rest of the request is never read: tear the connection down once the answer is out.
  setTimeout(() => socket.destroy(), LINGER_MS).unref()
}
