/**
 * The least any Node gateway can cost: a pass-through proxy with keep-alive to the upstream and
 * nothing else. Usage: node --import tsx bench/bare-proxy.ts PORT UPSTREAM_PORT
 */
import http from 'node:http'

const upstreamPort = Number(process.argv[3])
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 })

const server = http.createServer((req, res) => {
  const path = (req.url ?? '/').replace(/^\/v1/, '/v1')
  const upstream = http.request({ host: '127.0.0.1', port: upstreamPort, path, method: req.method, headers: req.headers, agent }, (up) => {
    res.writeHead(up.statusCode ?? 502, up.headers)
    up.pipe(res)
  })
  upstream.on('error', () => { res.writeHead(502); res.end() })
  req.pipe(upstream)
})
server.keepAliveTimeout = 65_000
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  console.log(`listening ${(server.address() as { port: number }).port}`)
})
