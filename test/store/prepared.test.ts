/**
 * A statement run with `prepare` is parsed and planned once per connection (the usage writer's
 * batch INSERT), and keeps working where named statements do not (a pooler in transaction mode,
 * made here by dropping the connection's prepared statements behind pg's back).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createPostgresBackend } from '../../plugins/store/postgres/backend.ts'
import { DATABASE_URL, POSTGRES_DEFAULTS, POSTGRES_ENABLED, silentLogger } from './helpers.ts'

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => { while (cleanup.length) await cleanup.pop()!() })

describe.runIf(POSTGRES_ENABLED)('prepared statements on PostgreSQL', () => {
  it('are prepared once per connection and reused', async () => {
    const backend = await createPostgresBackend({ ...POSTGRES_DEFAULTS, url: DATABASE_URL, pool_size: 1 }, silentLogger)
    cleanup.push(() => backend.close())
    for (const n of [1, 2, 3]) expect((await backend.sql.query<{ n: number }>('SELECT $1::int AS n', [n], { prepare: 'test_select_n' })).rows).toEqual([{ n }])
    const { rows } = await backend.sql.query<{ name: string }>('SELECT name FROM pg_prepared_statements')
    expect(rows.map((r) => r.name)).toEqual(['test_select_n'])
  })

  it('run unnamed from then on when the server no longer has them, with a warning', async () => {
    const warnings: string[] = []
    const logger = Object.assign(Object.create(silentLogger), { warn: (_fields: unknown, message: string) => { warnings.push(message) } })
    const backend = await createPostgresBackend({ ...POSTGRES_DEFAULTS, url: DATABASE_URL, pool_size: 1 }, logger)
    cleanup.push(() => backend.close())
    expect((await backend.sql.query('SELECT $1::int AS n', [1], { prepare: 'test_select_n' })).rows).toEqual([{ n: 1 }])
    // As a pooler running the next statement on another server connection would: pg thinks it is prepared, the server does not have it.
    await backend.sql.query('DEALLOCATE ALL')
    expect((await backend.sql.query('SELECT $1::int AS n', [2], { prepare: 'test_select_n' })).rows).toEqual([{ n: 2 }])
    expect((await backend.sql.query('SELECT $1::int AS n', [3], { prepare: 'test_select_n' })).rows).toEqual([{ n: 3 }])
    expect(warnings).toHaveLength(1)
    expect((await backend.sql.query('SELECT count(*)::int AS n FROM pg_prepared_statements')).rows).toEqual([{ n: 0 }])
  })

  it('are not named inside a transaction', async () => {
    const backend = await createPostgresBackend({ ...POSTGRES_DEFAULTS, url: DATABASE_URL, pool_size: 1 }, silentLogger)
    cleanup.push(() => backend.close())
    await backend.transaction(async (tx) => {
      expect((await tx.query('SELECT $1::int AS n', [1], { prepare: 'test_select_n' })).rows).toEqual([{ n: 1 }])
      expect((await tx.query('SELECT count(*)::int AS n FROM pg_prepared_statements')).rows).toEqual([{ n: 0 }])
    })
  })
})
