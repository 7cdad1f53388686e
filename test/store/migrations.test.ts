/**
 * Migrations: each plugin's from its own folder, recorded as `<owner>/<NNNN>`, applied once, in
 * order, idempotent, safe when several gateways start at once, optional ones (needing an
 * extension) left pending with a clear log line rather than failing, and a schema an earlier
 * release migrated (bare versions) taken over without applying anything twice.
 */
import { createHash, randomUUID } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadMigrations, migrate, type MigrationTarget } from '../../plugins/store/kit/migrate.ts'
import type { OpenedStore } from '../../plugins/store/kit/store.ts'
import type { MigrationReport, MigrationSet } from '../../plugin-api/types.ts'
import { userRepository } from '../../plugins/services/identity/data/users.ts'
import { usageRepository } from '../../plugins/stages/usage/repository.ts'
import {
  capturingLogger, dropSchema, IDENTITY_MIGRATIONS, migrateOwners, openPostgresStore, PLUGIN_MIGRATIONS, POSTGRES_ENABLED,
  schemaFingerprint, SEMANTIC_CACHE_MIGRATIONS, silentLogger, storeTargets, uniqueSchema, USAGE_MIGRATIONS,
} from './helpers.ts'

/** `<owner>/<id>` of every migration in a set: what the ledger's `name` column holds. */
const namesOf = (set: MigrationSet): string[] => loadMigrations(set.dir).map((m) => `${set.owner}/${m.id}`)

async function tableExists(store: OpenedStore, table: string): Promise<boolean> {
  const { rows } = await store.sql.query<{ found: boolean }>(`SELECT to_regclass(quote_ident(current_schema()) || '.' || $1) IS NOT NULL AS found`, [table])
  return rows[0].found
}

async function ledger(store: OpenedStore): Promise<{ version: string; name: string }[]> {
  return (await store.sql.query<{ version: string; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version')).rows
}

// Folders of migration files the tests write; loadMigrations reads a folder once, so each gets a new name.
let scratch = ''
let folders = 0
beforeAll(() => { scratch = mkdtempSync(path.join(tmpdir(), 'gw-migrations-')) })
afterAll(() => { if (scratch) rmSync(scratch, { recursive: true, force: true }) })
function write(files: Record<string, string>): string {
  const folder = path.join(scratch, String(++folders))
  mkdirSync(folder)
  for (const [name, sql] of Object.entries(files)) writeFileSync(path.join(folder, name), sql)
  return folder
}

for (const target of storeTargets('migrate')) {
  describe.runIf(target.enabled)(`migrations on the ${target.name} store`, () => {
    let store: OpenedStore
    let reports: Map<string, MigrationReport>
    const { logger, lines } = capturingLogger()
    const report = (set: MigrationSet): MigrationReport => reports.get(set.owner)!
    beforeAll(async () => {
      store = await target.open(logger)
      reports = await migrateOwners(store)
    }, 60_000)
    afterAll(async () => {
      await store?.dispose()
      await target.cleanup()
    })

    it('applies each plugin\'s migrations from its own folder, in order, recorded as <owner>/<NNNN>', async () => {
      const applied = PLUGIN_MIGRATIONS.flatMap((set) => report(set).applied)
      const pending = new Set(PLUGIN_MIGRATIONS.flatMap((set) => report(set).pending.map((p) => p.id)))
      // Everything not waiting for an extension is applied, in file order per owner.
      expect(applied).toEqual(PLUGIN_MIGRATIONS.flatMap(namesOf).filter((name) => !pending.has(name)))
      expect(report(IDENTITY_MIGRATIONS).applied).toEqual(['identity/0001_identity', 'identity/0002_sessions_moved', 'identity/0003_insertion_order', 'identity/0004_rotation_in_place', 'identity/0005_key_makers'])
      expect(report(USAGE_MIGRATIONS).applied[0]).toBe('usage/0001_usage_events')

      const rows = await ledger(store)
      expect(rows.map((r) => r.name).sort()).toEqual([...applied].sort())
      expect(rows.find((r) => r.name === 'identity/0001_identity')?.version).toBe('identity/0001')
      expect(rows.find((r) => r.name === 'usage/0001_usage_events')?.version).toBe('usage/0001')
      expect(lines.filter((l) => l.msg === 'applied migration').map((l) => l.migration)).toEqual(applied)
      expect(await userRepository(store.sql).list()).toEqual([])
    })

    it('running them again, as the next start does, changes nothing', async () => {
      const before = await schemaFingerprint(store)
      const again = await migrateOwners(store)
      for (const set of PLUGIN_MIGRATIONS) expect(again.get(set.owner)).toEqual({ applied: [], pending: report(set).pending })
      expect(await schemaFingerprint(store)).toEqual(before)
    })

    it('leaves the TimescaleDB migration pending with an info line where the extension is missing, and usage queries still work', async (ctx) => {
      if (await store.hasExtension('timescaledb')) ctx.skip()
      expect(report(USAGE_MIGRATIONS).pending).toEqual([expect.objectContaining({ id: 'usage/0002_usage_events_hypertable', extension: 'timescaledb' })])
      const line = lines.find((l) => l.migration === 'usage/0002_usage_events_hypertable')
      expect(line).toMatchObject({ level: 'info', extension: 'timescaledb' })
      expect(line?.msg).toContain('usage_events stays a plain table')
      const usage = usageRepository(store.sql)
      await usage.insertBatch([{ eventId: randomUUID(), time: new Date('2025-01-01T00:00:00Z'), requestId: 'plain-table', status: 200, latencyMs: 5 }])
      expect(await usage.aggregate({ from: new Date('2025-01-01T00:00:00Z'), to: new Date('2025-01-02T00:00:00Z') })).toHaveLength(1)
    })

    it('applies the semantic cache\'s vector migration exactly where the store has pgvector, else leaves it pending saying so', async () => {
      const vector = await store.hasExtension('vector')
      if (target.name === 'embedded') expect(vector).toBe(true)
      expect(await tableExists(store, 'semantic_cache')).toBe(vector)
      const { applied, pending } = report(SEMANTIC_CACHE_MIGRATIONS)
      if (vector) {
        expect(applied).toEqual(['semantic-cache/0001_semantic_cache'])
        expect(pending).toEqual([])
      } else {
        expect(applied).toEqual([])
        expect(pending).toEqual([{ id: 'semantic-cache/0001_semantic_cache', extension: 'vector', reason: "this database does not offer the extension 'vector'" }])
        const line = lines.find((l) => l.migration === 'semantic-cache/0001_semantic_cache')
        expect(line).toMatchObject({ level: 'info', extension: 'vector' })
        expect(line?.msg).toContain('the semantic cache (cache: { plugin: semantic }) cannot be used')
        expect(line?.msg).toContain('applied at the next start')
      }
    })

    describe('with migration files of its own', () => {
      it('keeps owners apart: the same file name in two folders is two migrations', async () => {
        const alpha = { owner: 'alpha', dir: write({ '0001_t.sql': 'CREATE TABLE alpha_t (id int);' }) }
        const beta = { owner: 'beta', dir: write({ '0001_t.sql': 'CREATE TABLE beta_t (id int);' }) }
        expect((await store.migrate(alpha)).applied).toEqual(['alpha/0001_t'])
        expect((await store.migrate(beta)).applied).toEqual(['beta/0001_t'])
        expect((await store.migrate(alpha)).applied).toEqual([])
        const rows = (await ledger(store)).filter((r) => /^(alpha|beta)\//.test(r.version))
        expect(rows).toEqual([{ version: 'alpha/0001', name: 'alpha/0001_t' }, { version: 'beta/0001', name: 'beta/0001_t' }])
        expect(await tableExists(store, 'alpha_t')).toBe(true)
        expect(await tableExists(store, 'beta_t')).toBe(true)
      })

      it('skips a migration whose extension is missing, applies the later ones, and tries it again next time', async () => {
        const dir = write({
          '0001_a.sql': 'CREATE TABLE optional_a (id int);',
          '0002_needs_ext.sql': '-- requires extension: no_such_extension_here\n-- if missing (warn): the frobnicator is off\nCREATE EXTENSION no_such_extension_here;\n',
          '0003_c.sql': 'CREATE TABLE optional_c (id int);',
        })
        const { logger: own, lines: ownLines } = capturingLogger()
        const first = await migrate(store, own, 'optional', loadMigrations(dir))
        expect(first.applied).toEqual(['optional/0001_a', 'optional/0003_c'])
        expect(first.pending).toEqual([expect.objectContaining({ id: 'optional/0002_needs_ext', extension: 'no_such_extension_here' })])
        const line = ownLines.find((l) => l.migration === 'optional/0002_needs_ext')
        expect(line?.level).toBe('warn')
        expect(line?.msg).toMatch(/does not offer the extension 'no_such_extension_here'.*the frobnicator is off.*applied at the next start/)
        const again = await migrate(store, silentLogger, 'optional', loadMigrations(dir))
        expect(again).toEqual({ applied: [], pending: [expect.objectContaining({ id: 'optional/0002_needs_ext' })] })
      })

      it('stops at a failing migration, names it with its owner, and keeps nothing of it', async () => {
        const dir = write({
          '0001_ok.sql': 'CREATE TABLE broken_ok (id int);',
          '0002_broken.sql': 'CREATE TABLE broken_half (id int);\nCREATE TABLE broken_oops (id nosuchtype);',
          '0003_never.sql': 'CREATE TABLE broken_never (id int);',
        })
        await expect(store.migrate({ owner: 'broken', dir })).rejects.toThrow(/migration broken\/0002_broken failed: type "nosuchtype" does not exist/)
        expect(await tableExists(store, 'broken_ok')).toBe(true)
        expect(await tableExists(store, 'broken_half')).toBe(false)
        expect(await tableExists(store, 'broken_never')).toBe(false)
        expect((await ledger(store)).filter((r) => r.version.startsWith('broken/')).map((r) => r.version)).toEqual(['broken/0001'])
      })

      it('warns when an applied migration file has changed since, and does not apply it again', async () => {
        await store.migrate({ owner: 'changed', dir: write({ '0001_t.sql': 'CREATE TABLE changed_t (id int);' }) })
        const { logger: own, lines: ownLines } = capturingLogger()
        const report = await migrate(store, own, 'changed', loadMigrations(write({ '0001_t.sql': 'CREATE TABLE changed_t (id bigint);' })))
        expect(report.applied).toEqual([])
        expect(ownLines.find((l) => l.migration === 'changed/0001_t')).toMatchObject({ level: 'warn', msg: expect.stringContaining('changed after it was applied') })
      })

      it('finds a migration that an earlier release applied (bare version) while it waited for the lock', async () => {
        const dir = write({ '0001_late.sql': '-- was: 0901\nCREATE TABLE late_legacy (id int);' })
        // The earlier release commits between this runner's ledger read and its lock.
        let raced = false
        const racing: MigrationTarget = {
          sql: store.sql,
          async transaction(fn) {
            if (!raced) {
              raced = true
              await store.transaction(async (tx) => {
                await tx.exec('CREATE TABLE late_legacy (id int)')
                await tx.query(`INSERT INTO schema_migrations (version, name, checksum, duration_ms) VALUES ('0901', '0901_late', 'old', 1)`)
              })
            }
            return store.transaction(fn)
          },
        }
        expect(await migrate(racing, silentLogger, 'late', loadMigrations(dir))).toEqual({ applied: [], pending: [] })
        expect(raced).toBe(true)
        expect((await ledger(store)).some((r) => r.version.startsWith('late/'))).toBe(false)
      })
    })
  })

  describe.runIf(target.enabled)(`a ${target.name} schema that an earlier release or another tool migrated`, () => {
    it('takes over a ledger with the bare versions of an earlier release: the identity and usage tables are not made again', async () => {
      const fresh = storeTargets('legacy').find((t) => t.name === target.name)!
      const { logger, lines } = capturingLogger()
      const store = await fresh.open(logger)
      try {
        // What the release before plugin-owned data left: the same files, in core/data/migrations, without the `-- was:` line.
        await store.sql.exec(`CREATE TABLE schema_migrations (
          version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now(), duration_ms integer NOT NULL)`)
        for (const [set, bare, name] of [[IDENTITY_MIGRATIONS, '0001', '0001_identity'], [USAGE_MIGRATIONS, '0003', '0003_usage_events']] as const) {
          const current = readFileSync(path.join(set.dir, `${loadMigrations(set.dir)[0].id}.sql`), 'utf8')
          expect(current.startsWith(`-- was: ${bare}\n`)).toBe(true)
          const old = current.slice(current.indexOf('\n') + 1)
          await store.sql.exec(old)
          await store.sql.query('INSERT INTO schema_migrations (version, name, checksum, duration_ms) VALUES ($1, $2, $3, 1)',
            [bare, name, createHash('sha256').update(old).digest('hex')])
        }
        const user = await userRepository(store.sql).upsertBySubject({ externalSubject: 'from-the-old-release' })

        const reports = await migrateOwners(store, [IDENTITY_MIGRATIONS, USAGE_MIGRATIONS])
        // Only what came after that release (the sessions' move to service.auth, the insertion order) is applied.
        expect(reports.get('identity')).toEqual({ applied: ['identity/0002_sessions_moved', 'identity/0003_insertion_order', 'identity/0004_rotation_in_place', 'identity/0005_key_makers'], pending: [] })
        expect(reports.get('usage')?.applied).not.toContain('usage/0001_usage_events')
        expect(lines.filter((l) => l.level === 'warn')).toEqual([])
        expect((await ledger(store)).filter((r) => r.version === 'identity/0001' || r.version === 'usage/0001')).toEqual([])
        expect(await userRepository(store.sql).findBySubject('from-the-old-release')).toEqual(user)
      } finally {
        await store.dispose()
        await fresh.cleanup()
      }
    }, 60_000)

    it('refuses a schema_migrations table made by another tool, saying to give the gateway a schema of its own', async () => {
      const fresh = storeTargets('foreign').find((t) => t.name === target.name)!
      const store = await fresh.open()
      try {
        // golang-migrate's ledger.
        await store.sql.exec('CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)')
        await expect(store.migrate(IDENTITY_MIGRATIONS)).rejects.toThrow(/has a schema_migrations table made by another tool; give the gateway a schema of its own \(store\.schema\)/)
        expect(await tableExists(store, 'users')).toBe(false)
      } finally {
        await store.dispose()
        await fresh.cleanup()
      }
    }, 60_000)
  })
}

describe.runIf(POSTGRES_ENABLED)('migrations on PostgreSQL, several gateways at once', () => {
  const schemas: string[] = []
  const freshSchema = (label: string): string => {
    const schema = uniqueSchema(label)
    schemas.push(schema)
    return schema
  }
  afterAll(async () => { for (const schema of schemas) await dropSchema(schema) })

  // A race shows only in some starts: several rounds of a larger fleet make one that slips through unlikely.
  it('six gateways migrating one fresh schema at once all start, and each migration is applied exactly once (three rounds)', async () => {
    for (let round = 1; round <= 3; round++) {
      const schema = freshSchema(`race${round}`)
      const logs = [1, 2, 3, 4, 5, 6].map(() => capturingLogger())
      const stores = await Promise.all(logs.map(({ logger }) => openPostgresStore(schema, logger)))
      try {
        const reports = await Promise.all(stores.map((s) => migrateOwners(s)))
        // A migration left pending for a missing extension is said once (at its level) by the fleet, not by each.
        for (const set of PLUGIN_MIGRATIONS) {
          for (const { id } of reports[0].get(set.owner)!.pending) {
            const said = logs.flatMap(({ lines }) => lines.filter((l) => l.migration === id))
            expect(said.filter((l) => l.level !== 'debug'), `${id}, round ${round}: ${JSON.stringify(said)}`).toHaveLength(1)
          }
        }
        const all = reports.flatMap((r) => [...r.values()].flatMap((report) => report.applied))
        expect(new Set(all).size, `round ${round}`).toBe(all.length)
        const { rows } = await stores[0].sql.query<{ name: string; n: number | string }>('SELECT name, count(*) AS n FROM schema_migrations GROUP BY name ORDER BY name')
        expect(rows.map((r) => r.name).sort()).toEqual([...all].sort())
        expect(rows.every((r) => Number(r.n) === 1)).toBe(true)
        const pending = new Set(reports.flatMap((r) => [...r.values()].flatMap((report) => report.pending.map((p) => p.id))))
        expect([...all].sort()).toEqual(PLUGIN_MIGRATIONS.flatMap(namesOf).filter((name) => !pending.has(name)).sort())
        expect(all).toEqual(expect.arrayContaining(['identity/0001_identity', 'usage/0001_usage_events']))
        // Every gateway sees the same, complete schema.
        for (const s of stores) expect(await userRepository(s.sql).list()).toEqual([])
      } finally {
        await Promise.all(stores.map((s) => s.dispose()))
      }
    }
  }, 60_000)

  it('six gateways opening one fresh schema at once all use it, on every connection of their pools (sixty rounds)', async () => {
    // A connection that resolved its search_path while another gateway was creating the schema
    // went on resolving it to public, for its whole life: one gateway in about forty such fleets
    // wrote all its tables there (3% of rounds, so sixty rounds catch it ~5 times in 6). The
    // schema is now made on a connection of its own.
    for (let round = 1; round <= 60; round++) {
      const schema = freshSchema(`open${round}`)
      const stores = await Promise.all([1, 2, 3, 4, 5, 6].map(() => openPostgresStore(schema)))
      try {
        for (const s of stores) {
          // Five at once: every connection of the pool (pool_size 5), the first one opened among them.
          const seen = await Promise.all([1, 2, 3, 4, 5].map(() => s.sql.query<{ schema: string }>('SELECT current_schema() AS schema, pg_sleep(0.01)')))
          expect(seen.map(({ rows }) => rows[0].schema), `round ${round}`).toEqual([schema, schema, schema, schema, schema])
        }
      } finally {
        await Promise.all(stores.map((s) => s.dispose()))
      }
    }
  }, 60_000)

  it('gateways on two schemas of one database that install the same extension at once both apply the migration', async () => {
    // An extension is one per database, while the migration lock is per schema: the second
    // CREATE EXTENSION IF NOT EXISTS used to miss the first's (uncommitted) one, fail on its
    // unique name, and leave the migration pending until the next start.
    const extension = 'tsm_system_rows'
    const stores = await Promise.all([freshSchema('ext_a'), freshSchema('ext_b')].map((schema) => openPostgresStore(schema)))
    try {
      if (!(await stores[0].hasExtension(extension))) throw new Error(`this PostgreSQL does not offer ${extension}, which the test installs`)
      // Left by a run that stopped before its clean-up; nothing else uses it.
      await stores[0].sql.exec(`DROP EXTENSION IF EXISTS ${extension}`)
      const dir = write({ '0001_sampled.sql': `-- requires extension: ${extension}\nCREATE EXTENSION IF NOT EXISTS ${extension};\n-- Hold the new extension uncommitted long enough for the other gateway to look for it.\nSELECT pg_sleep(0.5);\nCREATE TABLE sampled (id int);\n` })
      const reports = await Promise.all(stores.map((s) => s.migrate({ owner: 'sampling', dir })))
      expect(reports).toEqual([{ applied: ['sampling/0001_sampled'], pending: [] }, { applied: ['sampling/0001_sampled'], pending: [] }])
      for (const s of stores) expect(await tableExists(s, 'sampled')).toBe(true)
    } finally {
      await Promise.all(stores.map((s) => s.dispose()))
    }
  }, 60_000)
})
