/**
 * The response cache end to end (cache.memory, provider.openai against an OpenAI-shaped upstream
 * that numbers its answers): what is cached by default and per route, the client's Cache-Control,
 * `x-gateway-cache` on every chat response, a canonical fingerprint rather than the body bytes,
 * tenants kept apart, answers replayed as streams (and streams kept as answers), usage recorded
 * with zero cost for hits, expiry, and the memory cache's byte bound.
 */
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ChatResponse } from '../../plugin-api/unified.ts'
import type { CacheKey } from '../../plugins/contracts/cache.ts'
import memoryCache from '../../plugins/cache/memory/index.ts'
import { capability, startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { UsageLog } from '../../plugins/contracts/capabilities.ts'
import { expectOpenAISchema } from '../helpers/openai-schema.ts'
import { waitFor } from '../helpers/wait.ts'
import { bearer, chat, metric, setupPlugin } from '../limits/helpers.ts'
import { researchAndSales, startOpenAIUpstream, upstreamRoutes, type OpenAIUpstream } from '../helpers/openai-upstream.ts'
import { sseData } from './helpers.ts'

const KEYS = { alice: 'alice-key-0123456789abcdef', bob: 'bob-key-0123456789abcdef', carol: 'carol-key-0123456789abcdef' }
const ALICE = bearer(KEYS.alice)
const BOB = bearer(KEYS.bob)
const CAROL = bearer(KEYS.carol)

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** An answer is stored just after it is sent. */
const stored = () => sleep(30)
const ask = (content: string, extra: Record<string, unknown> = {}) => ({ model: 'gpt', temperature: 0, messages: [{ role: 'user', content }], ...extra })

function config(upstream: OpenAIUpstream, cache = '{ plugin: memory }', store = ''): string {
  return `version: 1
${store}${upstreamRoutes(upstream, `  - model: always
    cache: true
    targets: [ { provider: up, model: gpt-4o-mini } ]
  - model: never
    cache: false
    targets: [ { provider: up, model: gpt-4o-mini } ]
  - model: short
    cache: { ttl_s: 1 }
    targets: [ { provider: up, model: gpt-4o-mini } ]
`)}${researchAndSales([
    { key: KEYS.alice, user: 'alice', department: 'research' },
    { key: KEYS.bob, user: 'bob', department: 'research' },
    { key: KEYS.carol, user: 'carol', department: 'sales' },
  ])}cache: ${cache}
`
}

describe('cache.memory: hit, miss, bypass', () => {
  let upstream: OpenAIUpstream
  let gw: RunningGateway
  beforeAll(async () => {
    upstream = await startOpenAIUpstream()
    gw = await startTestGateway(config(upstream, '{ plugin: memory }', 'store: { plugin: embedded, memory: true, vector: false }\n'))
  }, 60_000)
  afterAll(async () => {
    await gw.close()
    await upstream.close()
  })

  it('answers a repeated temperature-0 request from the cache: miss, then hit with the same answer, no upstream call', async () => {
    const miss = await chat(gw, ask('capital of France?'), ALICE)
    expect(miss.headers.get('x-gateway-cache')).toBe('miss')
    expect(miss.body.choices[0].message.content).toBe('answer #1: capital of France?')
    await stored()
    const hit = await chat(gw, ask('capital of France?'), ALICE)
    expect(hit.status).toBe(200)
    expect(hit.headers.get('x-gateway-cache')).toBe('hit')
    expect(hit.headers.get('x-gateway-attempts')).toBe('0')
    expect(hit.body.choices).toEqual(miss.body.choices)
    expect(hit.body.usage).toEqual(miss.body.usage)
    expect(hit.body.id).not.toBe(miss.body.id)
    expectOpenAISchema('CreateChatCompletionResponse', hit.body)
    expect(upstream.chats()).toHaveLength(1)
  })

  it('records a hit in usage with zero provider cost, and counts it in the cache metrics', async () => {
    const log = capability(gw, UsageLog)
    const events = await waitFor(async () => {
      const list = await log.list({ from: new Date(Date.now() - 60_000), to: new Date(Date.now() + 60_000) })
      return list.length >= 2 ? list : undefined
    })
    const [miss, hit] = events.value!
    expect(miss).toMatchObject({ cacheHit: false, promptTokens: 10, completionTokens: 5 })
    // gpt-4o-mini at the catalog's $0.15 and $0.60 per million tokens.
    expect(miss.costUsd).toBeCloseTo(10 * 0.15e-6 + 5 * 0.6e-6, 12)
    expect(hit).toMatchObject({ cacheHit: true, costUsd: 0, status: 200 })
    expect(await metric(gw, 'gateway_cache_hits_total', { route: 'gpt' })).toBe(1)
  })

  it('accounts a hit to the provider and model that produced the cached answer, not to no provider', async () => {
    const log = capability(gw, UsageLog)
    const events = await log.list({ from: new Date(Date.now() - 60_000), to: new Date(Date.now() + 60_000) })
    const hit = events.find((e) => e.cacheHit)
    expect(hit).toMatchObject({ provider: 'up', model: 'gpt-4o-mini' })
    expect(await metric(gw, 'gateway_requests_total', { route: 'gpt', provider: 'up', status: '200' })).toBe(2)
    expect(await metric(gw, 'gateway_requests_total', { route: 'gpt', provider: '' })).toBeUndefined()
    expect(await metric(gw, 'gateway_cache_lookups_total', { route: 'gpt', result: 'miss' })).toBe(1)
    expect(await metric(gw, 'gateway_cache_lookups_total', { route: 'gpt', result: 'hit' })).toBe(1)
  })

  it('bypasses requests that are not deterministic (no temperature 0), and says so', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await chat(gw, { model: 'gpt', messages: [{ role: 'user', content: 'tell me a story' }] }, ALICE)
      expect(res.headers.get('x-gateway-cache')).toBe('bypass')
      await stored()
    }
    expect(upstream.chats().filter((r) => r.body.messages[0].content === 'tell me a story')).toHaveLength(2)
  })

  it('caches every request of a route with cache: true, and none of a route with cache: false', async () => {
    const warm = { model: 'always', temperature: 0.9, messages: [{ role: 'user', content: 'a poem' }] }
    expect((await chat(gw, warm, ALICE)).headers.get('x-gateway-cache')).toBe('miss')
    await stored()
    expect((await chat(gw, warm, ALICE)).headers.get('x-gateway-cache')).toBe('hit')
    const cold = ask('a fact', { model: 'never' })
    expect((await chat(gw, cold, ALICE)).headers.get('x-gateway-cache')).toBe('bypass')
    await stored()
    expect((await chat(gw, cold, ALICE)).headers.get('x-gateway-cache')).toBe('bypass')
  })

  it('Cache-Control: no-cache goes upstream and keeps the fresh answer; no-store neither reads nor keeps', async () => {
    const first = await chat(gw, ask('the time?'), ALICE)
    await stored()
    const fresh = await chat(gw, ask('the time?'), { ...ALICE, 'cache-control': 'no-cache' })
    expect(fresh.headers.get('x-gateway-cache')).toBe('bypass')
    expect(fresh.body.choices[0].message.content).not.toBe(first.body.choices[0].message.content)
    await stored()
    const hit = await chat(gw, ask('the time?'), ALICE)
    expect(hit.headers.get('x-gateway-cache')).toBe('hit')
    expect(hit.body.choices[0].message.content).toBe(fresh.body.choices[0].message.content)

    const secret = await chat(gw, ask('my secret'), { ...ALICE, 'cache-control': 'no-store' })
    expect(secret.headers.get('x-gateway-cache')).toBe('bypass')
    await stored()
    expect((await chat(gw, ask('my secret'), ALICE)).headers.get('x-gateway-cache')).toBe('miss')
  })

  it('keys on the request\'s meaning, not its bytes: key order, user, metadata and stream options do not matter', async () => {
    await chat(gw, ask('canonical?', { max_tokens: 50 }), ALICE)
    await stored()
    const reordered = { max_tokens: 50, messages: [{ content: 'canonical?', role: 'user' }], temperature: 0, model: 'gpt', user: 'someone', metadata: { trace: 'x' } }
    expect((await chat(gw, reordered, ALICE)).headers.get('x-gateway-cache')).toBe('hit')
    expect((await chat(gw, ask('canonical?', { max_tokens: 51 }), ALICE)).headers.get('x-gateway-cache')).toBe('miss')
    const tools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }]
    expect((await chat(gw, ask('canonical?', { max_tokens: 50, tools }), ALICE)).headers.get('x-gateway-cache')).toBe('miss')
    expect((await chat(gw, { ...ask('canonical?', { max_tokens: 50 }), messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'canonical?' }] }, ALICE)).headers.get('x-gateway-cache')).toBe('miss')
  })

  it('keeps tenants apart: a department shares its answers, another department does not get them', async () => {
    await chat(gw, ask('our roadmap?'), ALICE)
    await stored()
    expect((await chat(gw, ask('our roadmap?'), BOB)).headers.get('x-gateway-cache')).toBe('hit')
    const carol = await chat(gw, ask('our roadmap?'), CAROL)
    expect(carol.headers.get('x-gateway-cache')).toBe('miss')
  })

  it('forgets an answer after its ttl_s', async () => {
    await chat(gw, ask('fleeting', { model: 'short' }), ALICE)
    await stored()
    expect((await chat(gw, ask('fleeting', { model: 'short' }), ALICE)).headers.get('x-gateway-cache')).toBe('hit')
    await sleep(1100)
    expect((await chat(gw, ask('fleeting', { model: 'short' }), ALICE)).headers.get('x-gateway-cache')).toBe('miss')
  })

})

describe('streams and the cache', () => {
  let upstream: OpenAIUpstream
  let gw: RunningGateway
  let client: OpenAI
  beforeAll(async () => {
    upstream = await startOpenAIUpstream({ chunkDelayMs: 5 })
    gw = await startTestGateway(config(upstream))
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEYS.alice, maxRetries: 0 })
  })
  afterAll(async () => {
    await gw.close()
    await upstream.close()
  })

  async function streamText(body: Record<string, unknown>): Promise<{ cache: string | null; frames: unknown[] }> {
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...ALICE }, body: JSON.stringify({ ...body, stream: true }) })
    return { cache: res.headers.get('x-gateway-cache'), frames: sseData(await res.text()) }
  }

  it('replays an answer as a stream when the client streams, chunk shapes as OpenAI\'s', async () => {
    const original = await client.chat.completions.create(ask('stream me') as never) as unknown as ChatResponse
    await stored()
    const { cache, frames } = await streamText({ ...ask('stream me'), stream_options: { include_usage: true } })
    expect(cache).toBe('hit')
    expect(frames.at(-1)).toBe('[DONE]')
    const chunks = frames.slice(0, -1) as { choices: { delta: { content?: string }; finish_reason: string | null }[]; usage?: unknown }[]
    for (const chunk of chunks) expectOpenAISchema('CreateChatCompletionStreamResponse', chunk)
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(original.choices[0].message.content)
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason).toBe('stop')
    expect(chunks.at(-1)!.usage).toEqual(original.usage)
    expect(upstream.chats()).toHaveLength(1)
  })

  it('leaves the usage chunk out of a replay for a client that did not ask for it', async () => {
    const { frames } = await streamText(ask('stream me'))
    expect(frames.some((f) => typeof f === 'object' && f !== null && 'usage' in f && (f as { usage: unknown }).usage)).toBe(false)
  })

  it('keeps a streamed answer (assembled into a completion) and serves it to JSON and streaming clients alike', async () => {
    const sdkStream = await client.chat.completions.create({ ...(ask('streamed first') as object), stream: true } as never) as unknown as AsyncIterable<{ choices: { delta: { content?: string } }[] }>
    let text = ''
    for await (const chunk of sdkStream) text += chunk.choices[0]?.delta.content ?? ''
    expect(text).toBe(`answer #${upstream.chats().length}: streamed first`)
    await stored()
    const json = await chat(gw, ask('streamed first'), ALICE)
    expect(json.headers.get('x-gateway-cache')).toBe('hit')
    expect(json.body.choices[0]).toMatchObject({ message: { role: 'assistant', content: text }, finish_reason: 'stop' })
    expectOpenAISchema('CreateChatCompletionResponse', json.body)
    expect(json.body.usage).toEqual({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 })
    const again = await streamText(ask('streamed first'))
    expect(again.cache).toBe('hit')
  })

  it('does not keep a stream the client abandoned halfway', async () => {
    const controller = new AbortController()
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', signal: controller.signal, headers: { 'content-type': 'application/json', ...ALICE }, body: JSON.stringify({ ...ask('cut me off after the first words please'), stream: true }) })
    const reader = res.body!.getReader()
    await reader.read()
    controller.abort()
    await sleep(200)
    expect((await chat(gw, ask('cut me off after the first words please'), ALICE)).headers.get('x-gateway-cache')).toBe('miss')
  })

  it('serves the Anthropic-compatible /v1/messages from the same cache, as a message and as its event stream', async () => {
    const body = { model: 'gpt', max_tokens: 100, temperature: 0, messages: [{ role: 'user', content: 'anthropic style' }] }
    const post = (extra: object) => fetch(`${gw.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...ALICE }, body: JSON.stringify({ ...body, ...extra }) })
    const first = await post({})
    expect(first.headers.get('x-gateway-cache')).toBe('miss')
    const message = await first.json()
    await stored()
    const second = await post({})
    expect(second.headers.get('x-gateway-cache')).toBe('hit')
    expect((await second.json()).content).toEqual(message.content)
    const streamed = await post({ stream: true })
    expect(streamed.headers.get('x-gateway-cache')).toBe('hit')
    const events = await streamed.text()
    expect(events).toContain('event: message_start')
    expect(events).toContain(message.content[0].text.split(' ')[0])
    expect(events).toContain('event: message_stop')
  })
})

describe('cache scope', () => {
  let upstream: OpenAIUpstream
  beforeAll(async () => { upstream = await startOpenAIUpstream() })
  afterAll(() => upstream.close())

  it('scope: user keeps each user\'s answers to themselves', async () => {
    const gw = await startTestGateway(config(upstream, '{ plugin: memory, scope: user }'))
    try {
      await chat(gw, ask('mine'), ALICE)
      await stored()
      expect((await chat(gw, ask('mine'), ALICE)).headers.get('x-gateway-cache')).toBe('hit')
      expect((await chat(gw, ask('mine'), BOB)).headers.get('x-gateway-cache')).toBe('miss')
    } finally {
      await gw.close()
    }
  })

  it('scope: global shares answers across departments', async () => {
    const gw = await startTestGateway(config(upstream, '{ plugin: memory, scope: global }'))
    try {
      await chat(gw, ask('public fact'), ALICE)
      await stored()
      expect((await chat(gw, ask('public fact'), CAROL)).headers.get('x-gateway-cache')).toBe('hit')
    } finally {
      await gw.close()
    }
  })
})

describe('cache.memory bounds', () => {
  const answer = (text: string): ChatResponse => ({
    id: 'x', object: 'chat.completion', created: 0, model: 'm',
    choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, finish_reason: 'stop', logprobs: null }],
  })
  const key = (fingerprint: string) => ({ fingerprint, context: 'c' }) as CacheKey

  it('holds at most max_bytes of answers, dropping the least recently used, and skips answers over max_entry_bytes', async () => {
    const cache = await setupPlugin(memoryCache, { max_bytes: 4096, max_entry_bytes: 2000 }) as Awaited<ReturnType<typeof setupPlugin>> & { bytes: number; size: number; get: (k: CacheKey) => ChatResponse | undefined | Promise<ChatResponse | undefined>; set: (k: CacheKey, a: ChatResponse, t: number) => Promise<void> }
    for (let i = 0; i < 10; i++) await cache.set(key(`k${i}`), answer('x'.repeat(800)), 60)
    await sleep(20)
    expect(cache.bytes).toBeLessThanOrEqual(4096)
    expect(cache.size).toBeLessThan(10)
    // In this process: answered at once, so a hit costs the stage no deadline, timer or promise.
    expect(cache.get(key('k9'))).not.toBeInstanceOf(Promise)
    expect(await cache.get(key('k9'))).toEqual(answer('x'.repeat(800)))
    expect(await cache.get(key('k0'))).toBeUndefined()
    await cache.set(key('huge'), answer('y'.repeat(5000)), 60)
    await sleep(20)
    expect(await cache.get(key('huge'))).toBeUndefined()
  })
})

describe('a cache backend that fails or is slow', () => {
  const ODD = `${process.cwd()}/test/fixtures/plugins/odd-cache`
  const gatewayWith = (cache: string) => startTestGateway(`version: 1
plugins: [ ${ODD} ]
providers:
  mock: { plugin: mock }
routes:
  - model: mock
    cache: true
    targets: [ { provider: mock } ]
cache: ${cache}
`)

  it('serves a request whose lookup throws at once as a miss, and counts the failure', async () => {
    const gw = await gatewayWith('{ plugin: odd, behaviour: throw }')
    try {
      const res = await chat(gw, { temperature: 0 })
      expect(res.status).toBe(200)
      expect(res.headers.get('x-gateway-cache')).toBe('miss')
      expect(await metric(gw, 'gateway_cache_errors_total', { op: 'get' })).toBe(1)
    } finally {
      await gw.close()
    }
  })

  it('does not wait for a lookup beyond lookup_timeout_ms: a miss, counted; an answer in time is a hit', async () => {
    const slow = await gatewayWith('{ plugin: odd, behaviour: slow, delay_ms: 2000, lookup_timeout_ms: 50 }')
    try {
      const started = performance.now()
      const res = await chat(slow, { temperature: 0 })
      expect(res.status).toBe(200)
      expect(res.headers.get('x-gateway-cache')).toBe('miss')
      expect(performance.now() - started).toBeLessThan(1500)
      expect(await metric(slow, 'gateway_cache_errors_total', { op: 'get' })).toBe(1)
    } finally {
      await slow.close()
    }
    const inTime = await gatewayWith('{ plugin: odd, behaviour: slow, delay_ms: 20, lookup_timeout_ms: 1000 }')
    try {
      const res = await chat(inTime, { temperature: 0 })
      expect(res.headers.get('x-gateway-cache')).toBe('hit')
      expect((res.body as ChatResponse).choices[0].message.content).toBe('from the odd cache')
      // An entry kept with no origin (as every entry was before origins were recorded): served, and accounted with no provider.
      expect(res.body).not.toHaveProperty('gateway_origin')
      expect(await metric(inTime, 'gateway_requests_total', { route: 'mock', provider: '', status: '200' })).toBe(1)
    } finally {
      await inTime.close()
    }
  })
})

describe('without a cache', () => {
  it('still says x-gateway-cache: bypass on chat responses', async () => {
    const gw = await startTestGateway(`version: 1
providers:
  mock: { plugin: mock }
routes:
  - model: mock
    targets: [ { provider: mock } ]
`)
    try {
      const res = await chat(gw, { temperature: 0 })
      expect(res.status).toBe(200)
      expect(res.headers.get('x-gateway-cache')).toBe('bypass')
    } finally {
      await gw.close()
    }
  })
})
