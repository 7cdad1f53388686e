/**
 * One turn at a time in a conversation: a request that answers in it claims it (in the store, so
 * every gateway process sees the claim) until its exchange is kept; another turn meanwhile is a 400
 * conversation_locked, as with a running background response. A claim left by a process that died
 * expires. On both stores.
 */
import type http from 'node:http'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Store, type GatewayCalls } from '../../plugin-api/index.ts'
import { Conversations, type TurnInput } from '../../plugins/contracts/conversations.ts'
import { capability } from '../helpers/gateway.ts'
import type { RecordedRequest } from '../helpers/upstream.ts'
import { POSTGRES_ENABLED } from '../store/helpers.ts'
import { openAIUpstreamHandler, startConversations, type ConversationsFixture, type StoreKind } from './helpers.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The mock upstream, answering each chat call after `ms`. */
const slowly = (ms: number) => {
  const answer = openAIUpstreamHandler()
  return async (req: RecordedRequest, res: http.ServerResponse) => { await sleep(ms); await answer(req, res) }
}

const texts = async (client: OpenAI, conversation: string): Promise<string[]> => {
  const out: string[] = []
  for await (const item of client.conversations.items.list(conversation, { order: 'asc' })) out.push(((item as OpenAI.Conversations.Message).content[0] as { text: string }).text)
  return out
}

const LOCKED = { status: 400, param: 'conversation', code: 'conversation_locked' }

describe.each<StoreKind>(['embedded', 'postgres'])('a conversation answers one turn at a time (%s store)', (store) => {
  let f: ConversationsFixture
  let alice: OpenAI
  beforeAll(async () => {
    if (store === 'postgres' && !POSTGRES_ENABLED) return
    // Claims last three heartbeats (300 ms here) and are renewed while their turn runs.
    f = await startConversations({ store, services: 'background_heartbeat_ms: 100' })
    alice = f.client('alice')
    await alice.responses.create({ model: 'chat-a', input: 'warm up' })
  }, 120_000)
  afterAll(async () => { await f?.close() })

  it.runIf(store === 'embedded' || POSTGRES_ENABLED)('refuses the second of two concurrent requests with conversation_locked, so the turns do not interleave', async () => {
    f.upstream.handle(slowly(400))
    const conversation = await alice.conversations.create({ items: [{ type: 'message', role: 'user', content: 'hello' }] })
    const [a, b] = await Promise.allSettled([
      alice.responses.create({ model: 'chat-a', conversation: conversation.id, input: 'first' }),
      sleep(100).then(() => alice.responses.create({ model: 'chat-a', conversation: conversation.id, input: 'second' })),
    ])
    expect(a.status).toBe('fulfilled')
    expect(b.status).toBe('rejected')
    const refused = (b as PromiseRejectedResult).reason
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError)
    expect(refused).toMatchObject(LOCKED)
    // A streamed turn holds it until its end too (its words come 200 ms apart); a background one cannot start meanwhile; another conversation is not held up.
    f.upstream.handle(openAIUpstreamHandler({ delayMs: 200 }))
    const streamed = await alice.responses.create({ model: 'chat-a', conversation: conversation.id, input: 'streamed', stream: true })
    const events = streamed[Symbol.asyncIterator]()
    expect((await events.next()).value?.type).toBe('response.created')
    await expect(alice.responses.create({ model: 'chat-a', conversation: conversation.id, input: 'meanwhile' })).rejects.toMatchObject(LOCKED)
    await expect(alice.responses.create({ model: 'chat-a', conversation: conversation.id, input: 'meanwhile', background: true })).rejects.toMatchObject(LOCKED)
    const other = await alice.conversations.create({})
    expect((await alice.responses.create({ model: 'chat-a', conversation: other.id, input: 'elsewhere' })).status).toBe('completed')
    // The claim is renewed while the turn runs (it outlives its 300 ms), and freed at its end.
    for (let e = await events.next(); !e.done; e = await events.next()) { /* to its end */ }
    f.upstream.handle(openAIUpstreamHandler())
    expect((await alice.responses.create({ model: 'chat-a', conversation: conversation.id, input: 'second' })).output_text).toBe('reply to: second')
    expect(await texts(alice, conversation.id)).toEqual(['hello', 'first', 'reply to: first', 'streamed', 'reply to: streamed', 'second', 'reply to: second'])
  })

  it.runIf(store === 'embedded' || POSTGRES_ENABLED)('refuses adding or deleting items while a turn answers (they would fall among its own), and allows both after it', async () => {
    const conversation = await alice.conversations.create({ items: [{ type: 'message', role: 'user', content: 'hello' }] })
    const hello = (await alice.conversations.items.list(conversation.id)).data[0] as OpenAI.Conversations.Message
    f.upstream.handle(openAIUpstreamHandler({ delayMs: 200 }))
    const streamed = await alice.responses.create({ model: 'chat-a', conversation: conversation.id, input: 'streamed', stream: true })
    const events = streamed[Symbol.asyncIterator]()
    expect((await events.next()).value?.type).toBe('response.created')
    await expect(alice.conversations.items.create(conversation.id, { items: [{ type: 'message', role: 'user', content: 'meanwhile' }] })).rejects.toMatchObject(LOCKED)
    await expect(alice.conversations.items.delete(hello.id, { conversation_id: conversation.id })).rejects.toMatchObject(LOCKED)
    for (let e = await events.next(); !e.done; e = await events.next()) { /* to its end */ }
    f.upstream.handle(openAIUpstreamHandler())
    // The edit's own claim is freed when it is done: the next turn, and the next edit, go ahead.
    await alice.conversations.items.create(conversation.id, { items: [{ type: 'message', role: 'user', content: 'after' }] })
    expect((await alice.responses.create({ model: 'chat-a', conversation: conversation.id, input: 'then' })).output_text).toBe('reply to: then')
    expect((await alice.conversations.items.delete(hello.id, { conversation_id: conversation.id })).id).toBe(conversation.id)
    expect(await texts(alice, conversation.id)).toEqual(['streamed', 'reply to: streamed', 'after', 'then', 'reply to: then'])
  })

  it.runIf(store === 'embedded' || POSTGRES_ENABLED)('refuses deleting the conversation while a turn answers in it (streamed or background), so no turn writes into a deleted one, and deletes it after', async () => {
    const conversation = await alice.conversations.create({ items: [{ type: 'message', role: 'user', content: 'hello' }] })
    f.upstream.handle(openAIUpstreamHandler({ delayMs: 200 }))
    const streamed = await alice.responses.create({ model: 'chat-a', conversation: conversation.id, input: 'streamed', stream: true })
    const events = streamed[Symbol.asyncIterator]()
    expect((await events.next()).value?.type).toBe('response.created')
    const refused = await alice.conversations.delete(conversation.id).catch((err: unknown) => err)
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError)
    expect(refused).toMatchObject(LOCKED)
    expect((refused as Error).message).toMatch(/response is still running/)
    // The console's API over the same thread refuses it alike.
    expect(await f.call('alice', 'DELETE', `/api/v1/chat/threads/${conversation.id}`)).toMatchObject({ status: 400, body: { success: false } })
    let completed: OpenAI.Responses.Response | undefined
    for (let e = await events.next(); !e.done; e = await events.next()) if (e.value.type === 'response.completed') completed = e.value.response
    expect(completed?.status).toBe('completed')
    expect(await texts(alice, conversation.id)).toEqual(['hello', 'streamed', 'reply to: streamed'])

    // A background turn holds it from the moment it is queued to its end.
    f.upstream.handle(slowly(400))
    const queued = await alice.responses.create({ model: 'chat-a', conversation: conversation.id, input: 'in the background', background: true })
    await expect(alice.conversations.delete(conversation.id)).rejects.toMatchObject(LOCKED)
    await expect.poll(async () => (await alice.responses.retrieve(queued.id)).status, { timeout: 10_000 }).toBe('completed')
    f.upstream.handle(openAIUpstreamHandler())
    // Once the turns are over the delete goes ahead, and the conversation is gone.
    expect(await alice.conversations.delete(conversation.id)).toEqual({ id: conversation.id, object: 'conversation.deleted', deleted: true })
    await expect(alice.conversations.retrieve(conversation.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError)
  })

  it.runIf(store === 'embedded' || POSTGRES_ENABLED)('frees the conversation when the turn fails, and a claim whose process died expires', async () => {
    const conversation = await alice.conversations.create({})
    f.upstream.handle((_req, res) => { res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'bad', type: 'invalid_request_error', code: null, param: null } })) })
    await expect(alice.responses.create({ model: 'chat-a', conversation: conversation.id, input: 'fails' })).rejects.toMatchObject({ status: 400 })
    f.upstream.handle(openAIUpstreamHandler())
    expect((await alice.responses.create({ model: 'chat-a', conversation: conversation.id, input: 'after a failure' })).status).toBe('completed')

    // Another gateway process claimed it and is answering (its claim is current): refused.
    const { sql } = capability(f.gw, Store)
    await sql.query(`UPDATE chat_threads SET claimed_by = 'resp_elsewhere', claimed_until = now() + interval '1 hour' WHERE id = $1`, [conversation.id])
    await expect(alice.responses.create({ model: 'chat-a', conversation: conversation.id, input: 'now?' })).rejects.toMatchObject(LOCKED)
    // That process died: its claim lapsed without being renewed, and the next turn takes it.
    await sql.query(`UPDATE chat_threads SET claimed_until = now() - interval '1 second' WHERE id = $1`, [conversation.id])
    expect((await alice.responses.create({ model: 'chat-a', conversation: conversation.id, input: 'now' })).output_text).toBe('reply to: now')
    // Freed once the exchange is kept.
    await expect.poll(async () => (await sql.query<{ claimed_by: string | null }>('SELECT claimed_by FROM chat_threads WHERE id = $1', [conversation.id])).rows[0].claimed_by).toBeNull()
  })
})

/** The upstream answers after `headersMs`, then streams its words `wordMs` apart (none: at once). */
const slowStream = (headersMs: number, wordMs?: number) => {
  const answer = openAIUpstreamHandler({ delayMs: wordMs })
  return async (req: RecordedRequest, res: http.ServerResponse) => { await sleep(headersMs); if (!res.destroyed) await answer(req, res) }
}

describe.each<StoreKind>(['embedded', 'postgres'])('a turn whose client goes away frees its conversation at once (%s store)', (store) => {
  let f: ConversationsFixture
  let alice: OpenAI
  beforeAll(async () => {
    if (store === 'postgres' && !POSTGRES_ENABLED) return
    // The default heartbeat: a claim left behind would hold the conversation for half a minute.
    f = await startConversations({ store })
    alice = f.client('alice')
    await alice.responses.create({ model: 'chat-a', input: 'warm up' })
  }, 120_000)
  afterAll(async () => { await f?.close() })

  /** A turn in the conversation answers within a second of the abort (a claim left behind would refuse it). */
  const nextTurnWithinASecond = async (conversation: string, input: string) => {
    f.upstream.handle(openAIUpstreamHandler())
    const started = Date.now()
    for (;;) {
      try {
        return await alice.responses.create({ model: 'chat-a', conversation, input })
      } catch (err) {
        if (!(err instanceof OpenAI.BadRequestError) || Date.now() - started > 1000) throw err
        await sleep(50)
      }
    }
  }

  it.runIf(store === 'embedded' || POSTGRES_ENABLED)('a streamed turn aborted before its first byte, as it starts, or as it streams frees the conversation, keeping what the model said', async () => {
    const conversation = await alice.conversations.create({ items: [{ type: 'message', role: 'user', content: 'hello' }] })

    // Before the first byte: the upstream has not answered yet.
    f.upstream.handle(slowStream(600))
    const early = new AbortController()
    const abortedEarly = alice.responses.create({ model: 'chat-a', conversation: conversation.id, input: 'gone early', stream: true }, { signal: early.signal })
    await sleep(150)
    early.abort()
    await expect(abortedEarly).rejects.toThrow()
    expect((await nextTurnWithinASecond(conversation.id, 'one')).output_text).toBe('reply to: one')

    // As the upstream answers: the abort reaches the gateway while its stream is being set up.
    for (const wait of [0, 5, 20]) {
      f.upstream.handle(slowStream(100, 300))
      const gone = new AbortController()
      const aborted = alice.responses.create({ model: 'chat-a', conversation: conversation.id, input: `gone at ${wait}`, stream: true }, { signal: gone.signal })
      await sleep(100 + wait)
      gone.abort()
      await aborted.then(async (s) => { for await (const _ of s) { /* cut */ } }).catch(() => undefined)
      await nextTurnWithinASecond(conversation.id, `after ${wait}`)
    }

    // As it streams: its words come 300 ms apart; the client leaves after the first.
    f.upstream.handle(slowStream(0, 300))
    const late = new AbortController()
    const stream = await alice.responses.create({ model: 'chat-a', conversation: conversation.id, input: 'gone late', stream: true }, { signal: late.signal })
    // (The SDK ends an aborted stream quietly, or throws, depending on where the abort finds it.)
    await (async () => { for await (const event of stream) if (event.type === 'response.output_text.delta') late.abort() })().catch(() => undefined)
    expect(late.signal.aborted).toBe(true)
    expect((await nextTurnWithinASecond(conversation.id, 'two')).output_text).toBe('reply to: two')

    // Nothing kept of the turn the model never answered; the streamed one as far as it got, as before.
    const kept = await texts(alice, conversation.id)
    expect(kept.slice(0, 3)).toEqual(['hello', 'one', 'reply to: one'])
    expect(kept).not.toContain('gone early')
    expect(kept.slice(-4)).toEqual(['gone late', 'reply ', 'two', 'reply to: two'])
  })

  it.runIf(store === 'embedded' || POSTGRES_ENABLED)('a streamed turn whose client is gone before the gateway sends its first byte frees the conversation, keeping nothing', async () => {
    // The client leaves between the model's answer and the gateway's first byte: here the turn's
    // return waits for it (in a gateway, any slow step there), so its stream is never read.
    const conversations = capability(f.gw, Conversations)
    const turn = conversations.turn
    const gone = new AbortController()
    conversations.turn = async (input: TurnInput, gateway: GatewayCalls) => {
      const ran = await turn(input, gateway)
      gone.abort()
      if (!input.signal.aborted) await new Promise((r) => input.signal.addEventListener('abort', r, { once: true }))
      await sleep(20)
      return ran
    }
    try {
      const conversation = await alice.conversations.create({ items: [{ type: 'message', role: 'user', content: 'hello' }] })
      f.upstream.handle(openAIUpstreamHandler({ delayMs: 100 }))
      await expect(alice.responses.create({ model: 'chat-a', conversation: conversation.id, input: 'gone', stream: true }, { signal: gone.signal })).rejects.toThrow()
      conversations.turn = turn
      expect((await nextTurnWithinASecond(conversation.id, 'next')).output_text).toBe('reply to: next')
      expect(await texts(alice, conversation.id)).toEqual(['hello', 'next', 'reply to: next'])
    } finally {
      conversations.turn = turn
    }
  })
})
