/**
 * What a limit check costs: the memory limiter well under 10 µs, the Redis limiter exactly one
 * round trip (one EVALSHA, whatever the number of buckets). The figures are printed for the record.
 */
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LimitBucket } from '../../core/plugins/types.ts'
import memoryLimiter, { MemoryLimiter } from '../../plugins/limits/memory/index.ts'
import redisLimiter from '../../plugins/limits/redis/index.ts'
import { REDIS_ENABLED, setupPlugin, startPrivateRedis, type PrivateRedis } from './helpers.ts'

/** A typical request: a user's requests and tokens per minute, and its department's requests per minute. */
function requestBuckets(user: number): LimitBucket[] {
  return [
    { key: `user:u${user}:r:60000`, limit: 600, windowMs: 60_000, cost: 1 },
    { key: `user:u${user}:t:60000`, limit: 1_000_000, windowMs: 60_000, cost: 350 },
    { key: `department:d${user % 10}:r:60000`, limit: 1_000_000, windowMs: 60_000, cost: 1 },
  ]
}

describe('limiter.memory cost', () => {
  it('checks a three-bucket request in under 10 µs on average (1000 users, 200k checks)', async () => {
    const limiter = (await setupPlugin(memoryLimiter, { max_buckets: 1_000_000 })) as MemoryLimiter
    const requests = Array.from({ length: 1000 }, (_, i) => requestBuckets(i))
    for (let i = 0; i < 20_000; i++) limiter.takeNow(requests[i % 1000])
    const n = 200_000
    let started = performance.now()
    for (let i = 0; i < n; i++) limiter.takeNow(requests[i % 1000])
    const syncUs = ((performance.now() - started) * 1000) / n
    started = performance.now()
    for (let i = 0; i < n; i++) await limiter.take(requests[i % 1000])
    const asyncUs = ((performance.now() - started) * 1000) / n
    console.log(`limiter.memory: ${syncUs.toFixed(3)} µs per check (sync), ${asyncUs.toFixed(3)} µs awaited through take()`)
    expect(syncUs).toBeLessThan(10)
    expect(asyncUs).toBeLessThan(10)
    limiter.dispose()
  })
})

describe.skipIf(!REDIS_ENABLED)('limiter.redis cost', () => {
  let redis: PrivateRedis
  beforeAll(async () => { redis = await startPrivateRedis() }, 20_000)
  afterAll(async () => { await redis?.kill() })

  it('costs one round trip per check: one EVALSHA whatever the number of buckets', async () => {
    const limiter = await setupPlugin(redisLimiter, { url: redis.url, key_prefix: 'perf:', timeout_ms: 500, connect_timeout_ms: 2000 })
    const admin = createClient({ url: redis.url })
    await admin.connect()
    try {
      await limiter.take(requestBuckets(0)) // loads the script (EVALSHA, then EVAL once)
      await admin.configResetStat()
      const n = 200
      const started = performance.now()
      for (let i = 0; i < n; i++) await limiter.take(requestBuckets(i))
      const ms = (performance.now() - started) / n
      const stats = await admin.info('commandstats')
      const calls = Object.fromEntries([...stats.matchAll(/^cmdstat_([a-z]+)(?:\|[a-z]+)?:calls=(\d+)/gm)].map((m) => [m[1], Number(m[2])]))
      delete calls.config
      console.log(`limiter.redis: ${(ms * 1000).toFixed(0)} µs per check (one round trip on loopback); commands: ${JSON.stringify(calls)}`)
      // commandstats also counts what the script runs inside Redis (TIME once, then GET/SET per bucket):
      // the only command the client sent is EVALSHA, once per check.
      const { evalsha, time, ...insideScript } = calls
      expect(evalsha).toBe(n)
      expect(time).toBe(n)
      expect(Object.keys(insideScript).every((c) => ['get', 'set', 'del'].includes(c))).toBe(true)
    } finally {
      admin.destroy()
      await limiter.dispose?.()
    }
  })
})
