/**
 * The store kit's reading of database errors no repository mapped (plugins/store/kit/sql.ts):
 * the database unreachable is 503 `store_unavailable` whatever the driver said it with (a refused
 * or reset socket, a pool's connect timeout, a client-side query timeout, a server shutting the
 * connection down, PGlite closed); text PostgreSQL cannot keep (a NUL) is 400 `invalid_text`;
 * anything else (a bug) is neither. The errors are the drivers' own, made against real stores.
 */
import { afterEach, describe, expect, it } from 'vitest'
import pg from 'pg'
import { GatewayError } from '../../plugin-api/errors.ts'
import { createPostgresBackend } from '../../plugins/store/postgres/backend.ts'
import { invalidText, rethrowAsGatewayError, storeFailure, storeUnavailable } from '../../plugins/store/kit/sql.ts'
import { freePort } from '../helpers/ports.ts'
import { startTcpProxy } from '../helpers/tcp-proxy.ts'
import { DATABASE_URL, POSTGRES_DEFAULTS, POSTGRES_ENABLED, openEmbeddedStore, silentLogger, storeTargets } from './helpers.ts'

const cleanup: (() => Promise<unknown>)[] = []
afterEach(async () => { while (cleanup.length) await cleanup.pop()!() })

const failure = <T>(work: Promise<T>): Promise<unknown> => work.then(() => { throw new Error('expected the query to fail') }, (err: unknown) => err)

const expectUnavailable = (err: unknown): void => {
  expect(storeUnavailable(err), String((err as Error).message)).toMatchObject({ status: 503, code: 'store_unavailable', retryable: true, headers: { 'retry-after': '5' } })
  expect(storeFailure(err)?.code).toBe('store_unavailable')
}

describe('a database that cannot answer', () => {
  it('a closed embedded store (PGlite) is store_unavailable', { timeout: 60_000 }, async () => {
    const store = await openEmbeddedStore({ vector: false })
    await store.dispose()
    expectUnavailable(await failure(store.sql.query('SELECT 1')))
  })

  it.runIf(POSTGRES_ENABLED)('nothing listening (ECONNREFUSED), also when a caller wrapped it', async () => {
    const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${await freePort()}/test`, connectionTimeoutMillis: 2000 })
    const err = await failure(client.connect())
    expect((err as { code?: string }).code).toBe('ECONNREFUSED')
    expectUnavailable(err)
    expectUnavailable(new Error('listing keys failed', { cause: err }))
  })

  it.runIf(POSTGRES_ENABLED)('a cut, and a black hole (the query timeout, then the pool\'s connect timeout)', async () => {
    const target = new URL(DATABASE_URL)
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
    cleanup.push(() => proxy.close())
    const backend = await createPostgresBackend({ ...POSTGRES_DEFAULTS, url: proxy.via(DATABASE_URL), pool_size: 1, query_timeout_ms: 300, connect_timeout_ms: 300 }, silentLogger)
    cleanup.push(() => backend.close())
    await backend.sql.query('SELECT 1')

    // The pooled connection is held while the query waits, and times out client-side.
    proxy.blackhole()
    expectUnavailable(await failure(backend.sql.query('SELECT 1')))
    // Its connection is dropped: a new one cannot be made.
    expectUnavailable(await failure(backend.sql.query('SELECT 1')))
    proxy.cut()
    expectUnavailable(await failure(backend.sql.query('SELECT 1')))
  })

  it.runIf(POSTGRES_ENABLED)('a server that ends the session during a transaction (57P01, as on a restart) fails the transaction, not the process', async () => {
    const backend = await createPostgresBackend({ ...POSTGRES_DEFAULTS, pool_size: 1 }, silentLogger)
    cleanup.push(() => backend.close())
    const admin = new pg.Client({ connectionString: DATABASE_URL })
    await admin.connect()
    cleanup.push(() => admin.end())
    const terminated = await failure(backend.transaction(async (tx) => {
      const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid])
      await tx.query('SELECT pg_sleep(5)')
    }))
    // 57P01 reaches pg between statements: the next one is refused by the client it left broken.
    expectUnavailable(terminated)
    // The broken connection was dropped, not handed to the next caller.
    expect((await backend.sql.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
  })

  it('a statement that is wrong, or a row that conflicts, is not', () => {
    for (const code of ['42P01', '23505', '22P02', '40001', undefined]) {
      expect(storeFailure(Object.assign(new Error('relation "nope" does not exist'), { code }))).toBeUndefined()
    }
    expect(storeFailure(new TypeError('Cannot read properties of undefined'))).toBeUndefined()
    // Already the client's answer: left as it is.
    expect(storeFailure(new GatewayError('No such key.', { status: 404, code: 'key_not_found' }))).toBeUndefined()
  })
})

describe.each(storeTargets('nul'))('text the $name store cannot keep', (target) => {
  it.runIf(target.enabled)('a NUL in a text or a jsonb parameter is 400 invalid_text, as is, or through rethrowAsGatewayError', { timeout: 60_000 }, async () => {
    const store = await target.open()
    cleanup.push(() => target.cleanup(), () => store.dispose())
    const text = await failure(store.sql.query('SELECT $1::text AS x', ['a\u0000b']))
    const json = await failure(store.sql.query('SELECT $1::jsonb AS x', [JSON.stringify({ note: 'a\u0000b' })]))
    for (const err of [text, json]) {
      expect(invalidText(err)).toMatchObject({ status: 400, code: 'invalid_text' })
      expect(storeFailure(err)?.code).toBe('invalid_text')
      expect(() => rethrowAsGatewayError(err)).toThrow(expect.objectContaining({ status: 400, code: 'invalid_text' }))
      expect(storeUnavailable(err)).toBeUndefined()
    }
  })
})
