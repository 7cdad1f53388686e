/**
 * The same text is embedded once per user: a file uploaded again, to the same collection, to
 * another one or attached to another vector store, copies the chunks and vectors of its earlier
 * ingest (same embeddings route, dimension and chunking) and the embeddings upstream is not
 * called; search finds the same passages with the same scores; deleting one copy leaves the
 * other searchable. Another user uploading the same bytes pays for their own embeddings (nothing
 * tells them someone else had it), and another chunking embeds again.
 */
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { KEYS, api, fixture, startRagUpstream, vectorStoresConfig, type Api, type RagUpstream } from './helpers.ts'

describe('embeddings reused for the same text', () => {
  let upstream: RagUpstream
  let gw: RunningGateway
  let rag: Api
  let alice: OpenAI

  beforeAll(async () => {
    upstream = await startRagUpstream()
    gw = await startTestGateway(vectorStoresConfig(upstream))
    rag = api(gw)
    alice = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEYS.alice, maxRetries: 0 })
  }, 60_000)
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })

  /** Embeddings calls made by `run` (a collection's creation probes the route: made before). */
  const embedCalls = async (run: () => Promise<unknown>): Promise<number> => {
    const before = upstream.embeddings().length
    await run()
    return upstream.embeddings().length - before
  }
  const collection = async (user: 'alice' | 'bob', name: string, extra: Record<string, unknown> = {}): Promise<string> => {
    const created = await rag('POST', '/collections', user, { name, ...extra })
    expect(created.status).toBe(201)
    return created.body.data.id as string
  }
  const handbook = () => [{ name: 'handbook.md', type: 'text/markdown', data: fixture('handbook.md') }]
  const QUESTION = 'How long is paid parental leave?'
  // Top 3: further down, chunks sharing no word with the question tie at score 0, in no set order.
  const search = async (id: string, user: 'alice' | 'bob' = 'alice') => {
    const res = await rag('POST', `/collections/${id}/search`, user, { query: QUESTION, top_k: 3, hybrid: true })
    expect(res.status).toBe(200)
    return (res.body.data as any[]).map((h) => ({ text: h.text, score: h.score, heading: h.heading }))
  }

  it('a second collection of the same file makes no embeddings call, finds the same passages, and outlives the first', async () => {
    const first = await collection('alice', 'Handbook')
    const paid = await embedCalls(async () => {
      await rag.upload(first, 'alice', handbook())
      expect((await rag.settled(first))[0]).toMatchObject({ status: 'completed' })
    })
    expect(paid).toBeGreaterThan(0)
    const hits = await search(first)
    expect(hits[0].text).toContain('sixteen weeks of paid parental leave')

    const second = await collection('alice', 'Handbook, again')
    expect(await embedCalls(async () => {
      await rag.upload(second, 'alice', handbook())
      const [doc] = await rag.settled(second)
      expect(doc).toMatchObject({ status: 'completed', progress: { chunks_done: expect.any(Number) } })
      expect(doc.progress.chunks_done).toBe(doc.progress.chunks_total)
      expect(doc.progress.chunks_total).toBeGreaterThan(0)
    })).toBe(0)
    expect(await search(second)).toEqual(hits)

    // Uploaded again to the same collection: queued again, still not embedded again.
    expect(await embedCalls(async () => {
      await rag.upload(second, 'alice', handbook())
      expect((await rag.settled(second))[0]).toMatchObject({ status: 'completed', attempts: 2 })
    })).toBe(0)
    expect(await search(second)).toEqual(hits)

    // The first copy gone (its document, then its collection): the second is whole.
    const [doc] = (await rag('GET', `/collections/${first}/documents`, 'alice')).body.data
    expect((await rag('DELETE', `/collections/${first}/documents/${doc.id}`, 'alice')).status).toBe(200)
    expect((await rag('DELETE', `/collections/${first}`, 'alice')).status).toBe(200)
    expect(await search(second)).toEqual(hits)
  })

  it('attaching the same bytes to a second vector store (another /v1/files file) makes no embeddings call', async () => {
    const upload = async () => alice.files.create({ file: await toFile(fixture('faq.txt'), 'faq.txt', { type: 'text/plain' }), purpose: 'assistants' })
    const one = await alice.vectorStores.create({ name: 'FAQ' })
    const two = await alice.vectorStores.create({ name: 'FAQ, again' })
    const file = await upload()
    expect(await embedCalls(() => alice.vectorStores.files.createAndPoll(one.id, { file_id: file.id }, { pollIntervalMs: 50 }))).toBeGreaterThan(0)
    const copy = await upload()
    expect(await embedCalls(async () => {
      expect(await alice.vectorStores.files.createAndPoll(two.id, { file_id: copy.id }, { pollIntervalMs: 50 })).toMatchObject({ status: 'completed' })
    })).toBe(0)
    const found = async (store: string) => (await alice.vectorStores.search(store, { query: 'What is the office wifi network called?', max_num_results: 3 })).data.map((h) => [h.content[0].text, h.score])
    expect(await found(two.id)).toEqual(await found(one.id))
    expect((await found(two.id))[0][0]).toContain('Lighthouse')
    // The first file deleted (it leaves its store): the copy still answers.
    const before = await found(two.id)
    await alice.files.delete(file.id)
    expect(await found(two.id)).toEqual(before)
  })

  it('another user uploading the same bytes pays for their own embeddings; another chunking embeds again', async () => {
    const alices = await collection('alice', 'Handbook of alice')
    await rag.upload(alices, 'alice', handbook())
    await rag.settled(alices)
    const bobs = await collection('bob', 'Handbook of bob')
    expect(await embedCalls(async () => {
      await rag.upload(bobs, 'bob', handbook())
      expect((await rag.settled(bobs, 'bob'))[0]).toMatchObject({ status: 'completed' })
    })).toBeGreaterThan(0)
    expect(await search(bobs, 'bob')).toEqual(await search(alices))

    const wider = await collection('alice', 'Handbook, wider chunks', { chunking: { max_tokens: 300, overlap_tokens: 20 } })
    expect(await embedCalls(async () => {
      await rag.upload(wider, 'alice', handbook())
      expect((await rag.settled(wider))[0]).toMatchObject({ status: 'completed' })
    })).toBeGreaterThan(0)
  })
})
