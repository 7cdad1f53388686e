/**
 * A worker's probes: `gateway worker --metrics-port N` serves /metrics (its queue consumers'
 * in-flight, retries, dead letters and pickup times, which no gateway's /metrics can see), /health
 * and /ready (the store and the broker), and nothing else: a worker takes no API requests.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ReloadController } from '../runtime/controller.ts'
import { health, readiness } from './app.ts'

export interface ProbeServer {
  readonly url: string
  close(): Promise<void>
}

export async function startProbes(controller: ReloadController, port: number, host: string): Promise<ProbeServer> {
  const server = http.createServer((req, res) => {
    const send = (status: number, type: string, body: string) => { res.writeHead(status, { 'content-type': type }); res.end(body) }
    const path = (req.url ?? '/').split('?')[0]
    if (req.method !== 'GET') return send(405, 'text/plain', 'GET only\n')
    if (path === '/metrics') {
      const { registry } = controller.shared.metrics
      void registry.metrics().then((text) => send(200, registry.contentType, text), (err: Error) => send(500, 'text/plain', `${err.message}\n`))
      return
    }
    if (path === '/health') return send(200, 'application/json', JSON.stringify(health(controller)))
    if (path === '/ready') {
      void readiness(controller.current).then(({ ready, backends }) => send(ready ? 200 : 503, 'application/json', JSON.stringify({ status: ready ? 'ready' : 'not_ready', backends })))
      return
    }
    send(404, 'text/plain', 'a worker serves /metrics, /health and /ready\n')
  })
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, host, resolve) })
  const bound = (server.address() as AddressInfo).port
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
}
