/**
 * Two gateway checkouts (or configs) side by side on the same upstream, interleaved rounds, CPU µs
 * per request of each: node --import tsx bench/ab.ts DIR_A DIR_B [rounds] [seconds]
 * AB_MODEL picks the route: bench (openai provider to the upstream, the default), bench-mock (the
 * mock provider, no upstream call) or bench-cached (cache hits); AB_STORE=embedded gives both
 * gateways an embedded store (each its own directory), AB_STORE=postgres a PostgreSQL store at
 * DATABASE_URL (each its own schema, dropped at the end): usage events are written to it.
 * AB_STREAM=1 asks for streamed answers (`stream: true`; the upstream's pause between words is
 * BENCH_STREAM_DELAY_MS, 20 by default). AB_LIMITS=1 adds a rate limit checked on every request
 * (memory backend, a limit never reached). AB_ENV_B='NAME=value ...' sets environment variables for
 * B alone (for example NODE_OPTIONS=--max-semi-space-size=32: one build, two runtime settings).
 * AB_RATE=N offers N requests a second in all (open loop) instead of as many as 50 connections
 * take: CPU per request at the same rate, without the batching a faster server gets.
 */
import { mkdtemp, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { envOf, killAll, median, spawnServer, treeCpuMs } from './procs.ts'
import { dropSchema } from './configs.ts'

const [a, b, roundsText = '5', secondsText = '3'] = process.argv.slice(2)
const ROOT = path.resolve(import.meta.dirname, '..')
const model = process.env.AB_MODEL ?? 'bench'
const upstream = await spawnServer(['--import', 'tsx', 'bench/upstream.ts', '0'], /listening (\d+)/, { cwd: ROOT })
const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-ab-'))
const DATABASE = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const schemaOf = (name: string): string => `bench_ab_${process.pid}_${name}`
const storeFor = (name: string): string => {
  if (process.env.AB_STORE === 'embedded') return `store: { plugin: embedded, path: ${JSON.stringify(path.join(dir, `data-${name}`))}, vector: false }\n`
  if (process.env.AB_STORE === 'postgres') return `store: { plugin: postgres, url: "${DATABASE}", schema: ${schemaOf(name)} }\n`
  return ''
}
const configFor = async (name: string): Promise<string> => {
  const file = path.join(dir, `${name}.yaml`)
  const store = storeFor(name)
  const limits = process.env.AB_LIMITS === '1' ? 'limits:\n  backend: { plugin: memory }\n  policies: [ { scope: organization, requests_per_minute: 100000000 } ]\n' : ''
  await writeFile(file, `version: 1\n${store}${limits}cache: { plugin: memory }\nproviders:\n  up: { plugin: openai, api_key: bench, base_url: "http://127.0.0.1:${upstream.port}/v1" }\n  mock: { plugin: mock }\nroutes:\n  - model: bench\n    targets: [ { provider: up, model: bench-model } ]\n  - model: bench-mock\n    targets: [ { provider: mock } ]\n  - model: bench-cached\n    cache: true\n    targets: [ { provider: up, model: bench-model } ]\n`)
  return file
}
const envB = envOf(process.env.AB_ENV_B)
const start = async (root: string, name: string) => spawnServer(['bin/gateway.js', 'start', '--config', await configFor(name), '--port', '0', '--no-watch'], /listening on http:\/\/[^:]+:(\d+)/, { cwd: path.resolve(root), env: name === 'b' ? envB : {} })
const servers = [await start(a, 'a'), await start(b, 'b')]
const stream = process.env.AB_STREAM === '1'
const body = JSON.stringify({ model, ...(stream ? { stream } : {}), messages: [{ role: 'user', content: 'Say something about foxes.' }] })
const samples: { rps: number; cpuUs: number }[][] = [[], []]
// Two warm-up rounds (JIT, pools), not counted.
for (let round = -2; round < Number(roundsText); round++) {
  // Each round in the other order too, so neither side always runs right after the other's load.
  const order = round % 2 !== 0 ? [...servers.entries()].reverse() : [...servers.entries()]
  for (const [i, s] of order) {
    const cpu0 = treeCpuMs(s.child.pid!)
    const r = await autocannon({ url: `http://127.0.0.1:${s.port}/v1/chat/completions`, connections: 50, duration: Number(secondsText), ...(process.env.AB_RATE ? { overallRate: Number(process.env.AB_RATE) } : {}), method: 'POST', headers: { 'content-type': 'application/json' }, body })
    if (r.non2xx + r.errors) throw new Error(`${[a, b][i]}: ${r.non2xx} non-2xx answers, ${r.errors} errors`)
    if (round >= 0) samples[i].push({ rps: r.requests.average, cpuUs: ((treeCpuMs(s.child.pid!) - cpu0) * 1000) / Math.max(1, r.requests.total) })
  }
}
console.log(`${model}${stream ? ', streamed' : ''}${process.env.AB_STORE ? `, ${process.env.AB_STORE} store` : ''}${process.env.AB_LIMITS === '1' ? ', rate limit' : ''}; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`)
for (const [i, root] of [a, b].entries()) {
  console.log(`${root}: ${median(samples[i].map((x) => x.rps)).toFixed(0)} req/s, ${median(samples[i].map((x) => x.cpuUs)).toFixed(0)} µs CPU/req (each round: ${samples[i].map((x) => x.cpuUs.toFixed(0)).join(' ')})`)
}
const ratio = samples[1].map((x, r) => x.cpuUs / samples[0][r].cpuUs)
console.log(`B / A CPU per request: median ${median(ratio).toFixed(3)} (rounds ${ratio.map((x) => x.toFixed(2)).join(' ')})`)
killAll()
if (process.env.AB_STORE === 'postgres') for (const name of ['a', 'b']) await dropSchema(DATABASE, schemaOf(name))
