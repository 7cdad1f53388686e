/**
 * `meta.buckets` of /api/v1/analytics/usage and /costs: with an interval, every hour or day of the
 * range in the query's time zone, those without requests too, so a chart draws empty hours and
 * days as zero without working out the zone's calendar itself. Here in zones that make it hard (a
 * DST change each way, a half-hour offset, a half-hour DST shift): each bucket a row names is in
 * the list, once, in order, and an empty range still has all of its buckets.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UsageLog } from '../../plugins/contracts/capabilities.ts'
import type { UsageEventRepository } from '../../plugins/stages/usage/repository.ts'
import { capability, startTestGateway, type RunningGateway } from '../helpers/gateway.ts'

const KEY = 'buckets-test-admin-key-0123456789abcdef'
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

interface Answer { rows: string[]; buckets: string[] | null; meta: Record<string, unknown> }

async function usage(query: Record<string, string>, path = 'usage'): Promise<Answer> {
  const res = await fetch(`${gw.url}/api/v1/analytics/${path}?${new URLSearchParams(query)}`, { headers: { authorization: `Bearer ${KEY}` } })
  const body = await res.json() as { data: { bucket: string }[] | { rows: { bucket: string }[] }; meta: { buckets: string[] | null } & Record<string, unknown> }
  expect(res.status, JSON.stringify(body)).toBe(200)
  const rows = Array.isArray(body.data) ? body.data : body.data.rows
  return { rows: rows.map((r) => r.bucket), buckets: body.meta.buckets, meta: body.meta }
}

/** The local wall-clock time of an instant in `zone`, e.g. "11/1, 01:00 EDT". */
const local = (iso: string, zone: string) => new Date(iso).toLocaleString('en-US', { timeZone: zone, month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' })

describe('meta.buckets: every bucket of the range, in the query\'s time zone', () => {
  it('lists every hour the rows name, each once and in order, across DST changes and half-hour offsets', async () => {
    for (const { zone, from } of SPANS) {
      const { rows, buckets } = await usage({ from, to: new Date(Date.parse(from) + 48 * HOUR_MS).toISOString(), interval: 'hour', timezone: zone })
      // An event every 20 minutes: every hour has requests, so rows and buckets are the same list.
      expect(buckets, `${zone} from ${from}`).toEqual(rows)
    }
  })

  it('has the hour repeated when clocks go back twice, the skipped hour never, and half-hour zones\' hours at :30 UTC', async () => {
    const day = async (zone: string, date: string) => (await usage({ from: date, to: date, interval: 'hour', timezone: zone })).buckets!
    const fallBack = await day('America/New_York', '2026-11-01')
    expect(fallBack).toHaveLength(25)
    expect(fallBack.map((b) => local(b, 'America/New_York')).filter((t) => t.includes(' 01:00'))).toEqual(['11/1, 01:00 EDT', '11/1, 01:00 EST'])
    const springForward = await day('America/New_York', '2026-03-08')
    expect(springForward).toHaveLength(23)
    expect(springForward.map((b) => local(b, 'America/New_York')).some((t) => t.includes(' 02:'))).toBe(false)
    const kolkata = await day('Asia/Kolkata', '2026-03-08')
    expect(kolkata).toHaveLength(24)
    expect(kolkata[0]).toBe('2026-03-07T18:30:00.000Z')
    expect(kolkata.every((b) => b.endsWith(':30:00.000Z'))).toBe(true)
    // Lord Howe goes back half an hour: a day of 24.5 hours, its 01:00 hour twice (the first one half an hour long).
    const lordHowe = await day('Australia/Lord_Howe', '2026-04-05')
    expect(lordHowe).toHaveLength(25)
    expect(new Set(lordHowe).size).toBe(25)
  })

  it('names each day once by its local midnight, 23- and 25-hour days alike', async () => {
    for (const { zone, from } of SPANS) {
      const first = new Date(from).toLocaleDateString('en-CA', { timeZone: zone })
      const { rows, buckets } = await usage({ from: first, to: new Date(Date.parse(first) + 24 * HOUR_MS).toISOString().slice(0, 10), interval: 'day', timezone: zone })
      expect(buckets, `${zone} from ${first}`).toHaveLength(2)
      expect(buckets!.map((b) => new Date(b).toLocaleTimeString('en-US', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }))).toEqual(['00:00', '00:00'])
      expect(rows.every((r) => buckets!.includes(r))).toBe(true)
    }
  })

  it('lists the buckets without requests too (a range with none has every bucket and no rows), on /costs as well; none without an interval', async () => {
    const empty = await usage({ from: '2025-01-01', to: '2025-01-07', interval: 'day', timezone: 'Europe/Paris' })
    expect(empty.rows).toEqual([])
    expect(empty.buckets).toEqual(['2024-12-31T23:00:00.000Z', ...Array.from({ length: 6 }, (_, i) => `2025-01-0${i + 1}T23:00:00.000Z`)])
    const costs = await usage({ from: '2025-01-01', to: '2025-01-07', interval: 'day', timezone: 'Europe/Paris' }, 'costs')
    expect(costs.buckets).toEqual(empty.buckets)
    // A range that starts inside an hour still has that hour, and one ending inside an hour has it too.
    const partial = await usage({ from: '2025-01-01T10:30:00Z', to: '2025-01-01T12:15:00Z', interval: 'hour' })
    expect(partial.buckets).toEqual(['2025-01-01T10:00:00.000Z', '2025-01-01T11:00:00.000Z', '2025-01-01T12:00:00.000Z'])
    const whole = await usage({ from: '2025-01-01', to: '2025-01-07' })
    expect(whole.buckets).toBeNull()
    expect(whole.meta).toMatchObject({ interval: null, timezone: 'UTC', scope: 'all_data' })
  })
})
