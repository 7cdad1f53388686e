/**
 * /v1/responses and /v1/conversations as a demanding user of the official openai SDK sees them:
 * the exact event stream and its sequence numbers, the stream() helper, structured output with
 * responses.parse and a zod schema, pagination with the SDK's auto-paging, and typed errors.
 * Every answer is checked against OpenAI's published schema.
 */
import OpenAI from 'openai'
import { zodTextFormat } from 'openai/helpers/zod'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { Tokenizer } from '../../plugin-api/index.ts'
import { capability } from '../helpers/gateway.ts'
import { expectOpenAISchema } from '../helpers/openai-schema.ts'
import { waitFor } from '../helpers/wait.ts'
import { openAIUpstreamHandler, startConversations, type ConversationsFixture } from './helpers.ts'
import type { RecordedRequest } from '../helpers/upstream.ts'
import type http from 'node:http'

/** An upstream that streams two words, then breaks off (`break`), stops at the token limit (`length`) or is stopped by its content filter. */
function brokenStream(end: 'break' | 'length' | 'content_filter') {
  return async (req: RecordedRequest, res: http.ServerResponse): Promise<void> => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    const chunk = (content: string, finish: string | null = null) =>
      `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 1, model: req.body.model, choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`
    res.write(chunk('partial '))
    await new Promise((r) => setTimeout(r, 30))
    res.write(chunk('answer', end === 'break' ? null : end))
    await new Promise((r) => setTimeout(r, 30))
    if (end !== 'break') res.end('data: [DONE]\n\n')
    else res.destroy()
  }
}

const WEATHER = { type: 'function' as const, name: 'get_weather', description: 'Weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false }, strict: true }

describe('Responses and Conversations APIs through the openai SDK', () => {
  let f: ConversationsFixture
  let alice: OpenAI
  beforeAll(async () => {
    f = await startConversations({
      providers: '  offline: { plugin: mock }',
      routes: '  - { model: structured, targets: [ { provider: offline } ] }\n  - { model: admins-only, when: { roles: [admin] }, targets: [ { provider: up, model: gpt-4o } ] }',
    })
    alice = f.client('alice')
  }, 120_000)
  afterAll(async () => { await f?.close() })

  it('answers a plain create with the Response object, its instructions and output_text', async () => {
    const response = await alice.responses.create({ model: 'chat-a', instructions: 'Be brief.', input: 'Hello there' })
    expectOpenAISchema('Response', response)
    expect(response).toMatchObject({ object: 'response', status: 'completed', instructions: 'Be brief.', model: 'gpt-4o-mini', store: true, text: { format: { type: 'text' } } })
    expect(response.output_text).toBe('reply to: Hello there')
    expect(response.output[0]).toMatchObject({ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'reply to: Hello there', annotations: [] }] })
  })

  it('streams the events in the documented order, numbered from 0 without a gap', async () => {
    const stream = await alice.responses.create({ model: 'chat-a', input: 'count my words', stream: true })
    const events: OpenAI.Responses.ResponseStreamEvent[] = []
    for await (const event of stream) {
      expectOpenAISchema('ResponseStreamEvent', event)
      events.push(event)
    }
    const types = events.map((e) => e.type)
    const deltas = types.filter((t) => t === 'response.output_text.delta').length
    expect(deltas).toBeGreaterThan(1)
    expect(types).toEqual([
      'response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added',
      ...Array(deltas).fill('response.output_text.delta'),
      'response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed',
    ])
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i))
    const created = events[0] as OpenAI.Responses.ResponseCreatedEvent
    expect(created.response.status).toBe('in_progress')
    const completed = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent
    expect(completed.response.id).toBe(created.response.id)
    const itemId = (events[2] as OpenAI.Responses.ResponseOutputItemAddedEvent).item.id
    for (const e of events.slice(3, -1)) expect((e as { item_id?: string; item?: { id: string } }).item_id ?? (e as { item: { id: string } }).item.id).toBe(itemId)
    // The SDK adds output_text to what it retrieves.
    expect(await alice.responses.retrieve(completed.response.id)).toEqual({ ...completed.response, output_text: 'reply to: count my words' })
  })

  it('ends a stream the upstream breaks off with response.failed, numbered on, and keeps the response failed', async () => {
    f.upstream.handle(brokenStream('break'))
    try {
      const stream = await alice.responses.create({ model: 'chat-a', input: 'break off', stream: true })
      const events: OpenAI.Responses.ResponseStreamEvent[] = []
      for await (const event of stream) {
        expectOpenAISchema('ResponseStreamEvent', event)
        events.push(event)
      }
      expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i))
      const last = events.at(-1) as OpenAI.Responses.ResponseFailedEvent
      expect(last.type).toBe('response.failed')
      expect(last.response).toMatchObject({ status: 'failed', error: { code: 'server_error' } })
      expect((await alice.responses.retrieve(last.response.id)).status).toBe('failed')
      // The stream() helper's final response is the failed one, not a snapshot left in_progress.
      const final = await alice.responses.stream({ model: 'chat-a', input: 'break off again' }).finalResponse()
      expect(final.status).toBe('failed')
    } finally {
      f.upstream.handle(openAIUpstreamHandler())
    }
  })

  it('reports an answer the provider\'s content filter stopped as incomplete, reason content_filter, streamed or not', async () => {
    f.upstream.handle(brokenStream('content_filter'))
    try {
      const final = await alice.responses.stream({ model: 'chat-a', input: 'filter me' }).finalResponse()
      expect(final).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'content_filter' } })
      f.upstream.handle((req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: req.body.model, choices: [{ index: 0, message: { role: 'assistant', content: 'partial' }, finish_reason: 'content_filter' }], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } }))
      })
      const whole = await alice.responses.create({ model: 'chat-a', input: 'filter me' })
      expectOpenAISchema('Response', whole)
      expect(whole).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'content_filter' } })
    } finally {
      f.upstream.handle(openAIUpstreamHandler())
    }
  })

  it('marks the item of an answer cut at max_output_tokens incomplete in output_item.done, as in response.incomplete', async () => {
    f.upstream.handle(brokenStream('length'))
    try {
      const stream = await alice.responses.create({ model: 'chat-a', input: 'cut me', max_output_tokens: 16, stream: true })
      const events: OpenAI.Responses.ResponseStreamEvent[] = []
      for await (const event of stream) events.push(event)
      const done = events.find((e) => e.type === 'response.output_item.done') as OpenAI.Responses.ResponseOutputItemDoneEvent
      const last = events.at(-1) as OpenAI.Responses.ResponseIncompleteEvent
      expect(last).toMatchObject({ type: 'response.incomplete', response: { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } } })
      expect(done.item).toEqual(last.response.output[0])
      expect((done.item as OpenAI.Responses.ResponseOutputMessage).status).toBe('incomplete')
    } finally {
      f.upstream.handle(openAIUpstreamHandler())
    }
  })

  it('gives the stream() helper its text events and finalResponse()', async () => {
    const stream = alice.responses.stream({ model: 'chat-a', instructions: 'Be brief.', input: 'stream please' })
    let text = ''
    stream.on('response.output_text.delta', (e) => { text += e.delta })
    const final = await stream.finalResponse()
    expectOpenAISchema('Response', final)
    expect(text).toBe('reply to: stream please')
    expect(final.output_text).toBe('reply to: stream please')
    expect(final.instructions).toBe('Be brief.')
  })

  it('streams a function call, then takes its output with previous_response_id', async () => {
    const stream = await alice.responses.create({ model: 'chat-a', input: 'What is the weather in Paris?', tools: [WEATHER], stream: true })
    const events: OpenAI.Responses.ResponseStreamEvent[] = []
    for await (const event of stream) {
      expectOpenAISchema('ResponseStreamEvent', event)
      events.push(event)
    }
    expect(events.map((e) => e.type)).toEqual([
      'response.created', 'response.in_progress', 'response.output_item.added', 'response.function_call_arguments.delta',
      'response.function_call_arguments.done', 'response.output_item.done', 'response.completed',
    ])
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i))
    const first = (events.at(-1) as OpenAI.Responses.ResponseCompletedEvent).response
    expect(first.tools).toEqual([WEATHER])
    const call = first.output[0] as OpenAI.Responses.ResponseFunctionToolCall
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '{"city":"Paris"}', call_id: 'call_weather_1', status: 'completed' })
    const second = await alice.responses.create({ model: 'chat-a', previous_response_id: first.id, tools: [WEATHER], input: [{ type: 'function_call_output', call_id: call.call_id, output: '21C' }] })
    expect(second.output_text).toBe('tool said: 21C')
    expect(second.previous_response_id).toBe(first.id)
  })

  it('streams text then parallel tool calls item after item: each done before the next is added, numbered as the final output lists them', async () => {
    f.upstream.handle(async (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      const send = (delta: unknown, finish: string | null = null) =>
        res.write(`data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 1, model: req.body.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`)
      send({ role: 'assistant', content: 'Let me look ' })
      send({ content: 'both up.' })
      send({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } }] })
      send({ tool_calls: [{ index: 0, function: { arguments: '{"city":"Oslo"}' } }] })
      send({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'get_weather', arguments: '{"city":' } }] })
      send({ tool_calls: [{ index: 1, function: { arguments: '"Rome"}' } }] })
      send({}, 'tool_calls')
      res.end('data: [DONE]\n\n')
    })
    try {
      const events: OpenAI.Responses.ResponseStreamEvent[] = []
      for await (const event of await alice.responses.create({ model: 'chat-a', input: 'Weather in Oslo and Rome?', tools: [WEATHER], stream: true })) {
        expectOpenAISchema('ResponseStreamEvent', event)
        events.push(event)
      }
      const short = events.map((e) => `${e.type.replace('response.', '')}${'output_index' in e ? `@${e.output_index}` : ''}`)
      expect(short).toEqual([
        'created', 'in_progress',
        'output_item.added@0', 'content_part.added@0', 'output_text.delta@0', 'output_text.delta@0', 'output_text.done@0', 'content_part.done@0', 'output_item.done@0',
        'output_item.added@1', 'function_call_arguments.delta@1', 'function_call_arguments.done@1', 'output_item.done@1',
        'output_item.added@2', 'function_call_arguments.delta@2', 'function_call_arguments.delta@2', 'function_call_arguments.done@2', 'output_item.done@2',
        'completed',
      ])
      const final = (events.at(-1) as OpenAI.Responses.ResponseCompletedEvent).response
      const done = events.filter((e): e is OpenAI.Responses.ResponseOutputItemDoneEvent => e.type === 'response.output_item.done')
      expect(done.map((e) => e.item)).toEqual(final.output)
      expect(final.output.map((o) => (o as { status?: string }).status)).toEqual(['completed', 'completed', 'completed'])
      expect(final.output.slice(1)).toMatchObject([{ call_id: 'call_a', arguments: '{"city":"Oslo"}' }, { call_id: 'call_b', arguments: '{"city":"Rome"}' }])
      // The stream() helper builds the same response, and it is kept as streamed.
      const helper = await alice.responses.stream({ model: 'chat-a', input: 'Weather in Oslo and Rome?', tools: [WEATHER] }).finalResponse()
      expect(helper.output.map((o) => o.type)).toEqual(['message', 'function_call', 'function_call'])
      expect(helper.output_text).toBe('Let me look both up.')
      expect((await alice.responses.retrieve(final.id)).output).toEqual(final.output)
    } finally {
      f.upstream.handle(openAIUpstreamHandler())
    }
  })

  it('offers the model only the tools tool_choice allowed_tools lists, as it likes (auto) or at least one (required), and echoes the choice', async () => {
    const clock = { type: 'function' as const, name: 'get_time', description: 'Time in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false }, strict: true }
    const required = { type: 'allowed_tools' as const, mode: 'required' as const, tools: [{ type: 'function', name: 'get_time' }] }
    const response = await alice.responses.create({ model: 'chat-a', input: 'what now?', tools: [WEATHER, clock], tool_choice: required })
    expectOpenAISchema('Response', response)
    expect(response.tool_choice).toEqual(required)
    expect(response.tools.map((t) => (t as { name: string }).name)).toEqual(['get_weather', 'get_time'])
    let sent = f.upstreamChats().at(-1)!.body
    expect(sent.tools.map((t: { function: { name: string } }) => t.function.name)).toEqual(['get_time'])
    expect(sent.tool_choice).toBe('required')
    await alice.responses.create({ model: 'chat-a', input: 'what now?', tools: [WEATHER, clock], tool_choice: { type: 'allowed_tools', mode: 'auto', tools: [{ type: 'function', name: 'get_weather' }] } })
    sent = f.upstreamChats().at(-1)!.body
    expect(sent.tools.map((t: { function: { name: string } }) => t.function.name)).toEqual(['get_weather'])
    expect(sent.tool_choice).toBe('auto')
    // A tool it lists that `tools` does not have, or no mode, is a 400 naming it (as a function tool_choice is).
    const unknown = await alice.responses.create({ model: 'chat-a', input: 'x', tools: [WEATHER], tool_choice: { ...required, tools: [{ type: 'function', name: 'get_time' }] } }).catch((e: unknown) => e)
    expect(unknown).toBeInstanceOf(OpenAI.BadRequestError)
    expect(unknown).toMatchObject({ param: 'tool_choice.tools[0].name', code: 'invalid_tool_choice' })
    const noMode = await alice.responses.create({ model: 'chat-a', input: 'x', tools: [WEATHER], tool_choice: { type: 'allowed_tools', tools: [{ type: 'function', name: 'get_weather' }] } as unknown as typeof required }).catch((e: unknown) => e)
    expect(noMode).toMatchObject({ status: 400, param: 'tool_choice.mode' })
  })

  it('chains with previous_response_id without carrying the earlier instructions', async () => {
    const first = await alice.responses.create({ model: 'chat-a', instructions: 'Speak French.', input: 'one' })
    const second = await alice.responses.create({ model: 'chat-a', previous_response_id: first.id, input: 'two' })
    expect(second.instructions).toBeNull()
    expect(f.upstreamChats().at(-1)!.body.messages).toEqual([
      { role: 'user', content: 'one' }, { role: 'assistant', content: 'reply to: one' }, { role: 'user', content: 'two' },
    ])
  })

  it('takes a previous response\'s output back as input (history kept by the client, store: false)', async () => {
    const first = await alice.responses.create({ model: 'chat-a', input: 'What is the weather in Lyon?', tools: [WEATHER], store: false })
    const call = first.output[0] as OpenAI.Responses.ResponseFunctionToolCall
    const second = await alice.responses.create({
      model: 'chat-a', tools: [WEATHER], store: false,
      input: [{ role: 'user', content: 'What is the weather in Lyon?' }, ...(first.output as OpenAI.Responses.ResponseInputItem[]), { type: 'function_call_output', call_id: call.call_id, output: '18C' }],
    })
    expect(second.output_text).toBe('tool said: 18C')
    const reply = await alice.responses.create({ model: 'chat-a', store: false, input: [...(second.output as OpenAI.Responses.ResponseInputItem[]), { role: 'user', content: 'thanks' }] })
    expect(reply.output_text).toBe('reply to: thanks')
    expect(f.upstreamChats().at(-1)!.body.messages).toEqual([{ role: 'assistant', content: 'tool said: 18C' }, { role: 'user', content: 'thanks' }])
  })

  it('passes reasoning.effort to the model and shows it on the response', async () => {
    const response = await alice.responses.create({ model: 'chat-a', input: 'think hard', reasoning: { effort: 'low' } })
    expect(f.upstreamChats().at(-1)!.body.reasoning_effort).toBe('low')
    expectOpenAISchema('Response', response)
    expect(response.reasoning).toEqual({ effort: 'low', summary: null })
    const bad = await alice.responses.create({ model: 'chat-a', input: 'x', reasoning: { effort: 'enormous' as 'low' } }).catch((e: unknown) => e)
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError)
    expect(bad).toMatchObject({ param: 'reasoning.effort' })
  })

  it('refuses a stored prompt template (not carried out) instead of answering without it', async () => {
    const refused = await alice.responses.create({ model: 'chat-a', input: 'x', prompt: { id: 'pmpt_123', variables: { city: 'Paris' } } }).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError)
    expect(refused).toMatchObject({ param: 'prompt', code: 'unsupported_parameter' })
  })

  it('does not keep a store: false response: retrieve and chaining are NotFoundError', async () => {
    const response = await alice.responses.create({ model: 'chat-a', input: 'ephemeral', store: false })
    expect((response as { store?: boolean }).store).toBe(false)
    await expect(alice.responses.retrieve(response.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError)
    await expect(alice.responses.create({ model: 'chat-a', previous_response_id: response.id, input: 'x' })).rejects.toBeInstanceOf(OpenAI.NotFoundError)
  })

  it('refuses to replay a stored response as a stream (a background-response feature) instead of answering JSON to an SSE reader', async () => {
    const response = await alice.responses.create({ model: 'chat-a', input: 'replay me' })
    const refused = await alice.responses.retrieve(response.id, { stream: true }).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError)
    expect(refused).toMatchObject({ param: 'stream', code: 'unsupported_parameter' })
    expect((await alice.responses.retrieve(response.id, { stream: false, include: ['message.output_text.logprobs'] })).id).toBe(response.id)
    expect((await alice.responses.inputItems.list(response.id, { include: ['message.output_text.logprobs'] })).data).toHaveLength(1)
  })

  it('deletes a response', async () => {
    const response = await alice.responses.create({ model: 'chat-a', input: 'delete me' })
    await alice.responses.delete(response.id)
    await expect(alice.responses.retrieve(response.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError)
    await expect(alice.responses.delete(response.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError)
  })

  it('pages a response\'s input items with the SDK\'s auto-pagination, newest first by default', async () => {
    const input = ['a', 'b', 'c', 'd', 'e'].map((t) => ({ role: 'user' as const, content: t }))
    const response = await alice.responses.create({ model: 'chat-a', input })
    const page = await alice.responses.inputItems.list(response.id, { limit: 2 })
    expectOpenAISchema('ResponseItemList', { object: 'list', data: page.data, first_id: page.data[0]!.id, last_id: page.data.at(-1)!.id, has_more: page.has_more })
    expect(page.has_more).toBe(true)
    const texts: string[] = []
    for await (const item of alice.responses.inputItems.list(response.id, { limit: 2 })) texts.push((item as OpenAI.Responses.ResponseInputMessageItem).content.map((c) => (c as { text: string }).text).join(''))
    expect(texts).toEqual(['e', 'd', 'c', 'b', 'a'])
    const ascending: string[] = []
    for await (const item of alice.responses.inputItems.list(response.id, { limit: 2, order: 'asc' })) ascending.push(((item as OpenAI.Responses.ResponseInputMessageItem).content[0] as { text: string }).text)
    expect(ascending).toEqual(['a', 'b', 'c', 'd', 'e'])
  })

  it('names the model that answered, as the upstream names it (its dated snapshot), like /v1/chat/completions: plain, streamed, stored, in the background', async () => {
    f.upstream.handle(openAIUpstreamHandler({ served: (model) => `${model}-2024-07-18` }))
    try {
      const completion = await alice.chat.completions.create({ model: 'chat-a', messages: [{ role: 'user', content: 'hi' }] })
      expect(completion.model).toBe('gpt-4o-mini-2024-07-18')
      const response = await alice.responses.create({ model: 'chat-a', input: 'hi' })
      expect(response.model).toBe(completion.model)
      expect((await alice.responses.retrieve(response.id)).model).toBe(completion.model)
      // Streamed, every event that carries the Response names the same model, as OpenAI's do,
      // response.created included (not the route's target first, the upstream's at the end);
      // in a conversation too; and the stored Response names it.
      const conversation = await alice.conversations.create({})
      for (const params of [{}, { conversation: conversation.id }]) {
        const events: OpenAI.Responses.ResponseStreamEvent[] = []
        for await (const event of await alice.responses.create({ model: 'chat-a', input: 'hi', stream: true, ...params })) events.push(event)
        const carrying = events.filter((e): e is Extract<OpenAI.Responses.ResponseStreamEvent, { response: OpenAI.Responses.Response }> => 'response' in e)
        expect(carrying.map((e) => [e.type, e.response.model])).toEqual([
          ['response.created', completion.model], ['response.in_progress', completion.model], ['response.completed', completion.model],
        ])
        expect((await alice.responses.retrieve(carrying[0].response.id)).model).toBe(completion.model)
      }
      // Queued, it names the model its route calls (as a streamed one does before its first chunk); ended, the upstream's.
      const queued = await alice.responses.create({ model: 'chat-b', input: 'hi', background: true })
      expect(queued.model).toBe('gpt-4o')
      const done = (await waitFor(async () => {
        const r = await alice.responses.retrieve(queued.id)
        return r.status === 'completed' ? r : undefined
      }, 10_000, 25)).value!
      expect(done.model).toBe('gpt-4o-2024-07-18')
    } finally {
      f.upstream.handle(openAIUpstreamHandler())
    }
  })

  it('names the model its route calls while a background response waits for its run (the route\'s target, as a streamed response names it before its first chunk); a caller no route answers is refused before anything is queued', async () => {
    let release!: () => void
    const held = new Promise<void>((resolve) => { release = resolve })
    const answer = openAIUpstreamHandler()
    f.upstream.handle(async (req, res) => { await held; await answer(req, res) })
    try {
      const asked = f.upstream.requests.length
      const queued = await alice.responses.create({ model: 'chat-b', input: 'hi', background: true })
      expect(queued).toMatchObject({ status: 'queued', model: 'gpt-4o' })
      // Polled while its model call is held, the same model.
      await waitFor(() => f.upstream.requests.slice(asked).some((r) => r.body.model === 'gpt-4o'), 10_000, 20)
      expect(await alice.responses.retrieve(queued.id)).toMatchObject({ status: 'in_progress', model: 'gpt-4o' })
      // Streamed in the background: response.created names it too.
      const stream = await alice.responses.create({ model: 'chat-a', input: 'hi', background: true, stream: true })
      for await (const event of stream) {
        expect(event).toMatchObject({ type: 'response.created', response: { status: 'queued', model: 'gpt-4o-mini' } })
        break
      }
      // A route whose target names no model calls the model asked for: that is its name.
      expect((await alice.responses.create({ model: 'structured', input: 'hi', background: true })).model).toBe('structured')
    } finally {
      release()
      f.upstream.handle(openAIUpstreamHandler())
    }
    // A route that does not answer this caller is refused at once, as in the foreground (it was queued, then failed as a server_error).
    await expect(alice.responses.create({ model: 'admins-only', input: 'hi', background: true })).rejects.toMatchObject({ status: 404, code: 'model_not_found' })
  })

  it('refuses an `after` cursor that names no item of the list with a 400 naming `after`, instead of an empty page that reads as the end', async () => {
    const conversation = await alice.conversations.create({ items: [{ type: 'message', role: 'user', content: 'one' }, { type: 'message', role: 'user', content: 'two' }] })
    const response = await alice.responses.create({ model: 'chat-a', conversation: conversation.id, input: 'three' })
    const items = (await alice.conversations.items.list(conversation.id, { order: 'asc' })).data
    expect(items).toHaveLength(4)
    // A good cursor pages on.
    expect((await alice.conversations.items.list(conversation.id, { order: 'asc', after: items[1].id })).data.map((i) => i.id)).toEqual(items.slice(2).map((i) => i.id))
    const other = await alice.conversations.create({ items: [{ type: 'message', role: 'user', content: 'elsewhere' }] })
    const elsewhere = (await alice.conversations.items.list(other.id)).data[0].id
    const output = response.output[0].id
    await alice.conversations.items.delete(items[0].id!, { conversation_id: conversation.id })
    const refused = [
      // An id no item has; an item deleted since; another conversation's item.
      alice.conversations.items.list(conversation.id, { after: 'msg_nosuchitem' }),
      alice.conversations.items.list(conversation.id, { after: items[0].id }),
      alice.conversations.items.list(conversation.id, { after: elsewhere }),
      // A response's input items: an id that is not among them (its output item, another's input).
      alice.responses.inputItems.list(response.id, { after: output }),
      alice.responses.inputItems.list(response.id, { after: items[1].id }),
    ]
    for (const list of refused) {
      const err = await list.catch((e: unknown) => e)
      expect(err).toBeInstanceOf(OpenAI.BadRequestError)
      expect(err).toMatchObject({ status: 400, param: 'after', code: 'invalid_value' })
    }
    // The management API's pages follow the same rule.
    expect(await f.call('alice', 'GET', `/api/v1/chat/threads/${conversation.id}/messages?after=msg_nosuchitem`)).toMatchObject({ status: 400 })
  })

  it('asks for structured output with text.format json_schema, and responses.parse gives output_parsed', async () => {
    const Weather = z.object({ city: z.string(), celsius: z.number() })
    const parsed = await alice.responses.parse({ model: 'structured', input: 'Weather in Oslo', text: { format: zodTextFormat(Weather, 'weather') } })
    expectOpenAISchema('Response', JSON.parse(JSON.stringify(parsed)))
    expect(parsed.text?.format).toMatchObject({ type: 'json_schema', name: 'weather', strict: true })
    expect(Weather.parse(parsed.output_parsed)).toEqual(parsed.output_parsed)

    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'], additionalProperties: false }
    const plain = await alice.responses.create({ model: 'chat-a', input: 'json please', text: { format: { type: 'json_schema', name: 'answer', schema, strict: true } } })
    expect(f.upstreamChats().at(-1)!.body.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } })
    expect(plain.text?.format).toEqual({ type: 'json_schema', name: 'answer', schema, strict: true })
    await alice.responses.create({ model: 'chat-a', input: 'any json', text: { format: { type: 'json_object' } } })
    expect(f.upstreamChats().at(-1)!.body.response_format).toEqual({ type: 'json_object' })
  })

  it('streams structured output with the stream() helper and parses the final response', async () => {
    const Weather = z.object({ city: z.string() })
    const stream = alice.responses.stream({ model: 'structured', input: 'Weather in Rome', text: { format: zodTextFormat(Weather, 'weather') } })
    const final = await stream.finalResponse()
    expect(Weather.parse(final.output_parsed)).toEqual(final.output_parsed)
  })

  it('manages conversations and their items, and continues one with responses.create({ conversation })', async () => {
    const conversation = await alice.conversations.create({ metadata: { topic: 'sdk' }, items: [{ type: 'message', role: 'user', content: 'first' }] })
    expectOpenAISchema('ConversationResource', conversation)
    expect(await alice.conversations.retrieve(conversation.id)).toEqual(conversation)
    const updated = await alice.conversations.update(conversation.id, { metadata: { topic: 'sdk2' } })
    expectOpenAISchema('ConversationResource', updated)
    expect(updated.metadata).toEqual({ topic: 'sdk2' })

    const added = await alice.conversations.items.create(conversation.id, { items: [
      { type: 'message', role: 'assistant', content: 'second' }, { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'third' }] },
    ] })
    expectOpenAISchema('ConversationItemList', added)
    expect(added.data).toHaveLength(2)
    const response = await alice.responses.create({ model: 'chat-a', conversation: conversation.id, input: 'fourth' })
    expect(response.conversation).toEqual({ id: conversation.id })
    expect(f.upstreamChats().at(-1)!.body.messages.map((m: { content: string }) => m.content)).toEqual(['first', 'second', 'third', 'fourth'])

    const texts: string[] = []
    for await (const item of alice.conversations.items.list(conversation.id, { limit: 2, order: 'asc' })) {
      expectOpenAISchema('ConversationItem', item)
      texts.push(((item as OpenAI.Conversations.Message).content[0] as { text: string }).text)
    }
    expect(texts).toEqual(['first', 'second', 'third', 'fourth', 'reply to: fourth'])
    const newest = await alice.conversations.items.list(conversation.id, { limit: 1 })
    expect(newest.has_more).toBe(true)
    expect(newest.data[0]!.id).toBe(response.output[0]!.id)
    const one = await alice.conversations.items.retrieve(added.data[0]!.id!, { conversation_id: conversation.id })
    expect(one).toEqual(added.data[0])
    const after = await alice.conversations.items.delete(added.data[0]!.id!, { conversation_id: conversation.id })
    expectOpenAISchema('ConversationResource', after)
    await expect(alice.conversations.items.retrieve(added.data[0]!.id!, { conversation_id: conversation.id })).rejects.toBeInstanceOf(OpenAI.NotFoundError)
    const deleted = await alice.conversations.delete(conversation.id)
    expectOpenAISchema('DeletedConversationResource', deleted)
    await expect(alice.conversations.retrieve(conversation.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError)
  })

  it('refuses a misspelt field of a conversation create, update or items create with a 400 naming it, as a response create does', async () => {
    const conversation = await alice.conversations.create({ metadata: { topic: 'x' } })
    const attempts = [
      () => alice.conversations.create({ metdata: { topic: 'y' } } as OpenAI.Conversations.ConversationCreateParams),
      () => alice.conversations.update(conversation.id, { metadata: { topic: 'y' }, title: 'y' } as OpenAI.Conversations.ConversationUpdateParams),
      () => alice.conversations.items.create(conversation.id, { items: [{ type: 'message', role: 'user', content: 'x' }], itemz: [] } as OpenAI.Conversations.ItemCreateParams),
    ]
    for (const [i, param] of ['metdata', 'title', 'itemz'].entries()) {
      const err = await attempts[i]!().catch((e: unknown) => e)
      expect(err).toBeInstanceOf(OpenAI.BadRequestError)
      expect(err).toMatchObject({ param, code: 'unknown_parameter' })
    }
    expect(await alice.conversations.retrieve(conversation.id)).toMatchObject({ metadata: { topic: 'x' } })
    expect((await alice.conversations.items.list(conversation.id)).data).toEqual([])
  })

  it('continues a response made in a conversation with previous_response_id from all it saw: the conversation up to it, not what came after', async () => {
    const conversation = await alice.conversations.create({ items: [{ type: 'message', role: 'user', content: 'my name is Ada' }] })
    const first = await alice.responses.create({ model: 'chat-a', conversation: conversation.id, input: 'remember it' })
    await alice.responses.create({ model: 'chat-a', conversation: conversation.id, input: 'later in the conversation' })
    const branch = await alice.responses.create({ model: 'chat-a', previous_response_id: first.id, input: 'what is my name?' })
    const sent = () => f.upstreamChats().at(-1)!.body.messages.map((m: { content: string }) => m.content)
    expect(sent()).toEqual(['my name is Ada', 'remember it', 'reply to: remember it', 'what is my name?'])
    await alice.responses.create({ model: 'chat-a', previous_response_id: branch.id, input: 'and again?' })
    expect(sent()).toEqual(['my name is Ada', 'remember it', 'reply to: remember it', 'what is my name?', 'reply to: what is my name?', 'and again?'])
    // The branch is not the conversation's: it stays as it was.
    expect((await alice.conversations.items.list(conversation.id)).data).toHaveLength(5)
  })

  it('counts the input tokens a create would send with responses.inputTokens.count: the history it continues, instructions, input and tools', async () => {
    const tokenizer = capability(f.gw, Tokenizer)
    const first = await alice.responses.create({ model: 'chat-a', input: 'my name is Ada and I collect old maps of the northern coast' })
    const fields = { model: 'chat-a', instructions: 'Answer in one short sentence.', input: 'what do I collect?', previous_response_id: first.id, tools: [WEATHER] }
    const counted = await alice.responses.inputTokens.count(fields)
    expectOpenAISchema('TokenCountsResource', counted)
    // The count is the prompt the create then sends upstream, as the gateway's tokenizer counts it.
    await alice.responses.create(fields)
    const sent = f.upstreamChats().at(-1)!.body
    expect(counted).toEqual({ object: 'response.input_tokens', input_tokens: await tokenizer.countChat({ model: sent.model, messages: sent.messages, tools: sent.tools }) })
    // Each part counts: without the history, the instructions or the tools it is less.
    const alone = await alice.responses.inputTokens.count({ model: 'chat-a', input: 'what do I collect?' })
    expect(alone.input_tokens).toBeGreaterThan(0)
    expect(alone.input_tokens).toBeLessThan((await alice.responses.inputTokens.count({ ...fields, previous_response_id: undefined })).input_tokens)
    expect((await alice.responses.inputTokens.count({ ...fields, tools: undefined })).input_tokens).toBeLessThan(counted.input_tokens)
    const conversation = await alice.conversations.create({ items: [{ type: 'message', role: 'user', content: 'my name is Ada and I collect old maps of the northern coast' }] })
    expect((await alice.responses.inputTokens.count({ model: 'chat-a', conversation: conversation.id, input: 'what do I collect?' })).input_tokens).toBeGreaterThan(alone.input_tokens)

    // Checked as a create is checked.
    const noRoute = await alice.responses.inputTokens.count({ model: 'no-such-model', input: 'x' }).catch((e: unknown) => e)
    expect(noRoute).toBeInstanceOf(OpenAI.NotFoundError)
    expect(noRoute).toMatchObject({ param: 'model', code: 'model_not_found' })
    const noResponse = await alice.responses.inputTokens.count({ model: 'chat-a', previous_response_id: 'resp_0123456789abcdef0123456789abcdef', input: 'x' }).catch((e: unknown) => e)
    expect(noResponse).toMatchObject({ status: 404, param: 'previous_response_id' })
    const unknown = await alice.responses.inputTokens.count({ model: 'chat-a', input: 'x', max_output_tokens: 20 } as OpenAI.Responses.InputTokenCountParams).catch((e: unknown) => e)
    expect(unknown).toBeInstanceOf(OpenAI.BadRequestError)
    expect(unknown).toMatchObject({ param: 'max_output_tokens', code: 'unknown_parameter' })
  })

  it('refuses responses.compact with a 400 saying it is not offered, not a 405 that says to use GET', async () => {
    const compact = await alice.responses.compact({ model: 'chat-a', input: 'x' }).catch((e: unknown) => e)
    expect(compact).toBeInstanceOf(OpenAI.BadRequestError)
    expect(compact).toMatchObject({ status: 400, code: 'unsupported_endpoint' })
    expect((compact as Error).message).toContain('previous_response_id')
  })

  it('answers errors as the SDK\'s typed errors, naming the param', async () => {
    const unknown = await alice.responses.create({ model: 'chat-a', previous_response_id: 'resp_0123456789abcdef0123456789abcdef', input: 'x' }).catch((e: unknown) => e)
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError)
    expect(unknown).toMatchObject({ status: 404, param: 'previous_response_id', code: 'response_not_found' })
    const badRole = await alice.responses.create({ model: 'chat-a', input: [{ role: 'robot' as 'user', content: 'x' }] }).catch((e: unknown) => e)
    expect(badRole).toBeInstanceOf(OpenAI.BadRequestError)
    expect(badRole).toMatchObject({ status: 400, param: 'input[0].role' })
    const badTemperature = await alice.responses.create({ model: 'chat-a', input: 'x', temperature: 7 }).catch((e: unknown) => e)
    expect(badTemperature).toBeInstanceOf(OpenAI.BadRequestError)
    expect(badTemperature).toMatchObject({ status: 400, param: 'temperature' })
    const noModel = await alice.responses.create({ input: 'x' } as OpenAI.Responses.ResponseCreateParamsNonStreaming).catch((e: unknown) => e)
    expect(noModel).toBeInstanceOf(OpenAI.BadRequestError)
    expect(noModel).toMatchObject({ param: 'model' })
    const badConversation = await alice.responses.create({ model: 'chat-a', conversation: 'conv_nope', input: 'x' }).catch((e: unknown) => e)
    expect(badConversation).toBeInstanceOf(OpenAI.NotFoundError)
    expect(badConversation).toMatchObject({ param: 'conversation' })
    const badFormat = await alice.responses.create({ model: 'chat-a', input: 'x', text: { format: { type: 'json_schema', name: 'has spaces', schema: {} } } }).catch((e: unknown) => e)
    expect(badFormat).toBeInstanceOf(OpenAI.BadRequestError)
    expect(badFormat).toMatchObject({ param: 'text.format.name' })
    const noText = await alice.responses.create({ model: 'chat-a', input: [{ role: 'user', content: [{ type: 'input_text' } as OpenAI.Responses.ResponseInputText] }] }).catch((e: unknown) => e)
    expect(noText).toMatchObject({ status: 400, param: 'input[0].content[0].text' })
    expect((noText as Error).message).toContain('needs its `text`')
    const conversationWithoutId = await alice.responses.create({ model: 'chat-a', input: 'x', conversation: {} as { id: string } }).catch((e: unknown) => e)
    expect(conversationWithoutId).toMatchObject({ status: 400, param: 'conversation' })
    expect((conversationWithoutId as Error).message).toContain('{ id: "conv_..." }')
    for (const e of [unknown, badRole, badTemperature, noModel, badConversation, badFormat, noText, conversationWithoutId]) expectOpenAISchema('ErrorResponse', { error: (e as InstanceType<typeof OpenAI.APIError>).error })
  })
})
