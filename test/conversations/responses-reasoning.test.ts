/**
 * /v1/responses and a model that thinks (Claude's extended thinking, through the anthropic provider
 * against a mock Anthropic upstream), driven by the official SDK: the thinking is a `reasoning`
 * output item before the message (its text the item's `content`, as OpenAI carries raw reasoning;
 * the same text as its summary only when `reasoning.summary` asks; the signed thinking blocks,
 * redacted ones included, sealed, as `encrypted_content` only when `include` asks), streamed with
 * OpenAI's reasoning_text events (and reasoning summary events when a summary was asked for),
 * counted as reasoning tokens. Sent back (`input: [...output, next]`, `previous_response_id`, a
 * conversation), a reasoning item is accepted, replayed to Claude as its signed thinking blocks, and
 * stripped for an OpenAI-wire target, which refuses them. Gemini's thought summaries are a reasoning
 * item too, with nothing signed to seal.
 */
import type http from 'node:http'
import type OpenAI from 'openai'
import type { ContentBlock, RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectOpenAISchema } from '../helpers/openai-schema.ts'
import { message, sendMessage, sendStream, streamEvents, text, thinkingStream, toolUse, usage } from '../providers/anthropic/anthropic-upstream.ts'
import { startConversations, type ConversationsFixture } from './helpers.ts'
import { API_KEY, generatePath, generateResponse, sendGeminiStream, startGeminiUpstream, streamPath, type GeminiPart } from '../providers/gemini/gemini-upstream.ts'
import { sendJson, startUpstream, type MockUpstream, type RecordedRequest, type RoutedUpstream } from '../helpers/upstream.ts'

const THOUGHT = 'The user wants 2+2. That is 4.'
const SIGNATURE = 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds'
const TOOL_THOUGHT = 'I should look the weather up.'
const TOOL_SIGNATURE = 'EpYBCkYIBRgCKkDtoolsignature000000000000'
const REDACTED = 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP'
/** The thinking as the reasoning item's content. */
const raw = (text: string) => [{ type: 'reasoning_text', text }]

type Body = Record<string, any>

/** The last message's text a Claude request ends with (a user's text, or a tool result). */
const lastTurn = (body: Body): Body => body.messages.at(-1)
const wantsWeather = (body: Body): boolean => Array.isArray(body.tools) && JSON.stringify(lastTurn(body).content).includes('weather')

/** Claude: thinks (when asked to) before it answers `4`, or before it calls get_weather when the user asks about the weather. */
function claude(req: RecordedRequest, res: http.ServerResponse): void {
  const body = req.body as Body
  if (!body.thinking) return sendMessage(res, message([text('4')], { model: body.model }))
  // Thinking flagged by Claude's safety systems comes back encrypted: a redacted block, no text.
  if (JSON.stringify(lastTurn(body).content).includes('secret')) {
    if (body.stream) { void sendStream(res, redactedStream()); return }
    return sendMessage(res, message([{ type: 'redacted_thinking', data: REDACTED }, text('42')], { model: body.model }))
  }
  if (body.stream) { void sendStream(res, thinkingStream(['The user wants 2+2. ', 'That is 4.'], SIGNATURE)); return }
  const content: ContentBlock[] = wantsWeather(body)
    ? [{ type: 'thinking', thinking: TOOL_THOUGHT, signature: TOOL_SIGNATURE }, toolUse('toolu_01', 'get_weather', { city: 'Paris' })]
    : [{ type: 'thinking', thinking: THOUGHT, signature: SIGNATURE }, text('4')]
  sendMessage(res, message(content, { model: body.model, stop_reason: wantsWeather(body) ? 'tool_use' : 'end_turn', usage: usage({ output_tokens: 40, output_tokens_details: { thinking_tokens: 31 } }) }))
}

/** A streamed answer `42` after a redacted thinking block (which comes whole, in its content_block_start). */
function redactedStream(): RawMessageStreamEvent[] {
  const events = streamEvents({ text: ['42'] }).map((e) => ('index' in e ? { ...e, index: e.index + 1 } : e) as RawMessageStreamEvent)
  events.splice(1, 0, { type: 'content_block_start', index: 0, content_block: { type: 'redacted_thinking', data: REDACTED } }, { type: 'content_block_stop', index: 0 })
  return events
}

const WEATHER_TOOL = { type: 'function' as const, name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }

describe('/v1/responses: reasoning items from a model that thinks', () => {
  let fx: ConversationsFixture
  let anthropic: MockUpstream
  let client: OpenAI
  const lastClaude = () => anthropic.requests.at(-1)!.body as Body
  beforeAll(async () => {
    anthropic = await startUpstream(claude)
    fx = await startConversations({
      providers: `  claude: { plugin: anthropic, api_key: sk-ant-test, base_url: '${anthropic.url}' }`,
      routes: '  - { model: sonnet, targets: [ { provider: claude, model: claude-sonnet-4-5-20250929 } ] }',
    })
    client = fx.client('alice')
  }, 60_000)
  afterAll(async () => {
    await fx?.close()
    await anthropic?.close()
  })

  it('answers the thinking as a reasoning item before the message, with reasoning tokens; its signed blocks only when include asks', async () => {
    const answer = await client.responses.create({ model: 'sonnet', input: 'What is 2+2?', reasoning: { effort: 'low' } })
    expect(answer.output.map((item) => item.type)).toEqual(['reasoning', 'message'])
    const [reasoning] = answer.output
    // No summary was asked for: as OpenAI, an empty summary; the thinking itself is the item's content.
    expect(reasoning).toMatchObject({ type: 'reasoning', id: expect.stringMatching(/^rs_/), summary: [], content: raw(THOUGHT), status: 'completed' })
    expect(reasoning).not.toHaveProperty('encrypted_content')
    expect(answer.reasoning).toEqual({ effort: 'low', summary: null })
    expect(answer.output_text).toBe('4')
    expect(answer.usage?.output_tokens_details.reasoning_tokens).toBe(31)

    const sealed = await client.responses.create({ model: 'sonnet', input: 'What is 2+2?', reasoning: { effort: 'low' }, include: ['reasoning.encrypted_content'] })
    const item = sealed.output[0] as OpenAI.Responses.ResponseReasoningItem
    expect(typeof item.encrypted_content).toBe('string')
    expect(item.encrypted_content).not.toContain(SIGNATURE) // opaque to the client

    // A retrieve shows what its own include asks.
    const wire = await (await fetch(`${fx.gw.url}/v1/responses/${sealed.id}`, { headers: { authorization: 'Bearer conv-alice-key-0123456789abcdef' } })).json()
    expectOpenAISchema('Response', wire)
    expect(wire.output[0]).not.toHaveProperty('encrypted_content')
    const retrieved = await client.responses.retrieve(sealed.id, { include: ['reasoning.encrypted_content'] })
    expect((retrieved.output[0] as OpenAI.Responses.ResponseReasoningItem).encrypted_content).toBe(item.encrypted_content)
  })

  it('replays a reasoning item sent back as input to Claude as its signed thinking block, and strips it for an OpenAI-wire target', async () => {
    const first = await client.responses.create({ model: 'sonnet', input: 'What is 2+2?', reasoning: { effort: 'low' }, include: ['reasoning.encrypted_content'], store: false })
    const input = [...first.output, { role: 'user' as const, content: 'And 3+3?' }] as OpenAI.Responses.ResponseInput
    const next = await client.responses.create({ model: 'sonnet', input, reasoning: { effort: 'low' } })
    expect(next.status).toBe('completed')
    const assistant = lastClaude().messages.find((m: Body) => m.role === 'assistant')
    expect(assistant.content).toEqual([{ type: 'thinking', thinking: THOUGHT, signature: SIGNATURE }, { type: 'text', text: '4' }])

    // Stored as an input item of the second response (its sealed blocks only when asked).
    const items = await client.responses.inputItems.list(next.id, { order: 'asc' })
    expect(items.data.map((i) => i.type)).toEqual(['reasoning', 'message', 'message'])
    expect(items.data[0]).toMatchObject({ type: 'reasoning', summary: [], content: raw(THOUGHT) })
    expect(items.data[0]).not.toHaveProperty('encrypted_content')
    const sealedItems = await client.responses.inputItems.list(next.id, { order: 'asc', include: ['reasoning.encrypted_content'] })
    expect(sealedItems.data[0]).toHaveProperty('encrypted_content', (first.output[0] as OpenAI.Responses.ResponseReasoningItem).encrypted_content)

    // The same input to an OpenAI model: no thinking in its messages (OpenAI refuses fields it does not know).
    await client.responses.create({ model: 'chat-a', input })
    const openai = fx.upstreamChats().at(-1)!.body as Body
    const previous = openai.messages.find((m: Body) => m.role === 'assistant')
    expect(previous).toEqual({ role: 'assistant', content: '4' })
  })

  it('replays the thinking before a tool call to Claude with the tool result (previous_response_id), as Anthropic requires while thinking', async () => {
    const first = await client.responses.create({ model: 'sonnet', input: 'What is the weather in Paris?', tools: [WEATHER_TOOL], reasoning: { effort: 'low' } })
    expect(first.output.map((item) => item.type)).toEqual(['reasoning', 'function_call'])
    const call = first.output[1] as OpenAI.Responses.ResponseFunctionToolCall
    const res = await client.responses.create({
      model: 'sonnet', previous_response_id: first.id, tools: [WEATHER_TOOL], reasoning: { effort: 'low' },
      input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"temp":21}' }],
    }).withResponse()
    expect(res.response.headers.get('x-gateway-warning')).toBeNull()
    const assistant = lastClaude().messages.find((m: Body) => m.role === 'assistant')
    expect(assistant.content[0]).toEqual({ type: 'thinking', thinking: TOOL_THOUGHT, signature: TOOL_SIGNATURE })
    expect(assistant.content[1]).toMatchObject({ type: 'tool_use', id: call.call_id, name: 'get_weather' })
  })

  it('streams the reasoning item with the reasoning text events, the message after it at the next output_index', async () => {
    const stream = await client.responses.create({ model: 'sonnet', input: 'What is 2+2?', reasoning: { effort: 'low' }, include: ['reasoning.encrypted_content'], stream: true })
    const events: OpenAI.Responses.ResponseStreamEvent[] = []
    for await (const event of stream) {
      expectOpenAISchema('ResponseStreamEvent', event)
      events.push(event)
    }
    const shape = events.filter((e) => e.type !== 'response.created' && e.type !== 'response.in_progress' && e.type !== 'response.completed')
      .map((e) => `${e.type}@${'output_index' in e ? e.output_index : ''}`)
    expect(shape).toEqual([
      'response.output_item.added@0', 'response.content_part.added@0',
      'response.reasoning_text.delta@0', 'response.reasoning_text.delta@0',
      'response.reasoning_text.done@0', 'response.content_part.done@0', 'response.output_item.done@0',
      'response.output_item.added@1', 'response.content_part.added@1', 'response.output_text.delta@1', 'response.output_text.done@1',
      'response.content_part.done@1', 'response.output_item.done@1',
    ])
    const added = events.find((e) => e.type === 'response.output_item.added')
    expect(added).toMatchObject({ item: { type: 'reasoning', status: 'in_progress', summary: [] } })
    const done = events.find((e) => e.type === 'response.reasoning_text.done')
    expect(done).toMatchObject({ text: THOUGHT, content_index: 0 })
    const itemDone = events.find((e) => e.type === 'response.output_item.done')
    expect(itemDone).toMatchObject({ item: { type: 'reasoning', summary: [], content: raw(THOUGHT), encrypted_content: expect.any(String) } })
    const completed = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent
    expect(completed.response.output.map((item) => item.type)).toEqual(['reasoning', 'message'])
    expect(completed.response.usage?.output_tokens_details.reasoning_tokens).toBe(31)

    // The streamed thinking, signed at its end, is replayed as the non-streamed one is.
    const sealed = (itemDone as OpenAI.Responses.ResponseOutputItemDoneEvent).item
    await client.responses.create({ model: 'sonnet', input: [sealed, ...completed.response.output.slice(1), { role: 'user', content: 'And 3+3?' }] as OpenAI.Responses.ResponseInput, reasoning: { effort: 'low' } })
    expect(lastClaude().messages.find((m: Body) => m.role === 'assistant').content[0]).toEqual({ type: 'thinking', thinking: THOUGHT, signature: SIGNATURE })
  })

  it('keeps the reasoning item in a conversation, lists it, and replays it on the conversation\'s next turn', async () => {
    const conversation = await client.conversations.create({})
    await client.responses.create({ model: 'sonnet', conversation: conversation.id, input: 'What is 2+2?', reasoning: { effort: 'low' } })
    const items = await client.conversations.items.list(conversation.id, { order: 'asc' })
    expect(items.data.map((i) => i.type)).toEqual(['message', 'reasoning', 'message'])
    expect(items.data[1]).toMatchObject({ summary: [], content: raw(THOUGHT) })
    expect(items.data[1]).not.toHaveProperty('encrypted_content')
    const listed = await fx.call('alice', 'GET', `/v1/conversations/${conversation.id}/items?order=asc&include[]=reasoning.encrypted_content`)
    expectOpenAISchema('ConversationItemList', listed.body)
    expect(typeof listed.body.data[1].encrypted_content).toBe('string')
    const one = await client.conversations.items.retrieve(items.data[1]!.id!, { conversation_id: conversation.id })
    expect(one).toMatchObject({ type: 'reasoning', content: raw(THOUGHT) })

    await client.responses.create({ model: 'sonnet', conversation: conversation.id, input: 'And 3+3?', reasoning: { effort: 'low' } })
    expect(lastClaude().messages.find((m: Body) => m.role === 'assistant').content[0]).toEqual({ type: 'thinking', thinking: THOUGHT, signature: SIGNATURE })
  })

  it('gives thinking only to the assistant message right after it: not to a later one past a user message', async () => {
    const first = await client.responses.create({ model: 'sonnet', input: 'What is 2+2?', reasoning: { effort: 'low' }, include: ['reasoning.encrypted_content'], store: false })
    const input = [first.output[0], { role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }, { role: 'user', content: 'And 3+3?' }] as OpenAI.Responses.ResponseInput
    await client.responses.create({ model: 'sonnet', input, reasoning: { effort: 'low' } })
    expect(lastClaude().messages.find((m: Body) => m.role === 'assistant').content).toBe('hello')
  })

  it('fills the summary only when reasoning.summary (or the deprecated generate_summary) asks, with the thinking itself; streamed, with both the text and the summary events', async () => {
    const created = await fx.call('alice', 'POST', '/v1/responses', { model: 'sonnet', input: 'What is 2+2?', reasoning: { effort: 'low', summary: 'auto' } })
    expect(created.status).toBe(200)
    expectOpenAISchema('Response', created.body)
    expect(created.body.reasoning).toEqual({ effort: 'low', summary: 'auto' })
    expect(created.body.output[0]).toMatchObject({ type: 'reasoning', summary: [{ type: 'summary_text', text: THOUGHT }], content: raw(THOUGHT) })
    const older = await client.responses.create({ model: 'sonnet', input: 'What is 2+2?', reasoning: { effort: 'low', generate_summary: 'detailed' } })
    expect(older.output[0]).toMatchObject({ summary: [{ type: 'summary_text', text: THOUGHT }], content: raw(THOUGHT) })

    // The SDK's stream helper builds the final item from the events: content and summary alike.
    const stream = client.responses.stream({ model: 'sonnet', input: 'What is 2+2?', reasoning: { effort: 'low', summary: 'detailed' } })
    const shape: string[] = []
    for await (const event of stream) {
      expectOpenAISchema('ResponseStreamEvent', event)
      if ('output_index' in event && event.output_index === 0) shape.push(event.type)
    }
    expect(shape).toEqual([
      'response.output_item.added', 'response.content_part.added', 'response.reasoning_summary_part.added',
      'response.reasoning_text.delta', 'response.reasoning_summary_text.delta', 'response.reasoning_text.delta', 'response.reasoning_summary_text.delta',
      'response.reasoning_text.done', 'response.content_part.done', 'response.reasoning_summary_text.done', 'response.reasoning_summary_part.done', 'response.output_item.done',
    ])
    const final = await stream.finalResponse()
    expect(final.output[0]).toMatchObject({ type: 'reasoning', summary: [{ type: 'summary_text', text: THOUGHT }], content: raw(THOUGHT) })
  })

  it('refuses a reasoning.summary it does not know, naming the field', async () => {
    await expect(client.responses.create({ model: 'sonnet', input: 'hi', reasoning: { summary: 'brief' as 'auto' } })).rejects.toMatchObject({ status: 400, param: 'reasoning.summary' })
    await expect(client.responses.create({ model: 'sonnet', input: 'hi', reasoning: { generate_summary: 'yes' as 'auto' } })).rejects.toMatchObject({ status: 400, param: 'reasoning.generate_summary' })
    await expect(client.responses.inputTokens.count({ model: 'sonnet', input: 'hi', reasoning: { summary: 'brief' as 'auto' } })).rejects.toMatchObject({ status: 400, param: 'reasoning.summary' })
  })

  it('keeps the content of a reasoning item sent back, as the thinking a later turn replays', async () => {
    const input = [
      { type: 'reasoning', id: 'rs_earlier', summary: [], content: raw('Earlier raw thought.') },
      { role: 'assistant', content: '4' }, { role: 'user', content: 'And 3+3?' },
    ] as OpenAI.Responses.ResponseInput
    const next = await client.responses.create({ model: 'sonnet', input })
    const listed = await fx.call('alice', 'GET', `/v1/responses/${next.id}/input_items?order=asc`)
    expectOpenAISchema('ResponseItemList', listed.body)
    expect(listed.body.data[0]).toMatchObject({ type: 'reasoning', summary: [], content: raw('Earlier raw thought.') })
    await expect(client.responses.create({ model: 'sonnet', input: [{ type: 'reasoning', id: 'rs_x', summary: [], content: [{ type: 'summary_text', text: 'x' }] } as unknown as OpenAI.Responses.ResponseReasoningItem, { role: 'user', content: 'hi' }] }))
      .rejects.toMatchObject({ status: 400, param: 'input[0].content[0]' })
  })

  it('seals a redacted thinking block (no text: an empty summary, no content) and replays it to Claude as it came', async () => {
    const created = await fx.call('alice', 'POST', '/v1/responses', { model: 'sonnet', input: 'Tell me the secret', reasoning: { effort: 'low', summary: 'auto' }, include: ['reasoning.encrypted_content'] })
    expectOpenAISchema('Response', created.body)
    const [item] = created.body.output
    expect(item).toMatchObject({ type: 'reasoning', summary: [], encrypted_content: expect.any(String) })
    expect(item).not.toHaveProperty('content')
    expect(item.encrypted_content).not.toContain(REDACTED)
    await client.responses.create({ model: 'sonnet', input: [...created.body.output, { role: 'user', content: 'And then?' }], reasoning: { effort: 'low' } })
    expect(lastClaude().messages.find((m: Body) => m.role === 'assistant').content).toEqual([{ type: 'redacted_thinking', data: REDACTED }, { type: 'text', text: '42' }])

    // Streamed: the item has no text events, only its added and done, the sealed block on the done item.
    const events: OpenAI.Responses.ResponseStreamEvent[] = []
    for await (const event of await client.responses.create({ model: 'sonnet', input: 'Tell me the secret', reasoning: { effort: 'low', summary: 'auto' }, include: ['reasoning.encrypted_content'], stream: true })) {
      expectOpenAISchema('ResponseStreamEvent', event)
      events.push(event)
    }
    expect(events.filter((e) => 'output_index' in e && e.output_index === 0).map((e) => e.type)).toEqual(['response.output_item.added', 'response.output_item.done'])
    const done = events.find((e) => e.type === 'response.output_item.done') as OpenAI.Responses.ResponseOutputItemDoneEvent
    expect(done.item).toMatchObject({ type: 'reasoning', summary: [], encrypted_content: expect.any(String) })
    await client.responses.create({ model: 'sonnet', input: [done.item, { role: 'assistant', content: '42' }, { role: 'user', content: 'And then?' }] as OpenAI.Responses.ResponseInput, reasoning: { effort: 'low' } })
    expect(lastClaude().messages.find((m: Body) => m.role === 'assistant').content).toEqual([{ type: 'redacted_thinking', data: REDACTED }, { type: 'text', text: '42' }])
  })

  it('refuses a reasoning item without its summary, naming it', async () => {
    await expect(client.responses.create({ model: 'sonnet', input: [{ type: 'reasoning', id: 'rs_1' } as unknown as OpenAI.Responses.ResponseReasoningItem, { role: 'user', content: 'hi' }] }))
      .rejects.toMatchObject({ status: 400, param: 'input[0].summary' })
  })
})

describe('/v1/responses: reasoning items from Gemini\'s thoughts', () => {
  const GEMINI = 'gemini-2.5-flash'
  const THOUGHTS: GeminiPart[] = [{ text: '**Adding numbers** ', thought: true }, { text: 'Two and two make four.', thought: true }]
  const USAGE = { promptTokenCount: 9, candidatesTokenCount: 1, thoughtsTokenCount: 25, totalTokenCount: 35 }
  const GEMINI_SIGNATURE = 'CiQB0e2Kb7gemini3textsignature0000000000'
  let fx: ConversationsFixture
  let gemini: RoutedUpstream
  let anthropic: MockUpstream
  let client: OpenAI
  beforeAll(async () => {
    const answer = (stream: boolean) => async (req: RecordedRequest, res: http.ServerResponse) => {
      const thoughts = (req.body.generationConfig as { thinkingConfig?: { includeThoughts?: boolean } }).thinkingConfig?.includeThoughts ? THOUGHTS : []
      // Asked to, it signs its answer's text as Gemini 3 does: on the last part, streamed in a last empty part.
      const signs = JSON.stringify((req.body.contents as unknown[]).at(-1)).includes('Sign')
      if (!stream) return sendJson(res, 200, generateResponse([...thoughts, { text: '4', ...(signs ? { thoughtSignature: GEMINI_SIGNATURE } : {}) }], { usage: USAGE, modelVersion: GEMINI }))
      await sendGeminiStream(res, [
        ...thoughts.map((part) => ({ candidates: [{ content: { role: 'model', parts: [part] }, index: 0 }], modelVersion: GEMINI })),
        ...(signs ? [{ candidates: [{ content: { role: 'model', parts: [{ text: '4' }] }, index: 0 }], modelVersion: GEMINI }] : []),
        generateResponse([signs ? { text: '', thoughtSignature: GEMINI_SIGNATURE } : { text: '4' }], { usage: USAGE, modelVersion: GEMINI }),
      ])
    }
    gemini = await startGeminiUpstream({ [generatePath(GEMINI)]: answer(false), [streamPath(GEMINI)]: answer(true) })
    anthropic = await startUpstream(claude)
    fx = await startConversations({
      providers: `  gemini: { plugin: gemini, api_key: ${API_KEY}, base_url: '${gemini.url}' }\n  claude: { plugin: anthropic, api_key: sk-ant-test, base_url: '${anthropic.url}' }`,
      routes: `  - { model: flash, targets: [ { provider: gemini, model: ${GEMINI} } ] }\n  - { model: sonnet, targets: [ { provider: claude, model: claude-sonnet-4-5-20250929 } ] }`,
    })
    client = fx.client('alice')
  }, 60_000)
  afterAll(async () => {
    await fx?.close()
    await gemini?.close()
    await anthropic?.close()
  })

  it('carries the thought signature of Gemini\'s answer text in encrypted_content, back to Gemini on that text, never to Claude', async () => {
    const answer = await client.responses.create({ model: 'flash', input: 'Sign: what is 2+2?', reasoning: { effort: 'low' }, include: ['reasoning.encrypted_content'] })
    const item = answer.output[0] as OpenAI.Responses.ResponseReasoningItem
    expect(item).toMatchObject({ type: 'reasoning', content: raw('**Adding numbers** Two and two make four.'), encrypted_content: expect.any(String) })
    expect(item.encrypted_content).not.toContain(GEMINI_SIGNATURE)
    const next = [...answer.output, { role: 'user', content: 'And 3+3?' }] as OpenAI.Responses.ResponseInput
    await client.responses.create({ model: 'flash', input: next })
    const contents = () => gemini.requests.at(-1)!.body.contents as { role: string; parts: GeminiPart[] }[]
    expect(contents()[0]!.parts).toEqual([{ text: '4', thoughtSignature: GEMINI_SIGNATURE }])

    // A Claude target is not sent Gemini's signature (Anthropic refuses a signature it did not make).
    await client.responses.create({ model: 'sonnet', input: next, reasoning: { effort: 'low' } })
    const assistant = (anthropic.requests.at(-1)!.body as Body).messages.find((m: Body) => m.role === 'assistant')
    expect(JSON.stringify(assistant)).not.toContain(GEMINI_SIGNATURE)

    // Streamed, the signature comes after the text: the final Response's reasoning item carries it.
    let completed: OpenAI.Responses.Response | undefined
    for await (const event of await client.responses.create({ model: 'flash', input: 'Sign: what is 2+2?', reasoning: { effort: 'low' }, include: ['reasoning.encrypted_content'], stream: true })) {
      expectOpenAISchema('ResponseStreamEvent', event)
      if (event.type === 'response.completed') completed = event.response
    }
    expect(completed?.output.map((i) => i.type)).toEqual(['reasoning', 'message'])
    expect(completed?.output[0]).toMatchObject({ encrypted_content: expect.any(String) })
    await client.responses.create({ model: 'flash', previous_response_id: completed!.id, input: 'And 3+3?' })
    expect(contents()[1]!.parts).toEqual([{ text: '4', thoughtSignature: GEMINI_SIGNATURE }])
  })

  it('answers the thought summaries as a reasoning item (nothing to seal), whole and streamed, with reasoning tokens', async () => {
    const answer = await client.responses.create({ model: 'flash', input: 'What is 2+2?', reasoning: { effort: 'low' }, include: ['reasoning.encrypted_content'] })
    expect(answer.output.map((item) => item.type)).toEqual(['reasoning', 'message'])
    expect(answer.output[0]).toMatchObject({ summary: [], content: raw('**Adding numbers** Two and two make four.') })
    expect(answer.output[0]).not.toHaveProperty('encrypted_content')
    expect(answer.usage?.output_tokens_details.reasoning_tokens).toBe(25)

    const deltas: string[] = []
    let completed: OpenAI.Responses.Response | undefined
    for await (const event of await client.responses.create({ model: 'flash', input: 'What is 2+2?', reasoning: { effort: 'low' }, stream: true })) {
      if (event.type === 'response.reasoning_text.delta') deltas.push(event.delta)
      if (event.type === 'response.completed') completed = event.response
    }
    expect(deltas).toEqual(['**Adding numbers** ', 'Two and two make four.'])
    expect(completed?.output.map((item) => item.type)).toEqual(['reasoning', 'message'])

    // Sent back, it is accepted; Gemini is sent the conversation's text, not the thoughts.
    await client.responses.create({ model: 'flash', input: [...answer.output, { role: 'user', content: 'And 3+3?' }] as OpenAI.Responses.ResponseInput })
    const contents = gemini.requests.at(-1)!.body.contents as { role: string; parts: GeminiPart[] }[]
    expect(contents.map((c) => c.role)).toEqual(['model', 'user'])
    expect(contents[0]!.parts).toEqual([{ text: '4' }])
  })
})
