/**
 * Start to ready: `node --import tsx bench/start.ts [RUNS] [COMPARE_ROOT]`.
 * Spawns `bin/gateway.js start` (dist/ when built and fresh, as `npm start` does) with the bench's
 * full-pipeline config on PostgreSQL, RUNS times, and reports per start the wall time and the CPU
 * time (user + system, from /proc) to its "listening" line, then the wall and CPU time of its first
 * chat completion (to the bench's mock upstream: what a start left to the first request), and
 * resident memory 3 s after it.
 * With COMPARE_ROOT (another checkout, built, e.g. an older commit), its starts are interleaved
 * with this checkout's so both see the same machine load. The schema is migrated by a first,
 * untimed start, as a restarted gateway finds it. Env: DATABASE_URL, START_IDLE_MS (default 3000).
 */
import { mkdtemp, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { dropSchema, fullPipelineConfig } from './configs.ts'
import { killAll, median, spawnServer, treeCpuMs, treeRssMb } from './procs.ts'

const ROOT = path.resolve(import.meta.dirname, '..')
const RUNS = Number(process.argv[2] ?? 5)
const COMPARE = process.argv[3] ? path.resolve(process.argv[3]) : undefined
const IDLE_MS = Number(process.env.START_IDLE_MS ?? 3000)
const DATABASE = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const READY = /listening on http:\/\/[^:]+:(\d+)/

interface StartSample { wallMs: number; cpuMs: number; firstWallMs: number; firstCpuMs: number; rssMb: number }

async function startOnce(root: string, config: string): Promise<StartSample> {
  const started = performance.now()
  const server = await spawnServer(['bin/gateway.js', 'start', '--config', config, '--port', '0', '--no-watch'], READY, { cwd: root, env: { LOG_LEVEL: 'warn' } })
  const wallMs = performance.now() - started
  const cpuMs = treeCpuMs(server.child.pid!)
  const asked = performance.now()
  const first = await fetch(`http://127.0.0.1:${server.port}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` }, body: CHAT })
  if (first.status !== 200) throw new Error(`first chat request: ${first.status} ${await first.text()}`)
  await first.arrayBuffer()
  const firstWallMs = performance.now() - asked
  const firstCpuMs = treeCpuMs(server.child.pid!) - cpuMs
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS))
  const rssMb = treeRssMb(server.child.pid!).now
  const exited = new Promise((resolve) => server.child.once('exit', resolve))
  server.child.kill('SIGTERM')
  await exited
  return { wallMs, cpuMs, firstWallMs, firstCpuMs, rssMb }
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-start-'))
const config = path.join(dir, 'full.yaml')
const ADMIN_KEY = 'bench-admin-key-0123456789abcdef'
const CHAT = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Say something about foxes.' }] })
const upstream = await spawnServer(['--import', 'tsx', 'bench/upstream.ts', '0'], /listening (\d+)/, { cwd: ROOT })
const schema = `bench_start_${process.pid}`
await writeFile(config, fullPipelineConfig({ database: DATABASE, schema, upstreamBase: `http://127.0.0.1:${upstream.port}/v1`, adminKey: ADMIN_KEY }))

const roots = COMPARE ? [['before', COMPARE], ['this', ROOT]] : [['this', ROOT]]
for (const [, root] of roots) await startOnce(root, config) // migrate, warm the page cache
const samples = new Map<string, StartSample[]>(roots.map(([name]) => [name, []]))
for (let i = 0; i < RUNS; i++) {
  for (const [name, root] of roots) samples.get(name)!.push(await startOnce(root, config))
}

const load = os.loadavg().map((x) => x.toFixed(2)).join(' ')
console.log(`start ${new Date().toISOString()}: ${os.cpus().length} cores, load average ${load}, node ${process.version}, ${RUNS} starts each`)
console.log('checkout   wall ms (median, all)                      CPU ms (median)  first request wall / CPU ms (median)  idle RSS MB (median)')
for (const [name, list] of samples) {
  const all = list.map((s) => Math.round(s.wallMs)).join(' / ')
  const first = `${Math.round(median(list.map((s) => s.firstWallMs)))} / ${median(list.map((s) => s.firstCpuMs))}`
  console.log(`${name.padEnd(10)} ${String(Math.round(median(list.map((s) => s.wallMs)))).padStart(6)} (${all})`.padEnd(54) + `${median(list.map((s) => s.cpuMs))}`.padStart(15) + first.padStart(38) + `${median(list.map((s) => s.rssMb))}`.padStart(22))
}
killAll()
await dropSchema(DATABASE, schema)
