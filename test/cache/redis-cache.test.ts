/**
 * cache.redis: answers shared by every gateway using the same Redis, expiring with ttl_s; and a
 * Redis that dies costs a miss (the request goes upstream), never an error or a wait.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { waitFor } from '../helpers/wait.ts'
import { REDIS_ENABLED, REDIS_URL, chat, deleteKeys, metric, startPrivateRedis, uniquePrefix, type PrivateRedis } from '../limits/helpers.ts'
import { startOpenAIUpstream, type OpenAIUpstream } from '../helpers/openai-upstream.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const ask = (content: string) => ({ model: 'gpt', temperature: 0, messages: [{ role: 'user', content }] })

function config(upstream: OpenAIUpstream, url: string, prefix: string, extra = ''): string {
  return `version: 1
providers:
  up: { plugin: openai, api_key: test-key, base_url: "${upstream.url}/v1" }
routes:
  - model: gpt
    targets: [ { provider: up, model: gpt-4o-mini } ]
cache: { plugin: redis, url: "${url}", key_prefix: "${prefix}", timeout_ms: 100, connect_timeout_ms: 300${extra} }
`
}

describe.skipIf(!REDIS_ENABLED)('cache.redis shared by two gateways', () => {
  const prefix = uniquePrefix('cache')
  let upstream: OpenAIUpstream
  let a: RunningGateway
  let b: RunningGateway
  beforeAll(async () => {
    upstream = await startOpenAIUpstream()
    a = await startTestGateway(config(upstream, REDIS_URL, prefix))
    b = await startTestGateway(config(upstream, REDIS_URL, prefix, ', ttl_s: 1'))
  })
  afterAll(async () => {
    await a?.close()
    await b?.close()
    await upstream?.close()
    await deleteKeys(REDIS_URL, prefix)
  })

  it('serves in one gateway the answer another gateway stored', async () => {
    const first = await chat(a, ask('shared question'))
    expect(first.headers.get('x-gateway-cache')).toBe('miss')
    await sleep(50)
    const second = await chat(b, ask('shared question'))
    expect(second.headers.get('x-gateway-cache')).toBe('hit')
    expect(second.body.choices[0].message.content).toBe(first.body.choices[0].message.content)
    expect(upstream.chats()).toHaveLength(1)
  })

  it('lets an answer expire in Redis after ttl_s', async () => {
    await chat(b, ask('short lived'))
    await sleep(50)
    expect((await chat(b, ask('short lived'))).headers.get('x-gateway-cache')).toBe('hit')
    await sleep(1200)
    expect((await chat(b, ask('short lived'))).headers.get('x-gateway-cache')).toBe('miss')
  })
})

describe.skipIf(!REDIS_ENABLED)('cache.redis when Redis dies', () => {
  let redis: PrivateRedis
  let upstream: OpenAIUpstream
  let gw: RunningGateway
  beforeAll(async () => {
    redis = await startPrivateRedis()
    upstream = await startOpenAIUpstream()
    gw = await startTestGateway(config(upstream, redis.url, 'c:'))
  }, 20_000)
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
    await redis?.kill()
  })

  it('answers from upstream as a miss while Redis is down, quickly, and caches again once it is back', async () => {
    await redis.kill()
    const started = performance.now()
    const res = await chat(gw, ask('while down'))
    expect(res.status).toBe(200)
    expect(res.headers.get('x-gateway-cache')).toBe('miss')
    expect(performance.now() - started).toBeLessThan(1000)
    expect(await metric(gw, 'gateway_cache_errors_total', { op: 'get' })).toBeGreaterThanOrEqual(1)
    await redis.start()
    await waitFor(async () => {
      await chat(gw, ask('after recovery'))
      await sleep(30)
      return (await chat(gw, ask('after recovery'))).headers.get('x-gateway-cache') === 'hit'
    }, 10_000, 200)
  }, 20_000)
})
