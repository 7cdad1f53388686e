/**
 * One turn at a time in a conversation: a request that answers in it claims it (in the store, so
 * every gateway process sees the claim) until its exchange is kept; another turn meanwhile is a 400
 * conversation_locked, as with a running background response. A claim left by a process that died
 * expires. On both stores.
 */
import type http from 'node:http'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Store } from '../../plugin-api/index.ts'
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
