/**
 * A usage event has its own id, made by the gateway when it records the event. The client's
 * x-request-id is metadata: two requests that reuse one are both counted, while the same event
 * written twice (a batch retried after a timeout, a journal replayed) is counted once.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { loadMigrations, migrate } from '../../plugins/store/kit/migrate.ts'
import type { OpenedStore } from '../../plugins/store/kit/store.ts'
import { createEmbeddedBackend } from '../../plugins/store/embedded/backend.ts'
import { UsageLog, type UsageEvent } from '../../plugins/contracts/capabilities.ts'
import type { SqlClient } from '../../plugin-api/types.ts'
import { usageRepository, type UsageEventRepository } from '../../plugins/stages/usage/repository.ts'
import { allEvents } from '../../plugins/services/analytics/export.ts'
import { capability, postJson } from '../helpers/gateway.ts'
import { migrateOwners, silentLogger, storeTargets, USAGE_MIGRATIONS } from '../store/helpers.ts'
import { okUpstream, storedEvents, usageGateway, user } from '../usage/helpers.ts'

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => { while (cleanup.length) await cleanup.pop()!() })

describe('requests that reuse one x-request-id', () => {
  it('are each counted, with the client\'s id kept on every event', async () => {
    const up = await okUpstream()
    cleanup.push(() => up.close())
    const { gw, cleanup: stop } = await usageGateway(up.url)
    cleanup.push(stop)

    // Concurrent requests finish in the same millisecond: with the request id as the key, most
    // of them collided and were silently skipped (the issue saw 790 rows for 2,000 requests).
    const requests = 300
    for (let sent = 0; sent < requests; sent += 50) {
      const batch = Array.from({ length: 50 }, () =>
        postJson(`${gw.url}/v1/chat/completions`, { model: 'r', messages: [{ role: 'user', content: 'x' }] }, { ...user('mallory'), 'x-request-id': 'reused-id' }))
      for (const res of await Promise.all(batch)) expect(res.status).toBe(200)
    }
    const events = await storedEvents(gw, requests, 10_000)
    expect(events).toHaveLength(requests)
    expect(new Set(events.map((e) => e.requestId))).toEqual(new Set(['reused-id']))
    expect(new Set(events.map((e) => e.eventId)).size).toBe(requests)
    const spent = await capability(gw, UsageLog).totalCostUsd({ from: new Date(Date.now() - 3600_000), to: new Date(Date.now() + 3600_000), userId: 'mallory' })
    expect(spent).toBeCloseTo(events.reduce((sum, e) => sum + e.costUsd, 0), 10)
  })
})

for (const target of storeTargets('event_id')) {
  describe.runIf(target.enabled)(`usage events on the ${target.name} store`, () => {
    let store: OpenedStore
    let usage: UsageEventRepository
    beforeAll(async () => {
      store = await target.open()
      await migrateOwners(store, [USAGE_MIGRATIONS])
      usage = usageRepository(store.sql)
    }, 60_000)
    afterAll(async () => {
      await store?.dispose()
      await target.cleanup()
    })
    const at = new Date('2024-09-01T12:00:00.000Z')
    const scope = { from: new Date('2024-09-01T00:00:00Z'), to: new Date('2024-09-02T00:00:00Z') }
    const event = (fields: Partial<UsageEvent> = {}): UsageEvent => ({ eventId: randomUUID(), time: at, requestId: 'same', status: 200, latencyMs: 5, costUsd: 0.5, ...fields })

    it('keeps two events with the same request id and time', async () => {
      expect(await usage.insertBatch([event(), event()])).toBe(2)
      expect(await usage.totalCostUsd(scope)).toBe(1)
    })

    it('writes an event once however often its batch is written', async () => {
      const batch = [event({ time: new Date('2024-09-01T13:00:00Z') }), event({ time: new Date('2024-09-01T13:00:00Z') })]
      expect(await usage.insertBatch(batch)).toBe(2)
      expect(await usage.insertBatch(batch)).toBe(0)
      expect(await usage.insertBatch([batch[1], event({ time: new Date('2024-09-01T13:00:00Z') })])).toBe(1)
      expect(await usage.totalCostUsd({ from: new Date('2024-09-01T13:00:00Z'), to: new Date('2024-09-01T14:00:00Z') })).toBe(1.5)
    })

    it('copies a new batch in, and inserts one that repeats a stored event', async () => {
      const sql = store.sql
      expect(sql.copyFrom).toBeDefined()
      const statements: string[] = []
      const watched: SqlClient = {
        query: (text, params, options) => { statements.push(text.trimStart().split(' ')[0]); return sql.query(text, params, options) },
        exec: (script) => sql.exec(script),
        ...(sql.copyFrom && { copyFrom: (table: string, columns: readonly string[], text: string) => { statements.push('COPY'); return sql.copyFrom!(table, columns, text) } }),
      }
      const repository = usageRepository(watched)
      const time = new Date('2024-09-01T15:00:00Z')
      const batch = [event({ time }), event({ time })]
      expect(await repository.insertBatch(batch)).toBe(2)
      expect(await repository.insertBatch([batch[0], event({ time })])).toBe(1)
      expect(statements).toEqual(['COPY', 'COPY', 'INSERT'])
      expect(await usage.totalCostUsd({ from: time, to: new Date(time.getTime() + 1) })).toBe(1.5)
    })

    it('exports every event of a range once, in order, across pages whose edges fall inside one millisecond', async () => {
      // 2,500 events, 250 to a millisecond: a page of 1,000 ends between events of the same time.
      const start = Date.parse('2024-09-01T16:00:00Z')
      const events = Array.from({ length: 2500 }, (_, i) => event({ time: new Date(start + Math.floor(i / 250)), requestId: `r${i}` }))
      for (let i = 0; i < events.length; i += 500) expect(await usage.insertBatch(events.slice(i, i + 500))).toBe(500)
      const { events: exported, truncated } = await allEvents(usage, { from: new Date(start), to: new Date(start + 1000) })
      expect(truncated).toBe(false)
      expect(exported).toHaveLength(2500)
      expect(new Set(exported.map((e) => e.eventId)).size).toBe(2500)
      expect(exported.map((e) => e.time.getTime())).toEqual(events.map((e) => e.time.getTime()))
    })

    it('keeps only the indexes a query reads: every one is written at each insert', async () => {
      const { rows } = await store.sql.query<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'usage_events' ORDER BY 1`)
      expect(rows.map((r) => r.indexname)).toEqual([
        'usage_events_department_time_idx', 'usage_events_event_id_occurred_at_key', 'usage_events_key_time_idx', 'usage_events_time_idx', 'usage_events_user_time_idx',
      ])
    })

    it('refuses an event without a valid event id, naming it', async () => {
      const bad = { ...event(), eventId: 'not-a-uuid' }
      await expect(usage.insertBatch([event(), bad])).rejects.toMatchObject({ status: 400, code: 'invalid_usage_event', param: 'events[1].eventId' })
    })
  })
}

describe('the event id migration', () => {
  it('gives the rows of an existing table their own ids, and frees the request id', async () => {
    const backend = await createEmbeddedBackend({ dir: undefined, vector: false }, silentLogger)
    try {
      const all = loadMigrations(USAGE_MIGRATIONS.dir).filter((m) => !m.requires)
      await migrate(backend, silentLogger, 'usage', all.filter((m) => m.version < '0003'))
      await backend.sql.query(`INSERT INTO usage_events (occurred_at, request_id, status, latency_ms)
        VALUES ('2024-01-01T00:00:00Z', 'old-1', 200, 1), ('2024-01-01T00:00:00Z', 'old-2', 200, 1)`)
      await migrate(backend, silentLogger, 'usage', all)
      const { rows } = await backend.sql.query<{ event_id: string }>('SELECT event_id FROM usage_events')
      expect(rows).toHaveLength(2)
      expect(new Set(rows.map((r) => r.event_id)).size).toBe(2)
      await backend.sql.query(`INSERT INTO usage_events (occurred_at, request_id, status, latency_ms) VALUES ('2024-01-01T00:00:00Z', 'old-1', 200, 1)`)
      expect((await backend.sql.query('SELECT 1 FROM usage_events')).rowCount).toBe(3)
    } finally {
      await backend.close()
    }
  })
})
