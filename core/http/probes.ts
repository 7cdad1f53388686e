/**
 * A worker's probes: `gateway worker --metrics-port N` serves /metrics (its queue consumers' in-flight, retries, dead letters and pickup
 * times, which no gateway's /metrics can see), /health and /ready (the store and the broker), and nothing else: a worker takes no API requests.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import Koa from 'koa'
import type { ReloadController } from '../runtime/controller.ts'
import { probeRoutes } from './app.ts'

export interface ProbeServer {
  readonly url: string
  close(): Promise<void>
}

/** `host` undefined: every address, as the gateway's own default with auth (`::`, or 0.0.0.0 without IPv6). */
export async function startProbes(controller: ReloadController, port: number, host: string | undefined): Promise<ProbeServer> {
  const app = new Koa()
  app.silent = true
  app.use(probeRoutes(controller))
  const server = http.createServer(app.callback())
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, host, resolve) })
  const { port: bound, address } = server.address() as AddressInfo
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${bound}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
}
