/**
 * The full pipeline (bench/configs.ts: api-key virtual key, a rate limit, usage to PostgreSQL) of
 * two gateway checkouts side by side, with the bare proxy and the no-auth route of B, interleaved:
 *   node --import tsx bench/ab-full.ts DIR_A DIR_B [rounds] [seconds]
 * Per target and round: req/s, p99 and the process tree's CPU per request; each round's req/s and
 * p99 divided by the bare proxy's in that round. AB_THREADS=1 also prints, per gateway, the CPU of
 * each thread (main, libuv pool, V8 helpers) per request, and the PostgreSQL server's CPU per
 * request (all its processes: noisy when another job uses the same server). AB_ENV_B='NAME=value ...'
 * sets environment variables for B's gateway alone, as in bench/ab.ts (one build, two runtime
 * settings: AB_ENV_B='NODE_OPTIONS=--max-semi-space-size=32' node --import tsx bench/ab-full.ts . .).
 * Each gateway's peak RSS and its GC pauses (time per request and collections per second, by kind,
 * from its /metrics) are printed at the end. p99 is exact (bench/load.ts).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { dropSchema, fullPipelineConfig, noAuthConfig, virtualKey } from './configs.ts'
import { envOf, killAll, median, postgresCpuMs, spawnServer, treeCpuMs, treeRssMb } from './procs.ts'
import { load } from './load.ts'

const [a, b, roundsText = '5', secondsText = '3'] = process.argv.slice(2)
const ROOT = path.resolve(import.meta.dirname, '..')
const DATABASE = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const ADMIN = 'bench-admin-key-0123456789abcdef'
const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-abfull-'))
const upstream = await spawnServer(['--import', 'tsx', 'bench/upstream.ts', '0'], /listening (\d+)/, { cwd: ROOT })
const bare = await spawnServer(['--import', 'tsx', 'bench/bare-proxy.ts', '0', String(upstream.port)], /listening (\d+)/, { cwd: ROOT })
const upstreamBase = `http://127.0.0.1:${upstream.port}/v1`
const READY = /listening on http:\/\/[^:]+:(\d+)/
const schemaOf = (name: string): string => `bench_abfull_${process.pid}_${name.replace(/\W/g, "_").toLowerCase()}`

async function full(root: string, name: string) {
  const file = path.join(dir, `${name.replace(/\W/g, "_")}.yaml`)
  await writeFile(file, fullPipelineConfig({ database: DATABASE, schema: schemaOf(name), upstreamBase, adminKey: ADMIN }))
  const env = name === 'B full' ? envOf(process.env.AB_ENV_B) : {}
  const server = await spawnServer(['bin/gateway.js', 'start', '--config', file, '--port', '0', '--no-watch'], READY, { cwd: path.resolve(root), env })
  return { name, server, headers: { authorization: `Bearer ${await virtualKey(server.port, ADMIN)}` } }
}
async function noAuth(root: string, name: string) {
  const file = path.join(dir, `${name.replace(/\W/g, "_")}.yaml`)
  await writeFile(file, noAuthConfig(upstreamBase))
  const server = await spawnServer(['bin/gateway.js', 'start', '--config', file, '--port', '0', '--no-watch'], READY, { cwd: path.resolve(root) })
  return { name, server, headers: {} as Record<string, string> }
}

const targets = [
  { name: 'bare', server: bare, headers: {} as Record<string, string> },
  await full(a, 'A full'),
  await full(b, 'B full'),
  ...(process.env.AB_NOAUTH === '1' ? [await noAuth(b, 'B no auth')] : []),
]
const threads = process.env.AB_THREADS === '1'
const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Say something about foxes.' }] })

/** CPU ms per thread name of one process. */
function threadCpu(pid: number): Map<string, number> {
  const m = new Map<string, number>()
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8')
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/\d+$/, 'N')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      m.set(task === String(pid) ? 'main' : comm, (m.get(task === String(pid) ? 'main' : comm) ?? 0) + (Number(f[11]) + Number(f[12])) * 10)
    } catch { /* ended */ }
  }
  return m
}

/** The gateway's garbage collections so far, from its /metrics (prom-client's default metrics): ms and count per kind. */
async function gcTotals(port: number): Promise<Map<string, { ms: number; count: number }>> {
  const m = new Map<string, { ms: number; count: number }>()
  for (const line of (await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).split('\n')) {
    const x = /^gateway_process_nodejs_gc_duration_seconds_(sum|count)\{kind="(\w+)"\} ([\d.e+-]+)$/.exec(line)
    if (!x) continue
    const kind = m.get(x[2]) ?? { ms: 0, count: 0 }
    if (x[1] === 'sum') kind.ms = Number(x[3]) * 1000
    else kind.count = Number(x[3])
    m.set(x[2], kind)
  }
  return m
}

interface Sample { rps: number; p99: number; cpuUs: number; pgUs: number; threads: Map<string, number>; gc: Map<string, { usPerRequest: number; perSecond: number }> }
const samples: Sample[][] = targets.map(() => [])
for (let round = -2; round < Number(roundsText); round++) {
  const order = targets.map((_, i) => i)
  for (let k = order.length - 1; k > 0; k--) { const r = Math.floor(Math.random() * (k + 1)); [order[k], order[r]] = [order[r], order[k]] }
  for (const i of order) {
    const t = targets[i]
    const pid = t.server.child.pid!
    const cpu0 = treeCpuMs(pid)
    const th0 = threads ? threadCpu(pid) : undefined
    const pg0 = threads ? postgresCpuMs() : 0
    const gc0 = i > 0 ? await gcTotals(t.server.port) : undefined
    const { result: r, p99 } = await load({ url: `http://127.0.0.1:${t.server.port}/v1/chat/completions`, connections: 50, duration: Number(secondsText), method: 'POST', headers: { 'content-type': 'application/json', ...t.headers }, body })
    if (r.non2xx + r.errors) throw new Error(`${t.name}: ${r.non2xx} non-2xx, ${r.errors} errors`)
    const n = Math.max(1, r.requests.total)
    const th = new Map<string, number>()
    if (th0) for (const [k, v] of threadCpu(pid)) th.set(k, ((v - (th0.get(k) ?? 0)) * 1000) / n)
    const gc = new Map<string, { usPerRequest: number; perSecond: number }>()
    if (gc0) for (const [kind, { ms, count }] of await gcTotals(t.server.port)) gc.set(kind, { usPerRequest: ((ms - (gc0.get(kind)?.ms ?? 0)) * 1000) / n, perSecond: (count - (gc0.get(kind)?.count ?? 0)) / Number(secondsText) })
    if (round >= 0) samples[i].push({ rps: r.requests.average, p99, cpuUs: ((treeCpuMs(pid) - cpu0) * 1000) / n, pgUs: threads ? ((postgresCpuMs() - pg0) * 1000) / n : 0, threads: th, gc })
  }
}
console.log(`full pipeline A/B; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}; ${roundsText} rounds of ${secondsText} s`)
const f = (x: number, d = 0) => x.toFixed(d)
for (const [i, t] of targets.entries()) {
  const s = samples[i]
  const vs = s.map((x, r) => x.rps / samples[0][r].rps)
  const p99vs = s.map((x, r) => x.p99 / Math.max(0.1, samples[0][r].p99))
  console.log(`${t.name.padEnd(10)} ${f(median(s.map((x) => x.rps))).padStart(6)} req/s  vs bare ${f(median(vs) * 100)}% (${vs.map((x) => f(x * 100)).join(' ')})  p99 ${f(median(s.map((x) => x.p99)), 1)} ms ${median(p99vs).toFixed(2)}x  CPU ${f(median(s.map((x) => x.cpuUs)))} µs/req (${s.map((x) => f(x.cpuUs)).join(' ')})${threads ? `  pg ${f(median(s.map((x) => x.pgUs)))} µs/req` : ''}`)
  if (i > 0) {
    const kinds = [...new Set(s.flatMap((x) => [...x.gc.keys()]))].filter((k) => k !== 'weakcb')
    const gc = kinds.map((k) => `${k} ${f(median(s.map((x) => x.gc.get(k)?.usPerRequest ?? 0)), 1)} µs/req (${f(median(s.map((x) => x.gc.get(k)?.perSecond ?? 0)), 1)}/s)`).join(', ')
    console.log(`           RSS peak ${treeRssMb(t.server.child.pid!).peak} MB; GC pauses: ${gc}`)
  }
  if (threads && i > 0) {
    const names = [...new Set(s.flatMap((x) => [...x.threads.keys()]))]
    console.log('           threads: ' + names.map((k) => `${k} ${f(median(s.map((x) => x.threads.get(k) ?? 0)), 1)}`).join(', '))
  }
}
const ratio = samples[2].map((x, r) => x.cpuUs / samples[1][r].cpuUs)
const rpsRatio = samples[2].map((x, r) => (x.rps / samples[0][r].rps) / (samples[1][r].rps / samples[0][r].rps))
console.log(`B / A CPU per request: median ${median(ratio).toFixed(3)} (rounds ${ratio.map((x) => x.toFixed(2)).join(' ')}); B / A req/s (each vs bare): median ${median(rpsRatio).toFixed(3)} (rounds ${rpsRatio.map((x) => x.toFixed(2)).join(' ')})`)
killAll()
for (const name of ['A full', 'B full']) await dropSchema(DATABASE, schemaOf(name)).catch(() => {})
