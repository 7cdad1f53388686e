/**
 * Store fixtures: the same suite runs against the embedded store (in memory) and a real
 * PostgreSQL (DATABASE_URL, a fresh schema per run, dropped afterwards). Without PostgreSQL the
 * postgres suites are skipped locally, but when CI=true they run and fail.
 *
 * A store opens empty: each plugin migrates its own tables (store.migrate({ owner, dir })), so the
 * suites apply the owners they test, from the plugins' own folders.
 */
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { createLogger, type Logger } from '../../core/logger.ts'
import { openStore, type OpenedStore } from '../../plugins/store/kit/store.ts'
import type { MigrationReport, MigrationSet, Store } from '../../plugin-api/types.ts'
import { createEmbeddedBackend } from '../../plugins/store/embedded/backend.ts'
import { createPostgresBackend } from '../../plugins/store/postgres/backend.ts'

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const IS_CI = process.env.CI === 'true'

export const silentLogger: Logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent')

export { capturingLogger } from '../helpers/logs.ts'

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

export const POSTGRES_DEFAULTS = { url: DATABASE_URL, pool_size: 5, statement_timeout_ms: 30_000, query_timeout_ms: 35_000, connect_timeout_ms: 3000, idle_timeout_ms: 30_000 }

export async function openPostgresStore(schema: string, logger: Logger = silentLogger): Promise<OpenedStore> {
  return openStore(await createPostgresBackend({ ...POSTGRES_DEFAULTS, schema }, logger), logger)
}

export async function openEmbeddedStore(options: { dir?: string; vector?: boolean } = {}, logger: Logger = silentLogger): Promise<OpenedStore> {
  return openStore(await createEmbeddedBackend({ dir: options.dir, vector: options.vector ?? true }, logger), logger)
}

const folder = (relative: string): string => fileURLToPath(new URL(relative, import.meta.url))

/** The plugins that keep data, with the migration folders they register at setup. */
export const IDENTITY_MIGRATIONS: MigrationSet = { owner: 'identity', dir: folder('../../plugins/services/identity/data/migrations/') }
export const USAGE_MIGRATIONS: MigrationSet = { owner: 'usage', dir: folder('../../plugins/stages/usage/migrations/') }
export const SEMANTIC_CACHE_MIGRATIONS: MigrationSet = { owner: 'semantic-cache', dir: folder('../../plugins/cache/semantic/migrations/') }
export const PLUGIN_MIGRATIONS = [IDENTITY_MIGRATIONS, USAGE_MIGRATIONS, SEMANTIC_CACHE_MIGRATIONS] as const
/** Not in PLUGIN_MIGRATIONS: service.rag migrates only where pgvector is (its later files assume its first). */
export const RAG_MIGRATIONS: MigrationSet = { owner: 'rag', dir: folder('../../plugins/services/rag/migrations/') }

/** Migrate the given owners one after the other, as the plugins' setups do at a start; the report of each. */
export async function migrateOwners(store: Store, sets: readonly MigrationSet[] = PLUGIN_MIGRATIONS): Promise<Map<string, MigrationReport>> {
  const reports = new Map<string, MigrationReport>()
  for (const set of sets) reports.set(set.owner, await store.migrate(set))
  return reports
}

/** One store under test: how to open it, whether it runs here, how to clean up after it. */
export interface StoreTarget {
  readonly name: 'embedded' | 'postgres'
  readonly enabled: boolean
  open(logger?: Logger): Promise<OpenedStore>
  cleanup(): Promise<void>
}

/** The embedded store (in memory) and PostgreSQL (one schema no other run uses, per call of this). */
export function storeTargets(label: string): StoreTarget[] {
  const schema = uniqueSchema(label)
  return [
    { name: 'embedded', enabled: true, open: (logger) => openEmbeddedStore({}, logger), cleanup: async () => undefined },
    { name: 'postgres', enabled: POSTGRES_ENABLED, open: (logger) => openPostgresStore(schema, logger), cleanup: () => dropSchema(schema) },
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
