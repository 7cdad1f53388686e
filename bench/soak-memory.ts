/**
 * Memory under load: a gateway (its own process, started from bin/gateway.js like `npm start`)
 * with a store, loaded at 50 connections through the openai provider to the bench upstream, then
 * left idle; RSS sampled from /proc every few seconds, plus the gateway's own breakdown when it
 * runs with GATEWAY_MEMORY_REPORT_MS (V8 heap, external, array buffers incl. PGlite's WASM memory).
 *
 * Usage: node --import tsx bench/soak-memory.ts [embedded|postgres|full] [load s] [idle s]
 * `full` is the bench's full pipeline: PostgreSQL, a virtual API key (looked up, then cached), a
 * rate limit on every request, usage events to PostgreSQL.
 * Env: SOAK_NODE_OPTIONS (e.g. --max-old-space-size=96), SOAK_STORE_YAML (a whole `store:` line),
 * BENCH_CONNECTIONS (default 50), DATABASE_URL for postgres, SOAK_SNAPSHOT_AT (seconds into the
 * load, e.g. `30,110`: send the gateway SIGUSR2 then; with bench/memory-probe.mjs preloaded through
 * SOAK_NODE_OPTIONS it writes a heap snapshot, to diff what is kept).
 */
import { mkdtemp, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { killAll, spawnServer, treeCpuMs, treeRssMb } from './procs.ts'
import { virtualKey } from './configs.ts'

const ROOT = path.resolve(import.meta.dirname, '..')
const [kind = 'embedded', loadText = '120', idleText = '30'] = process.argv.slice(2)
const LOAD_S = Number(loadText)
const IDLE_S = Number(idleText)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50)
const DATABASE = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const SAMPLE_S = 10

async function main(): Promise<void> {
  const upstream = await spawnServer(['--import', 'tsx', 'bench/upstream.ts', '0'], /listening (\d+)/, { cwd: ROOT })
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-soak-mem-'))
  const schema = `soak_mem_${process.pid}`
  const adminKey = 'soak-admin-key-0123456789abcdef'
  const full = kind === 'full'
    ? `services: { keys: {} }\nauth:\n  strategies:\n    - { plugin: api-key, keys: [ { key: ${adminKey}, user: soak, role: admin } ] }\nlimits:\n  backend: { plugin: memory }\n  policies: [ { scope: key, requests_per_minute: 100000000 } ]\n`
    : ''
  const store = process.env.SOAK_STORE_YAML ?? (kind !== 'embedded'
    ? `store: { plugin: postgres, url: "${DATABASE}", schema: ${schema} }`
    : `store: { plugin: embedded, path: ${JSON.stringify(path.join(dir, 'data'))}, vector: false }`)
  const config = path.join(dir, 'gateway.yaml')
  await writeFile(config, `version: 1
${store}
${full}providers:
  up: { plugin: openai, api_key: bench, base_url: "http://127.0.0.1:${upstream.port}/v1" }
routes:
  - model: bench
    targets: [ { provider: up, model: bench-model } ]
logging: { level: warn }
`)
  const gateway = await spawnServer(['bin/gateway.js', 'start', '--config', config, '--port', '0', '--no-watch'], /listening on http:\/\/[^:]+:(\d+)/, {
    cwd: ROOT,
    env: { NODE_OPTIONS: [process.env.NODE_OPTIONS, process.env.SOAK_NODE_OPTIONS].filter(Boolean).join(' ') },
  })
  const pid = gateway.child.pid!
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (full) {
    headers.authorization = `Bearer ${await virtualKey(gateway.port, adminKey, 'soak')}`
  }
  const started = Date.now()
  const at = () => ((Date.now() - started) / 1000).toFixed(0).padStart(4)
  console.log(`memory soak: ${kind} store, ${CONNECTIONS} connections for ${LOAD_S} s, then ${IDLE_S} s idle; ${process.env.SOAK_NODE_OPTIONS ?? 'default node options'}; load average ${os.loadavg()[0].toFixed(2)}`)
  console.log(`   s  phase    RSS MB   requests`)
  console.log(`${at()}  idle     ${String(treeRssMb(pid).now).padStart(6)}`)
  let requests = 0
  const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Say something about foxes.' }] })
  const cpu0 = treeCpuMs(pid)
  const snapshots = (process.env.SOAK_SNAPSHOT_AT ?? '').split(',').filter(Boolean)
    .map((t) => setTimeout(() => { console.log(`${at()}  heap snapshot requested`); process.kill(pid, 'SIGUSR2') }, Number(t) * 1000))
  const sampler = setInterval(() => console.log(`${at()}  load     ${String(treeRssMb(pid).now).padStart(6)} ${String(requests).padStart(10)}`), SAMPLE_S * 1000)
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const options = { url: `http://127.0.0.1:${gateway.port}/v1/chat/completions`, connections: CONNECTIONS, duration: LOAD_S, method: 'POST' as const, headers, body }
    autocannon(options, (err, r) => (err ? reject(err) : resolve(r))).on('response', () => { requests++ })
  })
  clearInterval(sampler)
  snapshots.forEach(clearTimeout)
  const cpuUs = ((treeCpuMs(pid) - cpu0) * 1000) / Math.max(1, result.requests.total)
  for (let s = 0; s < IDLE_S; s += SAMPLE_S) {
    await new Promise((r) => setTimeout(r, SAMPLE_S * 1000))
    console.log(`${at()}  idle     ${String(treeRssMb(pid).now).padStart(6)}`)
  }
  const rss = treeRssMb(pid)
  console.log(`${result.requests.total} requests (${result.requests.average.toFixed(0)} req/s, ${result.errors + result.non2xx} errors), ${cpuUs.toFixed(0)} µs CPU/request; RSS ${rss.now} MB at the end, peak ${rss.peak} MB`)
  if (kind !== 'embedded') {
    const { default: pg } = await import('pg')
    const client = new pg.Client(DATABASE)
    await client.connect()
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => client.end())
  }
}

main()
  .catch((err) => { console.error(err); process.exitCode = 1 })
  .finally(killAll)
