/**
 * A CPU profile of one gateway under load, for finding what the hot path spends its time on:
 * node --import tsx bench/profile.ts ROW [seconds] [outDir]
 * ROW: mock (the mock provider, no upstream call), upstream (no auth, openai provider to the bench
 * upstream), full (api-key, limits, usage to PostgreSQL), cache (cache hits), store (no auth,
 * embedded store, mock route), keyed (that store with api-key and a virtual key of role user, as
 * the bench's authentication rows; mock route), pgstore (no auth, usage to PostgreSQL, openai route). The gateway runs with --cpu-prof; on SIGTERM it drains and exits,
 * which writes the .cpuprofile to outDir, then this prints the top self-time functions.
 */
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { killAll, spawnServer, treeCpuMs } from './procs.ts'
import { virtualKey } from './configs.ts'

const [row = 'mock', secondsText = '10', outArg] = process.argv.slice(2)
const ROOT = path.resolve(import.meta.dirname, '..')
const DATABASE = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-prof-'))
const out = path.resolve(outArg ?? dir)
const upstream = await spawnServer(['--import', 'tsx', 'bench/upstream.ts', '0'], /listening (\d+)/, { cwd: ROOT })
const provider = `  upstream: { plugin: openai, api_key: bench, base_url: "http://127.0.0.1:${upstream.port}/v1" }\n  mock: { plugin: mock }\n`
const routes = 'routes:\n  - model: bench\n    targets: [ { provider: upstream, model: bench-model } ]\n  - model: bench-mock\n    targets: [ { provider: mock } ]\n  - model: bench-cached\n    cache: true\n    targets: [ { provider: upstream, model: bench-model } ]\n'
const adminKey = 'bench-admin-key-0123456789abcdef'
const schema = `bench_prof_${process.pid}`
const head: Record<string, string> = {
  mock: '', upstream: '', cache: 'cache: { plugin: memory }\n',
  store: `store: { plugin: embedded, path: ${JSON.stringify(path.join(dir, 'data'))}, vector: false }\n`,
  keyed: `store: { plugin: embedded, path: ${JSON.stringify(path.join(dir, 'data'))}, vector: false }\nservices: { keys: {} }\nauth:\n  strategies:\n    - { plugin: api-key, keys: [ { key: ${adminKey}, user: bench, role: admin } ] }\n`,
  pgstore: `store: { plugin: postgres, url: "${DATABASE}", schema: ${schema} }\n`,
  full: `store: { plugin: postgres, url: "${DATABASE}", schema: ${schema} }\nservices: { keys: {} }\nauth:\n  strategies:\n    - { plugin: api-key, keys: [ { key: ${adminKey}, user: bench, role: admin } ] }\nlimits:\n  backend: { plugin: memory }\n  policies: [ { scope: key, requests_per_minute: 100000000 } ]\n`,
}
if (!(row in head)) throw new Error(`ROW must be one of ${Object.keys(head).join(', ')}`)
const config = path.join(dir, 'gateway.yaml')
await writeFile(config, `version: 1\n${head[row]}providers:\n${provider}${routes}`)
const spawned = performance.now()
const gateway = await spawnServer(['--cpu-prof', `--cpu-prof-dir=${out}`, `--cpu-prof-interval=${process.env.PROFILE_INTERVAL_US ?? 1000}`, 'bin/gateway.js', 'start', '--config', config, '--port', '0', '--no-watch'], /listening on http:\/\/[^:]+:(\d+)/, { cwd: ROOT })
const base = `http://127.0.0.1:${gateway.port}`
const headers: Record<string, string> = { 'content-type': 'application/json' }
if (row === 'full' || row === 'keyed') {
  headers.authorization = `Bearer ${await virtualKey(gateway.port, adminKey)}`
}
const model = { mock: 'bench-mock', store: 'bench-mock', keyed: 'bench-mock', cache: 'bench-cached', upstream: 'bench', full: 'bench', pgstore: 'bench' }[row]
const body = JSON.stringify({ model, messages: [{ role: 'user', content: 'Say something about foxes.' }] })
const loadAt = performance.now() - spawned
const cpu0 = treeCpuMs(gateway.child.pid!)
const r = await autocannon({ url: `${base}/v1/chat/completions`, connections: 50, ...(process.env.PROFILE_RATE ? { overallRate: Number(process.env.PROFILE_RATE) } : {}), duration: Number(secondsText), method: 'POST', headers, body })
console.log(`${row}: ${r.requests.average} req/s, ${(((treeCpuMs(gateway.child.pid!) - cpu0) * 1000) / r.requests.total).toFixed(0)} µs CPU/req, ${r.non2xx + r.errors} errors`)
const exited = new Promise((resolve) => gateway.child.once('exit', resolve))
gateway.child.kill('SIGTERM')
await exited
killAll()
if (row === 'full' || row === 'pgstore') {
  const { default: pg } = await import('pg')
  const client = new pg.Client(DATABASE)
  await client.connect()
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => client.end())
}

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount: number; children?: number[] }
// The main thread's profile (workers, such as the tokenizer's, write their own).
const file = (await readdir(out)).filter((f) => /\.0\.\d+\.cpuprofile$/.test(f)).sort().at(-1)!
const profile = JSON.parse(await readFile(path.join(out, file), 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] }
const parent = new Map<number, number>()
const byId = new Map<number, Node>()
for (const n of profile.nodes) {
  byId.set(n.id, n)
  for (const c of n.children ?? []) parent.set(c, n.id)
}
const keyOf = (n: Node): string => `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^file:\/\//, '').replace(ROOT + '/', '')}:${n.callFrame.lineNumber + 1}`
const packageOf = (n: Node): string => {
  const url = n.callFrame.url.replace(/^file:\/\//, '').replace(ROOT + '/', '')
  return url.includes('node_modules/') ? url.replace(/.*node_modules\/((@[^/]+\/)?[^/]+).*/, '$1') : url.startsWith('node:') ? 'node:' + url.slice(5).split('/')[0] : url || n.callFrame.functionName
}
// Only the samples taken under load (the start-up's module loading and compiling is not the hot path).
const self = new Map<string, number>()
const inclusive = new Map<string, number>()
const byPackage = new Map<string, number>()
let t = 0
let total = 0
for (const [i, id] of profile.samples.entries()) {
  t += profile.timeDeltas[i]
  if (t / 1000 < loadAt) continue
  total++
  const leaf = byId.get(id)!
  self.set(keyOf(leaf), (self.get(keyOf(leaf)) ?? 0) + 1)
  byPackage.set(packageOf(leaf), (byPackage.get(packageOf(leaf)) ?? 0) + 1)
  const seen = new Set<string>()
  for (let n: Node | undefined = leaf; n; n = byId.get(parent.get(n.id) ?? -1)) {
    const k = keyOf(n)
    if (seen.has(k)) continue
    seen.add(k)
    inclusive.set(k, (inclusive.get(k) ?? 0) + 1)
  }
}
const top = (m: Map<string, number>, k: number, only?: RegExp) => [...m].filter(([key]) => !only || only.test(key)).sort((a, b) => b[1] - a[1]).slice(0, k).map(([key, hits]) => `${((hits / total) * 100).toFixed(1).padStart(5)}%  ${key}`).join('\n')
console.log(`profile ${path.join(out, file)}: ${total} samples under load\n-- self time by function\n${top(self, 40)}\n-- by package\n${top(byPackage, 30)}\n-- inclusive, the gateway's own code\n${top(inclusive, 60, /(dist|core|plugins)\//)}`)
