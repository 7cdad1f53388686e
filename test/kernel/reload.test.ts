import { mkdtemp, rename, rm, symlink, writeFile, mkdir } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startTestGateway, postJson, type RunningGateway } from '../helpers/gateway.ts'
import { waitFor } from '../helpers/wait.ts'
import { capturingLogger } from '../helpers/logs.ts'
import { startGateway } from '../../core/gateway.ts'

const ACME = path.resolve('test/fixtures/plugins/acme')
const lifecycle = () => (globalThis as unknown as { __acmeLifecycle: { setups: string[]; disposals: string[] } }).__acmeLifecycle

function config(routes: string[], greeting = 'hello', extra = ''): string {
  return `version: 1
plugins: [ ${ACME} ]
providers:
  mock: { plugin: mock }
  acme: { plugin: acme, greeting: ${greeting}${extra} }
routes:
${routes.map((r) => `  - model: ${r}\n    targets: [ { provider: ${r.startsWith('acme') ? 'acme' : 'mock'} } ]`).join('\n')}
`
}

const chat = (gw: RunningGateway, model: string, metadata?: Record<string, string>) =>
  postJson(`${gw.url}/v1/chat/completions`, { model, messages: [{ role: 'user', content: 'hi' }], ...(metadata ? { metadata } : {}) })

const health = async (gw: RunningGateway) => (await (await fetch(`${gw.url}/health`)).json()) as { status: string; config: { version: string; last_error: null | { message: string } } }

describe('hot reload', () => {
  let dir: string
  let file: string
  let gw: RunningGateway | undefined

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'gw-reload-'))
    file = path.join(dir, 'gateway.yaml')
  })
  afterEach(async () => {
    await gw?.close()
    gw = undefined
    await rm(dir, { recursive: true, force: true })
  })

  // These three use a poll interval far past their deadline: only the watcher's events can pass them.
  const EVENTS_ONLY = { watch: true, pollMs: 600_000 }

  it('serves a route added by editing the file in place within 1 s', async () => {
    await writeFile(file, config(['mock']))
    gw = await startTestGateway({ file }, EVENTS_ONLY)
    expect((await chat(gw, 'mock-2')).status).toBe(404)
    await writeFile(file, config(['mock', 'mock-2']))
    const { ms } = await waitFor(async () => (await chat(gw!, 'mock-2')).status === 200, 1000)
    expect(ms).toBeLessThan(1000)
  })

  it('sees an editor\'s rename-over-the-file save', async () => {
    await writeFile(file, config(['mock']))
    gw = await startTestGateway({ file }, EVENTS_ONLY)
    const tmp = path.join(dir, '.gateway.yaml.swp')
    await writeFile(tmp, config(['mock', 'renamed']))
    await rename(tmp, file)
    await waitFor(async () => (await chat(gw!, 'renamed')).status === 200, 1000)
  })

  it('sees a Kubernetes ConfigMap symlink swap (..data -> new timestamped folder)', async () => {
    const v1 = path.join(dir, '..2026_01_01_v1')
    await mkdir(v1)
    await writeFile(path.join(v1, 'gateway.yaml'), config(['mock']))
    await symlink('..2026_01_01_v1', path.join(dir, '..data'))
    await symlink('..data/gateway.yaml', file)
    gw = await startTestGateway({ file }, EVENTS_ONLY)
    expect((await chat(gw, 'swapped')).status).toBe(404)

    const v2 = path.join(dir, '..2026_01_02_v2')
    await mkdir(v2)
    await writeFile(path.join(v2, 'gateway.yaml'), config(['mock', 'swapped']))
    await symlink('..2026_01_02_v2', path.join(dir, '..data_tmp'))
    await rename(path.join(dir, '..data_tmp'), path.join(dir, '..data')) // the atomic swap kubelet does
    await waitFor(async () => (await chat(gw!, 'swapped')).status === 200, 1000)
  })

  it('rejects a bad config whole: the old one keeps serving and /health shows the error with its line', async () => {
    await writeFile(file, config(['mock']))
    gw = await startTestGateway({ file }, { watch: true })
    const before = (await health(gw)).config.version
    await writeFile(file, config(['mock', 'new-route']).replace('version: 1', 'version: 1\nbogus: true'))
    const { value } = await waitFor(async () => { const h = await health(gw!); return h.config.last_error ? h : undefined }, 2000)
    expect(value!.status).toBe("degraded")
    expect(value!.config.version).toBe(before)
    expect(value!.config.last_error!.message).toMatch(new RegExp(`^${file.replace(/[.]/g, '\\.')}:2:1 bogus: unknown key 'bogus' \\(allowed: version, server, .*routes.*\\)$`))
    expect((await chat(gw, 'mock')).status).toBe(200)
    expect((await chat(gw, 'new-route')).status).toBe(404)
    const metrics = async () => (await (await fetch(`${gw!.url}/metrics`)).text()).split('\n').filter((l) => l.startsWith('gateway_config_'))
    expect(await metrics()).toEqual(expect.arrayContaining(['gateway_config_last_reload_successful 0', `gateway_config_info{version="${before}"} 1`, 'gateway_config_reloads_total{result="failed"} 1']))

    // A YAML syntax error is rejected the same way.
    await writeFile(file, 'version: 1\nroutes: [\n')
    await waitFor(async () => /YAML syntax/.test((await health(gw!)).config.last_error?.message ?? ''), 2000)
    expect((await chat(gw, 'mock')).status).toBe(200)

    // Fixing the file clears the error.
    await writeFile(file, config(['mock', 'new-route']))
    await waitFor(async () => (await health(gw!)).config.last_error === null, 2000)
    expect((await chat(gw, 'new-route')).status).toBe(200)
    const after = (await health(gw)).config.version
    expect(await metrics()).toEqual(expect.arrayContaining(['gateway_config_last_reload_successful 1', `gateway_config_info{version="${after}"} 1`]))
    expect((await metrics()).filter((l) => l.startsWith('gateway_config_info'))).toHaveLength(1)
  })

  it('clears the error when a bad edit is undone, the file back to the config being served, and logs that it did', async () => {
    await writeFile(file, config(['mock']))
    const { logger, lines } = capturingLogger('info')
    gw = await startGateway({ source: { file }, port: 0, host: '127.0.0.1', logger, watch: true, debounceMs: 50 })
    await writeFile(file, config(['mock']).replace('version: 1', 'version: 2'))
    await waitFor(async () => (await health(gw!)).config.last_error !== null, 2000)
    await writeFile(file, config(['mock']))
    const { value } = await waitFor(async () => { const h = await health(gw!); return h.config.last_error === null ? h : undefined }, 2000)
    expect(value!.status).toBe('ok')
    // The log's last word on the config is not the refusal: an operator reading it sees the error cleared.
    const said = lines.filter((l) => /^config /.test(l.msg)).map((l) => l.msg)
    expect(said.at(-2)).toBe('config reload rejected; the previous config keeps serving')
    expect(said.at(-1)).toBe('config file back to the config serving: the last reload error is cleared')
    expect(lines.find((l) => l.msg === said.at(-1))?.version).toBe(value!.config.version)
  })

  it('rejects a reload whose plugin fails in setup, naming the plugin, and keeps serving', async () => {
    await writeFile(file, config(['mock', 'acme']))
    gw = await startTestGateway({ file }, { watch: false })
    await writeFile(file, config(['mock', 'acme'], 'changed', ', fail_setup: true'))
    const outcome = await gw.controller.reload('test')
    expect(outcome.status).toBe('failed')
    expect((await health(gw)).config.last_error!.message).toMatch(/providers\.acme: plugin provider\.acme failed to set up: acme refuses to start/)
    expect((await chat(gw, 'acme')).body.choices[0].message.content).toBe('hello')
  })

  it('retries a reload whose plugin failed to set up (its backend briefly down), backing off, without the file changing; a refused config waits for an edit', async () => {
    await writeFile(file, config(['mock', 'acme']))
    gw = await startTestGateway({ file }, { watch: true, pollMs: 100 })
    const backend = path.join(dir, 'backend-up')
    await writeFile(file, config(['mock', 'acme'], 'back', `, backend_file: ${backend}`))
    await waitFor(async () => /acme cannot reach its backend/.test((await health(gw!)).config.last_error?.message ?? ''), 2000)
    expect((await chat(gw, 'acme')).body.choices[0].message.content).toBe('hello')
    await writeFile(backend, '')
    // Retried 1 s after the failure, then 2 s, 4 s after the one before (a loaded machine may miss the first).
    await waitFor(async () => (await chat(gw!, 'acme')).body.choices[0].message.content === 'back', 8000)
    expect((await health(gw)).config.last_error).toBeNull()

    // A config refused as such is not tried again until the file changes (the poll sees the same digest).
    await writeFile(file, config(['mock', 'acme'], 'back', `, backend_file: ${backend}`).replace('version: 1', 'version: 1\nbogus: true'))
    await waitFor(async () => (await health(gw!)).config.last_error !== null, 2000)
    const failed = gw.controller.reloadCounts.failed
    await new Promise((r) => setTimeout(r, 2500))
    expect(gw.controller.reloadCounts.failed).toBe(failed)
  })

  it('refuses a deleted config file once, not at every poll (one log line, one failed reload), and applies the file when it is back', async () => {
    await writeFile(file, config(['mock']))
    gw = await startTestGateway({ file }, { watch: true, pollMs: 100 })
    await rm(file)
    await waitFor(async () => /cannot read config: file not found/.test((await health(gw!)).config.last_error?.message ?? ''), 2000)
    const failed = gw.controller.reloadCounts.failed
    await new Promise((r) => setTimeout(r, 1000))
    expect(gw.controller.reloadCounts.failed).toBe(failed)
    expect((await chat(gw, 'mock')).status).toBe(200)
    await writeFile(file, config(['mock', 'back']))
    await waitFor(async () => (await chat(gw!, 'back')).status === 200, 2000)
    expect((await health(gw)).config.last_error).toBeNull()
  })

  it('fails the start, not the process, when a plugin throws in setup', async () => {
    await writeFile(file, config(['acme'], 'x', ', fail_setup: true'))
    await expect(startTestGateway({ file })).rejects.toThrow(/plugin provider\.acme failed to set up: acme refuses to start/)
  })

  it('reuses instances whose block did not change, and disposes a replaced one only after its last request', async () => {
    await writeFile(file, config(['acme']))
    gw = await startTestGateway({ file }, { watch: false })
    const setupsBefore = lifecycle().setups.length

    // Only routes change: the acme instance is carried over, not rebuilt.
    await writeFile(file, config(['acme', 'acme-2']))
    expect((await gw.controller.reload('test')).status).toBe('reloaded')
    expect(lifecycle().setups.length).toBe(setupsBefore)

    // A slow request in flight on the old snapshot, then the acme block changes.
    const slow = chat(gw, 'acme', { delay_ms: '300' })
    await new Promise((r) => setTimeout(r, 50))
    const disposalsBefore = lifecycle().disposals.length
    await writeFile(file, config(['acme', 'acme-2'], 'bonjour'))
    expect((await gw.controller.reload('test')).status).toBe('reloaded')
    expect(lifecycle().setups.length).toBe(setupsBefore + 1)
    expect(lifecycle().disposals.length).toBe(disposalsBefore) // old instance still serving the slow request
    expect((await chat(gw, 'acme')).body.choices[0].message.content).toBe('bonjour')

    const old = await slow
    expect(old.status).toBe(200)
    expect(old.body.choices[0].message.content).toBe('hello') // finished on the snapshot it started with
    await waitFor(() => lifecycle().disposals.length === disposalsBefore + 1, 1000)
    expect(lifecycle().disposals.at(-1)).toBe('acme:hello')
  })

  it('drops no request while the config is replaced 10 times under 16 concurrent clients', async () => {
    await writeFile(file, config(['mock']))
    gw = await startTestGateway({ file }, { watch: true, debounceMs: 20 })
    let running = true
    const failures: string[] = []
    let served = 0
    const client = async () => {
      while (running) {
        const res = await chat(gw!, 'mock').catch((err: Error) => ({ status: 0, body: err.message }))
        if (res.status !== 200) failures.push(`${res.status} ${JSON.stringify(res.body)}`)
        else served++
      }
    }
    const clients = Array.from({ length: 16 }, client)
    const latencies: number[] = []
    for (let i = 1; i <= 10; i++) {
      const routes = ['mock', `route-${i}`]
      const tmp = path.join(dir, `.tmp-${i}`)
      await writeFile(tmp, config(routes, `g${i}`))
      await rename(tmp, file)
      const { ms } = await waitFor(async () => (await chat(gw!, `route-${i}`)).status === 200, 5000)
      latencies.push(ms)
    }
    running = false
    await Promise.all(clients)
    expect(failures).toEqual([])
    expect(served).toBeGreaterThan(100)
    expect(Math.max(...latencies)).toBeLessThan(2500)
    expect(gw.controller.reloadCounts).toEqual({ ok: 10, failed: 0 })
  })
})
