/**
 * A `pg` pool as a SqlBackend. The schema, search_path and statement timeout are connection
 * start-up parameters, so every pooled connection has them without an extra round trip.
 *
 * Every query also has a client-side timeout (`query_timeout_ms`): a server that accepts
 * connections and never answers (hung, or a network path that drops packets) would otherwise hold
 * the caller forever, since the server-side statement_timeout needs a server that answers. A
 * query that times out fails, and `pg` destroys its connection rather than reuse it.
 */
import { finished } from 'node:stream/promises'
import type pg from 'pg'
import type { Logger } from '../../../plugin-api/index.ts'
import type { QueryOptions, SqlClient } from '../../../plugin-api/index.ts'
import { copyStatement } from '../kit/sql.ts'
import type { SqlBackend } from '../kit/store.ts'
import type { PostgresStoreConfig } from './schema.ts'

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>

/** pg reads `query_timeout` per query; its type definitions do not list it. */
type TimedQuery = pg.QueryConfig & { query_timeout?: number }

/**
 * Errors a named statement gets behind a pooler that runs each statement on any server connection
 * (PgBouncer in transaction mode before 1.21): the statement was prepared on another one, or is
 * there already. Both come before anything is executed, so the statement can run again unnamed.
 */
const PREPARED_ELSEWHERE = new Set(['26000', '42P05'])

/**
 * `timeoutMs` 0: no client-side limit (migrations, which may legitimately run long). `prepared`:
 * whether named statements work on this pool (shared by its clients); absent: a transaction's
 * client, where a failed statement aborts the transaction, so none is named.
 */
function sqlClient(db: Queryable, timeoutMs: number, prepared?: { ok: boolean; logger: Logger }): SqlClient {
  const query_timeout = timeoutMs || undefined
  return {
    async query<Row>(text: string, params?: readonly unknown[], options?: QueryOptions) {
      const config: TimedQuery = { text, values: params as unknown[] | undefined, query_timeout }
      // A named statement is parsed and planned once per connection (pg remembers which it prepared).
      if (options?.prepare && prepared?.ok) config.name = options.prepare
      let result: pg.QueryResult
      try {
        result = await db.query(config)
      } catch (err) {
        if (!config.name || !PREPARED_ELSEWHERE.has((err as { code?: string }).code ?? '')) throw err
        prepared!.ok = false
        prepared!.logger.warn({ err: (err as Error).message }, 'named statements do not work through this PostgreSQL connection (a pooler in transaction mode?): statements are no longer prepared')
        result = await db.query({ text, values: config.values, query_timeout } as TimedQuery)
      }
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length }
    },
    async exec(script: string) {
      // Without parameters `pg` uses the simple protocol, which accepts several statements.
      const config: TimedQuery = { text: script, query_timeout }
      await db.query(config)
    },
  }
}

/** host:port/database, for messages: never the user or password. */
export function describeDatabase(url: string, schema?: string): string {
  let where = 'the configured database'
  try {
    const u = new URL(url)
    // `user:password@host/db` (the scheme left out) parses as a URL of scheme `user:` whose path holds the password.
    if (u.protocol === 'postgres:' || u.protocol === 'postgresql:') where = `${u.hostname || 'localhost'}:${u.port || '5432'}${u.pathname || ''}`
  } catch { /* not a URL (e.g. a key=value string): say nothing about it */ }
  return schema ? `${where} (schema ${schema})` : where
}

/** Where and how every connection of a store connects: the pool's and the one that makes the schema. */
const connectionOf = (config: PostgresStoreConfig) =>
  ({ connectionString: config.url, connectionTimeoutMillis: config.connect_timeout_ms, application_name: 'ai-gateway' }) as const

export async function createPostgresBackend(config: PostgresStoreConfig, logger: Logger): Promise<SqlBackend> {
  // Imported here: the driver loads only when a PostgreSQL store opens.
  const { default: pg } = await import('pg')
  const where = describeDatabase(config.url, config.schema)
  const pool = new pg.Pool({
    ...connectionOf(config),
    max: config.pool_size,
    idleTimeoutMillis: config.idle_timeout_ms,
    // One connection outlives any pause: the first query after one (an API key's lookup when its
    // cache entry expired, a usage batch) would otherwise wait for a new connection first. A keyed
    // request after 35 s idle: 12-13 ms -> 7-8 ms against a local server (bench/RESULTS.md); a
    // remote one with TLS and SCRAM costs more to connect.
    min: 1,
    statement_timeout: config.statement_timeout_ms || undefined,
    // The schema is checked by the config schema (lower-case identifier), so it needs no quoting.
    options: config.schema ? `-c search_path=${config.schema},public` : undefined,
  })
  // An idle connection that dies (server restart) emits here; without a listener it would crash the process.
  pool.on('error', (err) => logger.warn({ err: err.message, database: where }, 'an idle PostgreSQL connection failed; it is replaced on next use'))

  const { from: copyStream } = await import('pg-copy-streams')
  const sql: SqlClient = {
    ...sqlClient(pool, config.query_timeout_ms, { ok: true, logger }),
    /** On a connection of its own, under the same query timeout; a connection whose COPY did not end cleanly is dropped. */
    async copyFrom(table, columns, text) {
      const client = await pool.connect()
      const copy = copyStream(copyStatement(table, columns, 'STDIN')) as ReturnType<typeof copyStream> & { query_timeout?: number }
      // pg reads the timeout from the query it is given (and ends a COPY that overruns it with an error).
      copy.query_timeout = config.query_timeout_ms || undefined
      let broken: Error | undefined
      // While a client is checked out its socket's errors are emitted on it for us to take (the pool listens only while it idles).
      const onSocketError = (err: Error): void => { broken = err }
      client.on('error', onSocketError)
      try {
        client.query(copy).end(text)
        await finished(copy)
        return copy.rowCount
      } catch (err) {
        // The server's own refusal (a duplicate, a bad value) leaves the connection ready for the next query; anything else does not.
        if (!(err instanceof pg.DatabaseError)) broken = err as Error
        throw err
      } finally {
        client.removeListener('error', onSocketError)
        client.release(broken)
      }
    },
  }
  let closing: Promise<void> | undefined
  const backend: SqlBackend = {
    kind: 'postgres',
    sql,
    async transaction(fn, options) {
      const client = await pool.connect()
      const tx = sqlClient(client, options?.unbounded ? 0 : config.query_timeout_ms)
      let broken: Error | undefined
      // As in copyFrom: a checked-out client's socket errors are emitted on it, and unheard one is
      // the process's uncaught exception (a server that ends the session mid-transaction, 57P01 on
      // a restart, crashed the gateway). The statement in flight fails with it; the client is dropped.
      const onSocketError = (err: Error): void => { broken = err }
      client.on('error', onSocketError)
      try {
        await tx.query('BEGIN')
        const result = await fn(tx)
        await tx.query('COMMIT')
        return result
      } catch (err) {
        // A connection that cannot even roll back is destroyed rather than handed to the next caller.
        await tx.query('ROLLBACK').catch((rollbackError: Error) => { broken ??= rollbackError })
        throw err
      } finally {
        client.removeListener('error', onSocketError)
        client.release(broken)
      }
    },
    async ping() {
      await sql.query('SELECT 1')
    },
    close() {
      closing ??= pool.end()
      return closing
    },
  }

  try {
    if (config.schema) await createSchema(pg, config, config.schema)
    await backend.ping()
  } catch (err) {
    await backend.close().catch(() => undefined)
    throw new Error(`cannot use PostgreSQL at ${where}: ${(err as Error).message}`, { cause: err })
  }
  logger.info({ database: where, pool_size: config.pool_size }, 'connected to PostgreSQL')
  return backend
}

/**
 * CREATE SCHEMA IF NOT EXISTS races with itself, so concurrent starts take turns on an advisory
 * lock. It runs on a connection of its own, closed before the pool opens one: a connection that
 * resolved its search_path while another gateway was creating the schema went on resolving it
 * without the schema, to `public`, for its whole life (PostgreSQL 15: one gateway in 40 fleets of
 * six starting at once wrote all its tables to public). The pool's connections start after the
 * schema is committed.
 */
async function createSchema(pg: typeof import('pg').default, config: PostgresStoreConfig, schema: string): Promise<void> {
  const client = new pg.Client({ ...connectionOf(config), query_timeout: config.query_timeout_ms || undefined })
  await client.connect()
  try {
    await client.query('BEGIN')
    await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('ai-gateway:schema:' || $1, 0))`, [schema])
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`)
    await client.query('COMMIT')
  } finally {
    // Ending the session rolls back a transaction an error left open.
    await client.end().catch(() => undefined)
  }
}
