/**
 * Vector store expiry as OpenAI has it, driven by the official `openai` SDK: `expires_after:
 * { anchor: last_active_at, days }` (1 to 365) on create and update (null clears it); the store
 * shows `expires_after` and `expires_at` (its last use plus the days), and its use (a search, a
 * file attached) moves `last_active_at`. Once past `expires_at` it is `expired`: a search or a new
 * file is a 400 `vector_store_expired`; it is still retrieved, listed and deleted, and a sweep
 * frees its chunks. A file still waiting for its turn when its store expires is failed, not
 * embedded (its embeddings would be paid for and then deleted).
 */
import OpenAI, { BadRequestError, toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Store } from '../../plugin-api/index.ts'
import { capability, startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { waitFor } from '../helpers/wait.ts'
import { KEYS, ragConfig, startRagUpstream, type RagUpstream } from './helpers.ts'

const DAY = 24 * 60 * 60

describe('/v1/vector_stores: expires_after', () => {
  let upstream: RagUpstream
  let gw: RunningGateway
  let alice: OpenAI

  beforeAll(async () => {
    upstream = await startRagUpstream()
    gw = await startTestGateway(ragConfig(upstream, ', expiry_sweep_ms: 100, ingest_concurrency: 1').replace('services:\n', 'services:\n  files: {}\n'))
    alice = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEYS.alice, maxRetries: 0 })
  }, 60_000)
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })

  const sql = () => capability(gw, Store).sql
  const chunksOf = async (storeId: string) => Number((await sql().query<{ n: string }>('SELECT count(*) AS n FROM rag_chunks WHERE collection_id = $1', [storeId])).rows[0]!.n)
  const upload = async (name: string, text: string) => alice.files.create({ file: await toFile(Buffer.from(text), name, { type: 'text/plain' }), purpose: 'assistants' })

  it('takes expires_after on create and update (null clears it), and reports expires_at from the last use', async () => {
    const now = Math.floor(Date.now() / 1000)
    const store = await alice.vectorStores.create({ name: 'Weekly', expires_after: { anchor: 'last_active_at', days: 7 } })
    expect(store).toMatchObject({ status: 'completed', expires_after: { anchor: 'last_active_at', days: 7 } })
    // Never used yet: counted from its creation.
    expect(store.expires_at).toBe(store.created_at + 7 * DAY)
    expect(store.expires_at).toBeGreaterThanOrEqual(now + 7 * DAY)

    const monthly = await alice.vectorStores.update(store.id, { expires_after: { anchor: 'last_active_at', days: 30 } })
    expect(monthly).toMatchObject({ expires_after: { anchor: 'last_active_at', days: 30 }, expires_at: store.created_at + 30 * DAY })
    // A rename leaves the expiry as it is.
    expect(await alice.vectorStores.update(store.id, { name: 'Monthly' })).toMatchObject({ name: 'Monthly', expires_after: { days: 30 } })
    const kept = await alice.vectorStores.update(store.id, { expires_after: null })
    expect(kept.expires_after).toBeUndefined()
    expect(kept.expires_at).toBeNull()

    // Out of OpenAI's bounds, or another anchor: a 400 naming the field.
    for (const bad of [{ anchor: 'last_active_at', days: 0 }, { anchor: 'last_active_at', days: 366 }, { anchor: 'created_at', days: 7 }]) {
      const refused = alice.vectorStores.create({ name: 'x', expires_after: bad as { anchor: 'last_active_at'; days: number } })
      await expect(refused).rejects.toBeInstanceOf(BadRequestError)
      await expect(refused).rejects.toMatchObject({ param: expect.stringContaining('expires_after') })
    }
    const names = (await alice.vectorStores.list({ limit: 100 })).data.map((s) => s.name)
    expect(names).not.toContain('x')
  })

  it('moves last_active_at with use; past expires_at the store is expired: refuses search and files, is still read, listed and deleted, and its chunks are freed', async () => {
    const store = await alice.vectorStores.create({ name: 'Short-lived', expires_after: { anchor: 'last_active_at', days: 1 } })
    const kept = await alice.vectorStores.create({ name: 'Kept' })
    const file = await upload('rooms.txt', 'The meeting room on the third floor has a projector.')
    for (const s of [store, kept]) expect((await alice.vectorStores.files.createAndPoll(s.id, { file_id: file.id }, { pollIntervalMs: 50 })).status).toBe('completed')
    expect((await alice.vectorStores.search(store.id, { query: 'Which room has a projector?' })).data).toHaveLength(1)
    // Used: its expiry counts from then.
    const { value: used } = await waitFor(async () => {
      const s = await alice.vectorStores.retrieve(store.id)
      return s.last_active_at !== null ? s : undefined
    })
    if (!used) throw new Error('unreachable')
    expect(used.expires_at).toBe(used.last_active_at! + DAY)
    expect(await chunksOf(store.id)).toBeGreaterThan(0)

    // A day and a minute without use (moved back: a day is the shortest OpenAI allows).
    await sql().query(`UPDATE rag_collections SET last_active_at = now() - interval '1 day 1 minute' WHERE id = $1`, [store.id])
    const expired = await alice.vectorStores.retrieve(store.id)
    expect(expired).toMatchObject({ status: 'expired', file_counts: { completed: 1, total: 1 } })
    expect(expired.expires_at).toBeLessThan(Date.now() / 1000)
    // The management API shows the same collection's expiry.
    const managed = await (await fetch(`${gw.url}/api/v1/rag/collections/${store.id}`, { headers: { authorization: `Bearer ${KEYS.alice}` } })).json()
    expect(managed.data.expires_after_days).toBe(1)
    expect(Math.floor(new Date(managed.data.expires_at).getTime() / 1000)).toBe(expired.expires_at)

    const search = alice.vectorStores.search(store.id, { query: 'Which room has a projector?' })
    await expect(search).rejects.toBeInstanceOf(BadRequestError)
    await expect(search).rejects.toMatchObject({ status: 400, code: 'vector_store_expired', message: expect.stringContaining(store.id) })
    const another = await upload('desks.txt', 'Hot desks are booked a day ahead.')
    await expect(alice.vectorStores.files.create(store.id, { file_id: another.id })).rejects.toMatchObject({ status: 400, code: 'vector_store_expired' })
    await expect(alice.vectorStores.fileBatches.create(store.id, { file_ids: [another.id] })).rejects.toMatchObject({ status: 400, code: 'vector_store_expired' })
    // An expired store stays expired: its chunks are going.
    await expect(alice.vectorStores.update(store.id, { expires_after: null })).rejects.toMatchObject({ status: 400, code: 'vector_store_expired' })
    // The refused uses did not revive it.
    expect((await alice.vectorStores.retrieve(store.id)).status).toBe('expired')

    // Still read and listed (its files too); the sweep frees its chunks, not the other store's.
    expect((await alice.vectorStores.files.list(store.id)).data.map((f) => f.id)).toEqual([file.id])
    const listed = (await alice.vectorStores.list({ limit: 100 })).data.find((s) => s.id === store.id)
    expect(listed?.status).toBe('expired')
    await waitFor(async () => (await chunksOf(store.id)) === 0, 10_000)
    expect(await chunksOf(kept.id)).toBeGreaterThan(0)
    expect((await alice.vectorStores.search(kept.id, { query: 'Which room has a projector?' })).data).toHaveLength(1)

    expect(await alice.vectorStores.delete(store.id)).toMatchObject({ id: store.id, deleted: true })
    await expect(alice.vectorStores.retrieve(store.id)).rejects.toMatchObject({ status: 404 })
  }, 60_000)

  it('fails a file still waiting to be embedded when its store expires before its turn, without an embedding call for it', async () => {
    const busy = await alice.vectorStores.create({ name: 'Busy' })
    const store = await alice.vectorStores.create({ name: 'Expiring', expires_after: { anchor: 'last_active_at', days: 1 } })
    // One document embeds at a time (ingest_concurrency: 1): the first is held upstream while the second waits.
    let release!: () => void
    const held = new Promise<void>((resolve) => { release = resolve })
    upstream.beforeEmbed = async (inputs) => { if (inputs.some((t) => t.includes('gazebo'))) await held }
    try {
      const first = await upload('garden.txt', 'The gazebo in the garden is closed for repairs.')
      expect((await alice.vectorStores.files.create(busy.id, { file_id: first.id })).status).toBe('in_progress')
      await waitFor(() => upstream.embeddings().some((r) => JSON.stringify(r.body.input).includes('gazebo')))
      const late = await upload('parking.txt', 'Zeppelin parking is on the roof.')
      expect((await alice.vectorStores.files.create(store.id, { file_id: late.id })).status).toBe('in_progress')
      // The attach used the store (last_active_at set); then a day and a minute pass while the file waits.
      await waitFor(async () => (await alice.vectorStores.retrieve(store.id)).last_active_at !== null)
      await sql().query(`UPDATE rag_collections SET last_active_at = now() - interval '1 day 1 minute' WHERE id = $1`, [store.id])
      expect((await alice.vectorStores.retrieve(store.id)).status).toBe('expired')
      release()

      const settled = await alice.vectorStores.files.poll(store.id, late.id, { pollIntervalMs: 50 })
      expect(settled).toMatchObject({ status: 'failed', last_error: { code: 'server_error', message: expect.stringContaining(`vector store '${store.id}' expired`) } })
      expect(settled.last_error!.message).toContain('Attach the file to a store in use')
      expect(upstream.embeddings().filter((r) => JSON.stringify(r.body.input).includes('Zeppelin'))).toEqual([])
      // The management API names the gateway's own code.
      const docs = await (await fetch(`${gw.url}/api/v1/rag/collections/${store.id}/documents`, { headers: { authorization: `Bearer ${KEYS.alice}` } })).json()
      expect(docs.data).toMatchObject([{ filename: 'parking.txt', status: 'failed', error: { code: 'vector_store_expired' } }])
      expect(await chunksOf(store.id)).toBe(0)
      expect(await alice.vectorStores.retrieve(store.id)).toMatchObject({ status: 'expired', file_counts: { failed: 1, in_progress: 0, total: 1 } })
      // The store in use is not held up by it.
      expect((await alice.vectorStores.files.poll(busy.id, first.id, { pollIntervalMs: 50 })).status).toBe('completed')
    } finally {
      release()
      upstream.beforeEmbed = undefined
    }
  }, 60_000)
})
