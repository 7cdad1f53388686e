/**
 * The Limiter contract, one suite run against limiter.memory and limiter.redis: GCRA buckets that
 * admit a full window at once and then refill evenly, all-or-none takes across buckets, exact
 * admission under concurrency, and adjustments after the fact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LimitBucket, Limiter } from '../../plugins/contracts/limiter.ts'
import memoryLimiter from '../../plugins/limits/memory/index.ts'
import redisLimiter from '../../plugins/limits/redis/index.ts'
import { REDIS_ENABLED, REDIS_URL, deleteKeys, setupPlugin, uniquePrefix } from './helpers.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface Backend {
  readonly name: string
  readonly enabled: boolean
  open(): Promise<Limiter>
  cleanup(): Promise<void>
}

const redisPrefix = uniquePrefix('limiter')
const BACKENDS: Backend[] = [
  { name: 'limiter.memory', enabled: true, open: () => setupPlugin(memoryLimiter, { max_buckets: 1_000_000 }), cleanup: async () => undefined },
  {
    name: 'limiter.redis',
    enabled: REDIS_ENABLED,
    open: () => setupPlugin(redisLimiter, { url: REDIS_URL, key_prefix: redisPrefix, timeout_ms: 500, connect_timeout_ms: 2000 }),
    cleanup: async () => { await deleteKeys(REDIS_URL, redisPrefix) },
  },
]

let keyCounter = 0
/** A bucket key no other test uses. */
const fresh = (label: string): string => `${label}-${++keyCounter}`
const bucket = (key: string, limit: number, windowMs: number, cost = 1): LimitBucket => ({ key, limit, windowMs, cost })

for (const backend of BACKENDS) {
  describe.skipIf(!backend.enabled)(`${backend.name} (the Limiter contract)`, () => {
    let limiter: Limiter
    beforeAll(async () => { limiter = await backend.open() })
    afterAll(async () => {
      await limiter?.dispose?.()
      await backend.cleanup()
    })

    it('admits a whole window at once, exactly the limit, then refuses with a retry-after of one refill interval', async () => {
      const key = fresh('burst')
      const decisions = []
      for (let i = 0; i < 6; i++) decisions.push((await limiter.take([bucket(key, 5, 60_000)]))[0])
      expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, true, true, false])
      expect(decisions.map((d) => d.remaining)).toEqual([4, 3, 2, 1, 0, 0])
      expect(decisions[0]).toMatchObject({ limit: 5, retryAfterMs: 0 })
      // One unit comes back every 12 s; the whole window is full again after 60 s.
      expect(decisions[5].retryAfterMs).toBeGreaterThan(11_000)
      expect(decisions[5].retryAfterMs).toBeLessThanOrEqual(12_000)
      expect(decisions[4].resetMs).toBeGreaterThan(59_000)
      expect(decisions[4].resetMs).toBeLessThanOrEqual(60_000)
    })

    it('refills evenly: one unit per window/limit, never more than the limit', async () => {
      const key = fresh('refill')
      for (let i = 0; i < 4; i++) expect((await limiter.take([bucket(key, 4, 400)]))[0].allowed).toBe(true)
      const refused = (await limiter.take([bucket(key, 4, 400)]))[0]
      expect(refused.allowed).toBe(false)
      await sleep(refused.retryAfterMs + 20)
      expect((await limiter.take([bucket(key, 4, 400)]))[0].allowed).toBe(true)
      expect((await limiter.take([bucket(key, 4, 400)]))[0].allowed).toBe(false)
      await sleep(450)
      // After a whole idle window the bucket is full: the limit again, not more.
      const after = []
      for (let i = 0; i < 5; i++) after.push((await limiter.take([bucket(key, 4, 400)]))[0].allowed)
      expect(after).toEqual([true, true, true, true, false])
    })

    it('takes several buckets all or none: a refusal by one leaves the others untouched', async () => {
      const wide = fresh('wide')
      const narrow = fresh('narrow')
      expect((await limiter.take([bucket(narrow, 1, 60_000)]))[0].allowed).toBe(true)
      const both = await limiter.take([bucket(wide, 10, 60_000), bucket(narrow, 1, 60_000)])
      expect(both.map((d) => d.allowed)).toEqual([true, false])
      // The wide bucket was not charged for the refused request.
      expect(both[0].remaining).toBe(10)
      const wideAlone = await limiter.take([bucket(wide, 10, 60_000)])
      expect(wideAlone[0].remaining).toBe(9)
    })

    it('charges a cost of several units (tokens) and refuses a cost that does not fit', async () => {
      const key = fresh('tokens')
      expect((await limiter.take([bucket(key, 1000, 60_000, 700)]))[0]).toMatchObject({ allowed: true, remaining: 300 })
      const refused = (await limiter.take([bucket(key, 1000, 60_000, 400)]))[0]
      expect(refused).toMatchObject({ allowed: false, remaining: 300 })
      // 100 more tokens must come back: 6 s at 1000 per minute.
      expect(refused.retryAfterMs).toBeGreaterThan(5_900)
      expect(refused.retryAfterMs).toBeLessThanOrEqual(6_000)
      expect((await limiter.take([bucket(key, 1000, 60_000, 300)]))[0]).toMatchObject({ allowed: true, remaining: 0 })
    })

    it('adjusts after the fact: gives back an over-estimate, and charges an under-estimate even past the limit', async () => {
      const key = fresh('adjust')
      await limiter.take([bucket(key, 100, 60_000, 80)])
      await limiter.adjust([bucket(key, 100, 60_000, -70)])
      expect((await limiter.take([bucket(key, 100, 60_000, 1)]))[0].remaining).toBe(89)
      await limiter.adjust([bucket(key, 100, 60_000, 150)])
      const over = (await limiter.take([bucket(key, 100, 60_000, 1)]))[0]
      expect(over.allowed).toBe(false)
      expect(over.remaining).toBe(0)
      // Giving back more than was taken leaves a full bucket, not more than full.
      const other = fresh('adjust-floor')
      await limiter.adjust([bucket(other, 10, 60_000, -50)])
      expect((await limiter.take([bucket(other, 10, 60_000, 1)]))[0].remaining).toBe(9)
    })

    it('admits exactly the limit when 200 checks race for one bucket', async () => {
      const key = fresh('race')
      const decisions = await Promise.all(Array.from({ length: 200 }, () => limiter.take([bucket(key, 37, 3_600_000)])))
      expect(decisions.filter(([d]) => d.allowed)).toHaveLength(37)
    })

    it('keeps buckets apart by key', async () => {
      const a = fresh('apart-a')
      const b = fresh('apart-b')
      await limiter.take([bucket(a, 1, 60_000)])
      expect((await limiter.take([bucket(a, 1, 60_000)]))[0].allowed).toBe(false)
      expect((await limiter.take([bucket(b, 1, 60_000)]))[0].allowed).toBe(true)
    })
  })
}
