/**
 * The usage soak (bench/soak-usage.ts), shortened: a gateway process on PostgreSQL through a
 * proxy the test owns, under load, loses no usage event across a store outage. The full run
 * (10 minutes, a 60 s outage) is `node --import tsx bench/soak-usage.ts`.
 */
import { describe, expect, it } from 'vitest'
import { runSoak } from '../../bench/soak-usage.ts'
import { POSTGRES_ENABLED } from '../store/helpers.ts'

describe.runIf(POSTGRES_ENABLED)('usage under load across a store outage', () => {
  it('loses no usage event when PostgreSQL hangs for 5 s in a 12 s run', async () => {
    // A small buffer, so this short outage spills to the journal as a long one does at full rate.
    const result = await runSoak({ durationS: 12, outageS: 5, mode: 'blackhole', connections: 4, bufferEvents: 100, drainTimeoutS: 30 })
    expect(result.responses).toBeGreaterThan(300)
    expect(result.gatewayRequests).toBeGreaterThanOrEqual(result.responses)
    expect(result.spilled).toBeGreaterThan(0)
    expect(result.replayed).toBe(result.spilled)
    expect(result.dropped).toBe(0)
    expect(result.rows).toBe(result.gatewayRequests)
    expect(result.distinctEventIds).toBe(result.rows)
    expect(result.lost).toBe(0)
    expect(result.exitCode).toBe(0)
  }, 90_000)
})
