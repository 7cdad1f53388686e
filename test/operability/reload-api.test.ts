/**
 * POST /api/v1/admin/reload reloads the config (every worker's with --workers), and /health shows
 * the config version of every worker in one place.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { startTestGateway } from '../helpers/gateway.ts'
import { GATEWAY_BIN } from '../helpers/cli.ts'
import { waitFor } from '../helpers/wait.ts'

const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-reload-api-'))
const config = (reply: string) => `version: 1
providers:
  mock: { plugin: mock, reply: "${reply}" }
routes:
  - model: mock
    targets: [ { provider: mock } ]
`

describe('POST /api/v1/admin/reload', () => {
  it('reloads the config now, and refuses a bad one with 422 and its issues, keeping the old', async () => {
    const file = path.join(dir, 'one.yaml')
    writeFileSync(file, config('one'))
    const gw = await startTestGateway({ file })
    try {
      const before = gw.controller.current.version
      writeFileSync(file, config('two'))
      const res = await fetch(`${gw.url}/api/v1/admin/reload`, { method: 'POST' })
      expect(res.status).toBe(200)
      const body = await res.json() as { data: { status: string; version: string } }
      expect(body.data.status).toBe('reloaded')
      expect(body.data.version).not.toBe(before)
      expect(gw.controller.current.version).toBe(body.data.version)
      writeFileSync(file, config('three').replace('routes:', 'routez:'))
      const bad = await fetch(`${gw.url}/api/v1/admin/reload`, { method: 'POST' })
      expect(bad.status).toBe(422)
      expect(JSON.stringify(await bad.json())).toMatch(/routez/)
      expect(gw.controller.current.version).toBe(body.data.version)
    } finally { await gw.close() }
  })

  it('needs manage_gateway', async () => {
    const gw = await startTestGateway(`${config('x')}auth: { strategies: [ { plugin: api-key, keys: [ { key: sk-reload-user-key-00001, user: u, role: user } ] } ] }\n`)
    try {
      const res = await fetch(`${gw.url}/api/v1/admin/reload`, { method: 'POST', headers: { authorization: 'Bearer sk-reload-user-key-00001' } })
      expect(res.status).toBe(403)
      expect(await res.json()).toMatchObject({ success: false, error: 'permission_denied' })
    } finally { await gw.close() }
  })

  it('with --workers: every worker reloads, and /health lists each worker\'s config version', async () => {
    const file = path.join(dir, 'workers.yaml')
    writeFileSync(file, config('one'))
    const child = spawn(process.execPath, [GATEWAY_BIN, 'start', '--config', file, '--port', '0', '--workers', '2', '--no-watch'], { env: { ...process.env, LOG_LEVEL: 'warn' } })
    let output = ''
    child.stderr.on('data', (d) => (output += d))
    child.stdout.on('data', (d) => (output += d))
    const exited = new Promise<number | null>((r) => child.on('exit', r))
    try {
      const url = (await waitFor(() => /gateway listening on (http:\/\/\S+) \(2 workers\)/.exec(output)?.[1], 90_000, 100)).value
      type Health = { pid: number; config: { version: string }; workers: { pid: number; version: string }[] }
      const health = async (): Promise<Health> => (await (await fetch(`${url}/health`)).json()) as Health
      const first = (await waitFor(async () => { const h = await health(); return h.workers.length === 2 ? h : undefined }, 30_000, 100)).value!
      expect(new Set(first.workers.map((w) => w.version))).toEqual(new Set([first.config.version]))
      writeFileSync(file, config('two'))
      const res = await fetch(`${url}/api/v1/admin/reload`, { method: 'POST' })
      expect(res.status).toBe(200)
      const version = ((await res.json()) as { data: { version: string } }).data.version
      const after = (await waitFor(async () => { const h = await health(); return h.workers.every((w) => w.version === version) && h.workers.length === 2 ? h : undefined }, 30_000, 100)).value!
      expect(after.workers.map((w) => w.pid).sort()).toEqual(first.workers.map((w) => w.pid).sort())
    } finally {
      child.kill('SIGTERM')
    }
    const code = await exited
    // What the processes said, when they did not stop cleanly.
    if (code !== 0) console.error(output)
    expect(code).toBe(0)
  }, 180_000)
})
