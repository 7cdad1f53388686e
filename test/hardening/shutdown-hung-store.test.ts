/**
 * A PostgreSQL that accepts connections and never answers (a hung server, a path that drops
 * packets) holds nothing forever: every store query has a client-side timeout, and SIGTERM ends
 * within server.shutdown_timeout_ms, journaling the usage the store did not take for the next
 * start. The hang is made by a TCP proxy the test owns that stops forwarding (black-holes).
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createPostgresBackend } from '../../plugins/store/postgres/backend.ts'
import { startCli } from '../helpers/cli.ts'
import { startTestGateway } from '../helpers/gateway.ts'
import { usageRowCounts } from '../helpers/sql-once.ts'
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts'
import { waitFor } from '../helpers/wait.ts'
import { DATABASE_URL, dropSchema, POSTGRES_DEFAULTS, POSTGRES_ENABLED, silentLogger, uniqueSchema } from '../store/helpers.ts'

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => { while (cleanup.length) await cleanup.pop()!() })

async function proxyToPostgres(): Promise<TcpProxy> {
  const target = new URL(DATABASE_URL)
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
  cleanup.push(() => proxy.close())
  return proxy
}

/** How a promise ends, or 'pending' after `ms`. */
async function settledWithin(work: Promise<unknown>, ms: number): Promise<'resolved' | 'rejected' | 'pending'> {
  let timer: NodeJS.Timeout | undefined
  const pending = new Promise<'pending'>((resolve) => { timer = setTimeout(() => resolve('pending'), ms) })
  const outcome = await Promise.race([work.then(() => 'resolved' as const, () => 'rejected' as const), pending])
  clearTimeout(timer)
  return outcome
}

const countRows = (schema: string) => usageRowCounts(DATABASE_URL, schema)

describe.runIf(POSTGRES_ENABLED)('a PostgreSQL that accepts and never answers', () => {
  it('fails every store query within query_timeout_ms, and the pool recovers once it answers', async () => {
    const proxy = await proxyToPostgres()
    const backend = await createPostgresBackend({ ...POSTGRES_DEFAULTS, url: proxy.via(DATABASE_URL), pool_size: 2, query_timeout_ms: 500, connect_timeout_ms: 500 }, silentLogger)
    cleanup.push(() => backend.close())
    await backend.sql.query('SELECT 1')

    proxy.blackhole()
    // First, on the connection the pool holds open: the usage writer's COPY, which must not hang
    // (it would hold every later batch behind it).
    const copyStarted = performance.now()
    expect(await settledWithin(backend.sql.copyFrom!('usage_events', ['request_id'], 'x\n'), 5000)).toBe('rejected')
    expect(performance.now() - copyStarted).toBeLessThan(3000)
    const started = performance.now()
    expect(await settledWithin(backend.sql.query('SELECT 1'), 5000)).toBe('rejected')
    expect(performance.now() - started).toBeLessThan(3000)
    expect(await settledWithin(backend.transaction((tx) => tx.query('SELECT 1')), 5000)).toBe('rejected')
    expect(await settledWithin(backend.ping(), 5000)).toBe('rejected')

    proxy.restore()
    await waitFor(() => backend.sql.query('SELECT 1').then(() => true), 5000, 100)
  }, 30_000)

  it('a second SIGTERM cuts the streams in flight at once, still journals the usage, and exits 1', async () => {
    const proxy = await proxyToPostgres()
    const schema = uniqueSchema('twice')
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-twice-'))
    cleanup.push(() => rm(dir, { recursive: true, force: true }), () => dropSchema(schema))
    const file = path.join(dir, 'gateway.yaml')
    await writeFile(file, `version: 1
server: { shutdown_timeout_ms: 4000 }
store: { plugin: postgres, url: "${proxy.via(DATABASE_URL)}", schema: ${schema}, query_timeout_ms: 120000 }
usage: { journal_dir: ./journal }
providers: { mock: { plugin: mock, chunk_delay_ms: 200 } }
routes: [ { model: mock, targets: [ { provider: mock } ] } ]
`)
    const gw = await startCli(['--config', file, '--port', '0', '--no-watch'])
    cleanup.push(async () => { gw.child.kill('SIGKILL') })
    const chat = (content: string, stream = false) => fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'mock', stream, messages: [{ role: 'user', content }] }) })
    expect((await chat('hi')).status).toBe(200)
    await waitFor(async () => (await countRows(schema)).rows === 1, 10_000, 100)

    proxy.blackhole()
    for (let i = 0; i < 10; i++) expect((await chat('hi')).status).toBe(200)
    // Streams of 60 words at 200 ms a word: far longer than the shutdown's 4 s.
    const streams = Array.from({ length: 3 }, () => chat('word '.repeat(60), true).then((res) => res.text()).then(() => 'ended', () => 'cut'))
    await new Promise((r) => setTimeout(r, 500))
    const stopping = performance.now()
    gw.child.kill('SIGTERM')
    await new Promise((r) => setTimeout(r, 300))
    gw.child.kill('SIGTERM')
    expect(await settledWithin(gw.exited, 15_000)).toBe('resolved')
    expect(await gw.exited).toBe(1)
    // Cut at the second signal, not drained to their end (12 s away).
    expect(await Promise.all(streams)).toEqual(['cut', 'cut', 'cut'])
    expect(performance.now() - stopping).toBeLessThan(8000)
    expect(gw.output()).toContain('second signal')
    const segments = (await readdir(path.join(dir, 'journal'))).filter((f) => f.endsWith('.jsonl'))
    const journaled = (await Promise.all(segments.map((f) => readFile(path.join(dir, 'journal', f), 'utf8')))).join('').trim().split('\n')
    expect(journaled.length).toBeGreaterThanOrEqual(10)
  }, 60_000)

  it('SIGTERM ends within shutdown_timeout_ms and journals the usage; the next start writes it', async () => {
    const proxy = await proxyToPostgres()
    const schema = uniqueSchema('hung')
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-hung-'))
    cleanup.push(() => rm(dir, { recursive: true, force: true }), () => dropSchema(schema))
    const file = path.join(dir, 'gateway.yaml')
    // The query timeout is long on purpose: the shutdown bound must not depend on it.
    await writeFile(file, `version: 1
server: { shutdown_timeout_ms: 2000 }
store: { plugin: postgres, url: "${proxy.via(DATABASE_URL)}", schema: ${schema}, query_timeout_ms: 120000 }
usage: { journal_dir: ./journal }
providers: { mock: { plugin: mock } }
routes: [ { model: mock, targets: [ { provider: mock } ] } ]
`)
    const gw = await startCli(['--config', file, '--port', '0', '--no-watch'])
    cleanup.push(async () => { gw.child.kill('SIGKILL') })
    const chat = async (): Promise<void> => {
      const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] }) })
      expect(res.status).toBe(200)
    }
    for (let i = 0; i < 3; i++) await chat()
    await waitFor(async () => (await countRows(schema)).rows === 3, 10_000, 100)

    proxy.blackhole()
    for (let i = 0; i < 20; i++) await chat()
    // Let the writer's next flush hang on the black-holed connection.
    await new Promise((r) => setTimeout(r, 1500))
    const stopping = performance.now()
    gw.child.kill('SIGTERM')
    expect(await settledWithin(gw.exited, 15_000)).toBe('resolved')
    const took = performance.now() - stopping
    expect(await gw.exited).toBe(0)
    // 2 s for everything, each step at least 1 s: far from the 120 s query timeout.
    expect(took).toBeLessThan(6000)
    const segments = (await readdir(path.join(dir, 'journal'))).filter((f) => f.endsWith('.jsonl'))
    expect(segments).toHaveLength(1)
    const journaled = (await readFile(path.join(dir, 'journal', segments[0]), 'utf8')).trim().split('\n')
    expect(journaled).toHaveLength(20)
    expect(gw.output()).toContain('usage events journaled at shutdown')

    proxy.restore()
    const next = await startTestGateway({ file }, { usage: { flushIntervalMs: 50, journalDir: path.join(dir, 'journal') } })
    cleanup.push(() => next.close())
    await waitFor(async () => (await countRows(schema)).rows >= 23, 10_000, 100)
    expect(await countRows(schema)).toEqual({ rows: 23, eventIds: 23, requestIds: 23 })
    await waitFor(async () => (await readdir(path.join(dir, 'journal'))).length === 0)
  }, 60_000)
})
