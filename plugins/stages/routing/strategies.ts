/** The orders gateway.yaml's `strategy:` names: each a pure function of the route's targets and what the gateway measured of them. */

export type StrategyName = 'single' | 'fallback' | 'loadbalance' | 'least-latency'

/** Share of exploration for least-latency: how often a target other than the fastest goes first. */
const EXPLORE = 0.1

/** What a strategy decides: the order, and whether a failed target's turn passes to the next. */
export interface Order<T> {
  readonly targets: readonly T[]
  readonly fallback: boolean
}

/** Measured latency of a target (ms), undefined until one was seen. */
export type LatencyOf<T> = (target: T) => number | undefined

interface Weighted { readonly weight: number }

/** The order for `strategy` (unset: fallback with several targets, single with one). */
export function planFor<T extends Weighted>(strategy: StrategyName | undefined, targets: readonly T[], random: () => number = Math.random, latencyOf: LatencyOf<T> = () => undefined): Order<T> {
  switch (strategy ?? (targets.length > 1 ? 'fallback' : 'single')) {
    case 'single':
      return { targets, fallback: false }
    case 'fallback':
      return { targets, fallback: true }
    case 'loadbalance':
      return { targets: weightedShuffle(targets, random), fallback: true }
    case 'least-latency':
      return { targets: fastestFirst(targets, random, latencyOf), fallback: true }
  }
}

/** Unmeasured targets first (so each gets measured), then by moving-average latency; now and then another goes first. */
function fastestFirst<T>(targets: readonly T[], random: () => number, latencyOf: LatencyOf<T>): T[] {
  const sorted = [...targets].sort((a, b) => (latencyOf(a) ?? -1) - (latencyOf(b) ?? -1))
  if (sorted.length > 1 && random() < EXPLORE) {
    const i = 1 + Math.floor(random() * (sorted.length - 1))
    ;[sorted[0], sorted[i]] = [sorted[i], sorted[0]]
  }
  return sorted
}

/** Weighted random order without replacement: the first pick follows the weights exactly. */
function weightedShuffle<T extends Weighted>(targets: readonly T[], random: () => number): readonly T[] {
  if (targets.length === 1) return targets
  const pool = [...targets]
  const out: T[] = []
  while (pool.length) {
    let total = 0
    for (const t of pool) total += t.weight
    let r = random() * total
    let i = 0
    while (i < pool.length - 1 && (r -= pool[i].weight) >= 0) i++
    out.push(pool.splice(i, 1)[0])
  }
  return out
}
