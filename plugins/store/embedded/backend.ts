/**
 * PGlite (PostgreSQL compiled to WASM, in-process) as a SqlBackend.
 *
 * One directory is one PGlite instance per process: a reload that rebuilds this store while the
 * old snapshot still serves shares the open database (reference-counted) instead of opening the
 * directory twice. PGlite has a single connection and queues queries behind a transaction, so a
 * query on the store from inside `transaction(fn)` would wait forever; that mistake throws instead.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { mkdirSync } from 'node:fs'
import type { PGlite, Results, Transaction } from '@electric-sql/pglite'
import type { Logger } from '../../../plugin-api/index.ts'
import type { SqlClient } from '../../../plugin-api/index.ts'
import { copyStatement } from '../kit/sql.ts'
import type { SqlBackend } from '../kit/store.ts'
import { lockDataDir, type DataDirLock } from './data-dir-lock.ts'

interface SharedDatabase {
  readonly db: PGlite
  readonly lock: DataDirLock
  refs: number
}

// Process-wide because the directory is: every store on one path must share its one PGlite.
const openByDir = new Map<string, Promise<SharedDatabase>>()
const closingByDir = new Map<string, Promise<void>>()

/** The database whose transaction the current async context runs in. */
const activeTransaction = new AsyncLocalStorage<{ readonly db: PGlite; open: boolean }>()
/**
 * Transactions running now, in every embedded store of the process. An enabled AsyncLocalStorage
 * installs promise hooks that tax every promise the process makes (an await costs 2.5x), and it
 * stays enabled once run (the migrations at start): 6% of a gateway's CPU per request on the mock
 * route (bench/RESULTS.md). So it is disabled whenever no transaction is open; run() enables it.
 */
let openTransactions = 0

function refuseInsideTransaction(db: PGlite): void {
  const tx = activeTransaction.getStore()
  if (tx?.open && tx.db === db) {
    throw new Error('the embedded store was used inside its own transaction: use the `tx` argument (PGlite has one connection, so this would wait forever)')
  }
}

const result = <Row>(r: Results<Row>): { rows: Row[]; rowCount: number } => ({ rows: r.rows, rowCount: r.rowCount ?? r.affectedRows ?? r.rows.length })

function txClient(tx: Transaction): SqlClient {
  return {
    query: async <Row>(text: string, params?: readonly unknown[]) => result(await tx.query<Row>(text, params as unknown[] | undefined)),
    exec: async (script: string) => { await tx.exec(script) },
  }
}

export interface EmbeddedLocation {
  /** An absolute directory, or undefined for an in-memory database. */
  readonly dir: string | undefined
  readonly vector: boolean
  /** PostgreSQL's buffer pool inside the WASM heap, in MB (default DEFAULT_SHARED_BUFFERS_MB). */
  readonly sharedBuffersMb?: number
}

/**
 * PostgreSQL's default pool is 128 MB. Inside PGlite it lives in WASM linear memory, which grows
 * as pages are touched and is never given back: under steady usage writes the pool fills and the
 * gateway's RSS climbs by its whole size. The gateway's tables are written append-mostly and read
 * in small pages, so 16 MB bounds the climb without slowing them measurably (bench/RESULTS.md).
 */
export const DEFAULT_SHARED_BUFFERS_MB = 16

async function openDatabase(location: EmbeddedLocation): Promise<{ db: PGlite; release: () => Promise<void> }> {
  // Imported here: PGlite (PostgreSQL in WASM) and pgvector load only when an embedded store opens.
  const [{ PGlite }, { vector }] = await Promise.all([import('@electric-sql/pglite'), import('@electric-sql/pglite-pgvector')])
  const options = {
    ...(location.vector ? { extensions: { vector } } : {}),
    postgresqlconf: [`shared_buffers = ${location.sharedBuffersMb ?? DEFAULT_SHARED_BUFFERS_MB}MB`],
  }
  const { dir } = location
  if (!dir) {
    const db = await PGlite.create(options)
    return { db, release: () => db.close() }
  }
  // A store on this directory that is still closing must finish before it is opened again.
  await closingByDir.get(dir)
  let shared = openByDir.get(dir)
  if (!shared) {
    shared = (async () => {
      mkdirSync(dir, { recursive: true })
      const lock = lockDataDir(dir)
      try {
        // Options are those of the first opener; a second store on the same path shares them.
        return { db: await PGlite.create(dir, options), lock, refs: 0 }
      } catch (err) {
        lock.release()
        throw err
      }
    })()
    openByDir.set(dir, shared)
    shared.catch(() => openByDir.delete(dir))
  }
  const entry = await shared
  entry.refs++
  let released = false
  return {
    db: entry.db,
    async release() {
      if (released || --entry.refs > 0) return
      released = true
      openByDir.delete(dir)
      const closing = entry.db.close().finally(() => {
        entry.lock.release()
        closingByDir.delete(dir)
      })
      closingByDir.set(dir, closing)
      await closing
    },
  }
}

export async function createEmbeddedBackend(location: EmbeddedLocation, logger: Logger): Promise<SqlBackend> {
  const started = performance.now()
  const { db, release } = await openDatabase(location)
  logger.info({ path: location.dir ?? 'memory', vector: location.vector, ms: Math.round(performance.now() - started) }, 'embedded store open')

  const sql: SqlClient = {
    async query<Row>(text: string, params?: readonly unknown[]) {
      refuseInsideTransaction(db)
      return result(await db.query<Row>(text, params as unknown[] | undefined))
    },
    async exec(script: string) {
      refuseInsideTransaction(db)
      await db.exec(script)
    },
    // PGlite reads a COPY's rows from the blob it is handed, as '/dev/blob'.
    async copyFrom(table: string, columns: readonly string[], text: string) {
      refuseInsideTransaction(db)
      return result(await db.query(copyStatement(table, columns, `'/dev/blob'`), [], { blob: new Blob([text]) })).rowCount
    },
  }
  let closing: Promise<void> | undefined
  return {
    kind: 'embedded',
    sql,
    async transaction(fn) {
      refuseInsideTransaction(db)
      // PGlite's transaction() holds its connection for the whole callback, so transactions run one at a time.
      return db.transaction(async (tx) => {
        const marker = { db, open: true }
        openTransactions++
        try {
          return await activeTransaction.run(marker, () => fn(txClient(tx)))
        } finally {
          marker.open = false
          if (--openTransactions === 0) activeTransaction.disable()
        }
      })
    },
    async ping() {
      await db.query('SELECT 1')
    },
    close() {
      closing ??= release()
      return closing
    },
  }
}
