import { afterEach, describe, expect, it } from 'vitest'
import { readdir, rm } from 'node:fs/promises'
import { postJson } from '../helpers/gateway.ts'
import { startPrivatePostgres } from '../helpers/pg-server.ts'
import { dropSchema, uniqueSchema, DATABASE_URL } from '../store/helpers.ts'
import { freshJournalDir, startTestGateway, usageWriterOf } from '../helpers/gateway.ts'
import { waitFor } from '../helpers/wait.ts'
import { usageRowCounts } from '../helpers/sql-once.ts'
import { okUpstream, usageConfig, user } from './helpers.ts'

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => { while (cleanup.length) await cleanup.pop()!() })

async function upstream() {
  const up = await okUpstream()
  cleanup.push(() => up.close())
  return up
}
const ask = { model: 'r', messages: [{ role: 'user', content: 'x' }] }

const countRows = async (url: string, schema: string): Promise<number> => (await usageRowCounts(url, schema)).rows

/** Usage events waiting to be written, from /metrics. */
async function bufferDepth(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  return Number(/^gateway_usage_buffer_depth (\d+)/m.exec(text)?.[1] ?? 'NaN')
}

describe('usage survives a database outage', () => {
  it('keeps serving while PostgreSQL is stopped, and writes every event once it is back', async () => {
    const server = await startPrivatePostgres()
    cleanup.push(() => server.destroy())
    const up = await upstream()
    const schema = uniqueSchema('outage')
    const gw = await startTestGateway(usageConfig(up.url, server.url, schema), { usage: { flushIntervalMs: 50, batchSize: 10 } })
    cleanup.push(() => gw.close())

    for (let i = 0; i < 20; i++) expect((await postJson(`${gw.url}/v1/chat/completions`, ask, user(`u${i}`))).status).toBe(200)
    await server.stop()
    const started = performance.now()
    for (let i = 20; i < 50; i++) expect((await postJson(`${gw.url}/v1/chat/completions`, ask, user(`u${i}`))).status).toBe(200)
    // The requests did not wait for the database.
    expect(performance.now() - started).toBeLessThan(5000)
    expect(await bufferDepth(gw.url)).toBeGreaterThan(0)
    await server.start()

    const deadline = Date.now() + 40_000
    let rows = 0
    while (Date.now() < deadline && (rows = await countRows(server.url, schema).catch(() => 0)) < 50) await new Promise((r) => setTimeout(r, 200))
    expect(rows).toBe(50)
    expect((await usageRowCounts(server.url, schema)).requestIds).toBe(50)
  }, 90_000)

  it('flushes what is queued when the gateway shuts down', async () => {
    const up = await upstream()
    const schema = uniqueSchema('shutdown')
    cleanup.push(() => dropSchema(schema))
    const gw = await startTestGateway(usageConfig(up.url, DATABASE_URL, schema), { usage: { flushIntervalMs: 600_000, batchSize: 1000 } })
    for (let i = 0; i < 7; i++) await postJson(`${gw.url}/v1/chat/completions`, ask, user('u'))
    await new Promise((r) => setTimeout(r, 50))
    expect(await countRows(DATABASE_URL, schema)).toBe(0)
    await gw.close()
    expect(await countRows(DATABASE_URL, schema)).toBe(7)
  })

  it('bounds memory: past the buffer, events spill to the journal without blocking requests, and all reach the store', async () => {
    const up = await upstream()
    const schema = uniqueSchema('bound')
    cleanup.push(() => dropSchema(schema))
    const journalDir = freshJournalDir()
    cleanup.push(() => rm(journalDir, { recursive: true, force: true }))
    const gw = await startTestGateway(usageConfig(up.url, DATABASE_URL, schema), { usage: { flushIntervalMs: 600_000, batchSize: 1000, maxBuffer: 5, journalDir } })
    for (let i = 0; i < 8; i++) expect((await postJson(`${gw.url}/v1/chat/completions`, ask, user('u'))).status).toBe(200)
    await waitFor(() => usageWriterOf(gw).pending === 8)
    expect(usageWriterOf(gw).buffered).toBeLessThanOrEqual(5)
    const metrics = await (await fetch(`${gw.url}/metrics`)).text()
    expect(metrics).toMatch(/gateway_usage_events_spilled_total 5/)
    expect(metrics).toMatch(/gateway_usage_journal_events 5/)
    expect(metrics).toMatch(/gateway_usage_events_dropped_total 0/)
    await gw.close()
    expect(await countRows(DATABASE_URL, schema)).toBe(8)
    expect(await readdir(journalDir)).toEqual([])
  })
})
