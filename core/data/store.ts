/**
 * A Store from a SQL backend: migrate, then expose the repositories on the pool and per
 * transaction. The two store plugins differ only in the backend they pass here.
 */
import type { Logger } from '../logger.ts'
import type { SqlClient, Store } from '../plugins/types.ts'
import { migrate, type Migration, type MigrationReport } from './migrate.ts'
import { repositories } from './repositories/index.ts'

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
  /** What the migration run at open did and left pending. */
  readonly migrations: MigrationReport
  ready(): Promise<void>
  dispose(): Promise<void>
}

const EMBEDDING_COLUMN = `SELECT EXISTS (
  SELECT 1 FROM information_schema.columns
  WHERE table_schema = current_schema() AND table_name = 'rag_chunks' AND column_name = 'embedding'
) AS present`

/** Migrate and wrap `backend`; on failure the backend is closed and the error names what failed. */
export async function openStore(backend: SqlBackend, logger: Logger, migrations?: readonly Migration[]): Promise<OpenedStore> {
  try {
    const report = await migrate({ sql: backend.sql, transaction: (fn) => backend.transaction(fn, { unbounded: true }) }, logger, migrations)
    const { rows } = await backend.sql.query<{ present: boolean }>(EMBEDDING_COLUMN)
    return {
      backend: backend.kind,
      vector: rows[0]?.present === true,
      migrations: report,
      sql: backend.sql,
      ...repositories(backend.sql),
      transaction: (fn) => backend.transaction((tx) => fn({ sql: tx, ...repositories(tx) })),
      ready: () => backend.ping(),
      dispose: () => backend.close(),
    }
  } catch (err) {
    await backend.close().catch(() => undefined)
    throw err
  }
}
