/**
 * A Store from a SQL backend: the pool, transactions, and migrations that each plugin registers
 * for its own tables. The two store plugins differ only in the backend they pass here.
 */
import type { Logger } from '../../../plugin-api/index.ts'
import type { MigrationReport, MigrationSet, SqlClient, Store } from '../../../plugin-api/index.ts'
import { loadMigrations, migrate } from './migrate.ts'

/** What a store plugin provides: a connection (or pool) speaking PostgreSQL. */
export interface SqlBackend {
  /** `postgres` or `embedded`. */
  readonly kind: string
  readonly sql: SqlClient
  /**
   * One transaction on one connection; commit when `fn` resolves, roll back when it throws.
   * `unbounded`: no client-side query timeout (migrations may legitimately run long).
   */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>, options?: { readonly unbounded?: boolean }): Promise<T>
  /** Throw when the database does not answer. */
  ping(): Promise<void>
  close(): Promise<void>
}

export interface OpenedStore extends Store {
  ready(): Promise<void>
  dispose(): Promise<void>
}

const EXTENSION = `SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = $1) AS available`

export function openStore(backend: SqlBackend, logger: Logger): OpenedStore {
  return {
    backend: backend.kind,
    sql: backend.sql,
    transaction: (fn) => backend.transaction(fn),
    migrate: (set: MigrationSet): Promise<MigrationReport> => migrate({ sql: backend.sql, transaction: (fn) => backend.transaction(fn, { unbounded: true }) }, logger, set.owner, loadMigrations(set.dir)),
    async hasExtension(name) {
      const { rows } = await backend.sql.query<{ available: boolean }>(EXTENSION, [name])
      return rows[0]?.available === true
    },
    ready: () => backend.ping(),
    dispose: () => backend.close(),
  }
}
