/**
 * A company's egress proxy for tests: HTTP CONNECT tunnels (how clients reach https, and http too
 * when they tunnel) and absolute-form plain HTTP requests, each noted with the host it went to.
 */
import http from 'node:http'
import net, { type AddressInfo } from 'node:net'

export interface ForwardProxy {
  readonly url: string
  /** `host:port` of each tunnel or request, in order. */
  readonly seen: string[]
  /** When set, every tunnel and request is refused with this status (407: the proxy wants credentials). */
  refuse: number | undefined
  close(): Promise<void>
}

export async function startForwardProxy(): Promise<ForwardProxy> {
  const seen: string[] = []
  const state: { refuse: number | undefined } = { refuse: undefined }
  const sockets = new Set<net.Socket>()
  const server = http.createServer((req, res) => {
    const target = new URL(req.url ?? '')
    seen.push(target.host)
    if (state.refuse) return void res.writeHead(state.refuse).end()
    const forwarded = http.request(target, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    forwarded.on('error', () => res.writeHead(502).end())
    req.pipe(forwarded)
  })
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    seen.push(req.url ?? '')
    if (state.refuse) return void client.end(`HTTP/1.1 ${state.refuse} Refused\r\n\r\n`)
    const [host, port] = (req.url ?? '').split(':')
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      socket.on('error', () => { client.destroy(); upstream.destroy() })
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    get refuse() { return state.refuse },
    set refuse(status) { state.refuse = status },
    close: () => {
      for (const socket of sockets) socket.destroy()
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
