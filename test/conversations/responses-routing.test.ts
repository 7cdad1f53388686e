/**
 * A /v1/responses turn routes with the facts its request carries: the client's headers (routes'
 * `when: { headers }`) and the Response's metadata (`when: { metadata }`), for its model call and
 * for the summary its assistant's `summarize` policy makes of the turns that no longer fit.
 */
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { as, startConversations, type ConversationsFixture } from './helpers.ts'

/** A user message long enough to count (about 60 tokens). */
const long = (n: number) => `message ${n} ` + 'lorem ipsum dolor sit amet '.repeat(10)

describe('routing of a /v1/responses turn through the openai SDK', () => {
  let f: ConversationsFixture
  let alice: OpenAI
  beforeAll(async () => {
    f = await startConversations({
      services: 'summary_route: chat-summary, summary_max_tokens: 64',
      // One name, two routes each (first match wins): the turn's by a header, the summary's by the metadata and the header.
      routes: `
  - { model: chat-tiered, when: { headers: { x-tier: gold } }, targets: [ { provider: up, model: gpt-gold } ] }
  - { model: chat-tiered, when: { headers: { x-session-token: gold } }, targets: [ { provider: up, model: gpt-token } ] }
  - { model: chat-tiered, targets: [ { provider: up, model: gpt-plain } ] }
  - { model: chat-summary, when: { metadata: { tier: gold }, headers: { x-tier: gold } }, targets: [ { provider: up, model: summary-gold } ] }
  - { model: chat-summary, targets: [ { provider: up, model: summary-plain } ] }`,
      answers: { 'summary-gold': () => 'gold summary', 'summary-plain': () => 'plain summary' },
    })
    alice = f.client('alice')
  }, 120_000)
  afterAll(async () => { await f?.close() })

  it('calls the target of the route the client\'s headers select, as a chat completion does', async () => {
    const gold = await alice.responses.create({ model: 'chat-tiered', input: 'gold by header' }, { headers: { 'x-tier': 'gold' } })
    expect(gold.model).toBe('gpt-gold')
    const plain = await alice.responses.create({ model: 'chat-tiered', input: 'plain without it' })
    expect(plain.model).toBe('gpt-plain')
    const streamed = await alice.responses.create({ model: 'chat-tiered', input: 'gold streamed', stream: true }, { headers: { 'x-tier': 'gold' } })
    for await (const _ of streamed) { /* drained */ }
    const sent = (text: string) => f.upstreamChats().filter((r) => r.body.messages.at(-1).content === text).map((r) => r.body.model)
    expect(sent('gold by header')).toEqual(['gpt-gold'])
    expect(sent('plain without it')).toEqual(['gpt-plain'])
    expect(sent('gold streamed')).toEqual(['gpt-gold'])
  })

  it('routes a console thread\'s message by the client\'s headers too (credentials left out)', async () => {
    const created = await f.call('alice', 'POST', '/api/v1/chat/threads', { title: 'tiers' })
    expect(created.status).toBe(201)
    const send = (content: string, headers: Record<string, string>) => fetch(`${f.gw.url}/api/v1/chat/threads/${created.body.data.id}/messages`, {
      method: 'POST', headers: { ...as('alice'), 'content-type': 'application/json', ...headers }, body: JSON.stringify({ content, model: 'chat-tiered' }),
    })
    expect((await send('thread gold', { 'x-tier': 'gold' })).status).toBe(201)
    expect((await send('thread token', { 'x-session-token': 'gold' })).status).toBe(201)
    const sent = (text: string) => f.upstreamChats().filter((r) => r.body.messages.at(-1).content === text).map((r) => r.body.model)
    expect(sent('thread gold')).toEqual(['gpt-gold'])
    expect(sent('thread token')).toEqual(['gpt-plain'])
  })

  it('keeps none of the request\'s credentials for the turn (a background run holds them until it ends), as batches do not', async () => {
    // A credential-like header is not a routing fact here: the turn routes as without it.
    const r = await alice.responses.create({ model: 'chat-tiered', input: 'token header', background: true }, { headers: { 'x-session-token': 'gold' } })
    let done = await alice.responses.retrieve(r.id)
    for (let i = 0; i < 100 && (done.status === 'queued' || done.status === 'in_progress'); i++) done = await new Promise((resolve) => setTimeout(resolve, 50)).then(() => alice.responses.retrieve(r.id))
    expect(done.status).toBe('completed')
    expect(r.model).toBe('gpt-plain')
    expect(done.model).toBe('gpt-plain')
  })

  it('makes the summary of dropped turns through the target its metadata and headers select, as the turn itself', async () => {
    const assistant = await f.call('lead', 'POST', '/api/v1/assistants', {
      name: 'tiered-summariser', route: 'chat-tiered', params: { max_tokens: 100 }, context_policy: { strategy: 'summarize', max_context_tokens: 600 },
    })
    expect(assistant.status).toBe(201)
    /** Nine turns of one conversation; the models its summaries were asked of. */
    async function nineTurns(options: { metadata?: Record<string, string>; headers?: Record<string, string> }): Promise<{ summaries: string[]; turns: string[] }> {
      const conversation = await alice.conversations.create({})
      const before = f.upstreamChats().length
      for (let n = 1; n <= 9; n++) {
        const r = await alice.responses.create({ model: 'assistant/tiered-summariser', conversation: conversation.id, input: long(n), ...(options.metadata ? { metadata: options.metadata } : {}) }, { headers: options.headers })
        expect(r.status).toBe('completed')
      }
      const calls = f.upstreamChats().slice(before).map((r) => r.body.model as string)
      return { summaries: calls.filter((m) => m.startsWith('summary-')), turns: calls.filter((m) => !m.startsWith('summary-')) }
    }
    const gold = await nineTurns({ metadata: { tier: 'gold' }, headers: { 'x-tier': 'gold' } })
    expect(gold.summaries.length).toBeGreaterThan(0)
    expect(new Set(gold.summaries)).toEqual(new Set(['summary-gold']))
    expect(gold.turns).toEqual(Array(9).fill('gpt-gold'))
    // The metadata without the header: the summary's route needs both.
    const half = await nineTurns({ metadata: { tier: 'gold' } })
    expect(half.summaries.length).toBeGreaterThan(0)
    expect(new Set(half.summaries)).toEqual(new Set(['summary-plain']))
    expect(half.turns).toEqual(Array(9).fill('gpt-plain'))
    const plain = await nineTurns({})
    expect(plain.summaries.length).toBeGreaterThan(0)
    expect(new Set(plain.summaries)).toEqual(new Set(['summary-plain']))
    expect(plain.turns).toEqual(Array(9).fill('gpt-plain'))
  })
})
