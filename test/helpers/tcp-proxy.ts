/**
 * A TCP proxy a test (or a bench script) owns, between the gateway and a shared service, to make
 * an outage without touching the service: `cut()` refuses (every connection is reset),
 * `blackhole()` accepts and never answers (a hung server, a dropped network path), `restore()`
 * forwards again. Connections that were black-holed are reset on restore, as after a healed
 * partition the server no longer knows them.
 */
import net from 'node:net'

export type ProxyMode = 'open' | 'cut' | 'blackhole'

export interface TcpProxy {
  readonly port: number
  readonly mode: ProxyMode
  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string
  cut(): void
  blackhole(): void
  restore(): void
  close(): Promise<void>
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: ProxyMode = 'open'
  const links = new Set<{ client: net.Socket; upstream?: net.Socket }>()

  const swallow = (link: { client: net.Socket; upstream?: net.Socket }): void => {
    link.upstream?.destroy()
    link.upstream = undefined
    link.client.unpipe()
    // Read and drop what the client sends; never answer.
    link.client.removeAllListeners('data')
    link.client.on('data', () => undefined)
    link.client.resume()
  }

  const server = net.createServer((client) => {
    const link: { client: net.Socket; upstream?: net.Socket } = { client }
    links.add(link)
    client.on('error', () => undefined)
    client.on('close', () => {
      links.delete(link)
      link.upstream?.destroy()
    })
    if (mode === 'cut') return void client.resetAndDestroy()
    if (mode === 'blackhole') return swallow(link)
    const upstream = net.connect(target)
    link.upstream = upstream
    upstream.on('error', () => client.destroy())
    upstream.on('close', () => { if (link.upstream === upstream) client.destroy() })
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo

  const resetAll = (): void => {
    for (const link of links) {
      link.upstream?.destroy()
      link.client.resetAndDestroy()
    }
    links.clear()
  }

  return {
    port,
    get mode() { return mode },
    via(url: string) {
      const u = new URL(url)
      u.hostname = '127.0.0.1'
      u.port = String(port)
      return u.toString()
    },
    cut() {
      mode = 'cut'
      resetAll()
    },
    blackhole() {
      mode = 'blackhole'
      for (const link of links) swallow(link)
    },
    restore() {
      if (mode === 'blackhole') resetAll()
      mode = 'open'
    },
    async close() {
      resetAll()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
