/**
 * Start to ready: `node --import tsx bench/start.ts [RUNS] [COMPARE_ROOT]`.
 * Spawns `bin/gateway.js start` (dist/ when built and fresh, as `npm start` does) with the bench's
 * full-pipeline config on PostgreSQL, RUNS times, and reports per start the wall time and the CPU
 * time (user + system, from /proc) to its "listening" line, and resident memory 3 s after it.
 * With COMPARE_ROOT (another checkout, built, e.g. an older commit), its starts are interleaved
 * with this checkout's so both see the same machine load. The schema is migrated by a first,
 * untimed start, as a restarted gateway finds it. Env: DATABASE_URL, START_IDLE_MS (default 3000).
 */
import { mkdtemp, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { dropSchema, fullPipelineConfig } from './configs.ts'
import { median, spawnServer, treeCpuMs, treeRssMb } from './procs.ts'

const ROOT = path.resolve(import.meta.dirname, '..')
const RUNS = Number(process.argv[2] ?? 5)
const COMPARE = process.argv[3] ? path.resolve(process.argv[3]) : undefined
const IDLE_MS = Number(process.env.START_IDLE_MS ?? 3000)
const DATABASE = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const READY = /listening on http:\/\/[^:]+:(\d+)/

interface StartSample { wallMs: number; cpuMs: number; rssMb: number }

async function startOnce(root: string, config: string): Promise<StartSample> {
  const started = performance.now()
  const server = await spawnServer(['bin/gateway.js', 'start', '--config', config, '--port', '0', '--no-watch'], READY, { cwd: root, env: { LOG_LEVEL: 'warn' } })
  const wallMs = performance.now() - started
  const cpuMs = treeCpuMs(server.child.pid!)
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS))
  const rssMb = treeRssMb(server.child.pid!).now
  const exited = new Promise((resolve) => server.child.once('exit', resolve))
  server.child.kill('SIGTERM')
  await exited
  return { wallMs, cpuMs, rssMb }
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-start-'))
const config = path.join(dir, 'full.yaml')
// Nothing is called at start: the upstream only has to be a well-formed URL.
const schema = `bench_start_${process.pid}`
await writeFile(config, fullPipelineConfig({ database: DATABASE, schema, upstreamBase: 'http://127.0.0.1:9/v1', adminKey: 'bench-admin-key-0123456789abcdef' }))

const roots = COMPARE ? [['before', COMPARE], ['this', ROOT]] : [['this', ROOT]]
for (const [, root] of roots) await startOnce(root, config) // migrate, warm the page cache
const samples = new Map<string, StartSample[]>(roots.map(([name]) => [name, []]))
for (let i = 0; i < RUNS; i++) {
  for (const [name, root] of roots) samples.get(name)!.push(await startOnce(root, config))
}

const load = os.loadavg().map((x) => x.toFixed(2)).join(' ')
console.log(`start ${new Date().toISOString()}: ${os.cpus().length} cores, load average ${load}, node ${process.version}, ${RUNS} starts each`)
console.log('checkout   wall ms (median, all)                      CPU ms (median)  idle RSS MB (median)')
for (const [name, list] of samples) {
  const all = list.map((s) => Math.round(s.wallMs)).join(' / ')
  console.log(`${name.padEnd(10)} ${String(Math.round(median(list.map((s) => s.wallMs)))).padStart(6)} (${all})`.padEnd(54) + `${median(list.map((s) => s.cpuMs))}`.padStart(15) + `${median(list.map((s) => s.rssMb))}`.padStart(22))
}
await dropSchema(DATABASE, schema)
