import { afterEach, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { sendJson, sendSse, startUpstream, type MockUpstream } from '../helpers/upstream.ts'
import { postJson } from '../helpers/gateway.ts'
import { WorkerTokenizer } from '../../plugins/services/tokenizer/counter.ts'

import { waitFor } from '../helpers/wait.ts'
import { PRICE, storedEvents, usageGateway, user } from './helpers.ts'

const tokenizer = new WorkerTokenizer()
const countTokens = (text: string) => tokenizer.count(text)
const countPromptTokens = tokenizer.countChat.bind(tokenizer)

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => { while (cleanup.length) await cleanup.pop()!() })

const USAGE = { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500, prompt_tokens_details: { cached_tokens: 200 } }
/** (800 uncached × $2 + 200 cached × $0.5 + 500 × $8) per 1M tokens. */
const EXPECTED_COST = (800 * PRICE.input + 200 * PRICE.cached_input + 500 * PRICE.output) / 1e6

const completion = (content: string) => ({
  id: 'c1', object: 'chat.completion', created: 1, model: 'priced-model',
  choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop', logprobs: null }], usage: USAGE,
})
const chunk = (content: string | null, finish: string | null = null) => ({
  id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'priced-model', choices: [{ index: 0, delta: content === null ? {} : { content }, finish_reason: finish, logprobs: null }],
})
const usageChunk = { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'priced-model', choices: [], usage: USAGE }

async function upstream(handler: Parameters<typeof startUpstream>[0]): Promise<MockUpstream> {
  const u = await startUpstream(handler)
  cleanup.push(() => u.close())
  return u
}
async function gateway(upstreamUrl: string, options?: Parameters<typeof usageGateway>[1]) {
  const g = await usageGateway(upstreamUrl, options)
  cleanup.push(g.cleanup)
  return g.gw
}
const ask = { model: 'r', messages: [{ role: 'user' as const, content: 'Tell me about foxes.' }] }

describe('one usage event per /v1 request, matching what the client saw', () => {
  it('non-streaming: the provider\'s tokens, cost to the cent, route, provider, model, principal', async () => {
    const up = await upstream((_req, res) => sendJson(res, 200, completion('Foxes are quick.')))
    const gw = await gateway(up.url)
    const res = await postJson(`${gw.url}/v1/chat/completions`, ask, { ...user('alice', 'user', 'research'), 'x-request-id': 'req-usage-1' })
    expect(res.status).toBe(200)
    const [event] = await storedEvents(gw, 1)
    expect(event).toMatchObject({
      requestId: 'req-usage-1', userId: 'alice', department: 'research', route: 'r', provider: 'a', model: 'priced-model',
      status: 200, errorType: null, attempts: 1, cacheHit: false, streamed: false,
      promptTokens: 1000, completionTokens: 500, cachedTokens: 200,
    })
    expect(event.costUsd).toBeCloseTo(EXPECTED_COST, 10)
    expect(event.latencyMs).toBeGreaterThanOrEqual(0)
  })

  it('prices prompt tokens written to the provider\'s cache (prompt_tokens_details.cache_write_tokens) at cache_write_input', async () => {
    const usage = { ...USAGE, prompt_tokens_details: { cached_tokens: 200, cache_write_tokens: 100 } }
    const up = await upstream((_req, res) => sendJson(res, 200, { ...completion('Foxes are quick.'), usage }))
    const gw = await gateway(up.url)
    expect((await postJson(`${gw.url}/v1/chat/completions`, ask, user('alice', 'user', 'research'))).status).toBe(200)
    const [event] = await storedEvents(gw, 1)
    expect(event.costUsd).toBeCloseTo((700 * PRICE.input + 200 * PRICE.cached_input + 100 * PRICE.cache_write_input + 500 * PRICE.output) / 1e6, 10)
  })

  it('streaming: asks the upstream for usage even when the client did not, and keeps that chunk from the client', async () => {
    const up = await upstream((_req, res) => sendSse(res, [{ data: chunk('Foxes') }, { data: chunk(' run.') }, { data: chunk(null, 'stop') }, { data: usageChunk }, { data: '[DONE]' }]))
    const gw = await gateway(up.url)
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'x', maxRetries: 0, defaultHeaders: user('bob') })
    const chunks = []
    for await (const c of await client.chat.completions.create({ ...ask, stream: true })) chunks.push(c)
    expect(chunks.some((c) => c.usage)).toBe(false)
    expect(up.requests[0].body.stream_options).toEqual({ include_usage: true })
    const [event] = await storedEvents(gw, 1)
    expect(event).toMatchObject({ userId: 'bob', status: 200, streamed: true, promptTokens: 1000, completionTokens: 500, cachedTokens: 200 })
    expect(event.costUsd).toBeCloseTo(EXPECTED_COST, 10)
    expect(event.ttftMs).not.toBeNull()
  })

  it('streaming with include_usage: the client gets the usage chunk too', async () => {
    const up = await upstream((_req, res) => sendSse(res, [{ data: chunk('Hi') }, { data: chunk(null, 'stop') }, { data: usageChunk }, { data: '[DONE]' }]))
    const gw = await gateway(up.url)
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'x', maxRetries: 0, defaultHeaders: user('bob') })
    const chunks = []
    for await (const c of await client.chat.completions.create({ ...ask, stream: true, stream_options: { include_usage: true } })) chunks.push(c)
    expect(chunks.at(-1)?.usage?.total_tokens).toBe(1500)
  })

  it('failed: the status and error the client got, no tokens, no cost', async () => {
    const up = await upstream((_req, res) => sendJson(res, 500, { error: { message: 'boom', type: 'server_error' } }))
    const gw = await gateway(up.url)
    expect((await postJson(`${gw.url}/v1/chat/completions`, ask, user('carol'))).status).toBe(502)
    const [failed] = await storedEvents(gw, 1)
    expect(failed).toMatchObject({ userId: 'carol', status: 502, errorType: 'upstream_error', promptTokens: 0, completionTokens: 0, costUsd: 0, provider: 'a' })
  })

  it('stores nothing for requests refused at authentication (anyone can send them), and counts them in /metrics', async () => {
    const up = await upstream((_req, res) => sendJson(res, 200, completion('Hi.')))
    const gw = await gateway(up.url)
    for (let i = 0; i < 200; i++) expect((await postJson(`${gw.url}/v1/chat/completions`, ask)).status).toBe(401)
    // One authenticated call after them: once it is stored, everything before it has been through the writer.
    expect((await postJson(`${gw.url}/v1/chat/completions`, ask, user('erin'))).status).toBe(200)
    const events = await storedEvents(gw, 1)
    expect(events.map((e) => e.userId)).toEqual(['erin'])
    const metrics = await (await fetch(`${gw.url}/metrics`)).text()
    expect(metrics).toMatch(/gateway_requests_total\{[^}]*status="401"[^}]*\} 200/)
  })

  it('a stream that ends without usage is counted with the tokenizer', async () => {
    const words = ['Foxes', ' are', ' small', ' omnivorous', ' mammals.']
    const up = await upstream((_req, res) => sendSse(res, [...words.map((w) => ({ data: chunk(w) })), { data: chunk(null, 'stop') }, { data: '[DONE]' }]))
    const gw = await gateway(up.url)
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'x', maxRetries: 0, defaultHeaders: user('dave') })
    for await (const _ of await client.chat.completions.create({ ...ask, stream: true })) { /* drain */ }
    const [event] = await storedEvents(gw, 1)
    expect(event.promptTokens).toBe(await countPromptTokens(ask as never))
    expect(event.completionTokens).toBe(await countTokens(words.join('')))
    expect(event.costUsd).toBeCloseTo((event.promptTokens * PRICE.input + event.completionTokens * PRICE.output) / 1e6, 10)
  })

  it('an aborted stream is recorded as 499 with the tokens streamed before the abort', async () => {
    const words = Array.from({ length: 40 }, (_, i) => ` word${i}`)
    const up = await upstream((_req, res) => sendSse(res, words.map((w) => ({ data: chunk(w) })), { delayMs: 30 }))
    const gw = await gateway(up.url)
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'x', maxRetries: 0, defaultHeaders: user('erin') })
    let seen = ''
    let n = 0
    for await (const c of await client.chat.completions.create({ ...ask, stream: true })) {
      seen += c.choices[0]?.delta?.content ?? ''
      if (++n === 5) break
    }
    const [event] = await storedEvents(gw, 1)
    expect(event.status).toBe(499)
    expect(event.errorType).toBe('client_closed_request')
    expect(event.promptTokens).toBe(await countPromptTokens(ask as never))
    expect(event.completionTokens).toBeGreaterThanOrEqual(await countTokens(seen))
    expect(event.completionTokens).toBeLessThan(await countTokens(words.join('')))
  })

  it('embeddings are recorded with their prompt tokens', async () => {
    const up = await upstream((_req, res) => sendJson(res, 200, { object: 'list', model: 'priced-model', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }], usage: { prompt_tokens: 7, total_tokens: 7 } }))
    const gw = await gateway(up.url)
    expect((await postJson(`${gw.url}/v1/embeddings`, { model: 'r', input: 'hello' }, user('fay'))).status).toBe(200)
    const [event] = await storedEvents(gw, 1)
    expect(event).toMatchObject({ promptTokens: 7, completionTokens: 0, status: 200 })
    expect(event.costUsd).toBeCloseTo((7 * PRICE.input) / 1e6, 12)
  })
})

describe('metrics', () => {
  it('exposes request, token and cost counters in Prometheus format', async () => {
    const up = await upstream((_req, res) => sendJson(res, 200, completion('ok')))
    const gw = await gateway(up.url)
    await postJson(`${gw.url}/v1/chat/completions`, ask, user('gus'))
    await waitFor(async () => (await (await fetch(`${gw.url}/metrics`)).text()).includes('gateway_cost_usd_total'), 2000)
    const text = await (await fetch(`${gw.url}/metrics`)).text()
    expect(text).toContain('gateway_requests_total{route="r",provider="a",status="200"} 1')
    expect(text).toContain('gateway_tokens_total{route="r",provider="a",kind="prompt"} 1000')
    expect(text).toContain('gateway_tokens_total{route="r",provider="a",kind="cached"} 200')
    expect(text).toMatch(/gateway_cost_usd_total\{route="r",provider="a"\} 0\.0057/)
    expect(text).toMatch(/gateway_request_duration_seconds_bucket\{le="[^"]+",route="r",provider="a"\} 1/)
    expect(text).toContain('gateway_usage_buffer_depth')
  })
})
