/**
 * The store plugins inside a running gateway: configured in gateway.yaml, reported on GET /ready,
 * refused at start when the database is unreachable, and reported down (503) when it goes away.
 */
import net from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { DATABASE_URL, dropSchema, POSTGRES_ENABLED, uniqueSchema } from './helpers.ts'
import { freePort } from '../helpers/ports.ts'

const ROUTES = `
providers:
  mock: { plugin: mock }
routes:
  - model: mock
    targets: [ { provider: mock } ]
`

async function ready(gw: RunningGateway): Promise<{ status: number; body: { status: string; backends: Record<string, string> } }> {
  const res = await fetch(`${gw.url}/ready`)
  return { status: res.status, body: (await res.json()) as { status: string; backends: Record<string, string> } }
}

/** A TCP forwarder we can cut, standing in for a database that goes away and comes back. */
async function tcpProxy(targetPort: number): Promise<{ port: number; cut(): Promise<void>; restore(): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>()
  let server: net.Server | undefined
  let port = 0
  const listen = () => new Promise<void>((resolve, reject) => {
    server = net.createServer((client) => {
      const upstream = net.connect(targetPort, '127.0.0.1')
      for (const s of [client, upstream]) {
        sockets.add(s)
        s.on('close', () => sockets.delete(s))
        s.on('error', () => { client.destroy(); upstream.destroy() })
      }
      client.pipe(upstream).pipe(client)
    })
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => {
      port = (server!.address() as net.AddressInfo).port
      resolve()
    })
  })
  const cut = async () => {
    const closed = new Promise<void>((resolve) => server!.close(() => resolve()))
    for (const s of sockets) s.destroy()
    await closed
  }
  await listen()
  return { port, cut, restore: listen, close: cut }
}

describe('a gateway on the embedded store', () => {
  let gw: RunningGateway | undefined
  afterAll(() => gw?.close())

  it('starts with `store: { plugin: embedded, memory: true }` and reports the store ready', async () => {
    gw = await startTestGateway(`version: 1\nstore: { plugin: embedded, memory: true }\n${ROUTES}`)
    expect(await ready(gw)).toEqual({ status: 200, body: { status: 'ready', backends: { store: 'ok' } } })
    // The chat path is unaffected by the store being there.
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] }),
    })
    expect(res.status).toBe(200)
  }, 60_000)

  it('refuses an unknown key in the store block, naming it', async () => {
    await expect(startTestGateway(`version: 1\nstore: { plugin: embedded, memroy: true }\n${ROUTES}`)).rejects.toThrow(/memroy/)
  })
})

describe.runIf(POSTGRES_ENABLED)('a gateway on PostgreSQL', () => {
  const schemas: string[] = []
  const gateways: RunningGateway[] = []
  afterAll(async () => {
    for (const gw of gateways) await gw.close()
    for (const schema of schemas) await dropSchema(schema)
  })
  const start = async (url: string, extra = ''): Promise<RunningGateway> => {
    const schema = uniqueSchema('gw')
    schemas.push(schema)
    const gw = await startTestGateway(`version: 1\nstore: { plugin: postgres, url: "${url}", schema: ${schema}, connect_timeout_ms: 1000${extra} }\n${ROUTES}`)
    gateways.push(gw)
    return gw
  }

  it('starts with a url and a schema, migrates that schema, and reports the store ready', async () => {
    const gw = await start(DATABASE_URL)
    expect(await ready(gw)).toEqual({ status: 200, body: { status: 'ready', backends: { store: 'ok' } } })
    const { rows } = await gw.controller.current.store!.sql.query<{ schema: string }>('SELECT current_schema() AS schema')
    expect(rows[0].schema).toBe(schemas.at(-1))
  })

  it('reports 503 while the database is unreachable, and ready again once it is back', async () => {
    const target = new URL(DATABASE_URL)
    const proxy = await tcpProxy(Number(target.port || 5432))
    try {
      const viaProxy = new URL(DATABASE_URL)
      viaProxy.hostname = '127.0.0.1'
      viaProxy.port = String(proxy.port)
      const gw = await start(viaProxy.toString())
      expect((await ready(gw)).status).toBe(200)

      await proxy.cut()
      const down = await ready(gw)
      expect(down.status).toBe(503)
      expect(down.body.status).toBe('not_ready')
      expect(down.body.backends.store).toMatch(/^down: /)

      await proxy.restore()
      expect(await ready(gw)).toMatchObject({ status: 200, body: { backends: { store: 'ok' } } })
    } finally {
      await proxy.close().catch(() => undefined)
    }
  })

  it('refuses to start when the database is unreachable, saying where without the password', async () => {
    const port = await freePort()
    const started = Date.now()
    const err = await startTestGateway(
      `version: 1\nstore: { plugin: postgres, url: "postgres://gateway:hunter2@127.0.0.1:${port}/app", connect_timeout_ms: 1000 }\n${ROUTES}`,
    ).then(() => undefined, (e: Error) => e)
    expect(err).toBeInstanceOf(Error)
    expect(err!.message).toContain('store.postgres')
    expect(err!.message).toContain(`cannot use PostgreSQL at 127.0.0.1:${port}/app`)
    expect(err!.message).not.toContain('hunter2')
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('says nothing of a connection string without its postgres:// (user:password@host/db): not its password', async () => {
    const port = await freePort()
    const err = await startTestGateway(
      `version: 1\nstore: { plugin: postgres, url: "gateway:hunter2@127.0.0.1:${port}/app", connect_timeout_ms: 1000 }\n${ROUTES}`,
    ).then(() => undefined, (e: Error) => e)
    expect(err!.message).toContain('cannot use PostgreSQL at the configured database')
    expect(err!.message).not.toContain('hunter2')
  })

  it('refuses a schema name that is not a plain lower-case identifier', async () => {
    await expect(startTestGateway(`version: 1\nstore: { plugin: postgres, url: "${DATABASE_URL}", schema: "x; DROP TABLE users" }\n${ROUTES}`))
      .rejects.toThrow(/schema/)
  })
})
