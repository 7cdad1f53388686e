/**
 * An upstream that resets kept-alive connections on demand, for the kit's retry of a request whose
 * pooled socket was reset before any answer: it notes which socket each request arrived on and
 * whether it answered. `resetWhen(n)` sees the n-th request on its socket, counted from the last
 * `clear()` (a socket of the gateway's pool outlives a test).
 */
import http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

export interface ResettingUpstream {
  readonly origin: string
  /** Each request, in order: its socket's number, whether it was answered, its user agent. */
  readonly seen: Array<{ socket: number; answered: boolean; userAgent: string | undefined }>
  resetWhen: (requestOnSocket: number) => boolean
  /** Forget what was seen, answer everything again, count each socket's requests afresh. */
  clear(): void
  close(): Promise<void>
}

/** `answer` writes the answer of a request that is not reset (it may reset mid-body itself). */
export async function startResettingUpstream(answer: (res: http.ServerResponse, socket: Socket, req: http.IncomingMessage) => void): Promise<ResettingUpstream> {
  let sockets = new WeakMap<Socket, { id: number; requests: number }>()
  let nextSocket = 0
  const seen: ResettingUpstream['seen'] = []
  const server = http.createServer((req, res) => {
    let entry = sockets.get(req.socket)
    if (!entry) sockets.set(req.socket, (entry = { id: ++nextSocket, requests: 0 }))
    const reset = upstream.resetWhen(++entry.requests)
    seen.push({ socket: entry.id, answered: !reset, userAgent: req.headers['user-agent'] })
    req.resume()
    // A TCP reset, as an upstream (or a load balancer before it) sends when it drops an idle connection.
    req.on('end', () => (reset ? req.socket.resetAndDestroy() : answer(res, req.socket, req)))
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const upstream: ResettingUpstream = {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    resetWhen: () => false,
    clear() {
      seen.length = 0
      upstream.resetWhen = () => false
      sockets = new WeakMap()
    },
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
  return upstream
}

/** gateway_upstream_retries_total for `provider`'s reset connections, from the gateway's /metrics. */
export async function resetRetries(gatewayUrl: string, provider: string): Promise<number> {
  const lines = (await (await fetch(`${gatewayUrl}/metrics`)).text()).split('\n')
  const line = lines.find((l) => l.startsWith('gateway_upstream_retries_total{') && l.includes(`provider="${provider}"`) && l.includes('reason="connection_reset"'))
  return line ? Number(line.split(' ').at(-1)) : 0
}
