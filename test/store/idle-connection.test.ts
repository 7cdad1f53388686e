/**
 * A PostgreSQL store through a quiet spell: connections idle past `idle_timeout_ms` are closed,
 * but one stays open, so the first query after the pause (an API key's lookup, a usage batch)
 * does not wait for a new connection.
 */
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { createPostgresBackend } from '../../plugins/store/postgres/backend.ts'
import { waitFor } from '../helpers/wait.ts'
import { DATABASE_URL, POSTGRES_DEFAULTS, POSTGRES_ENABLED, silentLogger } from './helpers.ts'

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => { while (cleanup.length) await cleanup.pop()!() })

describe.runIf(POSTGRES_ENABLED)('a PostgreSQL store through a pause', () => {
  it('closes the connections idle past idle_timeout_ms but one, and the next query runs on that one', async () => {
    const backend = await createPostgresBackend({ ...POSTGRES_DEFAULTS, pool_size: 3, idle_timeout_ms: 1000 }, silentLogger)
    cleanup.push(() => backend.close())
    // Three queries at once: three connections, each a server process of its own.
    const opened = await Promise.all([1, 2, 3].map(async () => (await backend.sql.query<{ pid: number }>('SELECT pg_backend_pid() AS pid, pg_sleep(0.2)')).rows[0].pid))
    expect(new Set(opened).size).toBe(3)

    // Watched from a connection of the test's own.
    const observer = new pg.Client({ connectionString: DATABASE_URL })
    await observer.connect()
    cleanup.push(() => observer.end())
    const alive = async (): Promise<number[]> => (await observer.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE pid = ANY($1::int[])', [opened])).rows.map((r) => r.pid)
    await waitFor(async () => (await alive()).length <= 1, 15_000, 100)
    // Past the timeout, well past: the one left stays.
    await new Promise((resolve) => setTimeout(resolve, 1500))
    const left = await alive()
    expect(left).toHaveLength(1)
    const { rows } = await backend.sql.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
    expect(rows[0].pid).toBe(left[0])
  }, 30_000)
})
