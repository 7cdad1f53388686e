/**
 * The console's analytics chart lists every bucket of its range itself (console/src/pages/analytics/zone.ts),
 * so that hours and days without requests show as zero; a bucket the API answers that the list does
 * not have would be dropped from the chart. Here the API's own buckets, in zones that make it hard
 * (a DST change each way, a half-hour offset, a half-hour DST shift), are each in the console's list.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addDays, datesBetween, hoursBetween, localDate } from '../../console/src/pages/analytics/zone.ts'
import { UsageLog } from '../../plugins/contracts/capabilities.ts'
import type { UsageEventRepository } from '../../plugins/stages/usage/repository.ts'
import { capability, startTestGateway, type RunningGateway } from '../helpers/gateway.ts'

const KEY = 'zone-test-admin-key-0123456789abcdef'
const HOUR_MS = 3_600_000
/** Two days around each change, an event every 20 minutes. */
const SPANS = [
  { zone: 'America/New_York', from: '2026-10-31T12:00:00Z' }, // back to EST on 11-01 (01:00 twice)
  { zone: 'America/New_York', from: '2026-03-07T12:00:00Z' }, // on to EDT on 03-08 (02:00 never)
  { zone: 'Asia/Kolkata', from: '2026-03-07T12:00:00Z' }, // UTC+5:30
  { zone: 'Australia/Lord_Howe', from: '2026-04-04T00:00:00Z' }, // back half an hour on 04-05
  { zone: 'Europe/London', from: '2026-10-24T12:00:00Z' },
] as const

let gw: RunningGateway
beforeAll(async () => {
  gw = await startTestGateway(`version: 1
store: { plugin: embedded, memory: true, vector: false }
providers: { mock: { plugin: mock } }
routes: [ { model: mock, targets: [ { provider: mock } ] } ]
auth: { strategies: [ { plugin: api-key, keys: [ { key: "${KEY}", user: root, role: admin } ] } ] }
services: { analytics: {} }
`)
  const events = SPANS.flatMap(({ from }) => Array.from({ length: 48 * 3 }, (_, i) => ({
    eventId: randomUUID(), time: new Date(Date.parse(from) + i * 20 * 60_000), requestId: `z${i}`, status: 200, latencyMs: 1,
  })))
  await (capability(gw, UsageLog) as UsageEventRepository).insertBatch(events)
}, 60_000)
afterAll(async () => { await gw?.close() })

async function buckets(query: Record<string, string>): Promise<string[]> {
  const res = await fetch(`${gw.url}/api/v1/analytics/usage?${new URLSearchParams(query)}`, { headers: { authorization: `Bearer ${KEY}` } })
  const body = await res.json() as { data: { bucket: string }[] }
  expect(res.status, JSON.stringify(body)).toBe(200)
  return body.data.map((r) => r.bucket)
}

describe('the console\'s analytics buckets are the API\'s, in any time zone', () => {
  it('lists every hour the API answers, each once, across DST changes and half-hour offsets', async () => {
    for (const { zone, from } of SPANS) {
      const start = Date.parse(from)
      const answered = await buckets({ from, to: new Date(start + 48 * HOUR_MS).toISOString(), interval: 'hour', timezone: zone })
      // The console's range starts at an hour's start: the API's first.
      const listed = hoursBetween(Date.parse(answered[0]!), start + 48 * HOUR_MS, zone).map((t) => new Date(t).toISOString())
      expect(listed, `${zone} from ${from}`).toEqual(answered)
    }
  })

  it('names every day the API answers by its local date, each once', async () => {
    for (const { zone, from } of SPANS) {
      const first = localDate(Date.parse(from), zone)
      const answered = await buckets({ from: first, to: addDays(first, 1), interval: 'day', timezone: zone })
      expect(answered.map((b) => localDate(Date.parse(b), zone)), `${zone} from ${first}`).toEqual(datesBetween(first, addDays(first, 1)))
    }
  })
})
