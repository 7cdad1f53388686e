/**
 * Stored chat completions (`store: true`) as a user of the official openai SDK works with them:
 * `chat.completions.list/retrieve/update/delete` and `chat.completions.messages.list`, for a
 * completion through provider.openai (OpenAI's own wire) and through the mock provider, streamed
 * or not; filtered by model and metadata, paged both ways; another user's completion is not found;
 * metadata outside OpenAI's limits is a 400 naming it; nothing is kept without `store: true`; and
 * a completion answered just before a clean shutdown is in the store at the next start. On the
 * embedded store and on PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../../helpers/gateway.ts'
import { expectOpenAISchema } from '../../helpers/openai-schema.ts'
import { researchAndSales, startOpenAIUpstream, upstreamRoutes, type OpenAIUpstream } from '../../helpers/openai-upstream.ts'
import { DATABASE_URL, dropSchema, POSTGRES_ENABLED, uniqueSchema } from '../../store/helpers.ts'

const ALICE = 'stored-alice-key-0123456789abcdef'
const BOB = 'stored-bob-key-0123456789abcdef01'
const ADMIN = 'stored-admin-key-0123456789abcdef'

const config = (upstream: OpenAIUpstream, store: string): string => `
version: 1
store: ${store}
${upstreamRoutes(upstream, `  - model: mocked
    targets: [ { provider: mock } ]`).replace('providers:\n', 'providers:\n  mock: { plugin: mock }\n')}
${researchAndSales([{ key: ALICE, user: 'alice', department: 'research' }, { key: BOB, user: 'bob', department: 'research' }, { key: ADMIN, user: 'root', role: 'admin' }])}
`

/** A stored completion's metadata (OpenAI answers it; the SDK's ChatCompletion type has no field for it). */
const metadataOf = (completion: object): unknown => (completion as { metadata?: unknown }).metadata

/** The 400 an SDK call rejects with, as status, code and param. */
async function refusal(call: Promise<unknown>): Promise<{ status: number; param: unknown }> {
  const err = await call.then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(OpenAI.APIError)
  return { status: (err as InstanceType<typeof OpenAI.APIError>).status!, param: (err as InstanceType<typeof OpenAI.APIError>).param }
}

function storedCompletions(name: string, store: () => string, cleanup: () => Promise<void> = async () => undefined): void {
  describe(`stored chat completions (${name})`, () => {
    let upstream: OpenAIUpstream
    let gw: RunningGateway
    let alice: OpenAI
    let bob: OpenAI
    let admin: OpenAI
    beforeAll(async () => {
      upstream = await startOpenAIUpstream()
      gw = await startTestGateway(config(upstream, store()))
      const client = (key: string) => new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 })
      alice = client(ALICE)
      bob = client(BOB)
      admin = client(ADMIN)
    })
    afterAll(async () => {
      await gw?.close()
      await upstream?.close()
      await cleanup()
    })

    it('keeps a completion created with store: true, with its metadata, and sends neither field upstream', async () => {
      const created = await alice.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'keep me' }], store: true, metadata: { topic: 'keep' } })
      const sent = upstream.chats().at(-1)!.body
      expect(sent.store).toBeUndefined()
      expect(sent.metadata).toBeUndefined()
      const got = await alice.chat.completions.retrieve(created.id)
      expectOpenAISchema('CreateChatCompletionResponse', got)
      expect(got).toMatchObject({ id: created.id, object: 'chat.completion', model: created.model, choices: created.choices, usage: created.usage, metadata: { topic: 'keep' } })
    })

    it('keeps a streamed completion as assembled from its chunks', async () => {
      const stream = await alice.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'stream me' }], store: true, stream: true, metadata: { topic: 'stream' } })
      let text = ''
      let id = ''
      for await (const chunk of stream) {
        id ||= chunk.id
        text += chunk.choices[0]?.delta.content ?? ''
      }
      expect(text).toContain('stream me')
      const got = await alice.chat.completions.retrieve(id)
      expect(got.choices[0]).toMatchObject({ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: text } })
      expect(got).toMatchObject({ object: 'chat.completion', metadata: { topic: 'stream' } })
    })

    it('keeps a completion of a provider that does not speak OpenAI\'s wire (the mock)', async () => {
      const created = await alice.chat.completions.create({ model: 'mocked', messages: [{ role: 'user', content: 'from the mock' }], store: true, metadata: { topic: 'mock' } })
      const got = await alice.chat.completions.retrieve(created.id)
      expect(got.choices[0].message.content).toBe(created.choices[0].message.content)
    })

    it('keeps nothing without store: true', async () => {
      const created = await alice.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'forget me' }], metadata: { topic: 'forgotten' } })
      expect(upstream.chats().at(-1)!.body.metadata).toEqual({ topic: 'forgotten' })
      expect((await refusal(alice.chat.completions.retrieve(created.id))).status).toBe(404)
      expect((await alice.chat.completions.list({ metadata: { topic: 'forgotten' } })).data).toEqual([])
    })

    it('lists by metadata and model, oldest first, paged by `after` (the SDK pages on by itself)', async () => {
      const ids: string[] = []
      for (let i = 0; i < 5; i++) ids.push((await alice.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: `page ${i}` }], store: true, metadata: { run: 'paging', i: String(i) } })).id)
      const first = await alice.chat.completions.list({ metadata: { run: 'paging' }, limit: 2 })
      expect(first.data.map((c) => c.id)).toEqual(ids.slice(0, 2))
      expect(first.has_more).toBe(true)
      const raw = await fetch(`${gw.url}/v1/chat/completions?metadata[run]=paging&limit=2&after=${ids[1]}`, { headers: { authorization: `Bearer ${ALICE}` } }).then((r) => r.json())
      expect(raw).toMatchObject({ object: 'list', first_id: ids[2], last_id: ids[3], has_more: true })
      expectOpenAISchema('ChatCompletionList', raw)
      const all: string[] = []
      for await (const c of alice.chat.completions.list({ metadata: { run: 'paging' }, limit: 2 })) all.push(c.id)
      expect(all).toEqual(ids)
      const newest = await alice.chat.completions.list({ metadata: { run: 'paging' }, order: 'desc', limit: 3 })
      expect(newest.data.map((c) => c.id)).toEqual(ids.slice(2).reverse())
      expect((await alice.chat.completions.list({ metadata: { run: 'paging', i: '3' } })).data.map((c) => c.id)).toEqual([ids[3]])
      // The route name asked for, or the model that answered.
      expect((await alice.chat.completions.list({ model: 'mocked' })).data.map(metadataOf)).toEqual([{ topic: 'mock' }])
      expect((await alice.chat.completions.list({ model: 'gpt-4o-mini', metadata: { run: 'paging' } })).data).toHaveLength(5)
      expect((await refusal(alice.chat.completions.list({ after: 'chatcmpl-nothing' }))).param).toBe('after')
    })

    it('lists the request\'s messages, paged, with content parts', async () => {
      const created = await alice.chat.completions.create({
        model: 'gpt', store: true,
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: [{ type: 'text', text: 'look at ' }, { type: 'text', text: 'this' }] },
          { role: 'assistant', content: 'what?' },
          { role: 'user', content: 'that' },
        ],
      })
      const page = await alice.chat.completions.messages.list(created.id, { limit: 2 })
      expect(page.data).toEqual([
        { id: `${created.id}-0`, role: 'system', content: 'be brief', content_parts: null },
        { id: `${created.id}-1`, role: 'user', content: 'look at this', content_parts: [{ type: 'text', text: 'look at ' }, { type: 'text', text: 'this' }] },
      ])
      expect(page.has_more).toBe(true)
      const rest: string[] = []
      for await (const m of alice.chat.completions.messages.list(created.id, { limit: 1 })) rest.push(m.id)
      expect(rest).toEqual([0, 1, 2, 3].map((i) => `${created.id}-${i}`))
      const desc = await alice.chat.completions.messages.list(created.id, { order: 'desc', after: `${created.id}-3` })
      expect(desc.data.map((m) => m.content)).toEqual(['what?', 'look at this', 'be brief'])
    })

    it('updates the metadata (replaced whole), which the list then filters by', async () => {
      const created = await alice.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'tag me' }], store: true, metadata: { state: 'draft', keep: 'no' } })
      const updated = await alice.chat.completions.update(created.id, { metadata: { state: 'final' } })
      expect(updated).toMatchObject({ id: created.id, metadata: { state: 'final' }, choices: created.choices })
      expect(metadataOf(await alice.chat.completions.retrieve(created.id))).toEqual({ state: 'final' })
      expect((await alice.chat.completions.list({ metadata: { state: 'final' } })).data.map((c) => c.id)).toEqual([created.id])
      expect((await alice.chat.completions.list({ metadata: { state: 'draft' } })).data).toEqual([])
    })

    it('deletes a completion: chat.completion.deleted, then not found', async () => {
      const created = await alice.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'delete me' }], store: true })
      const deleted = await alice.chat.completions.delete(created.id)
      expect(deleted).toEqual({ object: 'chat.completion.deleted', id: created.id, deleted: true })
      expectOpenAISchema('ChatCompletionDeleted', deleted)
      expect((await refusal(alice.chat.completions.retrieve(created.id))).status).toBe(404)
      expect((await refusal(alice.chat.completions.delete(created.id))).status).toBe(404)
    })

    it('another user\'s completion is not found, nor listed; an admin reaches it as it reaches other stored objects', async () => {
      const created = await alice.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'mine' }], store: true, metadata: { owner: 'alice' } })
      for (const call of [() => bob.chat.completions.retrieve(created.id), () => bob.chat.completions.update(created.id, { metadata: {} }), () => bob.chat.completions.delete(created.id), () => bob.chat.completions.messages.list(created.id)]) {
        expect((await refusal(call())).status).toBe(404)
      }
      expect((await bob.chat.completions.list({ metadata: { owner: 'alice' } })).data).toEqual([])
      expect((await refusal(bob.chat.completions.list({ after: created.id }))).status).toBe(400)
      const bobs = await bob.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'bob' }], store: true })
      expect((await bob.chat.completions.list()).data.map((c) => c.id)).toEqual([bobs.id])
      expect(metadataOf(await admin.chat.completions.retrieve(created.id))).toEqual({ owner: 'alice' })
      expect((await admin.chat.completions.list({ metadata: { owner: 'alice' } })).data.map((c) => c.id)).toEqual([created.id])
      expect(metadataOf(await alice.chat.completions.retrieve(created.id))).toEqual({ owner: 'alice' })
    })

    it('refuses metadata outside OpenAI\'s limits with a 400 naming it, on create and on update', async () => {
      const seventeen = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']))
      const create = (metadata: Record<string, string>) => alice.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'x' }], store: true, metadata })
      const before = upstream.chats().length
      expect(await refusal(create(seventeen))).toEqual({ status: 400, param: 'metadata' })
      expect(await refusal(create({ ['k'.repeat(65)]: 'v' }))).toEqual({ status: 400, param: 'metadata' })
      expect(await refusal(create({ long: 'v'.repeat(513) }))).toEqual({ status: 400, param: 'metadata.long' })
      expect(await refusal(create({ n: 1 as unknown as string }))).toEqual({ status: 400, param: 'metadata.n' })
      expect(upstream.chats().length).toBe(before)
      const created = await create({ fine: 'yes' })
      expect(await refusal(alice.chat.completions.update(created.id, { metadata: seventeen }))).toMatchObject({ status: 400 })
      expect(await refusal(alice.chat.completions.update(created.id, { metadata: { long: 'v'.repeat(513) } }))).toMatchObject({ status: 400, param: 'metadata.long' })
      expect(metadataOf(await alice.chat.completions.retrieve(created.id))).toEqual({ fine: 'yes' })
    })
  })
}

storedCompletions('embedded store', () => '{ plugin: embedded, memory: true, vector: false }')

const schema = uniqueSchema('stored_completions')
describe.runIf(POSTGRES_ENABLED)('on PostgreSQL', () => {
  storedCompletions('postgres store', () => `{ plugin: postgres, url: "${DATABASE_URL}", schema: ${schema} }`, () => dropSchema(schema))
})

describe('stored chat completions across a clean shutdown', () => {
  it('a completion answered just before the gateway stops is in the store at the next start', async () => {
    const upstream = await startOpenAIUpstream()
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-stored-completions-'))
    const yaml = config(upstream, `{ plugin: embedded, path: "${dir}", vector: false }`)
    try {
      let gw = await startTestGateway(yaml)
      const client = new OpenAI({ apiKey: ALICE, baseURL: `${gw.url}/v1`, maxRetries: 0 })
      // The gateway stopped as soon as the last has answered: their writes may still be going.
      const created = await Promise.all(Array.from({ length: 5 }, (_, i) => client.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: `last words ${i}` }], store: true })))
      await gw.close()
      gw = await startTestGateway(yaml)
      try {
        const kept: string[] = []
        for await (const c of new OpenAI({ apiKey: ALICE, baseURL: `${gw.url}/v1`, maxRetries: 0 }).chat.completions.list({ limit: 100 })) kept.push(c.id)
        expect(kept.sort()).toEqual(created.map((c) => c.id).sort())
      } finally {
        await gw.close()
      }
    } finally {
      await upstream.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
