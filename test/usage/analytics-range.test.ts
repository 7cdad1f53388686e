/**
 * The analytics range and buckets as an admin reads them: a date is a whole day (`to=2026-03-08`
 * includes the 8th, and `from` and `to` may name the same day), in the query's `timezone`, where
 * the day and hour buckets start too. Before, `to=<date>` cut the range at that day's UTC midnight
 * (the day asked for was left out; one day's usage was a 400), and a day bucket was always a UTC day.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { UsageEvent } from '../../plugins/contracts/capabilities.ts'
import { UsageLog } from '../../plugins/contracts/capabilities.ts'
import type { UsageEventRepository } from '../../plugins/stages/usage/repository.ts'
import { capability, type RunningGateway } from '../helpers/gateway.ts'
import type { MockUpstream } from '../helpers/upstream.ts'
import { okUpstream, usageGateway, user } from './helpers.ts'

/** Around the US change to summer time (2026-03-08, 02:00 in New York: UTC-5 before, UTC-4 after). */
const EVENTS: Record<string, string> = {
  e1: '2026-03-07T23:30:00Z', // New York: 03-07 18:30
  e2: '2026-03-08T04:30:00Z', // New York: 03-07 23:30
  e3: '2026-03-08T12:00:00Z', // New York: 03-08 08:00
  e4: '2026-03-09T03:00:00Z', // New York: 03-08 23:00
}
const ROOT = user('root', 'admin')

describe('analytics ranges and buckets: dates are whole days, in the asked time zone', () => {
  let up: MockUpstream
  let gw: RunningGateway
  let cleanup: () => Promise<void>
  const get = async (query: string) => {
    const res = await fetch(`${gw.url}/api/v1/analytics/usage?${query}`, { headers: ROOT })
    return { status: res.status, body: await res.json() }
  }
  const requests = async (query: string): Promise<number> => {
    const { status, body } = await get(query)
    expect(status, JSON.stringify(body)).toBe(200)
    return body.data.reduce((n: number, r: { requests: number }) => n + r.requests, 0)
  }

  beforeAll(async () => {
    up = await okUpstream()
    ;({ gw, cleanup } = await usageGateway(up.url))
    const events: UsageEvent[] = Object.entries(EVENTS).map(([requestId, time]) => ({ eventId: randomUUID(), time: new Date(time), requestId, status: 200, latencyMs: 5, promptTokens: 1 }))
    await (capability(gw, UsageLog) as UsageEventRepository).insertBatch(events)
  })
  afterAll(async () => { await cleanup(); await up.close() })

  it('a date as `to` includes that whole day, and one day may be asked for alone', async () => {
    expect(await requests('from=2026-03-08&to=2026-03-08')).toBe(2) // e2, e3 (UTC)
    expect(await requests('from=2026-03-07&to=2026-03-08')).toBe(3) // e1, e2, e3
    const { body } = await get('from=2026-03-07&to=2026-03-08')
    expect(body.meta).toMatchObject({ from: '2026-03-07T00:00:00.000Z', to: '2026-03-09T00:00:00.000Z', timezone: 'UTC' })
  })

  it('a time is the instant it says, `to` exclusive', async () => {
    expect(await requests('from=2026-03-08T00:00:00Z&to=2026-03-08T12:00:00Z')).toBe(1) // e2; e3 is at `to`
  })

  it('timezone: dates are that zone\'s days, and day buckets start at its midnight (across a DST change)', async () => {
    const { status, body } = await get('from=2026-03-07&to=2026-03-08&interval=day&timezone=America/New_York')
    expect(status).toBe(200)
    expect(body.meta).toMatchObject({ from: '2026-03-07T05:00:00.000Z', to: '2026-03-09T04:00:00.000Z', timezone: 'America/New_York' })
    expect(body.data.map((r: { bucket: string; requests: number }) => [r.bucket, r.requests])).toEqual([
      ['2026-03-07T05:00:00.000Z', 2], // e1, e2: the 7th in New York
      ['2026-03-08T05:00:00.000Z', 2], // e3, e4: the 8th
    ])
    // The same events in UTC days.
    const utc = await get('from=2026-03-07&to=2026-03-09&interval=day')
    expect(utc.body.data.map((r: { bucket: string; requests: number }) => [r.bucket, r.requests])).toEqual([
      ['2026-03-07T00:00:00.000Z', 1], ['2026-03-08T00:00:00.000Z', 2], ['2026-03-09T00:00:00.000Z', 1],
    ])
  })

  it('hour buckets follow a zone with a half-hour offset', async () => {
    const { body } = await get('from=2026-03-08T04:00:00Z&to=2026-03-08T05:00:00Z&interval=hour&timezone=Asia/Kolkata')
    // 04:30 UTC is 10:00 in Kolkata (UTC+5:30): its hour starts then, not at 04:00 UTC.
    expect(body.data.map((r: { bucket: string }) => r.bucket)).toEqual(['2026-03-08T04:30:00.000Z'])
  })

  it('refuses a time zone or a date that does not exist, naming the field', async () => {
    const zone = await get('timezone=Mars/Olympus_Mons')
    expect(zone.status).toBe(400)
    expect(zone.body).toMatchObject({ success: false, error: 'invalid_timezone', param: 'timezone' })
    const date = await get('from=2026-02-30')
    expect(date.body).toMatchObject({ error: 'invalid_date', param: 'from' })
  })
})
