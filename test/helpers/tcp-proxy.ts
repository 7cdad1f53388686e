/**
 * A TCP proxy a test owns, between the gateway and a shared service, to stage outages without
 * touching the service: `hang()` keeps every connection open and accepts new ones but forwards
 * nothing (bytes wait in the proxy, as in a stalled server or a black-holed network), `release()`
 * forwards what waited and everything after it.
 */
import net from 'node:net'

export interface TcpProxy {
  /** host:port to connect to instead of the service. */
  readonly host: string
  readonly port: number
  hang(): void
  release(): void
  /** Writes from clients that arrived while hung (each a command the service would have got). */
  readonly heldWrites: number
  close(): Promise<void>
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let hung = false
  let heldWrites = 0
  const flushers = new Set<() => void>()
  const sockets = new Set<net.Socket>()

  /** Forward `from` to `to`, holding bytes back while the proxy hangs. */
  const forward = (from: net.Socket, to: net.Socket, fromClient: boolean): (() => void) => {
    const held: Buffer[] = []
    from.on('data', (chunk: Buffer) => {
      if (!hung) return void to.write(chunk)
      held.push(chunk)
      if (fromClient) heldWrites++
    })
    from.on('end', () => to.end())
    return () => { for (const chunk of held.splice(0)) to.write(chunk) }
  }

  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host)
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => { client.destroy(); upstream.destroy() })
      s.on('close', () => sockets.delete(s))
    }
    const flushUp = forward(client, upstream, true)
    const flushDown = forward(upstream, client, false)
    const flush = (): void => { flushUp(); flushDown() }
    flushers.add(flush)
    client.on('close', () => flushers.delete(flush))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  return {
    host: '127.0.0.1',
    port,
    get heldWrites() { return heldWrites },
    hang: () => { hung = true },
    release: () => {
      hung = false
      for (const flush of flushers) flush()
    },
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy()
      server.close(() => resolve())
    }),
  }
}
