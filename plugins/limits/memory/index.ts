/**
 * limiter.memory: rate-limit buckets in this process's memory (GCRA, one number per bucket). For
 * one gateway process; several processes or replicas each count on their own (use limiter.redis).
 * A check is a couple of map lookups: no I/O, no allocation beyond the decisions.
 */
import { definePlugin } from '../../../plugin-api/index.ts'
import { type LimitBucket, type LimitDecision, type Limiter } from '../../contracts/limiter.ts'
import { gcraAdjust, gcraPeek, gcraTake } from './gcra.ts'

export interface MemoryLimiterConfig {
  max_buckets: number
}

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    max_buckets: {
      type: 'integer', minimum: 1000, default: 1_000_000,
      description: 'Most buckets kept; past it the oldest are dropped (a dropped bucket counts as full). Full buckets are swept every 30 s.',
    },
  },
} as const

const SWEEP_EVERY_MS = 30_000

export class MemoryLimiter implements Limiter {
  /** Bucket key → TAT (performance.now() time); absent means full. */
  readonly #tats = new Map<string, number>()
  readonly #maxBuckets: number
  readonly #sweep: NodeJS.Timeout

  constructor(config: MemoryLimiterConfig) {
    this.#maxBuckets = config.max_buckets
    this.#sweep = setInterval(() => this.#dropFull(), SWEEP_EVERY_MS).unref()
  }

  take(buckets: readonly LimitBucket[]): LimitDecision[] {
    return this.takeNow(buckets)
  }

  /** The synchronous check (the benchmark measures this). All or none: a refusal takes nothing. */
  takeNow(buckets: readonly LimitBucket[], now = performance.now()): LimitDecision[] {
    const decisions: LimitDecision[] = new Array(buckets.length)
    const tats: number[] = new Array(buckets.length)
    let allowed = true
    for (let i = 0; i < buckets.length; i++) {
      const b = buckets[i]
      const step = gcraTake(this.#tats.get(b.key), now, b.limit, b.windowMs, b.cost)
      decisions[i] = step.decision
      tats[i] = step.tat
      allowed &&= step.decision.allowed
    }
    if (allowed) for (let i = 0; i < buckets.length; i++) this.#set(buckets[i].key, tats[i], now)
    else {
      // Nothing was taken: admitting buckets report themselves as they stand.
      for (let i = 0; i < buckets.length; i++) {
        const b = buckets[i]
        if (decisions[i].allowed) decisions[i] = gcraPeek(this.#tats.get(b.key), now, b.limit, b.windowMs)
      }
    }
    return decisions
  }

  adjust(buckets: readonly LimitBucket[]): Promise<void> {
    const now = performance.now()
    for (const b of buckets) this.#set(b.key, gcraAdjust(this.#tats.get(b.key), now, b.limit, b.windowMs, b.cost), now)
    return Promise.resolve()
  }

  get size(): number {
    return this.#tats.size
  }

  dispose(): void {
    clearInterval(this.#sweep)
    this.#tats.clear()
  }

  #set(key: string, tat: number, now: number): void {
    if (tat <= now) {
      this.#tats.delete(key)
      return
    }
    if (this.#tats.size >= this.#maxBuckets && !this.#tats.has(key)) {
      this.#dropFull()
      // Still full of live buckets: drop the oldest (insertion order), which lets them start over.
      for (const old of this.#tats.keys()) {
        if (this.#tats.size < this.#maxBuckets) break
        this.#tats.delete(old)
      }
    }
    this.#tats.set(key, tat)
  }

  #dropFull(): void {
    const now = performance.now()
    for (const [key, tat] of this.#tats) if (tat <= now) this.#tats.delete(key)
  }
}

export default definePlugin<MemoryLimiterConfig, Limiter>({
  id: 'limiter.memory',
  kind: 'limiter',
  description: 'Rate-limit buckets in process memory (GCRA): one gateway process.',
  configSchema,
  setup: (_ctx, config) => new MemoryLimiter(config),
})
