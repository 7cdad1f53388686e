/**
 * A turn's context: the window from the model catalog (the route's first target's model; an
 * assistant may set a lower one), the `summarize` policy (dropped turns folded into a summary made
 * through a cheap route, sent after the instructions, kept on the thread), and the auto title
 * (on, off, and a title route that fails without failing the reply).
 */
import { readFileSync } from 'node:fs'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startConversations, type ConversationsFixture } from './helpers.ts'

type Sent = { role: string; content: string }

/** A user message long enough to count (about 60 tokens), numbered so the context can be checked. */
const long = (n: number) => `message ${n} ` + 'lorem ipsum dolor sit amet '.repeat(10)
/** The message numbers in a text, in order. */
const numbers = (text: string) => [...text.matchAll(/message (\d+) /g)].map((m) => Number(m[1]))

async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (ok(value) || Date.now() > until) return value
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe('the model catalog', () => {
  it('gives a context window for every model it lists, no smaller than the model\'s output limit', () => {
    const catalog = JSON.parse(readFileSync(new URL('../../config/models.json', import.meta.url), 'utf8')) as { models: Record<string, { context_window?: number; max_output_tokens?: number }> }
    const entries = Object.entries(catalog.models)
    expect(entries.length).toBeGreaterThan(30)
    for (const [name, entry] of entries) {
      expect(Number.isInteger(entry.context_window) && entry.context_window! > 0, name).toBe(true)
      expect(entry.context_window!, name).toBeGreaterThanOrEqual(entry.max_output_tokens ?? 0)
    }
    expect(catalog.models['gpt-4o-mini'].context_window).toBe(128000)
    expect(catalog.models['claude-sonnet-4-5'].context_window).toBe(200000)
  })
})

describe('the context window of a turn', () => {
  let f: ConversationsFixture
  beforeAll(async () => {
    f = await startConversations({
      services: 'context_window_tokens: 1000',
      routes: `
  - { model: chat-tiny, targets: [ { provider: up, model: tiny-model } ] }
  - { model: chat-mystery, targets: [ { provider: up, model: mystery-model } ] }`,
      extra: 'pricing:\n  tiny-model: { input: 1, output: 1, context_window: 700 }',
    })
  }, 120_000)
  afterAll(async () => { await f?.close() })

  /** Six long messages in a new thread on `model` (or bound to an assistant); the messages of the last upstream request. */
  async function sixTurns(body: { model?: string; assistant_id?: string }): Promise<{ thread: string; sent: Sent[] }> {
    const thread = (await f.call('alice', 'POST', '/api/v1/chat/threads', body.assistant_id ? { assistant_id: body.assistant_id } : {})).body.data.id
    for (let n = 1; n <= 6; n++) {
      const res = await f.call('alice', 'POST', `/api/v1/chat/threads/${thread}/messages`, { content: long(n), ...(body.model ? { model: body.model } : {}) })
      expect(res.status).toBe(201)
    }
    return { thread, sent: f.upstreamChats().at(-1)!.body.messages }
  }

  it('is the catalog\'s window of the route\'s first target: a small model drops the oldest turns, a large one keeps them', async () => {
    const tiny = await sixTurns({ model: 'chat-tiny' })
    expect(f.upstreamChats().at(-1)!.body.model).toBe('tiny-model')
    expect(tiny.sent.at(-1)!.content).toBe(long(6))
    expect(tiny.sent[0].role).toBe('user')
    const kept = tiny.sent.filter((m) => m.role === 'user').map((m) => numbers(m.content)[0])
    expect(kept.length).toBeLessThan(6)
    // The newest turns, in order, without a gap.
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => 7 - kept.length + i))

    // gpt-4o-mini's window (128,000 in the catalog) holds the whole thread.
    const large = await sixTurns({ model: 'chat-a' })
    expect(large.sent).toHaveLength(12 - 1)
    expect(large.sent.filter((m) => m.role === 'user').map((m) => numbers(m.content)[0])).toEqual([1, 2, 3, 4, 5, 6])
  })

  it('falls back to the service\'s context_window_tokens for a model the catalog does not know', async () => {
    const { sent } = await sixTurns({ model: 'chat-mystery' })
    const users = sent.filter((m) => m.role === 'user').length
    expect(users).toBeGreaterThan(1)
    expect(users).toBeLessThan(6)
  })

  it('takes an assistant\'s max_context_tokens only when it is lower than the model\'s window', async () => {
    const wide = await f.call('lead', 'POST', '/api/v1/assistants', { name: 'wide-tiny', route: 'chat-tiny', context_policy: { strategy: 'truncate', max_context_tokens: 100000 } })
    expect(wide.status).toBe(201)
    const capped = await sixTurns({ assistant_id: wide.body.data.id })
    // Still the tiny model's 700 tokens: the policy cannot raise the window.
    expect(capped.sent.filter((m) => m.role === 'user').length).toBeLessThan(6)

    const narrow = await f.call('lead', 'POST', '/api/v1/assistants', { name: 'narrow-a', route: 'chat-a', context_policy: { max_context_tokens: 400 } })
    const lowered = await sixTurns({ assistant_id: narrow.body.data.id })
    expect(lowered.sent.filter((m) => m.role === 'user').length).toBeLessThan(6)
  })

  it('on /v1/responses, refuses a history that does not fit (truncation disabled, OpenAI\'s default) and drops its oldest turns with truncation: auto', async () => {
    const alice = f.client('alice')
    /** Chain long messages on chat-tiny until one is refused (or `n` is 8); the last response and the refusal. */
    let previous: OpenAI.Responses.Response | undefined
    let refused: unknown
    for (let n = 1; n <= 8 && !refused; n++) {
      await alice.responses.create({ model: 'chat-tiny', input: long(n), previous_response_id: previous?.id })
        .then((r) => { previous = r }, (e: unknown) => { refused = e })
    }
    expect(previous?.truncation).toBe('disabled')
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError)
    expect(refused).toMatchObject({ status: 400, code: 'context_length_exceeded', param: 'input' })
    expect((refused as Error).message).toContain("truncation: 'auto'")
    const before = f.upstreamChats().length
    const cut = await alice.responses.create({ model: 'chat-tiny', input: long(9), previous_response_id: previous!.id, truncation: 'auto' })
    expect(cut).toMatchObject({ status: 'completed', truncation: 'auto' })
    const sent = f.upstreamChats().slice(before)
    expect(sent).toHaveLength(1)
    const kept = (sent[0].body.messages as Sent[]).filter((m) => m.role === 'user').map((m) => numbers(m.content)[0])
    expect(kept.at(-1)).toBe(9)
    expect(kept[0]).toBeGreaterThan(1)

    // A conversation the same way.
    const conversation = await alice.conversations.create({ items: Array.from({ length: 8 }, (_, i) => ({ type: 'message' as const, role: 'user' as const, content: long(i + 1) })) })
    await expect(alice.responses.create({ model: 'chat-tiny', conversation: conversation.id, input: long(9) })).rejects.toMatchObject({ status: 400, code: 'context_length_exceeded' })
    expect((await alice.responses.create({ model: 'chat-tiny', conversation: conversation.id, input: long(9), truncation: 'auto' })).status).toBe('completed')
  })

  it('names no thread when no title route is configured (the default)', async () => {
    const thread = (await f.call('bob', 'POST', '/api/v1/chat/threads', {})).body.data.id
    const before = f.upstreamChats().length
    expect((await f.call('bob', 'POST', `/api/v1/chat/threads/${thread}/messages`, { content: 'plan a trip', model: 'chat-a' })).status).toBe(201)
    await new Promise((r) => setTimeout(r, 300))
    expect(f.upstreamChats().length).toBe(before + 1)
    expect((await f.call('bob', 'GET', `/api/v1/chat/threads/${thread}`)).body.data.title).toBeNull()
  })
})

describe('the summarize policy and auto titles', () => {
  let f: ConversationsFixture
  /** The numbers a summary covers: those of the turns it was given and of the summary before it. */
  const summarise = (text: string) => `covers ${[...new Set([...numbers(text), ...[...text.matchAll(/covers ([\d,]+)/g)].flatMap((m) => m[1].split(',').map(Number))])].sort((a, b) => a - b).join(',')}`
  beforeAll(async () => {
    f = await startConversations({
      services: 'summary_route: chat-summary, summary_max_tokens: 64, title_route: chat-title',
      routes: `
  - { model: chat-summary, targets: [ { provider: up, model: summarizer } ] }
  - { model: chat-title, targets: [ { provider: up, model: titler } ] }`,
      answers: { summarizer: summarise, titler: () => '"Latin lessons"' },
    })
  }, 120_000)
  afterAll(async () => { await f?.close() })

  const byModel = (model: string) => f.upstreamChats().filter((r) => r.body.model === model)

  it('folds the dropped turns into a summary after the instructions, sends the recent turns in order, and reuses the summary', async () => {
    const assistant = await f.call('lead', 'POST', '/api/v1/assistants', {
      name: 'summariser', route: 'chat-a', instructions: 'Keep me always.', params: { max_tokens: 100 }, context_policy: { strategy: 'summarize', max_context_tokens: 600 },
    })
    expect(assistant.body.data.context_policy).toEqual({ strategy: 'summarize', max_context_tokens: 600 })
    const thread = (await f.call('alice', 'POST', '/api/v1/chat/threads', { assistant_id: assistant.body.data.id })).body.data.id
    let withSummary = 0
    for (let n = 1; n <= 9; n++) {
      expect((await f.call('alice', 'POST', `/api/v1/chat/threads/${thread}/messages`, { content: long(n) })).status).toBe(201)
      const sent = f.upstreamChats().filter((r) => r.body.model === 'gpt-4o-mini').at(-1)!.body.messages as Sent[]
      // The instructions first, never dropped; then the summary, if any; then whole turns, then the new message.
      expect(sent[0]).toEqual({ role: 'system', content: 'Keep me always.' })
      expect(sent.at(-1)).toEqual({ role: 'user', content: long(n) })
      const summary = sent[1].role === 'system' ? sent[1].content : null
      if (summary) withSummary++
      const covered = summary ? /covers ([\d,]+)/.exec(summary)![1].split(',').map(Number) : []
      const recent = sent.filter((m) => m.role === 'user').map((m) => numbers(m.content)[0])
      // Every earlier turn is in the summary or sent as it is, in order, with no gap and no overlap.
      expect([...covered, ...recent], `turn ${n}`).toEqual(Array.from({ length: n }, (_, i) => i + 1))
      if (recent.length > 1) expect(sent[sent.length - 2]).toEqual({ role: 'assistant', content: `reply to: ${long(n - 1)}` })
    }
    const calls = byModel('summarizer')
    // Kept on the thread: in 600 tokens, five of the nine turns sent a summary, and it was made twice, not five times.
    expect(withSummary).toBe(5)
    expect(calls).toHaveLength(2)
    // The later summary starts from the one before it.
    expect(calls[1].body.messages[1].content).toContain('The summary so far:\ncovers ')
    // provider.openai sends the output limit by its current name (max-tokens.ts).
    expect(calls[0].body.max_completion_tokens).toBe(64)
    // The thread itself keeps every message.
    expect((await f.call('alice', 'GET', `/api/v1/chat/threads/${thread}`)).body.data.message_count).toBe(18)
  })

  it('names a new thread after its first exchange through the title route, once, and keeps a title its owner gave', async () => {
    const thread = (await f.call('bob', 'POST', '/api/v1/chat/threads', {})).body.data.id
    const before = byModel('titler').length
    expect((await f.call('bob', 'POST', `/api/v1/chat/threads/${thread}/messages`, { content: 'teach me latin', model: 'chat-a' })).status).toBe(201)
    const titled = await eventually(() => f.call('bob', 'GET', `/api/v1/chat/threads/${thread}`), (r) => r.body.data.title !== null)
    expect(titled.body.data.title).toBe('Latin lessons')
    const request = byModel('titler').at(-1)!.body
    expect(request.messages[1].content).toBe('teach me latin\nreply to: teach me latin')
    expect(byModel('titler').length).toBe(before + 1)

    await f.call('bob', 'POST', `/api/v1/chat/threads/${thread}/messages`, { content: 'more please', model: 'chat-a' })
    await new Promise((r) => setTimeout(r, 300))
    expect(byModel('titler').length).toBe(before + 1)

    const named = (await f.call('bob', 'POST', '/api/v1/chat/threads', { title: 'My own name' })).body.data.id
    await f.call('bob', 'POST', `/api/v1/chat/threads/${named}/messages`, { content: 'hello', model: 'chat-a' })
    await eventually(async () => byModel('titler').length, (n) => n === before + 2)
    await new Promise((r) => setTimeout(r, 300))
    expect((await f.call('bob', 'GET', `/api/v1/chat/threads/${named}`)).body.data.title).toBe('My own name')
  })
})

describe('when the summary and title routes fail', () => {
  let f: ConversationsFixture
  beforeAll(async () => {
    f = await startConversations({
      services: 'summary_route: chat-down, title_route: chat-down',
      routes: '\n  - { model: chat-down, targets: [ { provider: up, model: broken-model } ] }',
      failing: ['broken-model'],
    })
  }, 120_000)
  afterAll(async () => { await f?.close() })

  it('still answers: the thread stays untitled and the history is truncated instead of summarised', async () => {
    const assistant = await f.call('lead', 'POST', '/api/v1/assistants', {
      name: 'summariser', route: 'chat-a', params: { max_tokens: 100 }, context_policy: { strategy: 'summarize', max_context_tokens: 500 },
    })
    const thread = (await f.call('alice', 'POST', '/api/v1/chat/threads', { assistant_id: assistant.body.data.id })).body.data.id
    for (let n = 1; n <= 6; n++) {
      const res = await f.call('alice', 'POST', `/api/v1/chat/threads/${thread}/messages`, { content: long(n) })
      expect(res.status).toBe(201)
      expect(res.body.data.reply[0].content).toBe(`reply to: ${long(n)}`)
    }
    const broken = f.upstreamChats().filter((r) => r.body.model === 'broken-model')
    expect(broken.some((r) => String(r.body.messages[0].content).startsWith('Name this conversation'))).toBe(true)
    expect(broken.some((r) => String(r.body.messages[0].content).startsWith('Summarise'))).toBe(true)

    const sent = f.upstreamChats().filter((r) => r.body.model === 'gpt-4o-mini').at(-1)!.body.messages as Sent[]
    expect(sent.every((m) => m.role !== 'system')).toBe(true)
    const recent = sent.filter((m) => m.role === 'user').map((m) => numbers(m.content)[0])
    expect(recent.length).toBeLessThan(6)
    expect(recent).toEqual(Array.from({ length: recent.length }, (_, i) => 7 - recent.length + i))
    expect((await f.call('alice', 'GET', `/api/v1/chat/threads/${thread}`)).body.data).toMatchObject({ title: null, message_count: 12 })
  })
})

describe('a history cut at max_history_items', () => {
  let f: ConversationsFixture
  beforeAll(async () => { f = await startConversations({ services: 'max_history_items: 2' }) }, 120_000)
  afterAll(async () => { await f?.close() })

  it('never starts with a tool result whose call was cut off (a chat API refuses one), nor sends one whose call was deleted', async () => {
    const alice = f.client('alice')
    const weather = { type: 'function' as const, name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }
    const asked = await alice.responses.create({ model: 'chat-a', input: 'What is the weather in Paris?', tools: [weather] })
    const call = asked.output[0] as OpenAI.Responses.ResponseFunctionToolCall
    const answered = await alice.responses.create({ model: 'chat-a', previous_response_id: asked.id, tools: [weather], input: [{ type: 'function_call_output', call_id: call.call_id, output: '20C' }] })
    expect(answered.output_text).toBe('tool said: 20C')
    // The newest two items are the call's output and the reply: the call itself is not read.
    const thanked = await alice.responses.create({ model: 'chat-a', previous_response_id: answered.id, input: 'and tomorrow?' })
    expect(thanked.output_text).toBe('reply to: and tomorrow?')
    const sent = f.upstreamChats().at(-1)!.body.messages as { role: string; tool_call_id?: string; tool_calls?: unknown[] }[]
    expect(sent.map((m) => m.role)).toEqual(['assistant', 'user'])

    // A conversation whose function call was deleted: its output is not sent without it.
    const conversation = await alice.conversations.create({ items: [
      { type: 'message', role: 'user', content: 'weather?' },
      { type: 'function_call', call_id: 'call_x', name: 'get_weather', arguments: '{}' },
      { type: 'function_call_output', call_id: 'call_x', output: '5C' },
    ] })
    const items = await alice.conversations.items.list(conversation.id, { order: 'asc' })
    await alice.conversations.items.delete(items.data[1]!.id!, { conversation_id: conversation.id })
    await alice.responses.create({ model: 'chat-a', conversation: conversation.id, input: 'so?' })
    expect((f.upstreamChats().at(-1)!.body.messages as { role: string }[]).map((m) => m.role)).toEqual(['user', 'user'])
  })
})
