/**
 * A `pg` pool as a SqlBackend. The schema, search_path and statement timeout are connection
 * start-up parameters, so every pooled connection has them without an extra round trip.
 */
import pg from 'pg'
import type { Logger } from '../../../core/plugins/api.ts'
import type { SqlClient } from '../../../core/plugins/api.ts'
import type { SqlBackend } from '../kit/store.ts'
import type { PostgresStoreConfig } from './schema.ts'

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>

function sqlClient(db: Queryable): SqlClient {
  return {
    async query<Row>(text: string, params?: readonly unknown[]) {
      const result = await db.query(text, params as unknown[] | undefined)
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length }
    },
    async exec(script: string) {
      // Without parameters `pg` uses the simple protocol, which accepts several statements.
      await db.query(script)
    },
  }
}

/** host:port/database, for messages: never the user or password. */
export function describeDatabase(url: string, schema?: string): string {
  let where = 'the configured database'
  try {
    const u = new URL(url)
    where = `${u.hostname || 'localhost'}:${u.port || '5432'}${u.pathname || ''}`
  } catch { /* not a URL (e.g. a key=value string): say nothing about it */ }
  return schema ? `${where} (schema ${schema})` : where
}

export async function createPostgresBackend(config: PostgresStoreConfig, logger: Logger): Promise<SqlBackend> {
  const where = describeDatabase(config.url, config.schema)
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.pool_size,
    connectionTimeoutMillis: config.connect_timeout_ms,
    idleTimeoutMillis: 30_000,
    statement_timeout: config.statement_timeout_ms || undefined,
    application_name: 'ai-gateway',
    // The schema is checked by the config schema (lower-case identifier), so it needs no quoting.
    options: config.schema ? `-c search_path=${config.schema},public` : undefined,
  })
  // An idle connection that dies (server restart) emits here; without a listener it would crash the process.
  pool.on('error', (err) => logger.warn({ err: err.message, database: where }, 'an idle PostgreSQL connection failed; it is replaced on next use'))

  const sql = sqlClient(pool)
  let closing: Promise<void> | undefined
  const backend: SqlBackend = {
    kind: 'postgres',
    sql,
    async transaction(fn) {
      const client = await pool.connect()
      let broken: Error | undefined
      try {
        await client.query('BEGIN')
        const result = await fn(sqlClient(client))
        await client.query('COMMIT')
        return result
      } catch (err) {
        // A connection that cannot even roll back is destroyed rather than handed to the next caller.
        await client.query('ROLLBACK').catch((rollbackError: Error) => { broken = rollbackError })
        throw err
      } finally {
        client.release(broken)
      }
    },
    async ping() {
      await pool.query('SELECT 1')
    },
    close() {
      closing ??= pool.end()
      return closing
    },
  }

  try {
    if (config.schema) await createSchema(backend, config.schema)
    else await backend.ping()
  } catch (err) {
    await backend.close().catch(() => undefined)
    throw new Error(`cannot use PostgreSQL at ${where}: ${(err as Error).message}`, { cause: err })
  }
  logger.info({ database: where, pool_size: config.pool_size }, 'connected to PostgreSQL')
  return backend
}

/** CREATE SCHEMA IF NOT EXISTS races with itself, so concurrent starts take turns on an advisory lock. */
async function createSchema(backend: SqlBackend, schema: string): Promise<void> {
  await backend.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('ai-gateway:schema:' || $1, 0))`, [schema])
    await tx.exec(`CREATE SCHEMA IF NOT EXISTS "${schema}"`)
  })
}
