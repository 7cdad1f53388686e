/**
 * A TCP proxy a test (or a bench script) owns, between the gateway and a shared service, to make
 * an outage without touching the service:
 *  - `cut()` refuses (every connection is reset);
 *  - `blackhole()` accepts and never answers (a hung server, a dropped network path); connections
 *    black-holed are reset on `restore()`, as after a healed partition the server no longer knows them;
 *  - `hang()` keeps every connection and holds what either side sends (a stalled server), and
 *    `release()` forwards what waited and everything after it;
 *  - `restore()` forwards again.
 */
import net from 'node:net'

export type ProxyMode = 'open' | 'cut' | 'blackhole' | 'hang'

export interface TcpProxy {
  readonly host: string
  readonly port: number
  readonly mode: ProxyMode
  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string
  cut(): void
  blackhole(): void
  hang(): void
  /** End a hang: forward what was held. */
  release(): void
  restore(): void
  /** Writes from clients that arrived while hung (each a command the service would have got). */
  readonly heldWrites: number
  close(): Promise<void>
}

interface Link {
  readonly client: net.Socket
  upstream?: net.Socket
  /** Bytes held while hung, per direction. */
  readonly held: { up: Buffer[]; down: Buffer[] }
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: ProxyMode = 'open'
  let heldWrites = 0
  const links = new Set<Link>()

  const swallow = (link: Link): void => {
    link.upstream?.destroy()
    link.upstream = undefined
    // Read and drop what the client sends; never answer.
    link.client.removeAllListeners('data')
    link.client.on('data', () => undefined)
    link.client.resume()
  }

  /** Forward each chunk, or hold it while hung. */
  const relay = (link: Link, from: net.Socket, to: () => net.Socket | undefined, held: Buffer[], fromClient: boolean): void => {
    from.on('data', (chunk: Buffer) => {
      if (mode === 'hang') {
        held.push(chunk)
        if (fromClient) heldWrites++
      } else if (mode === 'open') to()?.write(chunk)
    })
    from.on('end', () => to()?.end())
  }

  // No Nagle delay on either side, as the services themselves and real proxies (PgBouncer, HAProxy)
  // have: a message sent in several small writes (a COPY's data and its end) must not wait 40 ms
  // for the other side's delayed acknowledgement, which no real path between them adds.
  const server = net.createServer({ noDelay: true }, (client) => {
    const link: Link = { client, held: { up: [], down: [] } }
    links.add(link)
    client.on('error', () => undefined)
    client.on('close', () => {
      links.delete(link)
      link.upstream?.destroy()
    })
    if (mode === 'cut') return void client.resetAndDestroy()
    if (mode === 'blackhole') return swallow(link)
    const upstream = net.connect({ ...target, noDelay: true })
    link.upstream = upstream
    upstream.on('error', () => client.destroy())
    upstream.on('close', () => { if (link.upstream === upstream) client.destroy() })
    relay(link, client, () => link.upstream, link.held.up, true)
    relay(link, upstream, () => link.client, link.held.down, false)
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

  const release = (): void => {
    mode = 'open'
    for (const link of links) {
      for (const chunk of link.held.up.splice(0)) link.upstream?.write(chunk)
      for (const chunk of link.held.down.splice(0)) link.client.write(chunk)
    }
  }

  return {
    host: '127.0.0.1',
    port,
    get mode() { return mode },
    get heldWrites() { return heldWrites },
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
    hang() {
      mode = 'hang'
    },
    release,
    restore() {
      if (mode === 'blackhole') resetAll()
      if (mode === 'hang') release()
      mode = 'open'
    },
    async close() {
      resetAll()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
