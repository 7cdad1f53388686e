/** /api/v1/chat/threads: threads and messages, turns through the pipeline, streaming, isolation, bad input. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { POSTGRES_ENABLED } from '../store/helpers.ts'
import { sseEvents, startConversations, type ConversationsFixture, type StoreKind } from './helpers.ts'

for (const store of ['embedded', 'postgres'] as StoreKind[]) {
  describe.runIf(store === 'embedded' || POSTGRES_ENABLED)(`chat threads (${store} store)`, () => {
    let f: ConversationsFixture
    beforeAll(async () => { f = await startConversations({ store, noSurface: true }) }, 120_000)
    afterAll(async () => { await f?.close() })

    it('keeps a multi-turn exchange and sends the instructions and the history in order', async () => {
      const created = await f.call('alice', 'POST', '/api/v1/chat/threads', { title: 'Trip' })
      expect(created.status).toBe(201)
      const id = created.body.data.id
      expect(id).toMatch(/^conv_[0-9a-f]{32}$/)

      const first = await f.call('alice', 'POST', `/api/v1/chat/threads/${id}/messages`, { content: 'hello there', model: 'chat-a', instructions: 'Be brief.' })
      expect(first.status).toBe(201)
      expect(first.body.data.reply[0]).toMatchObject({ role: 'assistant', content: 'reply to: hello there', status: 'completed' })
      expect(first.body.data.usage).toMatchObject({ input_tokens: 11, output_tokens: 7 })
      // The message's own length by gpt-4o-mini's tokenizer (o200k_base): reply| to|:| hello| there.
      expect(first.body.data.reply[0].tokens).toBe(5)

      await f.call('alice', 'POST', `/api/v1/chat/threads/${id}/messages`, { content: 'and again', model: 'chat-a', instructions: 'Be brief.' })
      const sent = f.upstreamChats().at(-1)!.body
      expect(sent.messages).toEqual([
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hello there' },
        { role: 'assistant', content: 'reply to: hello there' },
        { role: 'user', content: 'and again' },
      ])

      const read = await f.call('alice', 'GET', `/api/v1/chat/threads/${id}`)
      expect(read.body.data).toMatchObject({ id, title: 'Trip', message_count: 4 })
      expect(read.body.data.messages.map((m: any) => [m.role, m.content])).toEqual([
        ['user', 'hello there'], ['assistant', 'reply to: hello there'], ['user', 'and again'], ['assistant', 'reply to: and again'],
      ])
    })

    it('pages messages with a cursor and lists threads newest activity first with page/per_page', async () => {
      const a = (await f.call('bob', 'POST', '/api/v1/chat/threads', { title: 'A' })).body.data.id
      const b = (await f.call('bob', 'POST', '/api/v1/chat/threads', { title: 'B' })).body.data.id
      for (const text of ['one', 'two', 'three']) await f.call('bob', 'POST', `/api/v1/chat/threads/${a}/messages`, { content: text, model: 'chat-a' })
      const list = await f.call('bob', 'GET', '/api/v1/chat/threads?page=1&per_page=1')
      expect(list.body.data.map((t: any) => t.id)).toEqual([a])
      expect(list.body.meta.pagination).toEqual({ page: 1, per_page: 1, total: 2, total_pages: 2 })
      const second = await f.call('bob', 'GET', '/api/v1/chat/threads?page=2&per_page=1')
      expect(second.body.data.map((t: any) => t.id)).toEqual([b])

      const page1 = await f.call('bob', 'GET', `/api/v1/chat/threads/${a}/messages?limit=4`)
      expect(page1.body.data).toHaveLength(4)
      expect(page1.body.meta).toMatchObject({ has_more: true })
      const page2 = await f.call('bob', 'GET', `/api/v1/chat/threads/${a}/messages?limit=4&after=${page1.body.meta.next_cursor}`)
      expect(page2.body.data.map((m: any) => m.content)).toEqual(['three', 'reply to: three'])
      expect(page2.body.meta.has_more).toBe(false)

      const renamed = await f.call('bob', 'PATCH', `/api/v1/chat/threads/${b}`, { title: 'Renamed' })
      expect(renamed.body.data.title).toBe('Renamed')
      expect((await f.call('bob', 'DELETE', `/api/v1/chat/threads/${b}`)).status).toBe(200)
      expect((await f.call('bob', 'GET', `/api/v1/chat/threads/${b}`)).status).toBe(404)
    })

    it('finds threads by title or by what was said (q), in any case, within the caller\'s own', async () => {
      const ids: Record<string, string> = {}
      for (const [title, said] of [['Budget 2026', 'the printer is broken'], [null, 'Where is the 100% cotton shirt?'], ['Lunch', 'pasta or rice']] as const) {
        const id = (await f.call('carol', 'POST', '/api/v1/chat/threads', title ? { title } : {})).body.data.id
        await f.call('carol', 'POST', `/api/v1/chat/threads/${id}/messages`, { content: said, model: 'chat-a' })
        ids[title ?? 'untitled'] = id
      }
      const find = async (q: string, who: 'carol' | 'bob' = 'carol') => (await f.call(who, 'GET', `/api/v1/chat/threads?q=${encodeURIComponent(q)}`)).body.data.map((t: any) => t.id).sort()
      expect(await find('budget')).toEqual([ids['Budget 2026']])
      expect(await find('PRINTER')).toEqual([ids['Budget 2026']])
      // The assistant's words count too ("reply to: pasta or rice").
      expect(await find('reply to: pasta')).toEqual([ids.Lunch])
      // % and _ are the text itself, not patterns; a JSON key is not what was said.
      expect(await find('100% cotton')).toEqual([ids.untitled])
      expect(await find('%')).toEqual([ids.untitled])
      expect(await find('_')).toEqual([])
      expect(await find('input_text')).toEqual([])
      expect(await find('nothing of the kind')).toEqual([])
      // Another user's threads are not searched.
      expect(await find('budget', 'bob')).toEqual([])
      const paged = await f.call('carol', 'GET', '/api/v1/chat/threads?q=r&per_page=1')
      expect(paged.body.meta.pagination).toMatchObject({ total: 3, total_pages: 3 })
      expect((await f.call('carol', 'GET', `/api/v1/chat/threads?q=${'x'.repeat(201)}`)).status).toBe(400)
    })

    it('streams a reply and stores it when the stream ends', async () => {
      const id = (await f.call('alice', 'POST', '/api/v1/chat/threads', {})).body.data.id
      const res = await fetch(`${f.gw.url}/api/v1/chat/threads/${id}/messages`, {
        method: 'POST', headers: { authorization: 'Bearer conv-alice-key-0123456789abcdef', 'content-type': 'application/json' },
        body: JSON.stringify({ content: 'stream me please', model: 'chat-a', stream: true }),
      })
      expect(res.headers.get('content-type')).toMatch(/text\/event-stream/)
      const events = sseEvents(await res.text())
      const text = events.filter((e) => e.event === 'delta').map((e) => e.data.delta).join('')
      expect(text).toBe('reply to: stream me please')
      const done = events.find((e) => e.event === 'done')!.data
      expect(done.status).toBe('completed')
      expect(done.reply[0]).toMatchObject({ content: 'reply to: stream me please', status: 'completed' })
      // 11 prompt and 7 completion tokens of gpt-4o-mini at the catalog's $0.15 and $0.60 per million.
      expect(done.cost_usd).toBeCloseTo(11 * 0.15e-6 + 7 * 0.6e-6, 12)
      const read = await f.call('alice', 'GET', `/api/v1/chat/threads/${id}`)
      expect(read.body.data.messages.map((m: any) => m.content)).toEqual(['stream me please', 'reply to: stream me please'])
    })

    it('keeps threads to their owners: another user gets a 404, the department admin reads within the department', async () => {
      const mine = (await f.call('alice', 'POST', '/api/v1/chat/threads', { title: 'mine' })).body.data
      const id = mine.id
      for (const who of ['bob', 'carol'] as const) {
        const res = await f.call(who, 'GET', `/api/v1/chat/threads/${id}`)
        expect(res.status).toBe(404)
        expect(res.body.error).toBe('thread_not_found')
        expect((await f.call(who, 'POST', `/api/v1/chat/threads/${id}/messages`, { content: 'x', model: 'chat-a' })).status).toBe(404)
        expect((await f.call(who, 'DELETE', `/api/v1/chat/threads/${id}`)).status).toBe(404)
      }
      expect((await f.call('lead', 'GET', `/api/v1/chat/threads/${id}`)).status).toBe(200)
      expect((await f.call('lead', 'GET', `/api/v1/chat/threads?user_id=${mine.user_id}`)).body.data.some((t: any) => t.id === id)).toBe(true)
      expect((await f.call('bob', 'GET', `/api/v1/chat/threads?user_id=${mine.user_id}`)).status).toBe(403)
      expect((await f.call('admin', 'GET', `/api/v1/chat/threads/${id}`)).status).toBe(200)
    })

    it('refuses bad input with clear errors and keeps nothing of it', async () => {
      const id = (await f.call('alice', 'POST', '/api/v1/chat/threads', {})).body.data.id
      const unknown = await f.call('alice', 'POST', '/api/v1/chat/threads/conv_00000000000000000000000000000000/messages', { content: 'x', model: 'chat-a' })
      expect(unknown.status).toBe(404)
      const huge = await f.call('alice', 'POST', `/api/v1/chat/threads/${id}/messages`, { content: 'x'.repeat(200_001), model: 'chat-a' })
      expect(huge.status).toBe(400)
      expect(huge.body).toMatchObject({ error: 'message_too_long', param: 'content' })
      const toolResult = await f.call('alice', 'POST', `/api/v1/chat/threads/${id}/messages`, { tool_results: [{ call_id: 'call_nope', output: '42' }], model: 'chat-a' })
      expect(toolResult.status).toBe(400)
      expect(toolResult.body.error).toBe('unknown_call_id')
      const noModel = await f.call('alice', 'POST', `/api/v1/chat/threads/${id}/messages`, { content: 'hi' })
      expect(noModel.status).toBe(400)
      const badRoute = await f.call('alice', 'POST', `/api/v1/chat/threads/${id}/messages`, { content: 'hi', model: 'no-such-route' })
      expect(badRoute.status).toBe(404)
      const extra = await f.call('alice', 'POST', `/api/v1/chat/threads/${id}/messages`, { content: 'hi', model: 'chat-a', colour: 'red' })
      expect(extra.status).toBe(400)
      expect(extra.body).toMatchObject({ success: false, error: 'unknown_parameter', param: 'colour' })
      const read = await f.call('alice', 'GET', `/api/v1/chat/threads/${id}`)
      expect(read.body.data.messages).toEqual([])
      expect(read.body.data.message_count).toBe(0)
    })
  })
}
