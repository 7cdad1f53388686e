import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import type { DestinationStream } from 'pino'
import { startGateway } from '../../core/gateway.ts'
import { createLogger, isoTimeField } from '../../core/logger.ts'
import { postJson } from '../helpers/gateway.ts'

const SECRET = 'sk-live-DO-NOT-LOG-4242'

describe('structured logs', () => {
  it('write one JSON line per request with its id, and never a secret', async () => {
    const lines: string[] = []
    const destination: DestinationStream = { write: (text: string) => { lines.push(...text.split('\n').filter(Boolean)) } }
    const gw = await startGateway({
      source: { label: 'log.yaml', dir: process.cwd(), text: `version: 1
providers:
  dead: { plugin: openai, api_key: "${SECRET}", base_url: "http://127.0.0.1:9/v1" }
  mock: { plugin: mock }
routes:
  - { model: dead, targets: [ { provider: dead } ] }
  - { model: mock, targets: [ { provider: mock } ] }
` },
      port: 0, host: '127.0.0.1', watch: false, logger: createLogger('debug', destination),
    })
    try {
      await postJson(`${gw.url}/v1/chat/completions`, { model: 'mock', messages: [{ role: 'user', content: 'hi' }] }, { 'x-request-id': 'log-req-1', authorization: `Bearer ${SECRET}` })
      const failed = await postJson(`${gw.url}/v1/chat/completions`, { model: 'dead', messages: [{ role: 'user', content: 'hi' }] }, { 'x-request-id': 'log-req-2' })
      expect(failed.status).toBe(502)
      expect(JSON.stringify(failed.body)).not.toContain(SECRET)
      await new Promise((r) => setTimeout(r, 50))
    } finally {
      await gw.close()
    }
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
    const access = parsed.filter((l) => l.msg === 'request')
    expect(access.map((l) => [l.reqId, l.status])).toEqual([['log-req-1', 200], ['log-req-2', 502]])
    expect(access[0]).toMatchObject({ level: 'info', method: 'POST', path: '/v1/chat/completions', ms: expect.any(Number) })
    expect(lines.join('\n')).not.toContain(SECRET)
  })

  it('names what a handler\'s request became in its access line (an image generation: route, model, provider, tokens)', async () => {
    const lines: string[] = []
    const destination: DestinationStream = { write: (text: string) => { lines.push(...text.split('\n').filter(Boolean)) } }
    const gw = await startGateway({
      source: { label: 'log.yaml', dir: process.cwd(), text: 'version: 1\nproviders:\n  mock: { plugin: mock }\nroutes:\n  - { model: picture, targets: [ { provider: mock, model: gpt-image-1 } ] }\n' },
      port: 0, host: '127.0.0.1', watch: false, logger: createLogger('info', destination),
    })
    try {
      const answer = await postJson(`${gw.url}/v1/images/generations`, { model: 'picture', prompt: 'a kite' }, { 'x-request-id': 'log-img-1' })
      expect(answer.status).toBe(200)
      await new Promise((r) => setTimeout(r, 50))
    } finally {
      await gw.close()
    }
    const line = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'request' && l.reqId === 'log-img-1')
    expect(line).toMatchObject({ path: '/v1/images/generations', status: 200, route: 'picture', model: 'picture', provider: 'mock', upstream_model: 'gpt-image-1', prompt_tokens: expect.any(Number) })
  })

  it('stamps every line with the ISO time to the millisecond, its second part reused only within its second', () => {
    const time = isoTimeField()
    // Milliseconds in one second, across a second, a minute, a day and a year, back in time, and the same one twice.
    const start = Date.UTC(2026, 11, 31, 23, 59, 58, 990)
    const moments = [start, start + 1, start + 9, start + 10, start + 99, start + 100, start + 1009, start + 1010, start + 1011, start + 86_400_000, start + 5, start + 5, 0, 1_000, 999]
    for (const t of moments) expect(time(t)).toBe(`,"time":"${new Date(t).toISOString()}"`)

    const lines: string[] = []
    const before = Date.now()
    createLogger('info', { write: (line: string) => { lines.push(line) } }).info('hello')
    const stamped = Date.parse(String((JSON.parse(lines[0]) as { time: string }).time))
    expect(stamped).toBeGreaterThanOrEqual(before)
    expect(stamped).toBeLessThanOrEqual(Date.now())
    expect(lines[0]).toMatch(/^\{"level":"info","time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","msg":"hello"\}\n$/)
  })

  it('writes the access lines of a burst together, within 10 ms of the first', async () => {
    const writes: string[] = []
    const gw = await startGateway({
      source: { label: 'log.yaml', dir: process.cwd(), text: 'version: 1\nproviders:\n  mock: { plugin: mock }\nroutes:\n  - { model: mock, targets: [ { provider: mock } ] }\n' },
      port: 0, host: '127.0.0.1', watch: false, logger: createLogger('info', { write: (text: string) => { if (text.includes('"msg":"request"')) writes.push(text) } }),
    })
    try {
      const ids = Array.from({ length: 20 }, (_, i) => `burst-${i}`)
      await Promise.all(ids.map((id) => postJson(`${gw.url}/v1/chat/completions`, { model: 'mock', messages: [{ role: 'user', content: 'hi' }] }, { 'x-request-id': id })))
      const answered = Date.now()
      while (writes.join('').split('\n').filter(Boolean).length < ids.length && Date.now() - answered < 1000) await new Promise((r) => setTimeout(r, 2))
      expect(Date.now() - answered).toBeLessThan(200)
      const lines = writes.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { reqId: string })
      expect(lines.map((l) => l.reqId).sort()).toEqual([...ids].sort())
      // Twenty answers within a few ms: a write gathers several lines (one write per line before).
      expect(writes.length).toBeLessThan(ids.length / 2)
    } finally {
      await gw.close()
    }
  })

  it('writes the access lines still waiting when the process exits (process.exit)', () => {
    const script = `
      import { startGateway } from './core/gateway.ts'
      import { createLogger } from './core/logger.ts'
      const gw = await startGateway({ source: { label: 'x.yaml', dir: process.cwd(), text: 'version: 1\\nproviders:\\n  mock: { plugin: mock }\\nroutes:\\n  - { model: mock, targets: [ { provider: mock } ] }\\n' }, port: 0, host: '127.0.0.1', watch: false, logger: createLogger('info') })
      const answer = await fetch(gw.url + '/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'at-exit-1' }, body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] }) })
      await answer.text()
      // Within the 10 ms the line may wait: only the exit hook can write it now.
      setTimeout(() => process.exit(0), 1)`
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd(), encoding: 'utf8', timeout: 30_000 })
    expect(run.status, run.stderr).toBe(0)
    const line = run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string; reqId?: string }).find((l) => l.msg === 'request')
    expect(line).toMatchObject({ reqId: 'at-exit-1', status: 200 })
  })

  it('redacts secret-looking fields wherever they are logged', () => {
    const lines: string[] = []
    const logger = createLogger('info', { write: (l: string) => { lines.push(l) } })
    logger.info({ api_key: SECRET, provider: { api_key: SECRET, headers: { authorization: `Bearer ${SECRET}` } } }, 'config')
    expect(lines[0]).not.toContain(SECRET)
    expect(JSON.parse(lines[0]).api_key).toBe('[redacted]')
  })
})
