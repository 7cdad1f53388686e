/**
 * The least a proxy built on the gateway's own stack can cost: Koa, the JSON body read as bytes
 * and parsed, its `model` rewritten, sent through an undici Agent as the provider kit does, the
 * answer gathered as bytes and written back. No identity, routing, stages, metrics or log. Its
 * ratio to the bare proxy is the ceiling the chosen packages (DESIGN.md §9) put on the gateway's.
 * Usage: node --import tsx bench/stack-floor.ts PORT UPSTREAM_PORT
 */
import Koa from 'koa'
import getRawBody from 'raw-body'
import { Agent, type Dispatcher } from 'undici'

const upstream = `http://127.0.0.1:${process.argv[3]}`
const agent = new Agent({ keepAliveTimeout: 10_000 })
const app = new Koa()
app.use(async (ctx) => {
  const request = JSON.parse((await getRawBody(ctx.req, { limit: '1mb' })).toString()) as { model: string }
  request.model = 'bench-model'
  const answer = await agent.request({ origin: upstream, path: ctx.path, method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer bench' }, body: JSON.stringify(request) }) as Dispatcher.ResponseData
  ctx.status = answer.statusCode
  ctx.type = 'application/json'
  ctx.body = Buffer.from(await answer.body.arrayBuffer())
})
const server = app.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  console.log(`listening ${(server.address() as { port: number }).port}`)
})
server.keepAliveTimeout = 65_000
process.on('SIGTERM', () => server.close(() => process.exit(0)))
