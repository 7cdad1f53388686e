/**
 * Grounded answers: an assistant with attached collections retrieves for each user turn (a
 * thread's message, streamed or not; /v1/responses and /v1/chat/completions with
 * `model: assistant/<name>`), as the caller, puts the passages into the context numbered [n], and
 * lists the sources with the stored reply and in the API response; /v1/responses' file_search
 * cites with `file_citation` annotations (OpenAI's schema) and searches with the caller's reach.
 */
import Ajv2020Module from 'ajv/dist/2020.js'
import OpenAI, { NotFoundError, toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { expectOpenAISchema } from '../helpers/openai-schema.ts'
import { sseEvents } from '../conversations/helpers.ts'
import { KEYS, api, fixture, ragConfig, startRagUpstream, type Api, type RagUpstream, type User } from './helpers.ts'

// ajv's CommonJS default export, as ESM sees it.
const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as typeof Ajv2020Module.default
const FAQ = fixture('faq.txt').toString('utf8')
const BIKES = 'Where can bicycles be parked in the underground garage?'

describe('grounded answers from RAG collections', () => {
  let upstream: RagUpstream
  let gw: RunningGateway
  let rag: Api
  let collectionId: string
  let faqDocumentId: string
  const client = (user: User) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEYS[user], maxRetries: 0 })
  const call = async (user: User, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${gw.url}${path}`, {
      method, headers: { authorization: `Bearer ${KEYS[user]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    return { status: res.status, text, body: text.startsWith('{') ? JSON.parse(text) : undefined }
  }
  /** What the model was last given as instructions (its system messages). */
  const lastSystem = (): string => upstream.chats().at(-1)!.body.messages.filter((m: any) => m.role === 'system').map((m: any) => m.content).join('\n')

  beforeAll(async () => {
    upstream = await startRagUpstream()
    const config = ragConfig(upstream).replace('services:\n', 'queue: { plugin: memory }\nsurfaces:\n  responses: {}\nservices:\n  files: {}\n  conversations: {}\n  chat: {}\n  assistants: {}\n  docs: {}\n')
    gw = await startTestGateway(config)
    rag = api(gw)
    // Research's office knowledge, shared with the research department by its admin; a global assistant answers from it.
    const created = await rag('POST', '/collections', 'dana', { name: 'Office', dept_scope: 'research' })
    expect(created.status).toBe(201)
    collectionId = created.body.data.id
    const uploaded = await rag.upload(collectionId, 'dana', [
      { name: 'faq.txt', type: 'text/plain', data: fixture('faq.txt') },
      { name: 'handbook.md', type: 'text/markdown', data: fixture('handbook.md') },
    ])
    faqDocumentId = uploaded.body.data.find((d: any) => d.filename === 'faq.txt').id
    expect((await rag.settled(collectionId)).map((d: any) => d.status)).toEqual(['completed', 'completed'])
    const assistant = await call('admin', 'POST', '/api/v1/assistants', {
      name: 'helpdesk', route: 'gpt', dept_scope: null, instructions: 'You are the office helpdesk.', rag_collections: [collectionId],
    })
    expect(assistant.status).toBe(201)
  }, 180_000)
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })

  /** The FAQ uploaded to a vector store of the client's own, and the file_search tool over it. */
  async function faqSearch(openai: OpenAI, name: string) {
    const file = await openai.files.create({ file: await toFile(fixture('faq.txt'), 'faq.txt', { type: 'text/plain' }), purpose: 'assistants' })
    const store = await openai.vectorStores.create({ name })
    await openai.vectorStores.files.createAndPoll(store.id, { file_id: file.id }, { pollIntervalMs: 50 })
    return { file, tools: [{ type: 'file_search' as const, vector_store_ids: [store.id] }] }
  }

  async function helpdeskThread(user: User): Promise<string> {
    const assistant = (await call(user, 'GET', '/api/v1/assistants')).body.data.find((a: any) => a.name === 'helpdesk')
    const thread = await call(user, 'POST', '/api/v1/chat/threads', { assistant_id: assistant.id })
    expect(thread.status).toBe(201)
    return thread.body.data.id
  }

  it('grounds each user turn of an assistant\'s thread and keeps the sources with the reply, streamed or not', async () => {
    const thread = await helpdeskThread('alice')
    const sent = await call('alice', 'POST', `/api/v1/chat/threads/${thread}/messages`, { content: BIKES })
    expect(sent.status).toBe(201)
    // The model got the assistant's instructions and the passages, numbered.
    expect(lastSystem()).toContain('You are the office helpdesk.')
    expect(lastSystem()).toContain('[1] (faq.txt)')
    expect(lastSystem()).toContain('underground garage on level minus two')
    const [reply] = sent.body.data.reply
    expect(reply.content).toBe(`According to the sources [1]: ${BIKES}`)
    const first = reply.sources[0]
    expect(first).toMatchObject({ number: 1, cited: true, collection_id: collectionId, document_id: faqDocumentId, file_id: null, filename: 'faq.txt', page: null })
    expect(first.score).toBeGreaterThan(0)
    // The offsets point at the passage in the uploaded file.
    expect(FAQ.slice(first.start_offset, first.end_offset)).toContain('underground garage')
    expect(reply.sources.slice(1).every((s: any) => s.cited === false)).toBe(true)

    // The next turn retrieves for its own question, streamed.
    const res = await fetch(`${gw.url}/api/v1/chat/threads/${thread}/messages`, {
      method: 'POST', headers: { authorization: `Bearer ${KEYS.alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'What is the wifi network called and its password?', stream: true }),
    })
    const events = sseEvents(await res.text())
    expect(events.filter((e) => e.event === 'delta').map((e) => e.data.delta).join('')).toMatch(/^According to the sources \[1\]/)
    expect(lastSystem()).toMatch(/\[1\] \(faq\.txt\)\n[^[]*Lighthouse/)
    const done = events.find((e) => e.event === 'done')!.data
    const streamedFirst = done.reply[0].sources[0]
    expect(streamedFirst).toMatchObject({ number: 1, cited: true, filename: 'faq.txt' })
    expect(FAQ.slice(streamedFirst.start_offset, streamedFirst.end_offset)).toContain('Lighthouse')

    // Both replies are stored with their sources.
    const stored = (await call('alice', 'GET', `/api/v1/chat/threads/${thread}/messages`)).body.data.filter((m: any) => m.role === 'assistant')
    expect(stored.map((m: any) => m.sources[0].start_offset)).toEqual([first.start_offset, streamedFirst.start_offset])
    expect(stored[0].sources).toEqual(reply.sources)

    // ...as /api/v1/openapi.json documents them (the console's types are generated from it).
    const doc = (await call('alice', 'GET', '/api/v1/openapi.json')).body
    const listed = (await call('alice', 'GET', `/api/v1/chat/threads/${thread}/messages`)).body
    const schema = doc.paths['/api/v1/chat/threads/{id}/messages'].get.responses['200'].content['application/json'].schema
    const validate = new Ajv2020({ strict: false, validateFormats: false }).compile(schema)
    expect(validate(listed), new Ajv2020().errorsText(validate.errors)).toBe(true)
  })

  it('refuses an assistant given a collection its editor cannot see (a typo, a deleted one), naming it; one already attached stays on an edit', async () => {
    // A typo'd id would have made an assistant that answers ungrounded, without a word.
    const typo = await call('admin', 'POST', '/api/v1/assistants', { name: 'typo', route: 'gpt', dept_scope: null, rag_collections: [collectionId, 'handbook'] })
    expect(typo.status).toBe(400)
    expect(typo.body).toMatchObject({ success: false, error: 'unknown_collection', param: 'rag_collections[1]' })
    expect(typo.body.message).toContain("'handbook'")
    // One the editor cannot see (Carol's own, in sales, out of a research admin's reach) is refused alike.
    const hidden = await call('dana', 'POST', '/api/v1/assistants', { name: 'private-ref', route: 'gpt', rag_collections: [(await rag('POST', '/collections', 'carol', { name: 'Sales notes' })).body.data.id] })
    expect(hidden).toMatchObject({ status: 400, body: { error: 'unknown_collection', param: 'rag_collections[0]' } })
    expect((await call('admin', 'GET', '/api/v1/assistants')).body.data.map((a: any) => a.name)).not.toContain('typo')

    // A collection deleted after it was attached does not block editing the assistant: it was not added by this edit.
    const doomed = (await rag('POST', '/collections', 'admin', { name: 'Doomed' })).body.data.id
    const made = await call('admin', 'POST', '/api/v1/assistants', { name: 'editable', route: 'gpt', dept_scope: null, rag_collections: [collectionId, doomed] })
    expect(made.status).toBe(201)
    expect((await rag('DELETE', `/collections/${doomed}`, 'admin')).status).toBe(200)
    const edited = await call('admin', 'PATCH', `/api/v1/assistants/${made.body.data.id}`, { instructions: 'Be brief.', rag_collections: [collectionId, doomed] })
    expect(edited.status).toBe(200)
    const added = await call('admin', 'PATCH', `/api/v1/assistants/${made.body.data.id}`, { rag_collections: [collectionId, doomed, 'nope'] })
    expect(added).toMatchObject({ status: 400, body: { error: 'unknown_collection', param: 'rag_collections[2]' } })
  })

  it('searches an assistant\'s collections as the caller: another department gets no passages and no sources', async () => {
    const thread = await helpdeskThread('carol')
    const sent = await call('carol', 'POST', `/api/v1/chat/threads/${thread}/messages`, { content: BIKES })
    expect(sent.status).toBe(201)
    expect(sent.body.data.reply[0].content).toBe(`No sources: ${BIKES}`)
    expect(sent.body.data.reply[0].sources).toBeUndefined()
    expect(lastSystem()).toBe('You are the office helpdesk.')

    const completion = await client('carol').chat.completions.create({ model: 'assistant/helpdesk', messages: [{ role: 'user', content: BIKES }] })
    expect(completion.choices[0].message.content).toBe(`No sources: ${BIKES}`)
    expect((completion as any).sources).toBeUndefined()
    const response = await client('carol').responses.create({ model: 'assistant/helpdesk', input: BIKES })
    expect(response.output.map((o) => o.type)).toEqual(['message'])
  })

  it('grounds /v1/responses and /v1/chat/completions with model assistant/<name>, listing the sources', async () => {
    const alice = client('alice')
    const response = await alice.responses.create({ model: 'assistant/helpdesk', input: BIKES, include: ['file_search_call.results'] })
    expectOpenAISchema('Response', response)
    const search = response.output.find((o) => o.type === 'file_search_call') as any
    expect(search.results[0]).toMatchObject({ file_id: faqDocumentId, filename: 'faq.txt' })
    const message = response.output.find((o) => o.type === 'message') as any
    const text = message.content[0].text as string
    expect(message.content[0].annotations).toEqual([{ type: 'file_citation', file_id: faqDocumentId, filename: 'faq.txt', index: text.indexOf('[1]') }])

    const completion = await alice.chat.completions.create({ model: 'assistant/helpdesk', messages: [{ role: 'user', content: BIKES }] })
    expect(completion.choices[0].message.content).toBe(`According to the sources [1]: ${BIKES}`)
    expect(lastSystem()).toContain('underground garage on level minus two')
    const sources = (completion as any).sources
    expect(sources[0]).toMatchObject({ number: 1, cited: true, document_id: faqDocumentId, filename: 'faq.txt' })
    expect(FAQ.slice(sources[0].start_offset, sources[0].end_offset)).toContain('underground garage')

    // Streamed: the same sources on the chunk that finishes the answer.
    const stream = await alice.chat.completions.create({ model: 'assistant/helpdesk', messages: [{ role: 'user', content: BIKES }], stream: true })
    const chunks = []
    for await (const chunk of stream) chunks.push(chunk)
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe(`According to the sources [1]: ${BIKES}`)
    const withSources = chunks.filter((c) => 'sources' in c)
    expect(withSources).toHaveLength(1)
    expect(withSources[0].choices[0].finish_reason).toBe('stop')
    expect((withSources[0] as any).sources).toEqual(sources)
  })

  it('annotates a file_search answer with file_citation annotations and searches with the caller\'s reach', async () => {
    const alice = client('alice')
    // Alice's own store: not shared with her department.
    const { file, tools } = await faqSearch(alice, 'Private FAQ')

    const response = await alice.responses.create({ model: 'gpt', input: BIKES, tools, include: ['file_search_call.results'] })
    expectOpenAISchema('Response', response)
    const message = response.output.find((o) => o.type === 'message') as any
    expect(response.output_text).toBe(`According to the sources [1]: ${BIKES}`)
    expect(message.content[0].annotations).toEqual([{ type: 'file_citation', file_id: file.id, filename: 'faq.txt', index: response.output_text.indexOf('[1]') }])
    // Stored as answered.
    expect((await alice.responses.retrieve(response.id, { include: ['file_search_call.results'] })).output).toEqual(response.output)

    // The department admin and the admin reach Alice's store; Bob (same department, own data) and Carol do not.
    for (const user of ['dana', 'admin'] as const) {
      const theirs = await client(user).responses.create({ model: 'gpt', input: BIKES, tools, include: ['file_search_call.results'] })
      expect((theirs.output.find((o) => o.type === 'file_search_call') as any).results[0].text).toContain('underground garage')
      expect(lastSystem()).toContain('underground garage')
    }
    const chats = upstream.chats().length
    for (const user of ['bob', 'carol'] as const) {
      await expect(client(user).responses.create({ model: 'gpt', input: BIKES, tools })).rejects.toBeInstanceOf(NotFoundError)
    }
    expect(upstream.chats().length).toBe(chats)
  })

  it('shows a file search\'s results only when include asks for file_search_call.results, as OpenAI does: create, stream, retrieve, conversation items (kept for a later read that asks)', async () => {
    const alice = client('alice')
    const { file, tools } = await faqSearch(alice, 'FAQ for include')
    const conversation = await alice.conversations.create({})
    const asked = ['file_search_call.results'] as OpenAI.Responses.ResponseIncludable[]
    const searchOf = (output: readonly OpenAI.Responses.ResponseOutputItem[]) => output.find((o) => o.type === 'file_search_call') as OpenAI.Responses.ResponseFileSearchToolCall

    // Not asked: the call with its queries, results null (the passages still ground the answer).
    const bare = await alice.responses.create({ model: 'gpt', input: BIKES, tools, conversation: conversation.id })
    expectOpenAISchema('Response', bare)
    expect(searchOf(bare.output)).toMatchObject({ type: 'file_search_call', status: 'completed', queries: [BIKES], results: null })
    expect(bare.output_text).toContain('According to the sources [1]')
    // Kept all the same: a retrieve or a conversation item read that asks shows them.
    expect(searchOf((await alice.responses.retrieve(bare.id, { include: asked })).output).results![0]).toMatchObject({ file_id: file.id, filename: 'faq.txt' })
    expect(searchOf((await alice.responses.retrieve(bare.id)).output).results).toBeNull()
    const items = await alice.conversations.items.list(conversation.id, { order: 'asc' })
    expect((items.data[1] as OpenAI.Responses.ResponseFileSearchToolCall).results).toBeNull()
    const itemsAsked = await alice.conversations.items.list(conversation.id, { order: 'asc', include: asked })
    expect((itemsAsked.data[1] as OpenAI.Responses.ResponseFileSearchToolCall).results![0]).toMatchObject({ file_id: file.id })
    const id = searchOf(bare.output).id
    expect(((await alice.conversations.items.retrieve(id, { conversation_id: conversation.id })) as OpenAI.Responses.ResponseFileSearchToolCall).results).toBeNull()
    expect(((await alice.conversations.items.retrieve(id, { conversation_id: conversation.id, include: asked })) as OpenAI.Responses.ResponseFileSearchToolCall).results![0]).toMatchObject({ file_id: file.id })

    // Asked on create: in the output.
    const withResults = await alice.responses.create({ model: 'gpt', input: BIKES, tools, include: asked })
    expect(searchOf(withResults.output).results![0]).toMatchObject({ file_id: file.id, filename: 'faq.txt' })

    // Streamed: the item's events and the final response alike, with or without.
    for (const include of [undefined, asked]) {
      const events: OpenAI.Responses.ResponseStreamEvent[] = []
      for await (const event of await alice.responses.create({ model: 'gpt', input: BIKES, tools, stream: true, ...(include ? { include } : {}) })) events.push(event)
      for (const event of events) expectOpenAISchema('ResponseStreamEvent', event)
      const done = events.find((e): e is OpenAI.Responses.ResponseOutputItemDoneEvent => e.type === 'response.output_item.done' && e.item.type === 'file_search_call')!
      const final = (events.at(-1) as OpenAI.Responses.ResponseCompletedEvent).response
      const shown = [(done.item as OpenAI.Responses.ResponseFileSearchToolCall).results, searchOf(final.output).results]
      if (include) for (const results of shown) expect(results![0]).toMatchObject({ file_id: file.id })
      else expect(shown).toEqual([null, null])
    }
  })

  it('keeps a file_search_call in the conversation as OpenAI does, and streams each citation as response.output_text.annotation.added', async () => {
    const alice = client('alice')
    const { tools } = await faqSearch(alice, 'FAQ for a conversation')
    const conversation = await alice.conversations.create({})

    const response = await alice.responses.create({ model: 'gpt', input: BIKES, tools, conversation: conversation.id })
    expectOpenAISchema('ConversationItemList', (await call('alice', 'GET', `/v1/conversations/${conversation.id}/items`)).body)
    const items = (await alice.conversations.items.list(conversation.id, { order: 'asc' })).data
    expect(items.map((i) => i.type)).toEqual(['message', 'file_search_call', 'message'])
    // The same item as the response's output lists, under the same id; retrievable on its own.
    const search = response.output.find((o) => o.type === 'file_search_call')!
    expect(items[1]).toEqual(search)
    expect(await alice.conversations.items.retrieve(search.id, { conversation_id: conversation.id })).toEqual(search)
    expect(items[2]).toEqual(response.output.find((o) => o.type === 'message'))

    // Streamed in the conversation: the citation is announced after the delta that closes its marker,
    // numbered as the final Response's annotations, at the message's output_index.
    const events: OpenAI.Responses.ResponseStreamEvent[] = []
    for await (const event of await alice.responses.create({ model: 'gpt', input: BIKES, tools, conversation: conversation.id, stream: true })) events.push(event)
    const final = (events.at(-1) as OpenAI.Responses.ResponseCompletedEvent).response
    const messageIndex = final.output.findIndex((o) => o.type === 'message')
    const message = final.output[messageIndex] as OpenAI.Responses.ResponseOutputMessage
    const annotations = (message.content[0] as OpenAI.Responses.ResponseOutputText).annotations
    expect(annotations).toHaveLength(1)
    const added = events.filter((e) => e.type === 'response.output_text.annotation.added') as OpenAI.Responses.ResponseOutputTextAnnotationAddedEvent[]
    expect(added).toEqual(annotations.map((annotation, i) => ({
      type: 'response.output_text.annotation.added', item_id: message.id, output_index: messageIndex, content_index: 0, annotation_index: i, annotation, sequence_number: expect.any(Number),
    })))
    for (const event of events) expectOpenAISchema('ResponseStreamEvent', event)
    const types = events.map((e) => e.type)
    const at = types.indexOf('response.output_text.annotation.added')
    // After the text that cites it, before the text is done.
    const streamed = events.slice(0, at).filter((e) => e.type === 'response.output_text.delta').map((e) => (e as OpenAI.Responses.ResponseTextDeltaEvent).delta).join('')
    expect(streamed.endsWith('[1]: ')).toBe(true)
    expect(at).toBeLessThan(types.indexOf('response.output_text.done'))
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i))
    expect((await alice.conversations.items.list(conversation.id, { order: 'asc' })).data.map((i) => i.type))
      .toEqual(['message', 'file_search_call', 'message', 'message', 'file_search_call', 'message'])
    // The second turn's model call did not get the first search as a tool call.
    expect(upstream.chats().at(-1)!.body.messages.map((m: any) => m.role)).toEqual(['system', 'user', 'assistant', 'user'])
  })
})
