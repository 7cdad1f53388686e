/**
 * Safe defaults (loopback without auth, CORS off unless configured) and honest logs (ISO time, one
 * `msg` per line, what a request became on its request line, the failing provider on a 502,
 * "no store" said at start, a skipped TimescaleDB migration said once per database).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import net, { type AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { startGateway, type RunningGateway } from '../../core/gateway.ts'
import { createLogger } from '../../core/logger.ts'
import { freshJournalDir, startTestGateway } from '../helpers/gateway.ts'

const MOCK = `version: 1
providers:
  mock: { plugin: mock }
routes:
  - model: mock
    targets: [ { provider: mock } ]
`
const AUTH = `auth:
  strategies:
    - plugin: api-key
      keys: [ { key: "sk-operability-test-key-0001", user: ops, role: admin } ]
`

function capture(): { lines: Record<string, unknown>[]; raw: string[]; logger: ReturnType<typeof createLogger> } {
  const raw: string[] = []
  const logger = createLogger('debug', { write: (text: string) => { raw.push(...text.split('\n').filter(Boolean)) } })
  return { raw, get lines() { return raw.map((l) => JSON.parse(l) as Record<string, unknown>) }, logger }
}

async function start(text: string, logger = createLogger('silent'), dir = os.tmpdir()): Promise<RunningGateway> {
  // No `host`: the gateway picks it, as `gateway start` does.
  return startGateway({ source: { text, label: 'ops.yaml', dir }, port: 0, watch: false, logger })
}

const hostOf = (gw: RunningGateway): string => (gw.server.address() as AddressInfo).address
/** Whether this machine can listen on IPv6 (its loopback, ::1). */
const ipv6 = await new Promise<boolean>((resolve) => {
  const probe = net.createServer().once('error', () => resolve(false))
  probe.listen(0, '::1', () => probe.close(() => resolve(true)))
})

describe('safe defaults', () => {
  it('without auth listens on the loopback only and warns that every caller is the anonymous admin', async () => {
    const log = capture()
    const gw = await start(MOCK, log.logger)
    try {
      expect(hostOf(gw)).toBe('127.0.0.1')
      expect(log.lines.find((l) => l.level === 'warn' && String(l.msg).includes('anonymous admin'))).toBeDefined()
    } finally { await gw.close() }
  })

  it('with auth listens on every interface, IPv6 and IPv4 (a pod of an IPv6-only cluster is probed on its IPv6 address); without auth only when server.host says so, with a warning', async () => {
    const withAuth = await start(MOCK + AUTH)
    try {
      // Node's default: `::`, which takes IPv4 too; 0.0.0.0 where the host has no IPv6.
      expect(hostOf(withAuth)).toBe(ipv6 ? '::' : '0.0.0.0')
      for (const address of ipv6 ? ['127.0.0.1', '[::1]'] : ['127.0.0.1']) {
        expect((await fetch(`http://${address}:${withAuth.port}/health`)).status, address).toBe(200)
      }
    } finally { await withAuth.close() }
    const log = capture()
    const explicit = await start(MOCK + 'server: { host: 0.0.0.0 }\n', log.logger)
    try {
      expect(hostOf(explicit)).toBe('0.0.0.0')
      expect(log.lines.some((l) => l.level === 'warn' && String(l.msg).includes('without auth'))).toBe(true)
    } finally { await explicit.close() }
  })
})

describe('cors', () => {
  let gw: RunningGateway
  beforeAll(async () => {
    gw = await startTestGateway(`${MOCK}cors: { origins: ["https://app.example.com"], credentials: true }\n`)
  })
  afterAll(() => gw.close())

  it('answers a preflight from a listed origin, on /v1 and /api/v1', async () => {
    for (const p of ['/v1/chat/completions', '/api/v1/admin/routes']) {
      const res = await fetch(`${gw.url}${p}`, { method: 'OPTIONS', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } })
      expect(res.status).toBe(204)
      expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example.com')
      expect(res.headers.get('access-control-allow-credentials')).toBe('true')
      expect(res.headers.get('access-control-allow-headers')).toContain('authorization')
    }
  })

  it('lets a browser read an answer and the gateway headers; an unlisted origin gets no CORS headers', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { origin: 'https://app.example.com', 'content-type': 'application/json' }, body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] }) })
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example.com')
    expect(res.headers.get('access-control-expose-headers')).toContain('x-gateway-provider')
    const other = await fetch(`${gw.url}/v1/chat/completions`, { method: 'OPTIONS', headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' } })
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
    // An error answer keeps them, so the app can read why.
    const missing = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { origin: 'https://app.example.com', 'content-type': 'application/json' }, body: JSON.stringify({ model: 'nope', messages: [{ role: 'user', content: 'hi' }] }) })
    expect(missing.status).toBe(404)
    expect(missing.headers.get('access-control-allow-origin')).toBe('https://app.example.com')
  })

  it('is off without a cors: setting', async () => {
    const plain = await startTestGateway(MOCK)
    try {
      const res = await fetch(`${plain.url}/v1/chat/completions`, { method: 'OPTIONS', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' } })
      expect(res.headers.get('access-control-allow-origin')).toBeNull()
    } finally { await plain.close() }
  })

  it('follows a reload: a config that adds cors: answers preflights, one that drops it stops', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-cors-'))
    const file = path.join(dir, 'gateway.yaml')
    const preflight = async (gw: RunningGateway) => (await fetch(`${gw.url}/v1/chat/completions`, { method: 'OPTIONS', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' } })).headers.get('access-control-allow-origin')
    await writeFile(file, MOCK)
    const reloading = await startTestGateway({ file })
    try {
      expect(await preflight(reloading)).toBeNull()
      await writeFile(file, `${MOCK}cors: { origins: ["https://app.example.com"] }\n`)
      expect((await reloading.controller.reload('test')).status).toBe('reloaded')
      expect(await preflight(reloading)).toBe('https://app.example.com')
      await writeFile(file, MOCK)
      expect((await reloading.controller.reload('test')).status).toBe('reloaded')
      expect(await preflight(reloading)).toBeNull()
    } finally {
      await reloading.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("refuses credentials with the '*' origin (a browser would)", async () => {
    await expect(startTestGateway(`${MOCK}cors: { origins: ["*"], credentials: true }\n`)).rejects.toThrow(/cors\.origins.*credentials/)
  })
})

describe('logs', () => {
  it('use ISO time, one msg per line, name what a request became, and a 502 names its provider', async () => {
    const log = capture()
    const gw = await startGateway({
      source: { label: 'logs.yaml', dir: os.tmpdir(), text: `version: 1
providers:
  mock: { plugin: mock }
  dead: { plugin: openai, api_key: sk-test, base_url: "http://127.0.0.1:9/v1" }
routes:
  - { model: mock, targets: [ { provider: mock, model: mock-1 } ] }
  - { model: dead, targets: [ { provider: dead, model: gpt-dead } ] }
` },
      port: 0, host: '127.0.0.1', watch: false, logger: log.logger,
    })
    try {
      const startLines = log.lines.map((l) => l.msg)
      expect(startLines.some((m) => String(m).startsWith('no store configured'))).toBe(true)
      const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 })
      await client.chat.completions.create({ model: 'mock', messages: [{ role: 'user', content: 'hello there' }] })
      const failed = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dead', messages: [{ role: 'user', content: 'hi' }] }) })
      expect(failed.status).toBe(502)
      expect(failed.headers.get('x-gateway-route')).toBe('dead')
      expect(failed.headers.get('x-gateway-provider')).toBe('dead')
      expect(failed.headers.get('x-gateway-attempts')).toBe('1')
      const answered = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] }) })
      expect(Object.fromEntries([...answered.headers].filter(([name]) => name === 'content-type' || name.startsWith('x-gateway-')))).toEqual({
        'content-type': 'application/json; charset=utf-8', 'x-gateway-route': 'mock', 'x-gateway-provider': 'mock', 'x-gateway-model': 'mock-1', 'x-gateway-attempts': '1', 'x-gateway-cache': 'bypass',
      })
      await new Promise((r) => setTimeout(r, 50))
    } finally { await gw.close() }

    for (const line of log.raw) expect(line.match(/"msg":/g)?.length, line).toBe(1)
    for (const line of log.lines) expect(String(line.time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    const requests = log.lines.filter((l) => l.msg === 'request')
    expect(requests[0]).toMatchObject({ status: 200, route: 'mock', model: 'mock', provider: 'mock', upstream_model: 'mock-1', attempts: 1, prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) })
    expect(requests[1]).toMatchObject({ status: 502, route: 'dead', provider: 'dead', attempts: 1 })
    const upstream = log.lines.find((l) => l.msg === 'upstream error')
    expect(upstream).toMatchObject({ status: 502, provider: 'dead', route: 'dead', error: expect.stringMatching(/./) })
    expect(log.lines.some((l) => String(l.msg).startsWith('no store configured') && l.level === 'warn')).toBe(false)
  })

  it('say once per database that the TimescaleDB migration is skipped, and why', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-ops-store-'))
    const config = `${MOCK}store: { plugin: embedded, path: "${dir}" }\nusage: { journal_dir: "${freshJournalDir()}" }\n`
    const skippedLines = async () => {
      const log = capture()
      const gw = await start(config, log.logger)
      await gw.close()
      return log.lines.filter((l) => String(l.msg).includes('usage_events_hypertable skipped'))
    }
    try {
      const first = await skippedLines()
      expect(first).toHaveLength(1)
      expect(first[0].level).toBe('info')
      expect(first[0].msg).toMatch(/does not offer the extension 'timescaledb'.*plain table/)
      const second = await skippedLines()
      expect(second.map((l) => l.level)).toEqual(['debug'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 120_000) // two starts, the first creating a fresh embedded database: 10-27 s each at load 14 (733 ms on a quiet machine)
})
