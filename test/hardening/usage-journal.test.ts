/**
 * No usage event is lost to a store outage: past the memory buffer, events spill to a journal on
 * local disk and are written, oldest first, once the store answers again — at the next start too.
 * The store is cut through a TCP proxy the test owns; the shared PostgreSQL is never touched.
 */
import { spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { UsageEvent } from '../../plugins/contracts/capabilities.ts'
import { GatewayMetrics } from '../../core/metrics.ts'
import type { UsageEventRepository } from '../../plugins/stages/usage/repository.ts'
import { UsageJournal } from '../../plugins/stages/usage/journal.ts'
import { UsageWriter, usageMetrics } from '../../plugins/stages/usage/writer.ts'
import { freshJournalDir, postJson, startTestGateway, usageWriterOf, type RunningGateway } from '../helpers/gateway.ts'
import { sqlOnce } from '../helpers/sql-once.ts'
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts'
import { waitFor } from '../helpers/wait.ts'
import { capturingLogger, DATABASE_URL, dropSchema, POSTGRES_ENABLED, silentLogger, uniqueSchema } from '../store/helpers.ts'
import { okUpstream, usageConfig, user } from '../usage/helpers.ts'

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => { while (cleanup.length) await cleanup.pop()!() })

/** A PostgreSQL schema reached through a proxy the test can cut, a journal directory, an upstream. */
async function outageFixture(): Promise<{ proxy: TcpProxy; schema: string; journalDir: string; config: string }> {
  const target = new URL(DATABASE_URL)
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
  const schema = uniqueSchema('journal')
  const journalDir = freshJournalDir()
  const up = await okUpstream()
  cleanup.push(() => up.close(), () => proxy.close(), () => dropSchema(schema), () => rm(journalDir, { recursive: true, force: true }))
  return { proxy, schema, journalDir, config: usageConfig(up.url, proxy.via(DATABASE_URL), schema) }
}

async function send(gw: RunningGateway, ids: string[]): Promise<void> {
  for (const id of ids) {
    const res = await postJson(`${gw.url}/v1/chat/completions`, { model: 'r', messages: [{ role: 'user', content: 'x' }] }, { ...user('u'), 'x-request-id': id })
    expect(res.status).toBe(200)
  }
}

/** Request ids in the order the rows were inserted. */
async function storedRequestIds(schema: string): Promise<string[]> {
  return (await sqlOnce<{ request_id: string }>(DATABASE_URL, `SELECT request_id FROM "${schema}".usage_events ORDER BY id`)).map((r) => r.request_id)
}

const ids = (prefix: string, from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => `${prefix}-${String(from + i).padStart(4, '0')}`)
const metric = async (gw: RunningGateway, name: string): Promise<number> =>
  Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(await (await fetch(`${gw.url}/metrics`)).text())?.[1])

describe.runIf(POSTGRES_ENABLED)('a store outage at full load', () => {
  it('spills past the buffer to the journal and, once the store is back, writes every event in order', async () => {
    const { proxy, schema, journalDir, config } = await outageFixture()
    const gw = await startTestGateway(config, { usage: { flushIntervalMs: 50, batchSize: 10, maxBuffer: 20, journalDir } })
    cleanup.push(() => gw.close())

    await send(gw, ids('req', 0, 10))
    await waitFor(async () => (await storedRequestIds(schema)).length === 10, 5000, 50)
    proxy.cut()
    await send(gw, ids('req', 10, 130))
    // 120 events during the outage, 20 fit in memory: the rest are on disk, none dropped.
    await waitFor(() => usageWriterOf(gw).pending === 120)
    expect(usageWriterOf(gw).buffered).toBeLessThanOrEqual(20)
    expect(await metric(gw, 'gateway_usage_journal_events')).toBeGreaterThanOrEqual(100)
    expect(await metric(gw, 'gateway_usage_events_dropped_total')).toBe(0)
    // Several spills (each takes what the buffer holds as it starts: how many per file depends on timing).
    expect((await readdir(journalDir)).filter((f) => f.endsWith('.jsonl')).length).toBeGreaterThanOrEqual(2)

    proxy.restore()
    await waitFor(async () => (await storedRequestIds(schema)).length >= 130, 10_000, 50)
    expect(await storedRequestIds(schema)).toEqual(ids('req', 0, 130))
    expect(await metric(gw, 'gateway_usage_journal_events')).toBe(0)
    expect(await readdir(journalDir)).toEqual([])
  }, 60_000)

  it('journals what the store did not take at shutdown, and writes it at the next start', async () => {
    const { proxy, schema, journalDir, config } = await outageFixture()
    const first = await startTestGateway(config, { usage: { flushIntervalMs: 600_000, batchSize: 1000, journalDir } })
    await send(first, ids('before', 0, 25))
    proxy.cut()
    await first.close()
    expect((await readdir(journalDir)).filter((f) => f.endsWith('.jsonl'))).toHaveLength(1)
    expect(await storedRequestIds(schema)).toEqual([])

    proxy.restore()
    const second = await startTestGateway(config, { usage: { flushIntervalMs: 50, journalDir } })
    cleanup.push(() => second.close())
    await send(second, ids('after', 0, 5))
    await waitFor(async () => (await storedRequestIds(schema)).length >= 30, 10_000, 50)
    // The earlier run's events first, then this run's.
    expect(await storedRequestIds(schema)).toEqual([...ids('before', 0, 25), ...ids('after', 0, 5)])
    await waitFor(async () => (await readdir(journalDir)).length === 0)
  }, 60_000)
})

describe('the usage journal', () => {
  const event = (n: number): UsageEvent => ({ eventId: randomUUID(), time: new Date(), requestId: `e-${n}`, status: 200, latencyMs: 1 })
  const failingStore = (): { store: UsageEventRepository; fail: (on: boolean) => void; written: UsageEvent[] } => {
    let failing = true
    const written: UsageEvent[] = []
    const store = {
      insertBatch: async (events: readonly UsageEvent[]) => {
        if (failing) throw new Error('connection refused')
        written.push(...events)
        return events.length
      },
    } as unknown as UsageEventRepository
    return { store, written, fail: (on) => { failing = on } }
  }

  it('takes over the segments of a process that is gone, and leaves those of a live one', async () => {
    const dir = freshJournalDir()
    cleanup.push(() => rm(dir, { recursive: true, force: true }))
    await mkdir(dir, { recursive: true })
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString()
    const line = JSON.stringify(event(1)) + '\n'
    const deadSegment = `u-0000000000001-${gone}-0a0b0c0d-0000000001-1.jsonl`
    const liveSegment = `u-0000000000002-${process.ppid}-0a0b0c0d-0000000001-1.jsonl`
    await writeFile(path.join(dir, deadSegment), line)
    await writeFile(path.join(dir, liveSegment), line)
    await writeFile(path.join(dir, `u-0000000000003-${gone}-0a0b0c0d-0000000002-1.jsonl.tmp`), line)

    const journal = await UsageJournal.open({ dir, maxBytes: 1 << 20, logger: silentLogger })
    cleanup.push(async () => journal.close())
    expect(journal.segments.map((s) => s.key)).toEqual([deadSegment])
    expect(journal.events).toBe(1)
    const files = await readdir(dir)
    expect(files).toContain(liveSegment)
    // A spill cut short by a crash is never replayed.
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([])
    expect((await journal.read(journal.segments[0]))[0]).toMatchObject({ requestId: 'e-1', time: expect.any(Date) })
  })

  it('drops, counts and logs once the journal is full, and keeps what it has', async () => {
    const dir = freshJournalDir()
    cleanup.push(() => rm(dir, { recursive: true, force: true }))
    const { logger, lines } = capturingLogger()
    const registry = new GatewayMetrics()
    const { store } = failingStore()
    const writer = new UsageWriter({ store: () => store, logger, metrics: usageMetrics(registry), maxBuffer: 10, flushIntervalMs: 600_000 })
    const value = async (name: string) => ((await registry.registry.getSingleMetric(name)!.get()).values[0]?.value ?? 0)
    await writer.start({ journal: { dir, maxBytes: 4000 } })
    for (let i = 0; i < 60; i++) writer.record(event(i))
    await waitFor(() => writer.pending < 60)
    const dropped = await value('gateway_usage_events_dropped_total')
    expect(dropped).toBeGreaterThan(0)
    expect(writer.pending + dropped).toBe(60)
    expect(lines.find((l) => l.msg === 'usage journal full: dropping usage events')).toMatchObject({ level: 'error', journal: dir })
    expect(await value('gateway_usage_journal_bytes')).toBeLessThanOrEqual(4000)
    await writer.close(0)
  })

  it('is set up at start: a change to the usage block is reported as needing a restart', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-usage-restart-'))
    cleanup.push(() => rm(dir, { recursive: true, force: true }))
    const file = path.join(dir, 'gateway.yaml')
    await writeFile(file, 'version: 1\nusage: { buffer_events: 100 }\n')
    const gw = await startTestGateway({ file })
    cleanup.push(() => gw.close())
    expect(gw.controller.restartRequired).toEqual([])
    await writeFile(file, 'version: 1\nusage: { buffer_events: 200 }\n')
    expect((await gw.controller.reload('test')).status).toBe('reloaded')
    expect(gw.controller.restartRequired).toEqual(['usage'])
  })

  it('caps the retry backoff, so it catches up soon after a long outage', async () => {
    vi.useFakeTimers()
    cleanup.push(async () => { vi.useRealTimers() })
    const { logger, lines } = capturingLogger()
    const { store, fail, written } = failingStore()
    const writer = new UsageWriter({ store: () => store, logger, metrics: usageMetrics(new GatewayMetrics()), flushIntervalMs: 100 })
    writer.record(event(1))
    // A five-minute outage.
    await vi.advanceTimersByTimeAsync(300_000)
    const delays = lines.filter((l) => l.msg === 'usage write failed; will retry').map((l) => l.retry_in_ms as number)
    expect(delays.length).toBeGreaterThan(100)
    expect(Math.max(...delays)).toBeLessThanOrEqual(2000)
    fail(false)
    await vi.advanceTimersByTimeAsync(2100)
    expect(written).toHaveLength(1)
    vi.useRealTimers()
    await writer.close(0)
  })
})
