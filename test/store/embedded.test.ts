/**
 * What only the embedded store has: a database in a directory that survives a restart, pgvector
 * loaded in-process (or not: then the vector migrations wait for it), one process per directory,
 * and a single connection.
 */
import { randomUUID } from 'node:crypto'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pgvector from 'pgvector'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { OpenedStore } from '../../plugins/store/kit/store.ts'
import { userRepository } from '../../plugins/services/identity/data/users.ts'
import { LOCK_FILE } from '../../plugins/store/embedded/data-dir-lock.ts'
import { usageRepository } from '../../plugins/stages/usage/repository.ts'
import { capturingLogger, migrateOwners, openEmbeddedStore, SEMANTIC_CACHE_MIGRATIONS } from './helpers.ts'

describe('the embedded store in a directory', () => {
  let dir = ''
  let store: OpenedStore | undefined
  beforeAll(() => { dir = mkdtempSync(path.join(tmpdir(), 'gw-embedded-')) })
  afterAll(async () => {
    await store?.dispose()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('opened without pgvector, has no vector extension and leaves the semantic cache\'s migration pending, saying so', async () => {
    const { logger, lines } = capturingLogger()
    const first = await openEmbeddedStore({ dir, vector: false }, logger)
    try {
      expect(await first.hasExtension('vector')).toBe(false)
      const reports = await migrateOwners(first)
      expect(reports.get('identity')?.applied).toEqual(['identity/0001_identity', 'identity/0002_sessions_moved', 'identity/0003_insertion_order', 'identity/0004_rotation_in_place', 'identity/0005_key_makers'])
      expect(reports.get(SEMANTIC_CACHE_MIGRATIONS.owner)).toEqual({
        applied: [], pending: [{ id: 'semantic-cache/0001_semantic_cache', extension: 'vector', reason: "this database does not offer the extension 'vector'" }],
      })
      const line = lines.find((l) => l.migration === 'semantic-cache/0001_semantic_cache')
      expect(line).toMatchObject({ level: 'info', extension: 'vector' })
      expect(line?.msg).toContain('semantic_cache is not created')
      expect(existsSync(path.join(dir, LOCK_FILE))).toBe(true)

      const user = await userRepository(first.sql).upsertBySubject({ externalSubject: 'persisted', email: 'p@example.com' })
      await usageRepository(first.sql).insertBatch([{ eventId: randomUUID(), time: new Date('2025-05-05T05:05:05Z'), requestId: 'persisted-1', status: 200, latencyMs: 42, costUsd: 0.5 }])
      expect(user.id).toBeTruthy()
    } finally {
      await first.dispose()
    }
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false)
  }, 60_000)

  it('reopened with pgvector, applies only the pending (vector) migration and still has the data written before', async () => {
    const { logger, lines } = capturingLogger()
    store = await openEmbeddedStore({ dir, vector: true }, logger)
    expect(await store.hasExtension('vector')).toBe(true)
    const reports = await migrateOwners(store)
    const applied = [...reports.values()].flatMap((r) => r.applied)
    expect(applied).toEqual(['semantic-cache/0001_semantic_cache'])
    expect(reports.get(SEMANTIC_CACHE_MIGRATIONS.owner)?.pending).toEqual([])
    expect(lines.filter((l) => l.msg === 'applied migration').map((l) => l.migration)).toEqual(applied)

    expect(await userRepository(store.sql).findBySubject('persisted')).toMatchObject({ email: 'p@example.com' })
    const [event] = await usageRepository(store.sql).list({ from: new Date('2025-05-05T00:00:00Z'), to: new Date('2025-05-06T00:00:00Z') })
    expect(event).toMatchObject({ requestId: 'persisted-1', latencyMs: 42, costUsd: 0.5 })
  }, 60_000)

  it('keeps PostgreSQL\'s buffer pool at 16 MB, not 128 MB: it lives in WASM memory, which is never given back', async () => {
    const { rows } = await store!.sql.query<{ shared_buffers: string }>('SHOW shared_buffers')
    expect(rows[0].shared_buffers).toBe('16MB')
  })

  it('finds nearest neighbours with ORDER BY embedding <=> $1', async () => {
    const db = store!.sql
    const entries: [string, number[]][] = [['north', [1, 0, 0]], ['east', [0, 1, 0]], ['north-by-east', [0.9, 0.2, 0]], ['up', [0, 0, 1]]]
    for (const [name, embedding] of entries) {
      await db.query(`INSERT INTO semantic_cache (context, fingerprint, embedding, response, expires_at)
        VALUES ('compass', $1, $2, $3, now() + interval '1 hour')`, [name, pgvector.toSql(embedding), JSON.stringify({ name })])
    }
    const { rows } = await db.query<{ fingerprint: string; distance: number }>(
      `SELECT fingerprint, embedding <=> $1 AS distance FROM semantic_cache WHERE context = 'compass' ORDER BY embedding <=> $1 LIMIT 3`,
      [pgvector.toSql([1, 0.1, 0])],
    )
    expect(rows.map((r) => r.fingerprint)).toEqual(['north', 'north-by-east', 'east'])
    expect(rows[0].distance).toBeLessThan(rows[1].distance)
  })

  it('shares one database between two stores on the same directory in one process, as a reload does', async () => {
    const second = await openEmbeddedStore({ dir })
    const reports = await migrateOwners(second)
    expect([...reports.values()].flatMap((r) => r.applied)).toEqual([])
    await userRepository(second.sql).upsertBySubject({ externalSubject: 'written-by-second' })
    expect(await userRepository(store!.sql).findBySubject('written-by-second')).toMatchObject({ externalSubject: 'written-by-second' })
    await second.dispose()
    // The survivor keeps its (shared) connection.
    expect(await userRepository(store!.sql).findBySubject('persisted')).toMatchObject({ email: 'p@example.com' })
    await expect(store!.ready()).resolves.toBeUndefined()
  })

  it('throws instead of waiting forever when the store itself is used inside its own transaction', async () => {
    const s = store!
    const users = userRepository(s.sql)
    await expect(s.transaction(async () => users.findBySubject('persisted'))).rejects.toThrow(/inside its own transaction: use the `tx` argument/)
    await expect(s.transaction(async () => s.transaction(async () => 1))).rejects.toThrow(/inside its own transaction/)
    // The store is usable again afterwards, and work started after a transaction ended is not refused.
    let later: Promise<unknown> | undefined
    await s.transaction(async (tx) => {
      expect(await userRepository(tx).findBySubject('persisted')).toMatchObject({ externalSubject: 'persisted' })
      later = new Promise((r) => setTimeout(r, 20)).then(() => users.findBySubject('persisted'))
    })
    await expect(later).resolves.toMatchObject({ externalSubject: 'persisted' })
  })

  it('after dispose, reports not ready', async () => {
    await store!.dispose()
    await expect(store!.ready()).rejects.toThrow()
    store = undefined
  })
})

describe('one process per directory', () => {
  let dir = ''
  beforeAll(() => { dir = mkdtempSync(path.join(tmpdir(), 'gw-embedded-lock-')) })
  afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }) })

  it('refuses a directory that another live process holds, naming that process', async () => {
    writeFileSync(path.join(dir, LOCK_FILE), String(process.ppid))
    await expect(openEmbeddedStore({ dir })).rejects.toThrow(`in use by process ${process.ppid}`)
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(true)
  })

  it('takes over a lock left by a process that is gone', async () => {
    const gone = spawnSync(process.execPath, ['-e', '']).pid
    writeFileSync(path.join(dir, LOCK_FILE), String(gone))
    const store = await openEmbeddedStore({ dir, vector: false })
    try {
      await expect(store.ready()).resolves.toBeUndefined()
    } finally {
      await store.dispose()
    }
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false)
  }, 60_000)

  it('lets exactly one of several processes starting together hold the directory at a time, and none crashes', async () => {
    // Each child takes and releases the lock for 1.5 s and counts the times it found another holder.
    // The lock used to be created empty and written after: a process reading it in between took it
    // for stale and removed it, so two held it (and each would apply the migrations).
    const contended = mkdtempSync(path.join(tmpdir(), 'gw-embedded-contended-'))
    try {
      const script = fileURLToPath(new URL('../fixtures/store/contend-data-dir.ts', import.meta.url))
      const startAt = Date.now() + 2500
      const runs = await Promise.all([1, 2, 3, 4].map(() => new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', script, contended, String(startAt), '1500'], { stdio: ['ignore', 'pipe', 'inherit'] })
        let out = ''
        child.stdout.on('data', (d: Buffer) => { out += d })
        child.on('error', reject)
        child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`contender exited with ${code}: ${out}`))))
      })))
      const counts = runs.map((out) => JSON.parse(out) as { held: number; refused: number; overlaps: number; errors: string[] })
      expect(counts.map((c) => c.overlaps)).toEqual([0, 0, 0, 0])
      expect(counts.flatMap((c) => c.errors)).toEqual([])
      // They did contend: the lock changed hands many times and was refused while held.
      expect(counts.reduce((n, c) => n + c.held, 0)).toBeGreaterThan(20)
      expect(counts.reduce((n, c) => n + c.refused, 0)).toBeGreaterThan(20)
      expect(readdirSync(contended)).toEqual([])
    } finally {
      rmSync(contended, { recursive: true, force: true })
    }
  }, 60_000)
})
