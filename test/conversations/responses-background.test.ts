/**
 * Background responses (/v1/responses with `background: true`) as the openai SDK drives them:
 * created queued, polled to their end, cancelled (the upstream call stopped), refused where they
 * cannot run, bounded by their deadline, and failed (not left running) when the gateway stops.
 */
import { createHash, randomBytes } from 'node:crypto'
import type http from 'node:http'
import OpenAI from 'openai'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Store } from '../../plugin-api/index.ts'
import { Identity } from '../../plugins/contracts/capabilities.ts'
import { capability } from '../helpers/gateway.ts'
import { expectOpenAISchema } from '../helpers/openai-schema.ts'
import type { RecordedRequest } from '../helpers/upstream.ts'
import { waitFor } from '../helpers/wait.ts'
import { DATABASE_URL, POSTGRES_ENABLED } from '../store/helpers.ts'
import { openAIUpstreamHandler, startConversations, type ConversationsFixture } from './helpers.ts'

/** An upstream that holds each chat call until `release()` (or the gateway hangs up), recording which were hung up on. */
function heldUpstream() {
  const hungUp: string[] = []
  let release!: () => void
  let released = new Promise<void>((r) => { release = r })
  const answer = openAIUpstreamHandler()
  const handler = async (req: RecordedRequest, res: http.ServerResponse): Promise<void> => {
    const text = String((req.body.messages as { content: string }[]).at(-1)?.content)
    const gone = new Promise<void>((r) => res.once('close', () => r()))
    await Promise.race([released, gone])
    if (res.destroyed || res.writableEnded) { hungUp.push(text); return }
    await answer(req, res)
  }
  return {
    handler, hungUp,
    release: () => { release(); released = new Promise<void>((r) => { release = r }) },
  }
}

const settled = async (client: OpenAI, id: string): Promise<OpenAI.Responses.Response> =>
  (await waitFor(async () => {
    const r = await client.responses.retrieve(id)
    return r.status === 'queued' || r.status === 'in_progress' ? undefined : r
  }, 10_000, 25)).value!

describe('background responses through the openai SDK', () => {
  let f: ConversationsFixture
  let alice: OpenAI
  beforeAll(async () => {
    f = await startConversations({
      services: 'background_timeout_ms: 4000, background_heartbeat_ms: 200',
      // One name, two routes: the request's metadata picks one (first match wins).
      routes: `
  - { model: chat-tiered, when: { metadata: { tier: gold } }, targets: [ { provider: up, model: gpt-gold } ] }
  - { model: chat-tiered, targets: [ { provider: up, model: gpt-plain } ] }`,
    })
    alice = f.client('alice')
    // One turn first: it starts the token counter's worker thread (1-2 s from the TypeScript
    // sources, far more on a loaded CI host), which the first background run would otherwise wait for.
    await alice.responses.create({ model: 'chat-a', input: 'warm up' })
  }, 120_000)
  afterAll(async () => { await f?.close() })

  it('answers queued at once, runs after the request has ended, and is polled to completed with its output, usage and input items', async () => {
    const held = heldUpstream()
    f.upstream.handle(held.handler)
    const chatsBefore = f.upstreamChats().length
    const queued = await alice.responses.create({ model: 'chat-a', input: 'write a long story', background: true })
    expectOpenAISchema('Response', queued)
    expect(queued).toMatchObject({ status: 'queued', background: true, store: true, output: [] })
    // Its input items are listed from its creation, as OpenAI lists them, not once it has ended.
    const listed = await alice.responses.inputItems.list(queued.id)
    expect(listed.data.map((i) => (i as { content: { text: string }[] }).content[0]?.text)).toEqual(['write a long story'])
    // The create request has ended; the run goes on (in_progress, its upstream call held).
    // Generous: a loaded CI host once took longer than 5 s to start the run.
    await waitFor(async () => (await alice.responses.retrieve(queued.id)).status === 'in_progress', 15_000, 20)
    await waitFor(() => f.upstreamChats().length > chatsBefore, 15_000, 10)
    held.release()
    const done = await settled(alice, queued.id)
    expectOpenAISchema('Response', done)
    expect(done).toMatchObject({ id: queued.id, status: 'completed', background: true, usage: { input_tokens: 11, output_tokens: 7 } })
    expect(done.output_text).toBe('reply to: write a long story')
    const items = await alice.responses.inputItems.list(queued.id)
    expect(items.data.map((i) => (i as { content: { text: string }[] }).content[0]?.text)).toEqual(['write a long story'])
    expect(items.data[0].id).toBe(listed.data[0].id)
    // It continues like any stored response.
    f.upstream.handle(openAIUpstreamHandler())
    const next = await alice.responses.create({ model: 'chat-a', previous_response_id: queued.id, input: 'and then?' })
    expect(f.upstreamChats().at(-1)?.body.messages.map((m: { content: string }) => m.content)).toEqual(['write a long story', 'reply to: write a long story', 'and then?'])
    expect(next.status).toBe('completed')
  })

  it('names, while queued, the model its run calls: the target of the route its metadata selects, as the completed response does', async () => {
    f.upstream.handle(openAIUpstreamHandler())
    const queued = await alice.responses.create({ model: 'chat-tiered', input: 'which tier am I', metadata: { tier: 'gold' }, background: true })
    expect(queued).toMatchObject({ status: 'queued', model: 'gpt-gold', metadata: { tier: 'gold' } })
    expect((await alice.responses.retrieve(queued.id)).model).toBe('gpt-gold')
    const done = await settled(alice, queued.id)
    expect(done).toMatchObject({ status: 'completed', model: 'gpt-gold', output_text: 'reply to: which tier am I' })
    // The metadata is the Response's: it routes the call, and is not sent to the model.
    expect(f.upstreamChats().filter((r) => r.body.messages.at(-1).content === 'which tier am I').map((r) => [r.body.model, r.body.metadata])).toEqual([['gpt-gold', undefined]])
    // Without the metadata, the other route: queued and completed alike.
    const plain = await alice.responses.create({ model: 'chat-tiered', input: 'and without a tier', background: true })
    expect(plain.model).toBe('gpt-plain')
    expect((await settled(alice, plain.id)).model).toBe('gpt-plain')
  })

  it('refuses to continue one still running (its exchange is not kept yet) instead of answering without it, and continues it once it has ended', async () => {
    const held = heldUpstream()
    f.upstream.handle(held.handler)
    const running = await alice.responses.create({ model: 'chat-a', input: 'name three rivers', background: true })
    const chatsBefore = f.upstreamChats().length
    const refused = await alice.responses.create({ model: 'chat-a', previous_response_id: running.id, input: 'which is longest?' }).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError)
    expect(refused).toMatchObject({ status: 400, param: 'previous_response_id', code: 'previous_response_in_progress' })
    expect((refused as Error).message).toMatch(/still (queued|in_progress)/)
    await waitFor(() => f.upstreamChats().some((r) => r.body.messages.at(-1).content === 'name three rivers'), 5000, 10)
    held.release()
    expect((await settled(alice, running.id)).status).toBe('completed')
    f.upstream.handle(openAIUpstreamHandler())
    await alice.responses.create({ model: 'chat-a', previous_response_id: running.id, input: 'which is longest?' })
    // The refused request never reached the model; the one after the run carries its exchange.
    expect(f.upstreamChats().slice(chatsBefore).map((r) => r.body.messages.map((m: { content: string }) => m.content))).toEqual([
      ['name three rivers'], ['name three rivers', 'reply to: name three rivers', 'which is longest?'],
    ])
  })

  it('refuses a turn in a conversation while a background response runs in it (conversation_locked, as OpenAI), so its history stays in order', async () => {
    const held = heldUpstream()
    f.upstream.handle(held.handler)
    const conversation = await alice.conversations.create({ items: [{ type: 'message', role: 'user', content: 'hello' }] })
    const running = await alice.responses.create({ model: 'chat-a', conversation: conversation.id, input: 'research this', background: true })
    const refused = await alice.responses.create({ model: 'chat-a', conversation: conversation.id, input: 'meanwhile' }).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError)
    expect(refused).toMatchObject({ status: 400, param: 'conversation', code: 'conversation_locked' })
    // Its input is listed at once; the conversation gets it with the answer, when the run ends.
    expect((await alice.responses.inputItems.list(running.id)).data.map((i) => (i as OpenAI.Conversations.Message).content[0])).toMatchObject([{ text: 'research this' }])
    expect((await alice.conversations.items.list(conversation.id)).data).toHaveLength(1)
    // Another conversation is not held up.
    f.upstream.handle(openAIUpstreamHandler())
    expect((await alice.responses.create({ model: 'chat-a', conversation: (await alice.conversations.create({})).id, input: 'elsewhere' })).status).toBe('completed')
    f.upstream.handle(held.handler)
    await waitFor(() => f.upstreamChats().some((r) => r.body.messages.at(-1).content === 'research this'), 5000, 10)
    held.release()
    expect((await settled(alice, running.id)).status).toBe('completed')
    f.upstream.handle(openAIUpstreamHandler())
    await alice.responses.create({ model: 'chat-a', conversation: conversation.id, input: 'meanwhile' })
    const texts: string[] = []
    for await (const item of alice.conversations.items.list(conversation.id, { order: 'asc' })) texts.push(((item as OpenAI.Conversations.Message).content[0] as { text: string }).text)
    expect(texts).toEqual(['hello', 'research this', 'reply to: research this', 'meanwhile', 'reply to: meanwhile'])
  })

  it('fails one the provider rate-limits with error.code rate_limit_exceeded (a client backs off), another with server_error', async () => {
    f.upstream.handle((_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '0' })
      res.end(JSON.stringify({ error: { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded', param: null } }))
    })
    try {
      const limited = await settled(alice, (await alice.responses.create({ model: 'chat-a', input: 'too many', background: true })).id)
      expectOpenAISchema('Response', limited)
      expect(limited).toMatchObject({ status: 'failed', error: { code: 'rate_limit_exceeded' } })
      f.upstream.handle(openAIUpstreamHandler({ failing: ['gpt-4o-mini'] }))
      const broken = await settled(alice, (await alice.responses.create({ model: 'chat-a', input: 'broken', background: true })).id)
      expect(broken).toMatchObject({ status: 'failed', error: { code: 'server_error' } })
    } finally {
      f.upstream.handle(openAIUpstreamHandler())
    }
  })

  it('cancels a running one: the upstream call is stopped, it stays cancelled, and cancelling again answers the same', async () => {
    const held = heldUpstream()
    f.upstream.handle(held.handler)
    const queued = await alice.responses.create({ model: 'chat-a', input: 'cancel me', background: true })
    await waitFor(() => f.upstreamChats().some((r) => r.body.messages.at(-1).content === 'cancel me'), 5000, 10)
    const cancelled = await alice.responses.cancel(queued.id)
    expectOpenAISchema('Response', cancelled)
    expect(cancelled).toMatchObject({ id: queued.id, status: 'cancelled', background: true })
    // Well before its deadline (which would stop it too).
    await waitFor(() => held.hungUp.includes('cancel me'), 1500, 10)
    held.release()
    await new Promise((r) => setTimeout(r, 100))
    expect((await alice.responses.retrieve(queued.id)).status).toBe('cancelled')
    expect((await alice.responses.cancel(queued.id)).status).toBe('cancelled')
    // What it was given is still listed (as OpenAI lists a cancelled response's input); nothing of its answer was kept.
    expect((await alice.responses.inputItems.list(queued.id)).data.map((i) => (i as OpenAI.Conversations.Message).content[0])).toMatchObject([{ text: 'cancel me' }])
    expect((await alice.responses.retrieve(queued.id)).output).toEqual([])
  })

  it('refuses to cancel a response that was not made in the background or has ended, and another user\'s', async () => {
    f.upstream.handle(openAIUpstreamHandler())
    const plain = await alice.responses.create({ model: 'chat-a', input: 'plain' })
    await expect(alice.responses.cancel(plain.id)).rejects.toMatchObject({ status: 400, code: 'response_not_cancellable' })
    const background = await alice.responses.create({ model: 'chat-a', input: 'quick', background: true })
    expect((await settled(alice, background.id)).status).toBe('completed')
    const ended = await alice.responses.cancel(background.id).catch((e: unknown) => e)
    expect(ended).toBeInstanceOf(OpenAI.BadRequestError)
    expect((ended as InstanceType<typeof OpenAI.APIError>).message).toContain('completed')
    await expect(f.client('carol').responses.cancel(background.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError)
    await expect(f.client('carol').responses.retrieve(background.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError)
  })

  it('refuses a background response that is not stored, and streaming again one that was not created streaming', async () => {
    f.upstream.handle(openAIUpstreamHandler())
    await expect(alice.responses.create({ model: 'chat-a', input: 'x', background: true, store: false })).rejects.toMatchObject({ status: 400, param: 'store' })
    const polled = await alice.responses.create({ model: 'chat-a', input: 'polled only', background: true })
    await settled(alice, polled.id)
    await expect(alice.responses.retrieve(polled.id, { stream: true })).rejects.toMatchObject({ status: 400, param: 'stream' })
  })

  it('streams a background response (queued, then in_progress) and lets a dropped client resume after the last event it saw', async () => {
    f.upstream.handle(openAIUpstreamHandler({ delayMs: 40 }))
    const input = 'one two three four five six seven eight nine ten'
    const stream = await alice.responses.create({ model: 'chat-a', input, background: true, stream: true })
    const seen: OpenAI.Responses.ResponseStreamEvent[] = []
    for await (const event of stream) {
      expectOpenAISchema('ResponseStreamEvent', event)
      seen.push(event)
      // The client drops after the third text delta.
      if (seen.filter((e) => e.type === 'response.output_text.delta').length === 3) break
    }
    expect(seen.slice(0, 3).map((e) => e.type)).toEqual(['response.created', 'response.queued', 'response.in_progress'])
    expect((seen[0] as OpenAI.Responses.ResponseCreatedEvent).response).toMatchObject({ status: 'queued', background: true })
    const id = (seen[0] as OpenAI.Responses.ResponseCreatedEvent).response.id
    const last = seen.at(-1)!.sequence_number
    // The run goes on without the client; it resumes where it left off, numbered on.
    const resumed: OpenAI.Responses.ResponseStreamEvent[] = []
    for await (const event of await alice.responses.retrieve(id, { stream: true, starting_after: last })) {
      expectOpenAISchema('ResponseStreamEvent', event)
      resumed.push(event)
    }
    expect(resumed.map((e) => e.sequence_number)).toEqual(resumed.map((_, i) => last + 1 + i))
    const final = resumed.at(-1) as OpenAI.Responses.ResponseCompletedEvent
    expect(final.type).toBe('response.completed')
    const text = [...seen, ...resumed].filter((e) => e.type === 'response.output_text.delta').map((e) => (e as OpenAI.Responses.ResponseTextDeltaEvent).delta).join('')
    expect(text).toBe(`reply to: ${input}`)
    expect(final.response.output_text ?? (await alice.responses.retrieve(id)).output_text).toBe(`reply to: ${input}`)
    // Followed again from the start, by another connection: the same events, in the same order.
    const again: OpenAI.Responses.ResponseStreamEvent[] = []
    for await (const event of await alice.responses.retrieve(id, { stream: true })) again.push(event)
    expect(again.map((e) => e.type)).toEqual([...seen, ...resumed].map((e) => e.type))
    await expect(f.client('carol').responses.retrieve(id, { stream: true })).rejects.toBeInstanceOf(OpenAI.NotFoundError)
  })

  it('ends the stream of a cancelled background response with response.failed carrying status cancelled', async () => {
    const held = heldUpstream()
    f.upstream.handle(held.handler)
    const stream = await alice.responses.create({ model: 'chat-a', input: 'cancel my stream', background: true, stream: true })
    const events: OpenAI.Responses.ResponseStreamEvent[] = []
    const reading = (async () => { for await (const event of stream) events.push(event) })()
    await waitFor(() => f.upstreamChats().some((r) => r.body.messages.at(-1).content === 'cancel my stream'), 5000, 10)
    const id = (events[0] as OpenAI.Responses.ResponseCreatedEvent).response.id
    await alice.responses.cancel(id)
    await reading
    held.release()
    expect(events.at(-1)).toMatchObject({ type: 'response.failed', response: { id, status: 'cancelled' } })
  })

  it('fails one that outlives its deadline, saying so, and stops its upstream call', async () => {
    const held = heldUpstream()
    f.upstream.handle(held.handler)
    const queued = await alice.responses.create({ model: 'chat-a', input: 'too slow', background: true })
    const failed = await settled(alice, queued.id)
    expect(failed.status).toBe('failed')
    expect(failed.error?.message).toContain('did not finish within 4000 ms')
    await waitFor(() => held.hungUp.includes('too slow'), 5000, 10)
    held.release()
  })

  it('reads as failed one left queued by a gateway that stopped (past its deadline and a minute, run by no one here)', async () => {
    const id = `resp_${'ab'.repeat(16)}`
    const body = { id, object: 'response', created_at: 1, status: 'in_progress', background: true, store: true, model: 'chat-a', output: [], error: null }
    f.upstream.handle(openAIUpstreamHandler())
    const mine = await alice.responses.create({ model: 'chat-a', input: 'whose am I' })
    await capability(f.gw, Store).sql.query(
      `INSERT INTO chat_responses (id, user_id, department, body, created_at) SELECT $1, user_id, department, $2, now() - interval '5 minutes' FROM chat_responses WHERE id = $3`,
      [id, JSON.stringify(body), mine.id],
    )
    const lost = await alice.responses.retrieve(id)
    expect(lost).toMatchObject({ status: 'failed', error: { code: 'server_error', message: expect.stringContaining('gateway stopped') } })
    expect((await alice.responses.cancel(id).catch((e: unknown) => e))).toBeInstanceOf(OpenAI.BadRequestError)
  })

  /** A background response of alice's as a gateway left it, running by its row, created now and last beating `silentMs` ago; `streamed`: with its event log's start marker. */
  async function orphan(name: string, silentMs: number, streamed = false): Promise<string> {
    const id = `resp_${name.repeat(32).slice(0, 32)}`
    const body = { id, object: 'response', created_at: Math.floor(Date.now() / 1000), status: 'in_progress', background: true, store: true, model: 'chat-a', output: [], error: null }
    f.upstream.handle(openAIUpstreamHandler())
    const mine = await alice.responses.create({ model: 'chat-a', input: `whose is ${name}` })
    const { sql } = capability(f.gw, Store)
    await sql.query(
      `INSERT INTO chat_responses (id, user_id, department, body, heartbeat_at) SELECT $1, user_id, department, $2, now() - ($4 || ' milliseconds')::interval FROM chat_responses WHERE id = $3`,
      [id, JSON.stringify(body), mine.id, String(silentMs)],
    )
    if (streamed) await sql.query(`INSERT INTO chat_response_events (response_id, seq, event) VALUES ($1, 0, '{"type":"start"}')`, [id])
    return id
  }

  it('keeps a running one beating, and reads as failed, long before its deadline, one whose gateway stopped beating (it died)', async () => {
    const held = heldUpstream()
    f.upstream.handle(held.handler)
    const queued = await alice.responses.create({ model: 'chat-a', input: 'beat on', background: true })
    await waitFor(() => f.upstreamChats().some((r) => r.body.messages.at(-1).content === 'beat on'), 5000, 10)
    // Five beats in: what another gateway reads of it is a heartbeat younger than one beat and a bit.
    await new Promise((r) => setTimeout(r, 1000))
    const { rows } = await capability(f.gw, Store).sql.query<{ silent: number }>(`SELECT (extract(epoch FROM now() - heartbeat_at) * 1000)::float8 AS silent FROM chat_responses WHERE id = $1`, [queued.id])
    expect(rows[0]!.silent).toBeLessThan(450)
    expect((await alice.responses.retrieve(queued.id)).status).toBe('in_progress')
    held.release()
    expect((await settled(alice, queued.id)).status).toBe('completed')

    // Within its 4 s deadline, silent for more than three beats of 200 ms: its gateway is gone.
    const dead = await orphan('cd', 5000)
    expect(await alice.responses.retrieve(dead)).toMatchObject({ status: 'failed', error: { code: 'server_error', message: expect.stringContaining('gateway stopped') } })
    // Silent for less than that: still running somewhere.
    const alive = await orphan('ef', 100)
    expect((await alice.responses.retrieve(alive)).status).toBe('in_progress')
  })

  it('ends the stream of a client following a response whose gateway died, with response.failed, within seconds', async () => {
    const id = await orphan('aa', 5000, true)
    const started = Date.now()
    const events: OpenAI.Responses.ResponseStreamEvent[] = []
    for await (const event of await alice.responses.retrieve(id, { stream: true })) events.push(event)
    expect(Date.now() - started).toBeLessThan(4500)
    expect(events.at(-1)).toMatchObject({ type: 'response.failed', response: { id, status: 'failed', error: { message: expect.stringContaining('gateway stopped') } } })
  })

  it('stops the run of a background response that is deleted', async () => {
    const held = heldUpstream()
    f.upstream.handle(held.handler)
    const queued = await alice.responses.create({ model: 'chat-a', input: 'delete me while running', background: true })
    await waitFor(() => f.upstreamChats().some((r) => r.body.messages.at(-1).content === 'delete me while running'), 5000, 10)
    await alice.responses.delete(queued.id)
    await waitFor(() => held.hungUp.includes('delete me while running'), 1500, 10)
    await expect(alice.responses.retrieve(queued.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError)
    held.release()
  })

  it('does not run one whose virtual key was revoked before its run started: cancelled, the model never called', async () => {
    // Revoked in the store as another gateway does it: this one still trusts the key for its cache
    // time, so the response is accepted, and only the run's own look at the key can stop it.
    f.upstream.handle(openAIUpstreamHandler())
    const identity = capability(f.gw, Identity)
    const secret = `gw-bg-${randomBytes(16).toString('hex')}`
    const key = await identity.apiKeys.create({ keyHash: createHash('sha256').update(secret).digest('hex'), prefix: secret.slice(0, 9), role: 'user', department: 'research' })
    const withKey = new OpenAI({ baseURL: `${f.gw.url}/v1`, apiKey: secret, maxRetries: 0 })
    expect((await withKey.models.list()).data.length).toBeGreaterThan(0)
    expect(await identity.apiKeys.revoke(key.id)).toBe(true)
    const queued = await withKey.responses.create({ model: 'chat-a', input: 'run me after my key is gone', background: true })
    expect(queued.status).toBe('queued')
    const done = await settled(f.client('admin'), queued.id)
    expectOpenAISchema('Response', done)
    expect(done).toMatchObject({ id: queued.id, status: 'cancelled', output: [] })
    expect(f.upstreamChats().filter((r) => r.body.messages.at(-1).content === 'run me after my key is gone')).toHaveLength(0)
  })
})

describe.runIf(POSTGRES_ENABLED)('background responses at shutdown (postgres store)', () => {
  it('fails the runs still going when the gateway stops, so no poller waits for ever', async () => {
    const f = await startConversations({ store: 'postgres' })
    try {
      // Starts the token counter's worker first, which the background run would otherwise wait for.
      await f.client('alice').responses.create({ model: 'chat-a', input: 'warm up' })
      const held = heldUpstream()
      f.upstream.handle(held.handler)
      const queued = await f.client('alice').responses.create({ model: 'chat-a', input: 'still running at shutdown', background: true })
      await waitFor(() => f.upstreamChats().length > 1, 5000, 10)
      await f.gw.close()
      const client = new pg.Client(DATABASE_URL)
      await client.connect()
      try {
        const { rows } = await client.query(`SELECT body FROM "${f.schema}".chat_responses WHERE id = $1`, [queued.id])
        expect(rows[0].body).toMatchObject({ status: 'failed', error: { message: expect.stringContaining('gateway stopped') } })
      } finally {
        await client.end()
      }
      held.release()
    } finally {
      await f.close()
    }
  }, 60_000)
})
