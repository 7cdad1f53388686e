/** stage.routing's orders as pure functions: which target goes first, and whether a failure falls back, for each `strategy:`. */
import { describe, expect, it } from 'vitest'
import { planFor } from '../../plugins/stages/routing/strategies.ts'

const target = (provider: string, weight = 1, latencyMs?: number) => ({ provider, weight, latencyMs })
/** What the routing stage measured of a target (its breakers' moving average). */
const latency = (t: { latencyMs?: number }) => t.latencyMs
/** A `random` that answers these values in turn. */
const draws = (...values: number[]) => () => values.shift() ?? 0.99

describe('routing strategies', () => {
  it('single tries one target; fallback tries them as listed; unset means single for one target, fallback for several', () => {
    const [a, b] = [target('a'), target('b')]
    expect(planFor('single', [a, b])).toEqual({ targets: [a, b], fallback: false })
    expect(planFor('fallback', [a, b])).toEqual({ targets: [a, b], fallback: true })
    expect(planFor(undefined, [a]).fallback).toBe(false)
    expect(planFor(undefined, [a, b]).fallback).toBe(true)
  })

  it('loadbalance picks the first target by weight, then orders the rest among themselves', () => {
    const [light, heavy] = [target('light', 1), target('heavy', 9)]
    // Draws fall on a 0..10 line: below 1 is the light target's share.
    expect(planFor('loadbalance', [light, heavy], draws(0.05)).targets.map((t) => t.provider)).toEqual(['light', 'heavy'])
    expect(planFor('loadbalance', [light, heavy], draws(0.5)).targets.map((t) => t.provider)).toEqual(['heavy', 'light'])
    expect(planFor('loadbalance', [light, heavy]).fallback).toBe(true)
  })

  it('least-latency measures unmeasured targets first, then goes fastest first, and one time in ten puts another first', () => {
    const targets = [target('slow', 1, 300), target('new'), target('fast', 1, 20)]
    expect(planFor('least-latency', targets, draws(0.5), latency).targets.map((t) => t.provider)).toEqual(['new', 'fast', 'slow'])
    const measured = [target('slow', 1, 300), target('fast', 1, 20)]
    expect(planFor('least-latency', measured, draws(0.5), latency).targets.map((t) => t.provider)).toEqual(['fast', 'slow'])
    // A draw under 0.1 explores: another target (picked by the next draw) swaps places with the fastest.
    expect(planFor('least-latency', measured, draws(0.05, 0.5), latency).targets.map((t) => t.provider)).toEqual(['slow', 'fast'])
  })
})
