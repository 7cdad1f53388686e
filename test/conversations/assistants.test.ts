/**
 * /api/v1/assistants: CRUD with page/per_page, department scope and permissions; an assistant used
 * as `model: assistant/<name>` on /v1/chat/completions and /v1/responses and bound to a thread;
 * history truncated at its context window, the instructions kept.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectOpenAISchema } from '../helpers/openai-schema.ts'
import { startConversations, type ConversationsFixture } from './helpers.ts'

describe('assistants', () => {
  let f: ConversationsFixture
  beforeAll(async () => { f = await startConversations() }, 120_000)
  afterAll(async () => { await f?.close() })

  const weather = { type: 'function', function: { name: 'get_weather', description: 'Weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }

  it('lets department admins manage their department\'s assistants, and users list and read those they may use', async () => {
    const created = await f.call('lead', 'POST', '/api/v1/assistants', { name: 'helper', route: 'chat-a', instructions: 'You help researchers.', params: { temperature: 0.2 }, tools: [weather] })
    expect(created.status).toBe(201)
    expect(created.body.data).toMatchObject({ name: 'helper', route: 'chat-a', dept_scope: 'research', params: { temperature: 0.2 } })
    const id = created.body.data.id

    // A department admin cannot make a global assistant or one of another department.
    expect((await f.call('lead', 'POST', '/api/v1/assistants', { name: 'global', route: 'chat-a', dept_scope: null })).status).toBe(403)
    expect((await f.call('lead', 'POST', '/api/v1/assistants', { name: 'theirs', route: 'chat-a', dept_scope: 'sales' })).status).toBe(403)
    // Users may not manage assistants at all.
    expect((await f.call('alice', 'POST', '/api/v1/assistants', { name: 'mine', route: 'chat-a' })).status).toBe(403)
    expect((await f.call('alice', 'PATCH', `/api/v1/assistants/${id}`, { instructions: 'x' })).status).toBe(403)

    const global = await f.call('admin', 'POST', '/api/v1/assistants', { name: 'everyone', route: 'chat-b', dept_scope: null })
    expect(global.status).toBe(201)
    const sales = await f.call('admin', 'POST', '/api/v1/assistants', { name: 'seller', route: 'chat-a', dept_scope: 'sales' })

    const aliceList = await f.call('alice', 'GET', '/api/v1/assistants?per_page=10')
    expect(aliceList.body.data.map((a: any) => a.name).sort()).toEqual(['everyone', 'helper'])
    expect(aliceList.body.meta.pagination).toEqual({ page: 1, per_page: 10, total: 2, total_pages: 1 })
    const carolList = await f.call('carol', 'GET', '/api/v1/assistants')
    expect(carolList.body.data.map((a: any) => a.name).sort()).toEqual(['everyone', 'seller'])
    expect((await f.call('carol', 'GET', `/api/v1/assistants/${id}`)).status).toBe(404)
    expect((await f.call('alice', 'GET', `/api/v1/assistants/${id}`)).body.data.name).toBe('helper')

    const adminPage = await f.call('admin', 'GET', '/api/v1/assistants?page=2&per_page=2')
    expect(adminPage.body.meta.pagination).toEqual({ page: 2, per_page: 2, total: 3, total_pages: 2 })
    expect(adminPage.body.data).toHaveLength(1)

    const patched = await f.call('lead', 'PATCH', `/api/v1/assistants/${id}`, { description: 'Research helper' })
    expect(patched.body.data.description).toBe('Research helper')
    expect((await f.call('lead', 'DELETE', `/api/v1/assistants/${sales.body.data.id}`)).status).toBe(404)
  })

  it('refuses an invalid assistant with the field at fault', async () => {
    expect((await f.call('admin', 'POST', '/api/v1/assistants', { name: 'x', route: 'no-such-route' })).body).toMatchObject({ success: false, error: 'unknown_route', param: 'route' })
    expect((await f.call('admin', 'POST', '/api/v1/assistants', { name: 'x', route: 'chat-a', dept_scope: 'nowhere' })).body).toMatchObject({ error: 'unknown_department', param: 'dept_scope' })
    const missing = await f.call('admin', 'POST', '/api/v1/assistants', { route: 'chat-a' })
    expect(missing.status).toBe(400)
    expect(missing.body).toMatchObject({ success: false, data: null, error: 'invalid_value', param: 'name' })
    const hot = await f.call('admin', 'POST', '/api/v1/assistants', { name: 'x', route: 'chat-a', params: { temperature: 9 } })
    expect(hot.status).toBe(400)
    expect(hot.body).toMatchObject({ error: 'invalid_value', param: 'params.temperature' })
    expect((await f.call('admin', 'POST', '/api/v1/assistants', { name: 'x', route: 'chat-a', colour: 'red' })).body).toMatchObject({ error: 'unknown_parameter', param: 'colour' })
    expect((await f.call('admin', 'GET', '/api/v1/assistants?per_page=1000')).body).toMatchObject({ error: 'invalid_value', param: 'query.per_page' })
    expect((await f.call('admin', 'POST', '/api/v1/assistants', { name: 'x', route: 'chat-a', context_policy: { strategy: 'forget' } })).body).toMatchObject({ param: 'context_policy.strategy' })
    // An error about no particular field names none.
    expect((await f.call('alice', 'POST', '/api/v1/assistants', { name: 'x', route: 'chat-a' })).body).not.toHaveProperty('param')
    expect((await f.call('admin', 'POST', '/api/v1/assistants', { name: 'helper', route: 'chat-a', dept_scope: 'research' })).status).toBe(409)
  })

  it('applies an assistant named as the model on /v1/chat/completions and /v1/responses', async () => {
    const alice = f.client('alice')
    const completion = await alice.chat.completions.create({ model: 'assistant/helper', messages: [{ role: 'user', content: 'hi' }] })
    expectOpenAISchema('CreateChatCompletionResponse', completion)
    let sent = f.upstreamChats().at(-1)!.body
    expect(sent.model).toBe('gpt-4o-mini')
    expect(sent.messages[0]).toEqual({ role: 'system', content: 'You help researchers.' })
    expect(sent.temperature).toBe(0.2)
    expect(sent.tools[0].function.name).toBe('get_weather')

    const response = await alice.responses.create({ model: 'assistant/helper', input: 'hello' })
    expectOpenAISchema('Response', response)
    // The model that answered, as on /v1/chat/completions.
    expect(response.model).toBe(completion.model)
    sent = f.upstreamChats().at(-1)!.body
    expect(sent.messages).toEqual([{ role: 'system', content: 'You help researchers.' }, { role: 'user', content: 'hello' }])

    // Carol (sales) cannot use research's assistant.
    await expect(f.client('carol').chat.completions.create({ model: 'assistant/helper', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 404 })
    await expect(f.client('carol').responses.create({ model: 'assistant/helper', input: 'hi' })).rejects.toMatchObject({ status: 404 })
  })

  it('drops the oldest turns at the assistant\'s window, counting real tokens, and never the instructions', async () => {
    const tight = await f.call('lead', 'POST', '/api/v1/assistants', {
      name: 'tight', route: 'chat-a', instructions: 'Keep me always.', context_policy: { strategy: 'truncate', max_context_tokens: 400 }, params: { max_tokens: 100 },
    })
    const thread = (await f.call('alice', 'POST', '/api/v1/chat/threads', { assistant_id: tight.body.data.id })).body.data.id
    const long = (n: number) => `message ${n} ` + 'lorem ipsum dolor sit amet '.repeat(10)
    for (let n = 1; n <= 6; n++) {
      const res = await f.call('alice', 'POST', `/api/v1/chat/threads/${thread}/messages`, { content: long(n) })
      expect(res.status).toBe(201)
    }
    const sent = f.upstreamChats().at(-1)!.body.messages as { role: string; content: string }[]
    expect(sent[0]).toEqual({ role: 'system', content: 'Keep me always.' })
    expect(sent.at(-1)!.content).toBe(long(6))
    expect(sent[1].role).toBe('user')
    // The window holds the newest turns only: the first messages are gone.
    expect(sent.some((m) => m.content === long(1))).toBe(false)
    expect(sent.length).toBeLessThan(12)
    // The whole thread is still kept.
    expect((await f.call('alice', 'GET', `/api/v1/chat/threads/${thread}`)).body.data.message_count).toBe(12)

    // A message that cannot fit even alone is refused, and nothing is kept.
    const huge = await f.call('alice', 'POST', `/api/v1/chat/threads/${thread}/messages`, { content: 'word '.repeat(2000) })
    expect(huge.status).toBe(400)
    expect(huge.body.error).toBe('context_length_exceeded')
    expect((await f.call('alice', 'GET', `/api/v1/chat/threads/${thread}`)).body.data.message_count).toBe(12)
  })
})
