/**
 * What a request allocates, by function: node --import tsx bench/heap-profile.ts [requests]
 * A gateway (no auth, openai provider to the bench upstream; HEAP_PROFILE_ROW=full: the full
 * pipeline of bench/configs.ts, usage to PostgreSQL; =cache: cache hits) runs with bench/heap-sampler.mjs
 * preloaded; after 20,000 warm-up requests it samples every allocation (one per 1 kB on average,
 * collected objects included) over `requests` more at 50 connections, then prints the bytes per
 * request and the functions that allocate most, by their own allocations and with their callees.
 * Garbage is what sets the young-generation GC's pace, and with it the p99.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { dropSchema, fullPipelineConfig, virtualKey } from './configs.ts'
import { killAll, spawnServer } from './procs.ts'

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: Node[] }
interface Profile { head: Node; samples: { nodeId: number; size: number }[] }

const ROOT = path.resolve(import.meta.dirname, '..')
const requests = Number(process.argv[2] ?? 20_000)
const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-heap-'))
const out = path.join(dir, 'heap.json')
const upstream = await spawnServer(['--import', 'tsx', 'bench/upstream.ts', '0'], /listening (\d+)/, { cwd: ROOT })
const full = process.env.HEAP_PROFILE_ROW === 'full'
// HEAP_PROFILE_ROW=cache: the same route with `cache: true` on the memory backend, every timed request a hit.
const cached = process.env.HEAP_PROFILE_ROW === 'cache'
const DATABASE = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const ADMIN = 'bench-admin-key-0123456789abcdef'
const schema = `bench_heap_${process.pid}`
await writeFile(path.join(dir, 'gateway.yaml'), full
  ? fullPipelineConfig({ database: DATABASE, schema, upstreamBase: `http://127.0.0.1:${upstream.port}/v1`, adminKey: ADMIN })
  : `version: 1\n${cached ? 'cache: { plugin: memory }\n' : ''}providers:\n  upstream: { plugin: openai, api_key: bench, base_url: "http://127.0.0.1:${upstream.port}/v1" }\nroutes:\n  - model: bench\n${cached ? '    cache: true\n' : ''}    targets: [ { provider: upstream, model: bench-model } ]\n`)
const gateway = await spawnServer(['--import', './bench/heap-sampler.mjs', 'bin/gateway.js', 'start', '--config', path.join(dir, 'gateway.yaml'), '--port', '0', '--no-watch'], /listening on http:\/\/[^:]+:(\d+)/, { cwd: ROOT, env: { HEAP_PROFILE_OUT: out, HEAP_PROFILE_SURVIVORS: process.env.HEAP_PROFILE_SURVIVORS ?? '' } })
const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Say something about foxes.' }] })
const headers: Record<string, string> = { 'content-type': 'application/json' }
if (full) {
  headers.authorization = `Bearer ${await virtualKey(gateway.port, ADMIN)}`
}
const load = (amount: number) => autocannon({ url: `http://127.0.0.1:${gateway.port}/v1/chat/completions`, connections: 50, amount, method: 'POST', headers, body })
await load(20_000)
gateway.child.kill('SIGUSR2')
await new Promise((resolve) => setTimeout(resolve, 300))
await load(requests)
gateway.child.kill('SIGWINCH')
let profile: Profile | undefined
for (let i = 0; i < 100 && !profile; i++) {
  await new Promise((resolve) => setTimeout(resolve, 100))
  profile = await readFile(out, 'utf8').then((text) => JSON.parse(text) as Profile, () => undefined)
}
killAll()
if (full) await dropSchema(DATABASE, schema)
if (!profile) throw new Error('the gateway wrote no heap profile')

const bytesOf = new Map<number, number>()
for (const s of profile.samples) bytesOf.set(s.nodeId, (bytesOf.get(s.nodeId) ?? 0) + s.size)
const own = new Map<string, number>()
const withCallees = new Map<string, number>()
let total = 0
const keyOf = (n: Node): string => `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^file:\/\//, '').replace(ROOT + '/', '')}:${n.callFrame.lineNumber + 1}`
const walk = (n: Node, stack: readonly string[]): void => {
  const key = keyOf(n)
  const bytes = bytesOf.get(n.id) ?? 0
  total += bytes
  own.set(key, (own.get(key) ?? 0) + bytes)
  const frames = stack.includes(key) ? stack : [...stack, key]
  for (const frame of frames) withCallees.set(frame, (withCallees.get(frame) ?? 0) + bytes)
  for (const child of n.children ?? []) walk(child, frames)
}
walk(profile.head, [])
const top = (m: Map<string, number>, k: number): string => [...m].sort((a, b) => b[1] - a[1]).slice(0, k).map(([key, bytes]) => `${String(Math.round(bytes / requests)).padStart(7)}  ${key}`).join('\n')
console.log(`${Math.round(total / requests)} bytes allocated per request (${requests} requests)\n-- bytes per request, own\n${top(own, 40)}\n-- bytes per request, with callees\n${top(withCallees, 40)}`)
