/**
 * A programmable mock upstream: an HTTP server on loopback that records every request and answers
 * with whatever the test's handler writes. Provider tests use it to speak each provider's real wire
 * format (JSON bodies and SSE streams) and to assert what the gateway sent.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RecordedRequest {
  method: string
  /** Path without the query string. */
  path: string
  query: URLSearchParams
  headers: http.IncomingHttpHeaders
  /** Parsed JSON when the body is JSON, else the raw text ('' when empty). */
  body: any
  /** The body's bytes as they came (an upload's binary parts intact). */
  raw: Buffer
}

/** The form a multipart request carried, as an upstream reads it. */
export function formOf(req: RecordedRequest): Promise<FormData> {
  return new Response(new Uint8Array(req.raw), { headers: { 'content-type': String(req.headers['content-type']) } }).formData()
}

export type UpstreamHandler = (req: RecordedRequest, res: http.ServerResponse) => void | Promise<void>

export interface MockUpstream {
  readonly url: string
  readonly requests: RecordedRequest[]
  /** Replace the handler (e.g. to fail on demand). */
  handle(handler: UpstreamHandler): void
  close(): Promise<void>
}

export async function startUpstream(handler: UpstreamHandler = (_req, res) => sendJson(res, 404, { error: 'no handler' })): Promise<MockUpstream> {
  let current = handler
  const requests: RecordedRequest[] = []
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const raw = Buffer.concat(chunks)
    const text = raw.toString('utf8')
    let body: unknown = text
    try { body = text ? JSON.parse(text) : '' } catch { /* raw */ }
    const url = new URL(req.url ?? '/', 'http://upstream')
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body, raw }
    requests.push(recorded)
    try {
      await current(recorded, res)
    } catch (err) {
      if (!res.headersSent) sendJson(res, 500, { error: String(err) })
      else res.end()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    handle(next) { current = next },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
}

/** A mock upstream that answers by path; `route` adds or replaces one path's handler. */
export type RoutedUpstream = MockUpstream & { route(path: string, handler: UpstreamHandler): void }

/** A routed mock upstream (a provider's REST paths); a path with no handler gets `otherwise` (the provider's 404). */
export async function startRoutedUpstream(routes: Record<string, UpstreamHandler>, otherwise: UpstreamHandler): Promise<RoutedUpstream> {
  const table = new Map(Object.entries(routes))
  const upstream = await startUpstream((req, res) => (table.get(req.path) ?? otherwise)(req, res))
  return Object.assign(upstream, { route(path: string, handler: UpstreamHandler) { table.set(path, handler) } })
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers })
  res.end(text)
}

/** Write SSE events (`data:` only, or `event:` + `data:` when given), with an optional delay between them. */
export async function sendSse(
  res: http.ServerResponse,
  events: Array<{ event?: string; data: unknown }>,
  options: { delayMs?: number; headers?: Record<string, string> } = {},
): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...(options.headers ?? {}) })
  for (const e of events) {
    const data = typeof e.data === 'string' ? e.data : JSON.stringify(e.data)
    res.write(`${e.event ? `event: ${e.event}\n` : ''}data: ${data}\n\n`)
    if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs))
  }
  res.end()
}

/** The message a client gets when an upstream refuses the gateway's own credentials (401/403): a 502 upstream_auth_failed. */
export function credentialsRefused(provider: string, status: 401 | 403, upstreamMessage: string): string {
  return `${provider}: the provider refused the gateway's credentials (upstream ${status}: ${upstreamMessage}). This is the gateway's provider configuration, not the key you sent; tell the gateway's operators.`
}
