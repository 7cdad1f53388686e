/**
 * GCRA (the generic cell rate algorithm) on one number per bucket: its theoretical arrival time
 * (TAT), the moment the bucket would be full again. A bucket of `limit` units per `windowMs`
 * refills one unit every `windowMs / limit`; a request of `cost` units is admitted when, after
 * it, the bucket would not need more than a whole window to refill. So a full window's worth may
 * be used at once, and then units come back evenly: no window edges to burst across.
 *
 * The Redis limiter runs the same arithmetic in Lua (plugins/limits/redis/limits.lua).
 */
import type { LimitDecision } from '../../contracts/limiter.ts'

/** Floating-point slack, in ms, so that exactly `limit` takes fit in a window. */
const EPSILON_MS = 0.01

export interface GcraStep {
  readonly decision: LimitDecision
  /** The bucket's TAT after the take (unchanged when refused). */
  readonly tat: number
}

/** Take `cost` units at `now` from a bucket whose TAT is `stored` (undefined: full). */
export function gcraTake(stored: number | undefined, now: number, limit: number, windowMs: number, cost: number): GcraStep {
  const interval = windowMs / limit
  const tat = stored !== undefined && stored > now ? stored : now
  const next = tat + cost * interval
  const allowAt = next - windowMs
  if (allowAt - now > EPSILON_MS) {
    return {
      tat,
      decision: { allowed: false, limit, remaining: Math.max(0, Math.floor((windowMs - (tat - now)) / interval + EPSILON_MS)), resetMs: tat - now, retryAfterMs: allowAt - now },
    }
  }
  return {
    tat: next,
    decision: { allowed: true, limit, remaining: Math.max(0, Math.floor((windowMs - (next - now)) / interval + EPSILON_MS)), resetMs: next - now, retryAfterMs: 0 },
  }
}

/** A bucket as it stands, without taking anything (what an admitting bucket reports when another refuses). */
export function gcraPeek(stored: number | undefined, now: number, limit: number, windowMs: number): LimitDecision {
  const interval = windowMs / limit
  const tat = stored !== undefined && stored > now ? stored : now
  return { allowed: true, limit, remaining: Math.max(0, Math.floor((windowMs - (tat - now)) / interval + EPSILON_MS)), resetMs: tat - now, retryAfterMs: 0 }
}

/** The TAT after adding `cost` units (negative: giving them back), never before `now`. */
export function gcraAdjust(stored: number | undefined, now: number, limit: number, windowMs: number, cost: number): number {
  const tat = stored !== undefined && stored > now ? stored : now
  return Math.max(now, tat + cost * (windowMs / limit))
}
