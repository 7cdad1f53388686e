/**
 * The limits stage alone, in process: access + log of one request (memory limiter, one per-key
 * requests policy, a cached principal), µs per request: node --import tsx bench/limits-stage.ts
 */
import plugin from '../plugins/stages/limits/index.ts'
import { MemoryLimiter } from '../plugins/limits/memory/index.ts'
import { Limiter, type Limiter as L } from '../plugins/contracts/limiter.ts'
import { Identity } from '../plugins/contracts/capabilities.ts'
const limiter = new MemoryLimiter({ max_buckets: 1_000_000 })
const metric = { inc() {}, set() {}, reset() {}, observe() {} }
const kept = new Map<string, unknown>()
const ctx = {
  tryGet: (cap: unknown) => (cap === Limiter ? (limiter as L) : cap === Identity ? {} : undefined),
  metrics: { counter: () => metric, gauge: () => metric, histogram: () => metric },
  keep: (k: string, f: () => unknown) => { if (!kept.has(k)) kept.set(k, f()); return kept.get(k) },
  logger: { warn() {}, info() {}, debug() {}, error() {} },
}
const stage = (plugin as unknown as { setup: (c: unknown, cfg: unknown) => { access: (x: unknown) => unknown; log: (x: unknown, o: unknown) => void } }).setup(ctx, { policies: [{ scope: 'key', requests_per_minute: 100_000_000 }], limiter: 'memory' })
const principal = Object.freeze({ userId: 'u1', role: 'user', strategy: 'auth.api-key', keyId: '9a8b7c6d-1111-2222-3333-444455556666' })
const route = { name: 'bench' }
let headers = 0
const outcome = { status: 200, costUsd: 0, cacheHit: false, promptTokens: 12, completionTokens: 34 }
const one = () => {
  const x = { principal, route, thread: undefined, parentId: undefined, estimate: { prompt: 10, completion: 10 }, setHeader: (_n: string, _v: string) => { headers++ } }
  stage.access(x)
  stage.log(x, outcome)
}
const N = 1_000_000
for (let r = 0; r < 3; r++) {
  globalThis.gc?.()
  const m0 = process.memoryUsage().heapUsed
  const t = performance.now()
  for (let i = 0; i < N; i++) one()
  const us = (performance.now() - t) * 1000 / N
  console.log(`access+log ${us.toFixed(3)} µs/request (headers ${headers / ((r + 1) * N)})`)
}
