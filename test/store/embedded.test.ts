/**
 * What only the embedded store has: a database in a directory that survives a restart, pgvector
 * loaded in-process, one process per directory, and a single connection.
 */
import { randomUUID } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pgvector from 'pgvector'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { OpenedStore } from '../../core/data/store.ts'
import { LOCK_FILE } from '../../plugins/store/embedded/data-dir-lock.ts'
import { capturingLogger, openEmbeddedStore } from './helpers.ts'

describe('the embedded store in a directory', () => {
  let dir = ''
  let store: OpenedStore | undefined
  beforeAll(() => { dir = mkdtempSync(path.join(tmpdir(), 'gw-embedded-')) })
  afterAll(async () => {
    await store?.dispose()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('opened without pgvector, leaves the embedding migration pending with a warning and says vector is off', async () => {
    const { logger, lines } = capturingLogger()
    const first = await openEmbeddedStore({ dir, vector: false }, logger)
    try {
      expect(first.vector).toBe(false)
      expect(first.migrations.pending.map((p) => p.id)).toContain('0006_rag_embeddings')
      const line = lines.find((l) => l.migration === '0006_rag_embeddings')
      expect(line).toMatchObject({ level: 'warn', extension: 'vector' })
      expect(line?.msg).toContain('RAG similarity search is off')
      expect(existsSync(path.join(dir, LOCK_FILE))).toBe(true)

      const user = await first.users.upsertBySubject({ externalSubject: 'persisted', email: 'p@example.com' })
      await first.usage.insertBatch([{ eventId: randomUUID(), time: new Date('2025-05-05T05:05:05Z'), requestId: 'persisted-1', status: 200, latencyMs: 42, costUsd: 0.5 }])
      expect(user.id).toBeTruthy()
    } finally {
      await first.dispose()
    }
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false)
  }, 60_000)

  it('reopened with pgvector, applies only the pending (vector) migrations and still has the data written before', async () => {
    const { logger, lines } = capturingLogger()
    store = await openEmbeddedStore({ dir, vector: true }, logger)
    const vectorMigrations = ['0006_rag_embeddings', '0008_semantic_cache']
    expect(store.migrations.applied).toEqual(vectorMigrations)
    expect(store.vector).toBe(true)
    expect(lines.filter((l) => l.msg === 'applied migration').map((l) => l.migration)).toEqual(vectorMigrations)

    expect(await store.users.findBySubject('persisted')).toMatchObject({ email: 'p@example.com' })
    const [event] = await store.usage.list({ from: new Date('2025-05-05T00:00:00Z'), to: new Date('2025-05-06T00:00:00Z') })
    expect(event).toMatchObject({ requestId: 'persisted-1', latencyMs: 42, costUsd: 0.5 })
  }, 60_000)

  it('finds nearest neighbours with ORDER BY embedding <=> $1', async () => {
    const db = store!.sql
    const { rows: [collection] } = await db.query<{ id: string }>(`INSERT INTO rag_collections (name, dimensions) VALUES ('docs', 3) RETURNING id`)
    const { rows: [document] } = await db.query<{ id: string }>('INSERT INTO rag_documents (collection_id, title) VALUES ($1, $2) RETURNING id', [collection.id, 'handbook'])
    const chunks: [string, number[]][] = [['north', [1, 0, 0]], ['east', [0, 1, 0]], ['north-by-east', [0.9, 0.2, 0]], ['up', [0, 0, 1]]]
    for (const [i, [content, embedding]] of chunks.entries()) {
      await db.query('INSERT INTO rag_chunks (document_id, collection_id, chunk_index, content, embedding) VALUES ($1, $2, $3, $4, $5)',
        [document.id, collection.id, i, content, pgvector.toSql(embedding)])
    }
    const { rows } = await db.query<{ content: string; distance: number }>(
      'SELECT content, embedding <=> $1 AS distance FROM rag_chunks WHERE collection_id = $2 ORDER BY embedding <=> $1 LIMIT 3',
      [pgvector.toSql([1, 0.1, 0]), collection.id],
    )
    expect(rows.map((r) => r.content)).toEqual(['north', 'north-by-east', 'east'])
    expect(rows[0].distance).toBeLessThan(rows[1].distance)
    // Keyword search works without pgvector too: the generated tsvector column.
    const { rows: keyword } = await db.query<{ content: string }>(`SELECT content FROM rag_chunks WHERE content_tsv @@ plainto_tsquery('simple', 'east') ORDER BY chunk_index`)
    expect(keyword.map((r) => r.content)).toEqual(['east', 'north-by-east'])
  })

  it('shares one database between two stores on the same directory in one process, as a reload does', async () => {
    const second = await openEmbeddedStore({ dir })
    expect(second.migrations.applied).toEqual([])
    await second.users.upsertBySubject({ externalSubject: 'written-by-second' })
    expect(await store!.users.findBySubject('written-by-second')).toBeDefined()
    await second.dispose()
    // The survivor keeps its (shared) connection.
    expect(await store!.users.findBySubject('persisted')).toBeDefined()
    await expect(store!.ready()).resolves.toBeUndefined()
  })

  it('throws instead of waiting forever when the store itself is used inside its own transaction', async () => {
    const s = store!
    await expect(s.transaction(async () => s.users.findBySubject('persisted'))).rejects.toThrow(/inside its own transaction: use the `tx` argument/)
    await expect(s.transaction(async () => s.transaction(async () => 1))).rejects.toThrow(/inside its own transaction/)
    // The store is usable again afterwards, and work started after a transaction ended is not refused.
    let later: Promise<unknown> | undefined
    await s.transaction(async (tx) => {
      await tx.sql.query('SELECT 1')
      later = new Promise((r) => setTimeout(r, 20)).then(() => s.users.findBySubject('persisted'))
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
      expect(await store.users.list()).toEqual([])
    } finally {
      await store.dispose()
    }
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false)
  }, 60_000)
})
