/**
 * Store fixtures: the same suite runs against the embedded store (in memory) and a real
 * PostgreSQL (DATABASE_URL, a fresh schema per run, dropped afterwards). Without PostgreSQL the
 * postgres suites are skipped locally, but when CI=true they run and fail.
 */
import { randomBytes } from 'node:crypto'
import type { DestinationStream } from 'pino'
import pg from 'pg'
import { createLogger, type Logger } from '../../core/logger.ts'
import { openStore, type OpenedStore } from '../../core/data/store.ts'
import { migrate, type MigrationReport } from '../../core/data/migrate.ts'
import type { Store } from '../../core/plugins/types.ts'
import { createEmbeddedBackend } from '../../plugins/store/embedded/backend.ts'
import { createPostgresBackend } from '../../plugins/store/postgres/backend.ts'

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const IS_CI = process.env.CI === 'true'

export const silentLogger: Logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent')

/** A logger that keeps every line, to assert on what was logged. */
export function capturingLogger(): { logger: Logger; lines: { level: string; msg: string; [key: string]: unknown }[] } {
  const lines: { level: string; msg: string }[] = []
  const destination: DestinationStream = { write: (line: string) => { lines.push(JSON.parse(line) as { level: string; msg: string }) } }
  return { logger: createLogger('debug', destination), lines }
}

/** Why PostgreSQL cannot be used, or undefined when it can. */
async function postgresProblem(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return undefined
  } catch (err) {
    return (err as Error).message
  } finally {
    await client.end().catch(() => undefined)
  }
}

const problem = await postgresProblem()
if (problem && !IS_CI) console.warn(`PostgreSQL store tests skipped (set CI=true to make this a failure): ${problem}`)
/** Run the PostgreSQL suites: always in CI (where an unreachable server must fail them), else when it answers. */
export const POSTGRES_ENABLED = problem === undefined || IS_CI

/** A schema name no other run uses. */
export function uniqueSchema(label: string): string {
  return `gw_test_${label}_${process.pid}_${randomBytes(3).toString('hex')}`
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL })
  await client.connect()
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  } finally {
    await client.end()
  }
}

export const POSTGRES_DEFAULTS = { url: DATABASE_URL, pool_size: 5, statement_timeout_ms: 30_000, query_timeout_ms: 35_000, connect_timeout_ms: 3000 }

export async function openPostgresStore(schema: string, logger: Logger = silentLogger): Promise<OpenedStore> {
  return openStore(await createPostgresBackend({ ...POSTGRES_DEFAULTS, schema }, logger), logger)
}

export async function openEmbeddedStore(options: { dir?: string; vector?: boolean } = {}, logger: Logger = silentLogger): Promise<OpenedStore> {
  return openStore(await createEmbeddedBackend({ dir: options.dir, vector: options.vector ?? true }, logger), logger)
}

/** Run the migrations again on an open store, as a second start would. */
export function migrateAgain(store: Store, logger: Logger = silentLogger): Promise<MigrationReport> {
  return migrate({ sql: store.sql, transaction: (fn) => store.transaction((tx) => fn(tx.sql)) }, logger)
}

/** One store under test: how to open it, whether it runs here, how to clean up after it. */
export interface StoreTarget {
  readonly name: 'embedded' | 'postgres'
  readonly enabled: boolean
  open(): Promise<OpenedStore>
  cleanup(): Promise<void>
}

export function storeTargets(label: string): StoreTarget[] {
  const schema = uniqueSchema(label)
  return [
    { name: 'embedded', enabled: true, open: () => openEmbeddedStore(), cleanup: async () => undefined },
    { name: 'postgres', enabled: POSTGRES_ENABLED, open: () => openPostgresStore(schema), cleanup: () => dropSchema(schema) },
  ]
}

/** Tables, columns, indexes and the migration ledger of the store's schema: what a migration could change. */
export async function schemaFingerprint(store: Store): Promise<unknown> {
  const columns = await store.sql.query(`SELECT table_name, column_name, data_type, is_nullable, column_default
    FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY 1, 2`)
  const indexes = await store.sql.query('SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1')
  const ledger = await store.sql.query('SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY 1')
  return { columns: columns.rows, indexes: indexes.rows, ledger: ledger.rows }
}
