/**
 * Versioned SQL migrations, one folder per plugin that keeps data (NNNN_name.sql files, applied in
 * order, each in its own transaction), recorded in `schema_migrations` in the store's schema as
 * `<owner>/<NNNN>`. A file whose header says `-- was: NNNN` counts as applied where an earlier
 * release recorded that bare version (when all migrations lived in the kernel).
 *
 * Safe when several gateways start at once: each migration is applied under a transaction-scoped
 * advisory lock (per schema) and re-checked once the lock is held, so exactly one process applies
 * it and the others find it done; one that installs an extension also holds a lock per extension,
 * which gateways on other schemas of the database share. The same runner serves both stores; on
 * PGlite the locks are simply uncontended (its directory lock keeps it to one process).
 *
 * A migration whose header says `-- requires extension: <name>` is applied only where the
 * database offers that extension. Otherwise it stays pending, a log line says what is off, and it
 * is tried again at the next start: installing the extension later is enough.
 */
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import type { Logger } from '../../../plugin-api/index.ts'
import type { MigrationReport, SqlClient } from '../../../plugin-api/index.ts'

export interface Migration {
  /** `0001` (recorded as `<owner>/0001`) */
  readonly version: string
  /** `0001_semantic_cache` */
  readonly id: string
  readonly sql: string
  readonly checksum: string
  /** Set for a migration that needs a PostgreSQL extension (see the file's header). */
  readonly requires?: { readonly extension: string; readonly level: 'warn' | 'info'; readonly withoutIt: string }
  /** The bare version an earlier release recorded this migration under. */
  readonly was?: string
}

/** What the runner needs from a store backend. */
export interface MigrationTarget {
  readonly sql: SqlClient
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>
}

const FILE_NAME = /^(\d{4})_[a-z0-9_]+\.sql$/
const REQUIRES = /^--\s*requires extension:\s*([a-z0-9_]+)\s*$/m
const IF_MISSING = /^--\s*if missing \((warn|info)\):\s*(.+?)\s*$/m
const WAS = /^--\s*was:\s*(\d{4})\s*$/m

const CURRENT_SCHEMA = `SELECT current_schema() AS schema,
  to_regclass(quote_ident(current_schema()) || '.schema_migrations') IS NOT NULL AS recorded`
const APPLIED = 'SELECT version, checksum FROM schema_migrations'
const AVAILABLE_EXTENSIONS = 'SELECT name FROM pg_available_extensions WHERE name = ANY($1::text[])'
// Per schema, so gateways on different schemas of one database do not wait for each other.
const LOCK = `SELECT pg_advisory_xact_lock(hashtextextended('ai-gateway:migrations:' || current_schema(), 0))`
// An extension is one per database: gateways on two schemas installing it at once would both miss
// the other's uncommitted one and the second would fail on its name. Taken after LOCK, always.
const EXTENSION_LOCK = `SELECT pg_advisory_xact_lock(hashtextextended('ai-gateway:extension:' || $1, 0))`
// Migrations may legitimately run longer than the pool's statement timeout (a hypertable conversion).
const NO_TIMEOUT = 'SET LOCAL statement_timeout = 0'
const CREATE_LEDGER = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version     text        PRIMARY KEY,
  name        text        NOT NULL,
  checksum    text        NOT NULL,
  applied_at  timestamptz NOT NULL DEFAULT now(),
  duration_ms integer     NOT NULL
)`
const IS_APPLIED = 'SELECT 1 FROM schema_migrations WHERE version = ANY($1::text[])'
// Migrations left pending for a missing extension are said once per database, not at every start.
const CREATE_SKIPPED = `CREATE TABLE IF NOT EXISTS schema_migrations_skipped (
  version  text        PRIMARY KEY,
  reason   text        NOT NULL,
  noted_at timestamptz NOT NULL DEFAULT now()
)`
const NOTE_SKIPPED = 'INSERT INTO schema_migrations_skipped (version, reason) VALUES ($1, $2) ON CONFLICT (version) DO NOTHING RETURNING version'
const IS_NOTED = 'SELECT 1 FROM schema_migrations_skipped WHERE version = $1'
const RECORD = 'INSERT INTO schema_migrations (version, name, checksum, duration_ms) VALUES ($1, $2, $3, $4)'

const loaded = new Map<string, readonly Migration[]>()

/** The migrations in `dir`, in order; read once per process (they ship with the code). */
export function loadMigrations(dir: string): readonly Migration[] {
  let migrations = loaded.get(dir)
  if (migrations) return migrations
  const seen = new Set<string>()
  migrations = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort().map((file) => {
    const match = FILE_NAME.exec(file)
    if (!match) throw new Error(`migration file ${file} must be named NNNN_lower_case_name.sql`)
    const version = match[1]
    if (seen.has(version)) throw new Error(`two migrations share the version ${version}`)
    seen.add(version)
    const sql = readFileSync(path.join(dir, file), 'utf8').replace(/\r\n/g, '\n')
    const extension = REQUIRES.exec(sql)?.[1]
    const missing = IF_MISSING.exec(sql)
    return {
      version,
      id: file.slice(0, -'.sql'.length),
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
      was: WAS.exec(sql)?.[1],
      requires: extension
        ? { extension, level: (missing?.[1] ?? 'warn') as 'warn' | 'info', withoutIt: missing?.[2] ?? `the features of ${file} are off` }
        : undefined,
    }
  })
  loaded.set(dir, migrations)
  return migrations
}

/** Bring the store's schema up to date. Fails (naming the migration) if a required one fails. */
export async function migrate(target: MigrationTarget, logger: Logger, owner: string, migrations: readonly Migration[]): Promise<MigrationReport> {
  const { schema, applied } = await readLedger(target.sql)
  const versionOf = (m: Migration): string => `${owner}/${m.version}`
  // The versions that mean "applied": this owner's, or the bare one an earlier release recorded.
  const versionsOf = (m: Migration): string[] => (m.was === undefined ? [versionOf(m)] : [versionOf(m), m.was])
  const nameOf = (m: Migration): string => `${owner}/${m.id}`
  for (const m of migrations) {
    const checksum = applied.get(versionOf(m))
    if (checksum !== undefined && checksum !== m.checksum) {
      logger.warn({ migration: nameOf(m) }, 'migration file changed after it was applied; the change is not applied again (add a new migration instead)')
    }
  }
  const todo = migrations.filter((m) => !versionsOf(m).some((v) => applied.has(v)))
  const report = { applied: [] as string[], pending: [] as { id: string; extension: string; reason: string }[] }
  if (todo.length === 0) return report

  const wanted = [...new Set(todo.flatMap((m) => (m.requires ? [m.requires.extension] : [])))]
  const available = wanted.length
    ? new Set((await target.sql.query<{ name: string }>(AVAILABLE_EXTENSIONS, [wanted])).rows.map((r) => r.name))
    : new Set<string>()

  for (const m of todo) {
    if (m.requires && !available.has(m.requires.extension)) {
      await leavePending(target, versionOf(m), nameOf(m), m.requires, `this database does not offer the extension '${m.requires.extension}'`, report, logger)
      continue
    }
    const started = performance.now()
    try {
      const appliedNow = await target.transaction(async (tx) => {
        await tx.query(NO_TIMEOUT)
        await tx.query(LOCK)
        if (m.requires) await tx.query(EXTENSION_LOCK, [m.requires.extension])
        await tx.exec(CREATE_LEDGER)
        // Another gateway (of this release or an earlier one) may have applied it while this one waited for the lock.
        if ((await tx.query(IS_APPLIED, [versionsOf(m)])).rowCount > 0) return false
        await tx.exec(m.sql)
        await tx.query(RECORD, [versionOf(m), nameOf(m), m.checksum, Math.round(performance.now() - started)])
        return true
      })
      if (appliedNow) {
        report.applied.push(nameOf(m))
        logger.info({ migration: nameOf(m), schema, ms: Math.round(performance.now() - started) }, 'applied migration')
      }
    } catch (err) {
      const reason = (err as Error).message
      // An extension can be offered yet not installable (privileges, shared_preload_libraries):
      // the gateway runs without it rather than not at all.
      if (m.requires) await leavePending(target, versionOf(m), nameOf(m), m.requires, `installing the extension '${m.requires.extension}' failed: ${reason}`, report, logger)
      else throw new Error(`migration ${nameOf(m)} failed: ${reason}`, { cause: err })
    }
  }
  return report
}

/**
 * A migration that needs an extension the database lacks stays pending (it is applied at a later
 * start once the extension can be installed). That is said once per database, with the reason;
 * later starts say it at debug level only.
 */
async function leavePending(
  target: MigrationTarget, version: string, name: string, requires: NonNullable<Migration['requires']>, reason: string,
  report: { pending: { id: string; extension: string; reason: string }[] }, logger: Logger,
): Promise<void> {
  report.pending.push({ id: name, extension: requires.extension, reason })
  let first: boolean | undefined
  // Tried twice: a gateway whose note failed once (a busy database while a fleet starts) would
  // otherwise say it again beside the one that noted it.
  for (let attempt = 1; attempt <= 2 && first === undefined; attempt++) {
    try {
      // Under the migration lock: gateways starting together would otherwise race to create the
      // table (CREATE TABLE IF NOT EXISTS is not safe against itself), and each losing one say it again.
      first = await target.transaction(async (tx) => {
        await tx.query(LOCK)
        await tx.exec(CREATE_SKIPPED)
        return (await tx.query(NOTE_SKIPPED, [version, reason])).rowCount > 0
      })
    } catch (err) {
      // Noting it is a courtesy: say it again rather than fail the start.
      logger.debug({ migration: name, err: (err as Error).message, attempt }, 'noting a skipped migration failed')
    }
  }
  // Not noted here: said at its level unless another gateway is seen to have noted it meanwhile.
  first ??= !(await target.sql.query(IS_NOTED, [version]).then((r) => r.rowCount > 0, () => false))
  logger[first ? requires.level : 'debug'](
    { migration: name, extension: requires.extension },
    `migration ${name} skipped: ${reason}. ${requires.withoutIt}. It is applied at the next start once the extension can be installed${first ? ' (said once per database)' : ''}.`,
  )
}

async function readLedger(sql: SqlClient): Promise<{ schema: string; applied: Map<string, string> }> {
  const { rows } = await sql.query<{ schema: string | null; recorded: boolean }>(CURRENT_SCHEMA)
  const schema = rows[0]?.schema
  if (!schema) throw new Error('no schema to create tables in: none of the schemas on the search_path exists')
  const applied = new Map<string, string>()
  if (!rows[0].recorded) return { schema, applied }
  try {
    for (const row of (await sql.query<{ version: string; checksum: string }>(APPLIED)).rows) applied.set(row.version, row.checksum)
  } catch (err) {
    if ((err as { code?: string }).code === '42703') {
      throw new Error(`schema "${schema}" has a schema_migrations table made by another tool; give the gateway a schema of its own (store.schema)`, { cause: err })
    }
    throw err
  }
  return { schema, applied }
}
