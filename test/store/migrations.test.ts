/**
 * Migrations: applied once, in order, idempotent, safe when several gateways start at once, and
 * optional ones (needing an extension) left pending with a clear log line rather than failing.
 */
import { randomUUID } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadMigrations, migrate, type MigrationTarget } from '../../core/data/migrate.ts'
import type { OpenedStore } from '../../core/data/store.ts'
import { createPostgresBackend } from '../../plugins/store/postgres/backend.ts'
import {
  capturingLogger, dropSchema, migrateAgain, openEmbeddedStore, openPostgresStore, POSTGRES_DEFAULTS, POSTGRES_ENABLED,
  schemaFingerprint, silentLogger, uniqueSchema,
} from './helpers.ts'

const ALL = loadMigrations().map((m) => m.id)
const REQUIRED = loadMigrations().filter((m) => !m.requires).map((m) => m.id)

async function extensionAvailable(store: OpenedStore, name: string): Promise<boolean> {
  const { rows } = await store.sql.query('SELECT 1 FROM pg_available_extensions WHERE name = $1', [name])
  return rows.length > 0
}

const targets = [
  { name: 'embedded', enabled: true, schema: undefined as string | undefined },
  { name: 'postgres', enabled: POSTGRES_ENABLED, schema: uniqueSchema('migrate') },
]

for (const target of targets) {
  describe.runIf(target.enabled)(`migrations on the ${target.name} store`, () => {
    let store: OpenedStore
    const { logger, lines } = capturingLogger()
    beforeAll(async () => {
      store = target.schema ? await openPostgresStore(target.schema, logger) : await openEmbeddedStore({}, logger)
    }, 60_000)
    afterAll(async () => {
      await store?.dispose()
      if (target.schema) await dropSchema(target.schema)
    })

    it('applies every migration a fresh database can take, in order, and records each', async () => {
      const { rows } = await store.sql.query<{ version: string; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version')
      expect(rows.map((r) => r.name)).toEqual(store.migrations.applied)
      expect(store.migrations.applied).toEqual(ALL.filter((id) => !store.migrations.pending.some((p) => p.id === id)))
      expect(store.migrations.applied).toEqual(expect.arrayContaining(REQUIRED))
      const applied = lines.filter((l) => l.msg === 'applied migration').map((l) => l.migration)
      expect(applied).toEqual(store.migrations.applied)
    })

    it('running the migrations again changes nothing', async () => {
      const before = await schemaFingerprint(store)
      const again = await migrateAgain(store)
      expect(again.applied).toEqual([])
      expect(await schemaFingerprint(store)).toEqual(before)
    })

    it('leaves the TimescaleDB migration pending with an info line where the extension is missing, and usage queries still work', async (ctx) => {
      if (await extensionAvailable(store, 'timescaledb')) ctx.skip()
      expect(store.migrations.pending).toContainEqual(expect.objectContaining({ id: '0007_usage_events_hypertable', extension: 'timescaledb' }))
      const line = lines.find((l) => l.migration === '0007_usage_events_hypertable')
      expect(line).toMatchObject({ level: 'info', extension: 'timescaledb' })
      expect(line?.msg).toContain('usage_events stays a plain table')
      await store.usage.insertBatch([{ eventId: randomUUID(), time: new Date('2025-01-01T00:00:00Z'), requestId: 'plain-table', status: 200, latencyMs: 5 }])
      expect(await store.usage.aggregate({ from: new Date('2025-01-01T00:00:00Z'), to: new Date('2025-01-02T00:00:00Z') })).toHaveLength(1)
    })

    it('reports vector support exactly when the embedding column exists', async () => {
      const { rows } = await store.sql.query(`SELECT 1 FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'rag_chunks' AND column_name = 'embedding'`)
      expect(store.vector).toBe(rows.length === 1)
      const vectorPending = store.migrations.pending.some((p) => p.extension === 'vector')
      expect(vectorPending).toBe(!store.vector)
      if (target.name === 'embedded') expect(store.vector).toBe(true)
      if (!store.vector) {
        const line = lines.find((l) => l.migration === '0006_rag_embeddings')
        expect(line).toMatchObject({ level: 'warn', extension: 'vector' })
        expect(line?.msg).toContain('RAG similarity search is off')
        expect(line?.msg).toContain('applied at the next start')
      }
    })
  })
}

describe.runIf(POSTGRES_ENABLED)('migrations on PostgreSQL, several processes at once', () => {
  const schemas: string[] = []
  const fresh = (label: string): string => {
    const schema = uniqueSchema(label)
    schemas.push(schema)
    return schema
  }
  afterAll(async () => {
    for (const schema of schemas) await dropSchema(schema)
  })

  it('three gateways migrating one fresh schema at once all start, and each migration is applied exactly once', async () => {
    const schema = fresh('race')
    const stores = await Promise.all([1, 2, 3].map(() => openPostgresStore(schema)))
    try {
      const appliedBy = stores.map((s) => s.migrations.applied)
      const all = appliedBy.flat()
      expect(new Set(all).size).toBe(all.length)
      const { rows } = await stores[0].sql.query<{ name: string; n: number | string }>('SELECT name, count(*) AS n FROM schema_migrations GROUP BY name ORDER BY name')
      expect(rows.map((r) => r.name)).toEqual([...all].sort())
      expect(rows.every((r) => Number(r.n) === 1)).toBe(true)
      const pending = new Set(stores.flatMap((s) => s.migrations.pending.map((p) => p.id)))
      expect([...all].sort()).toEqual(ALL.filter((id) => !pending.has(id)))
      expect(all).toEqual(expect.arrayContaining(REQUIRED))
      // Every gateway sees the same, complete schema.
      for (const s of stores) expect(await s.users.list()).toEqual([])
    } finally {
      await Promise.all(stores.map((s) => s.dispose()))
    }
  })

  describe('with migration files of its own', () => {
    let dir = ''
    beforeAll(() => { dir = mkdtempSync(path.join(tmpdir(), 'gw-migrations-')) })
    afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }) })
    /** A folder of migration files, replacing whatever was there. */
    const write = (sub: string, files: Record<string, string>): string => {
      const folder = path.join(dir, sub)
      rmSync(folder, { recursive: true, force: true })
      mkdirSync(folder)
      for (const [name, sql] of Object.entries(files)) writeFileSync(path.join(folder, name), sql)
      return folder
    }

    async function target(schema: string): Promise<MigrationTarget & { close(): Promise<void> }> {
      const backend = await createPostgresBackend({ ...POSTGRES_DEFAULTS, schema }, silentLogger)
      return { sql: backend.sql, transaction: (fn) => backend.transaction(fn), close: () => backend.close() }
    }

    it('skips a migration whose extension is missing, applies the later ones, and tries it again next time', async () => {
      const folder = write('optional', {
        '0001_a.sql': 'CREATE TABLE a (id int);',
        '0002_needs_ext.sql': '-- requires extension: no_such_extension_here\n-- if missing (warn): the frobnicator is off\nCREATE EXTENSION no_such_extension_here;\n',
        '0003_c.sql': 'CREATE TABLE c (id int);',
      })
      const db = await target(fresh('optional'))
      try {
        const { logger, lines } = capturingLogger()
        const first = await migrate(db, logger, loadMigrations(folder))
        expect(first.applied).toEqual(['0001_a', '0003_c'])
        expect(first.pending).toEqual([expect.objectContaining({ id: '0002_needs_ext', extension: 'no_such_extension_here' })])
        const line = lines.find((l) => l.migration === '0002_needs_ext')
        expect(line?.level).toBe('warn')
        expect(line?.msg).toMatch(/does not offer the extension 'no_such_extension_here'.*the frobnicator is off/)
        const again = await migrate(db, silentLogger, loadMigrations(folder))
        expect(again).toEqual({ applied: [], pending: [expect.objectContaining({ id: '0002_needs_ext' })] })
      } finally {
        await db.close()
      }
    })

    it('stops at a failing migration, names it, and keeps nothing of it', async () => {
      const folder = write('broken', {
        '0001_ok.sql': 'CREATE TABLE ok (id int);',
        '0002_broken.sql': 'CREATE TABLE half (id int);\nCREATE TABLE oops (id nosuchtype);',
        '0003_never.sql': 'CREATE TABLE never (id int);',
      })
      const db = await target(fresh('broken'))
      try {
        await expect(migrate(db, silentLogger, loadMigrations(folder))).rejects.toThrow(/migration 0002_broken failed: type "nosuchtype" does not exist/)
        const { rows } = await db.sql.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1`)
        expect(rows.map((r) => r.table_name)).toEqual(['ok', 'schema_migrations'])
      } finally {
        await db.close()
      }
    })

    it('warns when an applied migration file has changed since', async () => {
      const schema = fresh('changed')
      const db = await target(schema)
      try {
        await migrate(db, silentLogger, loadMigrations(write('v1', { '0001_t.sql': 'CREATE TABLE t (id int);' })))
        const { logger, lines } = capturingLogger()
        const report = await migrate(db, logger, loadMigrations(write('v2', { '0001_t.sql': 'CREATE TABLE t (id bigint);' })))
        expect(report.applied).toEqual([])
        expect(lines.find((l) => l.migration === '0001_t')).toMatchObject({ level: 'warn' })
      } finally {
        await db.close()
      }
    })
  })
})
