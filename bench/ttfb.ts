/**
 * Streaming time to first byte alone (the figure `npm run bench` ends with), with the gateway's
 * own split of it: the mock upstream, the bare proxy and the gateway (no auth, one route, started
 * from bin/gateway.js with bench/ttfb-probe.mjs preloaded), sequential streamed requests taking
 * turns. Prints p50 per target and the gateway's median stage gaps.
 * Usage: node --import tsx bench/ttfb.ts [requests per target, default 300]
 * Env: BENCH_COMPARE (another checkout: its gateway runs beside this one, for before/after);
 * BENCH_TTFB_FULL=1 adds the full pipeline (api-key, limits, usage to PostgreSQL at DATABASE_URL), with
 * BENCH_COMPARE the other checkout's too.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { killAll, shuffledOrder, spawnServer, type Server } from './procs.ts'
import { dropSchema, fullPipelineConfig, virtualKey } from './configs.ts'

const ROOT = path.resolve(import.meta.dirname, '..')
const N = Number(process.argv[2] ?? 300)
const GATEWAY_READY = /listening on http:\/\/[^:]+:(\d+)/

async function main(): Promise<void> {
  const script = (s: string, ...args: string[]) => spawnServer(['--import', 'tsx', s, ...args], /listening (\d+)/, { cwd: ROOT })
  const upstream = await script('bench/upstream.ts', '0')
  const bare = await script('bench/bare-proxy.ts', '0', String(upstream.port))
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-ttfb-'))
  const config = path.join(dir, 'gateway.yaml')
  await writeFile(config, `version: 1
providers:
  upstream: { plugin: openai, api_key: bench, base_url: "http://127.0.0.1:${upstream.port}/v1" }
routes:
  - model: bench
    targets: [ { provider: upstream, model: bench-model } ]
logging: { level: warn }
`)
  const start = (root: string, report: string, configFile = config): Promise<Server> => spawnServer(
    [path.join(root, 'bin/gateway.js'), 'start', '--config', configFile, '--port', '0', '--no-watch'], GATEWAY_READY,
    { cwd: root, env: { NODE_OPTIONS: `--import ${path.join(ROOT, 'bench/ttfb-probe.mjs')}`, GATEWAY_TTFB_REPORT_FILE: report } },
  )
  const targets: { name: string; server: Server; report?: string; headers?: Record<string, string> }[] = [
    { name: 'upstream (floor)', server: upstream },
    { name: 'bare node proxy', server: bare },
  ]
  if (process.env.BENCH_COMPARE) targets.push({ name: 'gateway at BENCH_COMPARE', server: await start(process.env.BENCH_COMPARE, path.join(dir, 'compare.jsonl')), report: path.join(dir, 'compare.jsonl') })
  targets.push({ name: 'gateway', server: await start(ROOT, path.join(dir, 'this.jsonl')), report: path.join(dir, 'this.jsonl') })
  const database = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
  const schemas: string[] = []
  /** The full pipeline from the checkout at `root`, in a schema of its own, with a virtual key made through its API. */
  const startFull = async (root: string, name: string): Promise<void> => {
    const schema = `bench_ttfb_${process.pid}_${schemas.length}`
    schemas.push(schema)
    const adminKey = 'bench-admin-key-0123456789abcdef'
    const full = path.join(dir, `${schema}.yaml`)
    const report = path.join(dir, `${schema}.jsonl`)
    await writeFile(full, fullPipelineConfig({ database, schema, upstreamBase: `http://127.0.0.1:${upstream.port}/v1`, adminKey }) + 'logging: { level: warn }\n')
    const server = await start(root, report, full)
    const key = await virtualKey(server.port, adminKey)
    targets.push({ name, server, report, headers: { authorization: `Bearer ${key}` } })
  }
  if (process.env.BENCH_TTFB_FULL === '1') {
    if (process.env.BENCH_COMPARE) await startFull(process.env.BENCH_COMPARE, 'full pipeline at BENCH_COMPARE')
    await startFull(ROOT, 'gateway, full pipeline')
  }

  const body = JSON.stringify({ model: 'bench', stream: true, messages: [{ role: 'user', content: 'stream please' }] })
  const agent = new http.Agent({ keepAlive: true })
  const once = (port: number, headers: Record<string, string> = {}): Promise<number> => new Promise((resolve, reject) => {
    const t0 = performance.now()
    const req = http.request({ host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', agent, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let first = 0
      res.on('data', () => { first ||= performance.now() - t0 })
      res.on('end', () => (res.statusCode === 200 ? resolve(first) : reject(new Error(`status ${res.statusCode}`))))
    })
    req.on('error', reject)
    req.end(body)
  })
  const times = targets.map(() => [] as number[])
  for (let i = 0; i < N + 20; i++) {
    for (const j of shuffledOrder(targets.length)) {
      const t = targets[j]
      const ms = await once(t.server.port, t.headers)
      if (i >= 20) times[j].push(ms)
    }
    // The warm-up's stamps are dropped.
    if (i === 19) for (const t of targets) if (t.report) t.server.child.kill('SIGUSR2')
  }
  for (const t of targets) if (t.report) t.server.child.kill('SIGUSR2')
  await new Promise((r) => setTimeout(r, 500))
  const p50 = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  console.log(`streaming TTFB, ${N} sequential requests per target taking turns; load average ${os.loadavg()[0].toFixed(2)}`)
  for (const [j, t] of targets.entries()) {
    const over = j < 2 ? '' : `  +${(p50(times[j]) - p50(times[1])).toFixed(2)} ms over bare`
    console.log(`${t.name.padEnd(28)} p50 ${p50(times[j]).toFixed(2)} ms${over}`)
    if (t.report) console.log('   gateway split (medians, ms):', (await readFile(t.report, 'utf8')).trim().split('\n').at(-1))
  }
  if (process.env.BENCH_TTFB_FULL === '1') {
    killAll()
    for (const schema of schemas) await dropSchema(database, schema)
  }
}

main()
  .catch((err) => { console.error(err); process.exitCode = 1 })
  .finally(killAll)
