/**
 * What a limit check costs: the memory limiter well under 10 µs, the Redis limiter exactly one
 * round trip (one EVALSHA, whatever the number of buckets); a budget check with its reservation
 * and settlement well under 20 µs in process, and on Redis no round trip beyond the rate limits'
 * (the reservation rides in the same EVALSHA, the settlement in the one that corrects the token
 * buckets). The figures are printed for the record.
 */
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { StageExchange } from '../../plugin-api/types.ts'
import type { BudgetReservation, LimitBucket } from '../../plugins/contracts/limiter.ts'
import { PriceTable } from '../../plugins/services/pricing/prices.ts'
import { budgetsFor, compileBudget, endOfPeriod, startOfPeriod } from '../../plugins/stages/limits/budgets.ts'
import { estimateCost } from '../../plugins/stages/limits/estimate.ts'
import { BudgetLedger } from '../../plugins/stages/limits/ledger.ts'
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

describe('budget check cost (in process)', () => {
  it('finds, estimates, reserves and settles a request\'s three budgets in under 20 µs on average', () => {
    const budgets = [
      compileBudget({ scope: 'key', usd_per_day: 1e9 }, [0.8, 1]),
      compileBudget({ scope: 'user', usd_per_month: 1e9 }, [0.8, 1]),
      compileBudget({ scope: 'department', usd_per_day: 1e9 }, [0.8, 1]),
    ]
    const prices = new PriceTable()
    // What the stage reads of an exchange; one class, as the kernel's Exchange is.
    class Exchange {
      readonly operation = 'chat'
      readonly requestedModel = 'chat'
      readonly estimate = { prompt: 350, completion: 0 }
      readonly route = { name: 'chat', targets: [{ provider: 'a', model: 'gpt-4o-mini' }, { provider: 'b', model: 'claude-3-5-haiku' }] }
      constructor(readonly principal: { userId: string; keyId: string; department: string; role: string }) {}
      cost(model: string, t: { prompt: number; completion: number }): number { return prices.cost(model, { prompt: t.prompt, completion: t.completion, cached: 0 }) }
      maxOutputTokens(model: string): number | undefined { return prices.maxOutputTokens(model) }
    }
    const exchangeFor = (user: number) => new Exchange({ userId: `u${user}`, keyId: `k${user}`, department: `d${user % 10}`, role: 'user' }) as unknown as StageExchange
    const exchanges = Array.from({ length: 1000 }, (_, i) => exchangeFor(i))
    const ledger = new BudgetLedger()
    const once = (x: StageExchange): void => {
      const applied = budgetsFor(budgets, { principal: x.principal, route: 'chat', thread: undefined })
      const estimate = estimateCost(x, 4096)
      ledger.prepare(applied, undefined, 10_000)
      const { refused } = ledger.reserve(applied, estimate.usd)
      if (refused) throw new Error('refused')
      ledger.settle(applied, estimate.usd, estimate.usd / 2)
    }
    for (let i = 0; i < 20_000; i++) once(exchanges[i % 1000])
    const n = 200_000
    const started = performance.now()
    for (let i = 0; i < n; i++) once(exchanges[i % 1000])
    const us = ((performance.now() - started) * 1000) / n
    console.log(`budget check in process (3 budgets: find, estimate, reserve, settle): ${us.toFixed(3)} µs per request`)
    expect(us).toBeLessThan(20)
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

describe.skipIf(!REDIS_ENABLED)('limiter.redis budget cost', () => {
  let redis: PrivateRedis
  beforeAll(async () => { redis = await startPrivateRedis() }, 20_000)
  afterAll(async () => { await redis?.kill() })

  it('reserves with the rate limits in one round trip and settles with the token correction in one more', async () => {
    const limiter = await setupPlugin(redisLimiter, { url: redis.url, key_prefix: 'perf:', timeout_ms: 500, connect_timeout_ms: 2000 })
    const admin = createClient({ url: redis.url })
    await admin.connect()
    const now = Date.now()
    const reservation = (i: number): BudgetReservation => ({
      id: `r${i}`, usd: 0.01, holdMs: 600_000,
      budgets: ['key', 'user', 'department'].map((scope) => ({
        key: `budget:${scope}:s${i % 100}:day:${startOfPeriod('day', now)}`, usd: 1e9, until: endOfPeriod('day', now), seedUsd: 0, alertAt: [0.8, 1],
      })),
    })
    try {
      await limiter.admit!(requestBuckets(0), reservation(0)) // loads the script
      await admin.configResetStat()
      const n = 200
      let admitting = 0
      let settling = 0
      for (let i = 1; i <= n; i++) {
        const started = performance.now()
        const { limits, budgets } = await limiter.admit!(requestBuckets(i), reservation(i))
        admitting += performance.now() - started
        expect(limits.every((d) => d.allowed) && budgets.every((b) => b.allowed === true)).toBe(true)
        const settleStarted = performance.now()
        await limiter.settle!([{ ...requestBuckets(i)[1], cost: -50 }], reservation(i), 0.004)
        settling += performance.now() - settleStarted
      }
      const stats = await admin.info('commandstats')
      const calls = Object.fromEntries([...stats.matchAll(/^cmdstat_([a-z]+)(?:\|[a-z]+)?:calls=(\d+)/gm)].map((m) => [m[1], Number(m[2])]))
      console.log(`limiter.redis with 3 budgets: admission ${((admitting / n) * 1000).toFixed(0)} µs, settlement ${((settling / n) * 1000).toFixed(0)} µs per request; client commands: ${calls.evalsha} EVALSHA for ${n} requests`)
      // The client sends EVALSHA only: one to admit (buckets + budgets), one to settle; the rest runs inside the script.
      expect(calls.evalsha).toBe(2 * n)
      expect(calls.time).toBe(2 * n)
    } finally {
      admin.destroy()
      await limiter.dispose?.()
    }
  })
})
