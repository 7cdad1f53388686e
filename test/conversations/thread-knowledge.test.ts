/**
 * Knowledge attached to a thread itself (`rag_collections` on /api/v1/chat/threads, what the
 * console's `#` picker sets): every message of the thread is grounded in those collections as the
 * caller, the reply lists its sources and cites them, the choice is kept with the thread (read back,
 * replaced, removed), and a collection the caller does not see — forged, deleted, another
 * department's private one — is a 400 naming the field, on create and on change.
 */
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { KEYS, api, fixture, ragConfig, startRagUpstream, type RagUpstream, type User } from '../rag/helpers.ts'

const BIKES = 'Where can bicycles be parked in the underground garage?'

describe('knowledge attached to a chat thread', () => {
  let upstream: RagUpstream
  let gw: RunningGateway
  let office: string
  let faqDocument: string
  const call = async (user: User, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${gw.url}/api/v1/chat${path}`, {
      method, headers: { authorization: `Bearer ${KEYS[user]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    return { status: res.status, body: (await res.json()) as any }
  }
  /** What the model was last given as instructions. */
  const lastSystem = (): string => upstream.chats().at(-1)!.body.messages.filter((m: any) => m.role === 'system').map((m: any) => m.content).join('\n')

  beforeAll(async () => {
    upstream = await startRagUpstream()
    gw = await startTestGateway(ragConfig(upstream).replace('services:\n', 'queue: { plugin: memory }\nsurfaces:\n  responses: {}\nservices:\n  conversations: { default_route: gpt }\n  chat: {}\n'))
    const rag = api(gw)
    // Alice's own collection (no dept_scope): alice sees it, carol (sales) does not.
    const created = await rag('POST', '/collections', 'alice', { name: 'Office' })
    expect(created.status).toBe(201)
    office = created.body.data.id
    const uploaded = await rag.upload(office, 'alice', [{ name: 'faq.txt', type: 'text/plain', data: fixture('faq.txt') }])
    faqDocument = uploaded.body.data[0].id
    expect((await rag.settled(office)).map((d: any) => d.status)).toEqual(['completed'])
  }, 120_000)
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })

  it('grounds each message of a thread in its own collections, with sources and citations, and keeps the choice', async () => {
    const made = await call('alice', 'POST', '/threads', { title: 'Garage', rag_collections: [office] })
    expect(made.status).toBe(201)
    expect(made.body.data.rag_collections).toEqual([office])
    const thread = made.body.data.id

    const sent = await call('alice', 'POST', `/threads/${thread}/messages`, { content: BIKES })
    expect(sent.status).toBe(201)
    expect(lastSystem()).toContain('[1] (faq.txt)')
    const [reply] = sent.body.data.reply
    expect(reply.content).toBe(`According to the sources [1]: ${BIKES}`)
    expect(reply.sources[0]).toMatchObject({ number: 1, cited: true, collection_id: office, document_id: faqDocument, filename: 'faq.txt' })

    // Read again (a reopened thread): still attached; its stored reply keeps its sources.
    const read = await call('alice', 'GET', `/threads/${thread}`)
    expect(read.body.data.rag_collections).toEqual([office])
    expect(read.body.data.messages.find((m: any) => m.role === 'assistant').sources[0].document_id).toBe(faqDocument)
    expect((await call('alice', 'GET', '/threads')).body.data.find((t: any) => t.id === thread).rag_collections).toEqual([office])

    // Removed: the next message is answered without it.
    const removed = await call('alice', 'PATCH', `/threads/${thread}`, { rag_collections: [] })
    expect(removed.status).toBe(200)
    expect(removed.body.data.rag_collections).toEqual([])
    const after = await call('alice', 'POST', `/threads/${thread}/messages`, { content: BIKES })
    expect(after.body.data.reply[0].content).toBe(`No sources: ${BIKES}`)
    expect(after.body.data.reply[0].sources).toBeUndefined()

    // Attached again to a thread that had none, by a change.
    const plain = await call('alice', 'POST', '/threads', { title: 'Later' })
    expect(plain.body.data.rag_collections).toEqual([])
    expect((await call('alice', 'PATCH', `/threads/${plain.body.data.id}`, { rag_collections: [office] })).body.data.rag_collections).toEqual([office])
    const grounded = await call('alice', 'POST', `/threads/${plain.body.data.id}/messages`, { content: BIKES })
    expect(grounded.body.data.reply[0].sources[0].collection_id).toBe(office)
  })

  it('grounds a turn of /v1/responses in the conversation\'s knowledge too (the thread and the conversation are one record)', async () => {
    const thread = (await call('alice', 'POST', '/threads', { rag_collections: [office] })).body.data.id
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEYS.alice, maxRetries: 0 })
    const response = await openai.responses.create({ model: 'gpt', conversation: thread, input: BIKES })
    expect(response.output_text).toBe(`According to the sources [1]: ${BIKES}`)
    const message = response.output.find((o) => o.type === 'message')!
    const text = message.type === 'message' ? message.content[0] : undefined
    expect(text?.type === 'output_text' ? text.annotations[0] : undefined).toMatchObject({ type: 'file_citation', file_id: faqDocument, filename: 'faq.txt' })
  })

  it('refuses a collection the caller does not see — forged, or another\'s private one — naming the field', async () => {
    const forged = await call('alice', 'POST', '/threads', { rag_collections: [office, '00000000-0000-4000-8000-000000000000'] })
    expect(forged.status).toBe(400)
    expect(forged.body).toMatchObject({ success: false, error: 'unknown_collection', param: 'rag_collections[1]' })
    expect(forged.body.message).toContain("No knowledge collection '00000000-0000-4000-8000-000000000000' that you can see")

    // Carol (sales) cannot attach Alice's private collection, neither to a new thread nor to hers.
    expect((await call('carol', 'POST', '/threads', { rag_collections: [office] })).status).toBe(400)
    const hers = (await call('carol', 'POST', '/threads', { title: 'Mine' })).body.data.id
    const changed = await call('carol', 'PATCH', `/threads/${hers}`, { rag_collections: [office] })
    expect(changed.status).toBe(400)
    expect(changed.body.param).toBe('rag_collections[0]')
    expect((await call('carol', 'GET', `/threads/${hers}`)).body.data.rag_collections).toEqual([])
    // Nothing was made of the refused creations.
    expect((await call('carol', 'GET', '/threads')).body.data.map((t: any) => t.title)).toEqual(['Mine'])
  })
})
