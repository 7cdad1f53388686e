/**
 * /v1/responses and /v1/conversations through the official openai SDK: multi-turn with
 * previous_response_id and with a conversation (OpenAI and Anthropic upstreams), the event stream,
 * storage, function tools, isolation, a client abort, bad input. Answers are checked against
 * OpenAI's published schemas.
 */
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectOpenAISchema } from '../helpers/openai-schema.ts'
import { startUpstream, type MockUpstream } from '../helpers/upstream.ts'
import { message, sendMessage, sendStream, streamEvents, text as textBlock } from '../providers/anthropic/anthropic-upstream.ts'
import { POSTGRES_ENABLED } from '../store/helpers.ts'
import { startConversations, type ConversationsFixture, type StoreKind } from './helpers.ts'

/** An Anthropic upstream that answers `claude says: <last user text>`, streamed when asked. */
async function startAnthropicUpstream(): Promise<MockUpstream> {
  return startUpstream(async (req, res) => {
    const last = [...req.body.messages].reverse().find((m: any) => m.role === 'user')
    const content = typeof last.content === 'string' ? last.content : last.content.at(-1).text
    const answer = `claude says: ${content}`
    if (req.body.stream) await sendStream(res, streamEvents({ text: answer.split(/(?<= )/) }))
    else sendMessage(res, message([textBlock(answer)]))
  })
}

for (const store of ['embedded', 'postgres'] as StoreKind[]) {
  describe.runIf(store === 'embedded' || POSTGRES_ENABLED)(`Responses and Conversations APIs (${store} store)`, () => {
    let f: ConversationsFixture
    let anthropic: MockUpstream
    let alice: OpenAI
    beforeAll(async () => {
      anthropic = await startAnthropicUpstream()
      f = await startConversations({
        store,
        providers: `  claude: { plugin: anthropic, api_key: sk-ant-test, base_url: '${anthropic.url}' }`,
        routes: `  - { model: claude, targets: [ { provider: claude, model: claude-sonnet-4-6 } ] }`,
        upstreamDelayMs: 0,
      })
      alice = f.client('alice')
    }, 120_000)
    afterAll(async () => {
      await f?.close()
      await anthropic?.close()
    })

    it('continues a response with previous_response_id, sending the instructions and the history in order (OpenAI upstream)', async () => {
      const first = await alice.responses.create({ model: 'chat-a', instructions: 'Answer in French.', input: 'Hello' })
      expectOpenAISchema('Response', first)
      expect(first.status).toBe('completed')
      expect(first.output_text).toBe('reply to: Hello')
      expect(first.usage).toMatchObject({ input_tokens: 11, output_tokens: 7, total_tokens: 18 })
      const second = await alice.responses.create({ model: 'chat-a', instructions: 'Answer in French.', previous_response_id: first.id, input: 'And goodbye' })
      expect(second.previous_response_id).toBe(first.id)
      expect(f.upstreamChats().at(-1)!.body.messages).toEqual([
        { role: 'system', content: 'Answer in French.' },
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: 'reply to: Hello' },
        { role: 'user', content: 'And goodbye' },
      ])
      const again = await alice.responses.retrieve(second.id)
      expectOpenAISchema('Response', again)
      expect(again).toMatchObject({ id: second.id, status: 'completed', previous_response_id: first.id })
      expect((again.output[0] as any).content[0].text).toBe('reply to: And goodbye')
      const inputs = await alice.responses.inputItems.list(second.id)
      expectOpenAISchema('ResponseItemList', { object: 'list', data: inputs.data, first_id: inputs.data[0]?.id, last_id: inputs.data.at(-1)?.id, has_more: false })
      expect(inputs.data.map((i: any) => i.content[0].text)).toEqual(['And goodbye'])
    })

    it('sends reasoning.effort to Claude as thinking at that effort (adaptive on Claude 4.6), as LiteLLM does', async () => {
      const response = await alice.responses.create({ model: 'claude', reasoning: { effort: 'medium' }, input: 'Think about it.' })
      expect(response.output_text).toBe('claude says: Think about it.')
      expect(response.reasoning).toMatchObject({ effort: 'medium' })
      expect(anthropic.requests.at(-1)!.body).toMatchObject({ thinking: { type: 'adaptive' }, output_config: { effort: 'medium' } })
    })

    it('translates a conversation both ways for an Anthropic upstream', async () => {
      const conversation = await alice.conversations.create({ metadata: { topic: 'greetings' }, items: [{ type: 'message', role: 'user', content: 'My name is Alice.' }] })
      expectOpenAISchema('ConversationResource', conversation)
      const r1 = await alice.responses.create({ model: 'claude', conversation: conversation.id, instructions: 'Be kind.', input: 'What is my name?' })
      expectOpenAISchema('Response', r1)
      expect(r1.output_text).toBe('claude says: What is my name?')
      expect((r1 as any).conversation).toEqual({ id: conversation.id })
      await alice.responses.create({ model: 'claude', conversation: conversation.id, input: 'Thanks' })
      const sent = anthropic.requests.at(-1)!.body
      expect(sent.messages).toEqual([
        { role: 'user', content: [{ type: 'text', text: 'My name is Alice.' }, { type: 'text', text: 'What is my name?' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'claude says: What is my name?' }] },
        { role: 'user', content: [{ type: 'text', text: 'Thanks' }] },
      ].map((m) => ({ ...m, content: expect.anything() })))
      expect(JSON.stringify(sent.messages)).toContain('My name is Alice.')
      const items = await alice.conversations.items.list(conversation.id, { order: 'asc' })
      expectOpenAISchema('ConversationItemList', { object: 'list', data: items.data, first_id: items.data[0].id, last_id: items.data.at(-1)!.id, has_more: false })
      expect(items.data.map((i: any) => [i.role, i.content[0].text])).toEqual([
        ['user', 'My name is Alice.'], ['user', 'What is my name?'], ['assistant', 'claude says: What is my name?'], ['user', 'Thanks'], ['assistant', 'claude says: Thanks'],
      ])
      // The same record is a chat thread of the management API.
      const thread = await f.call('alice', 'GET', `/api/v1/chat/threads/${conversation.id}`)
      expect(thread.body.data.messages).toHaveLength(5)
      const updated = await alice.conversations.update(conversation.id, { metadata: { topic: 'names' } })
      expect(updated.metadata).toEqual({ topic: 'names' })
      const one = await alice.conversations.items.retrieve(items.data[0].id!, { conversation_id: conversation.id })
      expectOpenAISchema('ConversationItem', one)
      await alice.conversations.items.delete(items.data[0].id!, { conversation_id: conversation.id })
      expect((await alice.conversations.items.list(conversation.id)).data).toHaveLength(4)
      const deleted = await alice.conversations.delete(conversation.id)
      expectOpenAISchema('DeletedConversationResource', deleted)
      await expect(alice.conversations.retrieve(conversation.id)).rejects.toMatchObject({ status: 404 })
    })

    it('streams the Responses event stream and stores the answer', async () => {
      const stream = alice.responses.stream({ model: 'chat-a', input: 'stream this now' })
      const types: string[] = []
      const deltas: string[] = []
      for await (const event of stream) {
        expectOpenAISchema('ResponseStreamEvent', event)
        types.push(event.type)
        if (event.type === 'response.output_text.delta') deltas.push(event.delta)
      }
      const final = await stream.finalResponse()
      expect(deltas.join('')).toBe('reply to: stream this now')
      expect(types[0]).toBe('response.created')
      expect(types).toEqual(expect.arrayContaining(['response.in_progress', 'response.output_item.added', 'response.content_part.added', 'response.output_text.done', 'response.content_part.done', 'response.output_item.done']))
      expect(types.at(-1)).toBe('response.completed')
      expect(final.output_text).toBe('reply to: stream this now')
      const stored = await alice.responses.retrieve(final.id)
      expect((stored.output[0] as any).content[0].text).toBe('reply to: stream this now')
      expect(stored.usage?.output_tokens).toBe(7)
    })

    it('streams on an Anthropic upstream too', async () => {
      const stream = alice.responses.stream({ model: 'claude', input: 'hi claude' })
      const final = await stream.finalResponse()
      expect(final.output_text).toBe('claude says: hi claude')
      expectOpenAISchema('Response', final)
    })

    it('returns function calls and takes their outputs; a result for an unknown call is refused', async () => {
      const tools = [{ type: 'function' as const, name: 'get_weather', description: 'Weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }]
      const first = await alice.responses.create({ model: 'chat-a', input: 'What is the weather in Paris?', tools })
      expectOpenAISchema('Response', first)
      const call = first.output.find((o) => o.type === 'function_call') as any
      expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '{"city":"Paris"}', call_id: 'call_weather_1' })
      expect(f.upstreamChats().at(-1)!.body.tools[0]).toMatchObject({ type: 'function', function: { name: 'get_weather' } })

      const bad = alice.responses.create({ model: 'chat-a', previous_response_id: first.id, tools, input: [{ type: 'function_call_output', call_id: 'call_unknown', output: 'sunny' }] })
      await expect(bad).rejects.toMatchObject({ status: 400, code: 'unknown_call_id' })

      const second = await alice.responses.create({ model: 'chat-a', previous_response_id: first.id, tools, input: [{ type: 'function_call_output', call_id: call.call_id, output: 'sunny' }] })
      expect(second.output_text).toBe('tool said: sunny')
      const sent = f.upstreamChats().at(-1)!.body.messages
      expect(sent.slice(-2)).toEqual([
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_weather_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_weather_1', content: 'sunny' },
      ])
    })

    it('keeps responses and conversations to their owners (404 for others), and deletes on request', async () => {
      const mine = await alice.responses.create({ model: 'chat-a', input: 'secret' })
      const conversation = await alice.conversations.create({})
      for (const who of ['bob', 'carol'] as const) {
        const other = f.client(who)
        await expect(other.responses.retrieve(mine.id)).rejects.toMatchObject({ status: 404, code: 'response_not_found' })
        await expect(other.responses.create({ model: 'chat-a', previous_response_id: mine.id, input: 'x' })).rejects.toMatchObject({ status: 404 })
        await expect(other.conversations.retrieve(conversation.id)).rejects.toMatchObject({ status: 404 })
        await expect(other.responses.create({ model: 'chat-a', conversation: conversation.id, input: 'x' })).rejects.toMatchObject({ status: 404 })
      }
      await alice.responses.delete(mine.id)
      await expect(alice.responses.retrieve(mine.id)).rejects.toMatchObject({ status: 404 })
    })

    it('does not keep a response with store: false, and refuses bad input without keeping anything', async () => {
      const unstored = await alice.responses.create({ model: 'chat-a', input: 'forget me', store: false })
      await expect(alice.responses.retrieve(unstored.id)).rejects.toMatchObject({ status: 404 })
      const conversation = await alice.conversations.create({})
      await expect(alice.responses.create({ model: 'chat-a', conversation: conversation.id, input: 'x'.repeat(200_001) })).rejects.toMatchObject({ status: 400, code: 'message_too_long', param: 'input' })
      await expect(alice.responses.create({ model: 'chat-a', previous_response_id: 'resp_nope', input: 'x' })).rejects.toMatchObject({ status: 404, param: 'previous_response_id' })
      await expect(alice.responses.create({ model: 'no-such-model', conversation: conversation.id, input: 'x' })).rejects.toMatchObject({ status: 404 })
      await expect(alice.responses.create({ model: 'chat-a', conversation: conversation.id, input: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }] } as any] })).rejects.toMatchObject({ status: 400, code: 'unsupported_content' })
      await expect(alice.responses.create({ model: 'chat-a', conversation: conversation.id, input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'ftp://x/y.png', detail: 'auto' }] }] })).rejects.toMatchObject({ status: 400, code: 'invalid_image_url' })
      await expect(alice.responses.create({ model: 'chat-a', input: 'x', tools: [{ type: 'web_search' } as any] })).rejects.toMatchObject({ status: 400, code: 'unsupported_tool' })
      expect((await alice.conversations.items.list(conversation.id)).data).toEqual([])
    })

    it('keeps what arrived, marked incomplete, when the client aborts a stream', async () => {
      f.upstream.handle(async (req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        const chunk = (content: string) => `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 1, model: req.body.model, choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`
        res.write(chunk('partial '))
        res.write(chunk('answer '))
        // ...and never finishes until the gateway goes away.
        await new Promise((resolve) => res.once('close', resolve))
      })
      try {
        const conversation = await alice.conversations.create({})
        const controller = new AbortController()
        const stream = await alice.responses.create({ model: 'chat-a', conversation: conversation.id, input: 'tell me slowly', stream: true }, { signal: controller.signal })
        let text = ''
        try {
          for await (const event of stream) {
            if (event.type === 'response.output_text.delta') text += event.delta
            if (text === 'partial answer ') controller.abort()
          }
        } catch { /* aborted */ }
        let items: any[] = []
        for (let i = 0; i < 100 && items.length < 2; i++) {
          await new Promise((r) => setTimeout(r, 50))
          items = (await alice.conversations.items.list(conversation.id, { order: 'asc' })).data
        }
        expect(items.map((i) => [i.role, i.status, i.content[0].text])).toEqual([['user', 'completed', 'tell me slowly'], ['assistant', 'incomplete', 'partial answer ']])
      } finally {
        const { openAIUpstreamHandler } = await import('./helpers.ts')
        f.upstream.handle(openAIUpstreamHandler())
      }
    })
  })
}
