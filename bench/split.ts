/**
 * What each piece of the full pipeline costs: the same gateway with one piece added at a time,
 * interleaved rounds at 50 connections on one upstream:
 *   node --import tsx bench/split.ts [rounds] [seconds]
 * The steps: no auth and no store; a PostgreSQL store with usage off on the route; usage written to
 * PostgreSQL; then api-key auth and a rate limit, which is the full pipeline of bench/configs.ts.
 * Per step: req/s, the gateway's CPU per request and PostgreSQL's (all its processes: on this
 * machine the database shares the cores with the gateway, so its CPU is taken from the gateway's).
 */
import { mkdtemp, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { dropSchema, fullPipelineConfig, virtualKey } from './configs.ts'
import { killAll, median, postgresCpuMs, spawnServer, treeCpuMs } from './procs.ts'

const [roundsText = '8', secondsText = '3'] = process.argv.slice(2)
const ROOT = path.resolve(import.meta.dirname, '..')
const DATABASE = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const ADMIN = 'bench-admin-key-0123456789abcdef'
const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-split-'))
const upstream = await spawnServer(['--import', 'tsx', 'bench/upstream.ts', '0'], /listening (\d+)/, { cwd: ROOT })
const upstreamBase = `http://127.0.0.1:${upstream.port}/v1`
const schemaOf = (step: number): string => `bench_split_${process.pid}_${step}`

/** A step without auth: a PostgreSQL store on `schema` (none without one), usage off on the route unless `usage`. */
const withoutAuth = (schema: string | undefined, usage: boolean): string => `version: 1
${schema ? `store: { plugin: postgres, url: "${DATABASE}", schema: ${schema} }\n` : ''}providers:
  upstream: { plugin: openai, api_key: bench, base_url: "${upstreamBase}" }
routes:
  - model: bench
    targets: [ { provider: upstream, model: bench-model } ]
${usage ? '' : '    stages: { usage: false }\n'}`
const steps = [
  { name: 'no auth, no store', config: () => withoutAuth(undefined, true), keyed: false },
  { name: 'PostgreSQL store, usage off', config: (schema: string) => withoutAuth(schema, false), keyed: false },
  { name: 'usage to PostgreSQL', config: (schema: string) => withoutAuth(schema, true), keyed: false },
  { name: '+ api-key, rate limit (full)', config: (schema: string) => fullPipelineConfig({ database: DATABASE, schema, upstreamBase, adminKey: ADMIN }), keyed: true },
]

const targets = []
for (const [i, step] of steps.entries()) {
  const file = path.join(dir, `step${i}.yaml`)
  await writeFile(file, step.config(schemaOf(i)))
  const server = await spawnServer(['bin/gateway.js', 'start', '--config', file, '--port', '0', '--no-watch'], /listening on http:\/\/[^:]+:(\d+)/, { cwd: ROOT })
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (step.keyed) {
    headers.authorization = `Bearer ${await virtualKey(server.port, ADMIN)}`
  }
  targets.push({ name: step.name, server, headers })
}

const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Say something about foxes.' }] })
const samples = targets.map(() => [] as { rps: number; cpuUs: number; pgUs: number }[])
for (let round = -1; round < Number(roundsText); round++) {
  const order = targets.map((_, i) => i).sort(() => Math.random() - 0.5)
  for (const i of order) {
    const { server, headers } = targets[i]
    const cpu0 = treeCpuMs(server.child.pid!)
    const pg0 = postgresCpuMs()
    const r = await autocannon({ url: `http://127.0.0.1:${server.port}/v1/chat/completions`, connections: 50, duration: Number(secondsText), method: 'POST', headers, body })
    if (round < 0) continue
    samples[i].push({ rps: r.requests.average, cpuUs: ((treeCpuMs(server.child.pid!) - cpu0) * 1000) / r.requests.total, pgUs: ((postgresCpuMs() - pg0) * 1000) / r.requests.total })
  }
}
console.log(`${'step'.padEnd(32)} ${'req/s'.padStart(7)}  gateway CPU µs/req  PostgreSQL CPU µs/req`)
for (const [i, t] of targets.entries()) {
  const of = (pick: (s: { rps: number; cpuUs: number; pgUs: number }) => number): number => median(samples[i].map(pick))
  console.log(`${t.name.padEnd(32)} ${of((s) => s.rps).toFixed(0).padStart(7)}  ${of((s) => s.cpuUs).toFixed(1).padStart(18)}  ${of((s) => s.pgUs).toFixed(1).padStart(21)}`)
}
killAll()
for (let i = 1; i < steps.length; i++) await dropSchema(DATABASE, schemaOf(i))
