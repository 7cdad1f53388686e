/**
 * Lists come back in the order their rows were made (users oldest first; API keys, RAG
 * collections and their documents newest first), however fast they were made. The embedded
 * store's clock ticks in milliseconds: rows made in a tight loop share created_at, and ordering
 * by it (with the random id breaking the tie) listed them shuffled. They are ordered by `seq`.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { OpenedStore } from '../../plugins/store/kit/store.ts'
import { apiKeyRepository } from '../../plugins/services/identity/data/api-keys.ts'
import { newApiKey } from '../../plugins/services/identity/data/keys.ts'
import { userRepository } from '../../plugins/services/identity/data/users.ts'
import { ragRepository } from '../../plugins/services/rag/data/repository.ts'
import { IDENTITY_MIGRATIONS, migrateOwners, openEmbeddedStore, RAG_MIGRATIONS } from './helpers.ts'

// 30 rows of one created_at, listed by their random ids, come back in creation order once in 30!.
const indexes = Array.from({ length: 30 }, (_, i) => i)
const TICK = '2025-06-01T12:00:00Z'

describe('lists on the embedded store, for rows made within one clock tick', () => {
  let store: OpenedStore
  beforeAll(async () => {
    store = await openEmbeddedStore()
    await migrateOwners(store, [IDENTITY_MIGRATIONS, RAG_MIGRATIONS])
  }, 60_000)
  afterAll(async () => { await store?.dispose() })

  /**
   * The loop makes a row in about a millisecond, so only some of them share a tick; all of them are
   * given one created_at, so that ordering by it would shuffle them in every run, not one in a few.
   */
  const oneTick = async (table: string, ids: readonly string[]): Promise<void> => {
    await store.sql.query(`UPDATE ${table} SET created_at = $1 WHERE id = ANY($2::uuid[])`, [TICK, ids])
  }

  it('lists users in the order they were made', async () => {
    const users = userRepository(store.sql)
    const made: string[] = []
    for (const i of indexes) made.push((await users.upsertBySubject({ externalSubject: `order|${i}`, department: 'order' })).id)
    await oneTick('users', made)
    expect((await users.list({ department: 'order' })).map((u) => u.id)).toEqual(made)
    // A page starts where the previous one stopped.
    const pages = [...await users.list({ department: 'order', limit: 10 }), ...await users.list({ department: 'order', limit: 10, offset: 10 })]
    expect(pages.map((u) => u.id)).toEqual(made.slice(0, 20))
  })

  it('lists API keys newest first', async () => {
    const keys = apiKeyRepository(store.sql)
    const made: string[] = []
    for (const i of indexes) {
      const k = newApiKey()
      made.push((await keys.create({ keyHash: k.hash, prefix: k.prefix, name: `order-${i}`, department: 'order' })).id)
    }
    await oneTick('api_keys', made)
    expect((await keys.list({ department: 'order' })).map((k) => k.id)).toEqual(made.slice().reverse())
  })

  const chunking = { maxTokens: 100, overlapTokens: 10 }
  const collection = (name: string) => ragRepository(store).createCollection({
    name, description: null, ownerUserId: 'order', department: null, deptScope: null,
    embeddingRoute: 'embedder', dimensions: 3, askDimensions: false, chunking, metadata: {},
  })

  it('lists RAG collections newest first', async () => {
    const made: string[] = []
    for (const i of indexes) made.push((await collection(`order-${i}`)).id)
    await oneTick('rag_collections', made)
    expect((await ragRepository(store).listCollections({})).map((c) => c.id)).toEqual(made.slice().reverse())
  }, 60_000)

  it('lists a RAG collection\'s documents newest first', async () => {
    const rag = ragRepository(store)
    const { id } = await collection('documents')
    const made: string[] = []
    for (const i of indexes) {
      const d = await rag.upsertDocument({
        collectionId: id, fileId: null, filename: `d${i}.txt`, contentType: 'text/plain', kind: 'text', bytes: 1, contentHash: `hash-${i}`,
        sections: [{ text: 'x', offset: 0 }], attributes: {}, chunking, uploader: { userId: 'order', role: 'user' },
      })
      made.push(d.id)
    }
    await oneTick('rag_documents', made)
    expect((await rag.listDocuments(id, {})).map((d) => d.id)).toEqual(made.slice().reverse())
  })
})

describe('the migration that adds seq, on a store with users already', () => {
  it('numbers them by created_at, not by where the table keeps them, and new users come after', async () => {
    // Identity's migrations up to the one before, as an earlier release applied them.
    const before = mkdtempSync(path.join(tmpdir(), 'gw-seq-'))
    for (const file of ['0001_identity.sql', '0002_sessions_moved.sql']) copyFileSync(path.join(IDENTITY_MIGRATIONS.dir, file), path.join(before, file))
    const store = await openEmbeddedStore({ vector: false })
    try {
      await store.migrate({ owner: IDENTITY_MIGRATIONS.owner, dir: before })
      await store.sql.query(`INSERT INTO users (external_subject, created_at) VALUES ('third', '2025-01-03'), ('first', '2025-01-01'), ('second', '2025-01-02')`)
      // An update writes a new row version: where the table keeps a row says nothing of its age.
      await store.sql.query(`UPDATE users SET email = 'first@example.com' WHERE external_subject = 'first'`)
      expect((await migrateOwners(store, [IDENTITY_MIGRATIONS])).get('identity')?.applied).toEqual(['identity/0003_insertion_order', 'identity/0004_rotation_in_place', 'identity/0005_key_makers'])
      const users = userRepository(store.sql)
      await users.upsertBySubject({ externalSubject: 'fourth' })
      expect((await users.list()).map((u) => u.externalSubject)).toEqual(['first', 'second', 'third', 'fourth'])
    } finally {
      await store.dispose()
      rmSync(before, { recursive: true, force: true })
    }
  }, 60_000)
})
