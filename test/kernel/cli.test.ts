import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GATEWAY_NODE_FLAGS } from '../../cli/node-flags.ts'
import { runCli, startCli } from '../helpers/cli.ts'
import { freePort } from '../helpers/ports.ts'
import { waitFor } from '../helpers/wait.ts'

let dir: string
beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'gw-cli-')) })
afterAll(() => rm(dir, { recursive: true, force: true }))

const GOOD = `version: 1
providers:
  mock: { plugin: mock, latency_ms: 400 }
routes:
  - model: mock
    targets: [ { provider: mock } ]
`

describe('gateway validate', () => {
  it('exits 0 for valid files', async () => {
    const file = path.join(dir, 'good.yaml')
    await writeFile(file, GOOD)
    const res = await runCli(['validate', file, 'gateway.yaml'])
    expect(res.code).toBe(0)
    expect(res.stdout).toContain(`${file}: ok`)
  })

  it('exits 1 and prints every error as FILE:LINE:COL path: message', async () => {
    const bad = path.join(dir, 'bad.yaml')
    await writeFile(bad, GOOD.replace('latency_ms: 400', 'latency: 400').replace('version: 1', 'version: 1\nservr: {}'))
    const good = path.join(dir, 'good.yaml')
    await writeFile(good, GOOD)
    const res = await runCli(['validate', good, bad])
    expect(res.code).toBe(1)
    expect(res.stdout.trim().split('\n')).toEqual([
      `${good}: ok`,
      `${bad}:2:1 servr: unknown key 'servr' (did you mean 'server'?)`,
    ])
    const afterCore = path.join(dir, 'bad2.yaml')
    await writeFile(afterCore, GOOD.replace('latency_ms: 400', 'latency: 400'))
    const res2 = await runCli(['validate', afterCore])
    expect(res2.code).toBe(1)
    expect(res2.stdout.trim()).toBe(`${afterCore}:3:25 providers.mock.latency: unknown key 'latency' (did you mean 'latency_ms'?)`)
  })

  it('exits 1 for a missing file', async () => {
    const res = await runCli(['validate', path.join(dir, 'nope.yaml')])
    expect(res.code).toBe(1)
    expect(res.stdout).toMatch(/nope\.yaml:1:1 \(root\): cannot read config: file not found/)
  })
})

describe('GATEWAY_HEAP_GROWING_PERCENT', () => {
  it('refuses a value that is not a whole percent before anything starts, and takes a valid one or 0', async () => {
    const bad = await runCli(['validate', 'gateway.yaml'], { GATEWAY_HEAP_GROWING_PERCENT: '1.5x' })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("GATEWAY_HEAP_GROWING_PERCENT must be a whole number (percent), not '1.5x'")
    for (const value of ['25', '0']) {
      const ok = await runCli(['validate', 'gateway.yaml'], { GATEWAY_HEAP_GROWING_PERCENT: value })
      expect(ok.code, ok.stderr).toBe(0)
    }
  })
})

describe('gateway schema', () => {
  it('prints the core schema merged with every plugin\'s own', async () => {
    const res = await runCli(['schema'])
    expect(res.code).toBe(0)
    const schema = JSON.parse(res.stdout)
    expect(schema.properties.providers.additionalProperties).toEqual({ $ref: '#/$defs/providerPlugin' })
    const provider = schema.$defs.providerPlugin
    expect(provider.properties.plugin.enum).toContain('mock')
    const mock = provider.allOf.find((b: { if: { properties: { plugin: { const: string } } } }) => b.if.properties.plugin.const === 'mock')
    expect(mock.then).toEqual({ $ref: '#/$defs/providerPlugin.mock' })
    expect(Object.keys(schema.$defs['providerPlugin.mock'].properties)).toEqual(expect.arrayContaining(['plugin', 'latency_ms', 'reply']))
    // A block keyed by its plugin's name is checked against that plugin's keys.
    expect(schema.properties.providers.properties.mock.allOf[1].then).toEqual({ $ref: '#/$defs/providerPlugin.mock' })
  })

  it('includes the third-party plugins a config lists', async () => {
    const file = path.join(dir, 'third.yaml')
    await writeFile(file, `version: 1\nplugins: [ ${path.resolve('test/fixtures/plugins/acme')} ]\n`)
    const schema = JSON.parse((await runCli(['schema', '--config', file])).stdout)
    expect(schema.$defs.providerPlugin.properties.plugin.enum).toContain('acme')
  })

  it('takes a config whose secrets are not set (CI writes the editor schema without them)', async () => {
    const file = path.join(dir, 'third-secrets.yaml')
    await writeFile(file, `version: 1\nplugins: [ ${path.resolve('test/fixtures/plugins/acme')} ]\nproviders:\n  up: { plugin: openai, api_key: "\${GW_TEST_UNSET_KEY}" }\n`)
    const res = await runCli(['schema', '--config', file], { GW_TEST_UNSET_KEY: '' })
    expect(res.stderr).toBe('')
    expect(res.code).toBe(0)
    expect(JSON.parse(res.stdout).$defs.providerPlugin.properties.plugin.enum).toContain('acme')
  })
})

describe('gateway start', () => {
  it('reloads on SIGHUP (with the file watcher off)', async () => {
    const file = path.join(dir, 'hup.yaml')
    await writeFile(file, GOOD)
    const gw = await startCli(['--config', file, '--port', '0', '--no-watch'])
    try {
      await writeFile(file, GOOD + `  - model: after-hup\n    targets: [ { provider: mock } ]\n`)
      await new Promise((r) => setTimeout(r, 1500))
      const ids = async () => ((await (await fetch(`${gw.url}/v1/models`)).json()) as { data: { id: string }[] }).data.map((m) => m.id)
      expect(await ids()).toEqual(['mock'])
      gw.child.kill('SIGHUP')
      await waitFor(async () => (await ids()).includes('after-hup'), 3000)
    } finally {
      gw.child.kill('SIGTERM')
      await gw.exited
    }
  })

  it('reads an empty PORT or GATEWAY_WORKERS as unset (as ${VAR:-default} in gateway.yaml does): the config\'s port, one worker', async () => {
    const port = await freePort()
    const file = path.join(dir, 'empty-port.yaml')
    await writeFile(file, `${GOOD}server: { port: ${port} }\n`)
    const gw = await startCli(['--config', file], { PORT: '', GATEWAY_WORKERS: '' })
    try {
      expect(new URL(gw.url).port).toBe(String(port))
    } finally {
      gw.child.kill('SIGTERM')
      await gw.exited
    }
  })

  it('drains on SIGTERM: stops accepting, finishes the in-flight request, exits 0', async () => {
    const file = path.join(dir, 'term.yaml')
    await writeFile(file, GOOD)
    const gw = await startCli(['--config', file, '--port', '0'], { PORT: '1' /* --port wins over PORT */ })
    const inflight = fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'slow' }] }),
    })
    await new Promise((r) => setTimeout(r, 100))
    gw.child.kill('SIGTERM')
    const res = await inflight
    expect(res.status).toBe(200)
    expect(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0].message.content).toBe('echo: slow')
    expect(await gw.exited).toBe(0)
    await expect(fetch(`${gw.url}/health`)).rejects.toThrow()
    expect(gw.output()).toContain('gateway stopped')
  })

  it('refuses to start on a bad config with the errors and exit code 1', async () => {
    const file = path.join(dir, 'startbad.yaml')
    await writeFile(file, 'version: 1\nroutes: 5\n')
    const res = await runCli(['start', '--config', file, '--port', '0'])
    expect(res.code).toBe(1)
    expect(res.stderr).toContain(`${file}:2:9 routes: must be array`)
  })
})

describe('gateway start --workers', () => {
  it('serves from several processes on one port, and stops them all on SIGTERM', async () => {
    const file = path.join(dir, 'workers.yaml')
    await writeFile(file, GOOD.replace('latency_ms: 400', 'latency_ms: 0'))
    const gw = await startCli(['--config', file, '--port', '0', '--workers', '2'])
    try {
      const pids = new Set<number>()
      for (let i = 0; i < 40 && pids.size < 2; i++) {
        const batch = await Promise.all(Array.from({ length: 8 }, async () => ((await (await fetch(`${gw.url}/health`)).json()) as { pid: number }).pid))
        batch.forEach((p) => pids.add(p))
      }
      expect(pids.size).toBe(2)
      // The primary here was started without the gateway's node flags; its workers run with them.
      for (const pid of pids) expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')).toEqual(expect.arrayContaining([...GATEWAY_NODE_FLAGS]))
      const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] }) })
      expect(res.status).toBe(200)
    } finally {
      gw.child.kill('SIGTERM')
    }
    expect(await gw.exited).toBe(0)
  }, 60_000)

  it('refuses the embedded store, which belongs to one process', async () => {
    const file = path.join(dir, 'workers-embedded.yaml')
    await writeFile(file, GOOD + 'store: { plugin: embedded, memory: true }\n')
    const res = await runCli(['start', '--config', file, '--port', '0', '--workers', '2'])
    expect(res.code).toBe(1)
    expect(res.stderr.trim()).toBe(`${file}:7:18 store.plugin: the embedded store belongs to one process; with --workers use store: { plugin: postgres, url: "\${DATABASE_URL}" }`)
  })
})
