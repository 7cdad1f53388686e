/**
 * The management API (/api/v1) as an operator sees it, for every service at once (stage.management):
 * a store outage answers 503 `store_unavailable` with a retry-after and is logged once, not as a
 * stack per request; a NUL in a text field is the client's 400, not a 500; and every answer, 4xx
 * and 5xx included, is counted by service, route template, method and status. The outage is made
 * by a TCP proxy the test owns in front of PostgreSQL; the shared server is never touched.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type RunningGateway } from '../../core/gateway.ts'
import { freshJournalDir, withUsage } from '../helpers/gateway.ts'
import { capturingLogger, type LogLine } from '../helpers/logs.ts'
import { startTcpProxy } from '../helpers/tcp-proxy.ts'
import { waitFor } from '../helpers/wait.ts'
import { DATABASE_URL, dropSchema, POSTGRES_ENABLED, uniqueSchema } from '../store/helpers.ts'

const ADMIN_KEY = 'sk-management-test-admin-0001'
const ADMIN = { authorization: `Bearer ${ADMIN_KEY}` }

const cleanup: (() => Promise<unknown>)[] = []
afterEach(async () => { while (cleanup.length) await cleanup.pop()!() })

async function start(store: string): Promise<{ gw: RunningGateway; lines: LogLine[] }> {
  const { logger, lines } = capturingLogger('info')
  const text = withUsage(`version: 1
${store}
providers: { mock: { plugin: mock } }
routes: [ { model: mock, targets: [ { provider: mock } ] } ]
auth: { strategies: [ { plugin: api-key, keys: [ { key: "${ADMIN_KEY}", user: admin, role: admin } ] } ] }
services: { keys: {}, users: {}, analytics: {}, files: {} }
`, { flushIntervalMs: 50, journalDir: freshJournalDir() })
  const gw = await startGateway({ source: { text, label: 'management.yaml', dir: process.cwd() }, port: 0, host: '127.0.0.1', watch: false, logger })
  cleanup.push(() => gw.close())
  return { gw, lines }
}

async function call(gw: RunningGateway, method: string, path: string, body?: unknown, headers: Record<string, string> = ADMIN) {
  const res = await fetch(`${gw.url}${path}`, {
    method, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: res.status, headers: res.headers, body: (await res.json()) as { success: boolean; error: string | null; message: string; data: unknown } }
}

/** gateway_management_requests_total's series, as `{labels} value` by their label text. */
async function managementSeries(gw: RunningGateway): Promise<Map<string, number>> {
  const text = await (await fetch(`${gw.url}/metrics`)).text()
  const series = new Map<string, number>()
  for (const line of text.split('\n')) {
    const m = /^gateway_management_requests_total(\{.*\}) (\S+)$/.exec(line)
    if (m) series.set(m[1], Number(m[2]))
  }
  return series
}

const labels = (service: string, route: string, method: string, status: number): string => `{service="${service}",route="${route}",method="${method}",status="${status}"}`

describe.runIf(POSTGRES_ENABLED)('the management API while PostgreSQL is unreachable', () => {
  it('answers 503 store_unavailable with a retry-after on every service, logs one line, counts them, and serves again once it is back', { timeout: 90_000 }, async () => {
    const target = new URL(DATABASE_URL)
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
    const schema = uniqueSchema('mgmt')
    cleanup.push(() => dropSchema(schema), () => proxy.close())
    const { gw, lines } = await start(`store: { plugin: postgres, url: "${proxy.via(DATABASE_URL)}", schema: ${schema}, connect_timeout_ms: 500, query_timeout_ms: 1000 }`)
    const made = await call(gw, 'POST', '/api/v1/keys', { name: 'before' })
    expect(made.status).toBe(201)
    // Never used before the outage: its lookup is not cached.
    const virtualKey = (made.body.data as { key: string }).key

    proxy.cut()
    const asked = [['GET', '/api/v1/keys'], ['POST', '/api/v1/keys'], ['GET', '/api/v1/users'], ['GET', '/api/v1/analytics/usage']] as const
    for (let round = 0; round < 5; round++) {
      for (const [method, path] of asked) {
        const res = await call(gw, method, path, method === 'POST' ? { name: 'during' } : undefined)
        expect(res.status, `${method} ${path}`).toBe(503)
        expect(res.body).toMatchObject({ success: false, error: 'store_unavailable' })
        expect(res.headers.get('retry-after')).toBe('5')
        // Nothing of the driver's or the database's address reaches the client.
        expect(res.body.message).not.toMatch(/ECONN|127\.0\.0\.1|terminated/)
      }
    }
    // Model requests with that key cannot be authenticated: 503 auth_unavailable, said once.
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST', headers: { authorization: `Bearer ${virtualKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] }),
      })
      expect(res.status).toBe(503)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('auth_unavailable')
    }
    // The API surfaces' stored objects the same way, in their own error shape.
    const files = await fetch(`${gw.url}/v1/files`, { headers: ADMIN })
    expect(files.status).toBe(503)
    expect(files.headers.get('retry-after')).toBe('5')
    expect(((await files.json()) as { error: { code: string } }).error.code).toBe('store_unavailable')
    // A server that accepts and never answers: 503 within the query timeout, not a hung request.
    proxy.blackhole()
    const started = performance.now()
    expect((await call(gw, 'GET', '/api/v1/keys')).status).toBe(503)
    expect(performance.now() - started).toBeLessThan(10_000)

    // One line for each outage the requests met, none (a stack, or the kernel's 5xx line) per request.
    expect(lines.filter((l) => l.msg === 'unhandled error' || l.msg === 'upstream error')).toEqual([])
    const lookups = lines.filter((l) => l.level === 'error')
    expect(lookups).toHaveLength(1)
    expect(lookups[0]).toMatchObject({ plugin: 'auth.api-key', times: 1 })
    expect(String(lookups[0].msg)).toMatch(/^API key lookup failed/)
    const said = lines.filter((l) => String(l.msg).startsWith('the store is unreachable'))
    expect(said).toHaveLength(1)
    expect(said[0]).toMatchObject({ level: 'warn', plugin: 'stage.management' })

    const series = await managementSeries(gw)
    expect(series.get(labels('keys', '/api/v1/keys', 'GET', 503))).toBe(6)
    expect(series.get(labels('keys', '/api/v1/keys', 'POST', 503))).toBe(5)
    expect(series.get(labels('users', '/api/v1/users', 'GET', 503))).toBe(5)
    expect(series.get(labels('analytics', '/api/v1/analytics/usage', 'GET', 503))).toBe(5)
    expect(series.get(labels('keys', '/api/v1/keys', 'POST', 201))).toBe(1)

    proxy.restore()
    await waitFor(async () => (await call(gw, 'GET', '/api/v1/keys')).status === 200, 15_000, 200)
    const after = await call(gw, 'POST', '/api/v1/keys', { name: 'after' })
    expect(after.status).toBe(201)
  })

  it('refuses a NUL in a text field with 400 invalid_text, and keeps nothing of the request', { timeout: 60_000 }, async () => {
    const schema = uniqueSchema('mgmtnul')
    cleanup.push(() => dropSchema(schema))
    const { gw, lines } = await start(`store: { plugin: postgres, url: "${DATABASE_URL}", schema: ${schema} }`)
    await expectNulRefused(gw, lines)
  })
})

describe('the management API on the embedded store', () => {
  let shared: { gw: RunningGateway; lines: LogLine[] }
  beforeAll(async () => {
    shared = await start('store: { plugin: embedded, memory: true, vector: false }')
    // Closed after the describe's tests, not after each.
    cleanup.pop()
  }, 60_000)
  afterAll(() => shared?.gw.close())

  it('refuses a NUL in a text field with 400 invalid_text, and keeps nothing of the request', async () => {
    await expectNulRefused(shared.gw, shared.lines)
  })

  it('counts every answer by service, route template, method and status: 2xx, 4xx, an unknown path without its text', async () => {
    const { gw } = shared
    const id = '0b7c3f5e-1111-4222-8333-944455556666'
    expect((await call(gw, 'POST', '/api/v1/keys', { name: 'counted' })).status).toBe(201)
    expect((await call(gw, 'GET', '/api/v1/keys?limit=-1')).status).toBe(400)
    expect((await call(gw, 'GET', `/api/v1/keys/${id}`)).status).toBe(404)
    expect((await call(gw, 'GET', '/api/v1/keys', undefined, {})).status).toBe(401)
    expect((await call(gw, 'GET', `/api/v1/no-such-service/${id}`)).status).toBe(404)
    // The model API is counted where it always was, not here.
    expect((await fetch(`${gw.url}/v1/models`, { headers: ADMIN })).status).toBe(200)

    const series = await managementSeries(gw)
    expect(series.get(labels('keys', '/api/v1/keys', 'POST', 201))).toBe(1)
    expect(series.get(labels('keys', '/api/v1/keys', 'GET', 400))).toBe(1)
    expect(series.get(labels('keys', '/api/v1/keys/:id', 'GET', 404))).toBe(1)
    expect(series.get(labels('keys', '/api/v1/keys', 'GET', 401))).toBe(1)
    expect(series.get(labels('', '', 'GET', 404))).toBe(1)
    // Route templates only: no series names a raw path (an id, an unknown service), none the model API.
    expect([...series.keys()].filter((k) => k.includes(id) || k.includes('no-such-service') || k.includes('/v1/models'))).toEqual([])
  })
})

async function expectNulRefused(gw: RunningGateway, lines: LogLine[]): Promise<void> {
  const res = await call(gw, 'POST', '/api/v1/keys', { name: 'a\u0000b' })
  expect(res.status).toBe(400)
  expect(res.body).toMatchObject({ success: false, error: 'invalid_text' })
  expect(res.body.message).toContain('U+0000')
  const list = await call(gw, 'GET', '/api/v1/keys')
  expect(list.status).toBe(200)
  expect(list.body.data).toEqual([])
  expect(lines.filter((l) => l.level === 'error')).toEqual([])
}
