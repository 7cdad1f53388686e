/**
 * Token limits: estimated before the call (ceil(bytes / 4) of the prompt, plus max_tokens),
 * corrected with the actual usage when the exchange ends, for JSON answers and streams; a request
 * larger than the limit is refused outright; tokens a cache hit did not spend are given back.
 *
 * The mock provider reports one token per word: "hello gateway" is 2 prompt tokens and its
 * answer "echo: hello gateway" 3 completion tokens. The gateway's estimate of that prompt (13
 * bytes / 4, rounded up) is 4. Per-day limits keep refill out of the sums.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { estimatePromptTokens } from '../../plugin-api/kit/tokens.ts'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { chat, limitsConfig } from './helpers.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** The correction runs once the response has ended; give it a moment. */
const settle = () => sleep(80)
const remainingTokens = (res: { headers: Headers }) => Number(res.headers.get('x-ratelimit-remaining-tokens'))

const LONG_REPLY = Array.from({ length: 95 }, (_, i) => `w${i}`).join(' ')

describe('token limits', () => {
  let gw: RunningGateway
  let promptEstimate: number
  beforeAll(async () => {
    promptEstimate = estimatePromptTokens({ model: 'mock', messages: [{ role: 'user', content: 'hello gateway' }] })
    gw = await startTestGateway(`version: 1
providers:
  mock: { plugin: mock }
  verbose: { plugin: mock, reply: "${LONG_REPLY}" }
routes:
  - model: mock
    targets: [ { provider: mock } ]
  - model: verbose
    targets: [ { provider: verbose } ]
limits:
  backend: { plugin: memory }
  policies:
    - { scope: user, tokens_per_day: 100 }
`)
  })
  afterAll(() => gw.close())

  it('takes prompt plus max_tokens before the call, then gives back what the answer did not use', async () => {
    expect(promptEstimate).toBe(4)
    const first = await chat(gw, { max_tokens: 60 })
    expect(first.status).toBe(200)
    expect(remainingTokens(first)).toBe(100 - 64)
    await settle()
    // Without the correction only 36 would be left and this request (64 again) would be refused.
    const second = await chat(gw, { max_tokens: 60 })
    expect(second.status).toBe(200)
    expect(remainingTokens(second)).toBe(100 - 5 - 64)
  })

  it('corrects a stream with the usage it reported, even when the client did not ask for it', async () => {
    await settle()
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock', stream: true, max_tokens: 20, messages: [{ role: 'user', content: 'hello gateway' }] }),
    })
    expect(res.status).toBe(200)
    // Bucket so far: 5 + 5 used; this stream's estimate is 24.
    expect(remainingTokens(res)).toBe(100 - 10 - 24)
    const sse = await res.text()
    expect(sse).not.toContain('"usage"')
    await settle()
    const after = await chat(gw, { max_tokens: 1 })
    expect(remainingTokens(after)).toBe(100 - 15 - 5)
  })

  it('charges an answer longer than estimated, so the next request is refused on tokens', async () => {
    await settle()
    const long = await chat(gw, { model: 'verbose' })
    expect(long.status).toBe(200)
    await settle()
    // Used: 15 before, then 2 + 95 for the long answer: nothing is left for a 4-token prompt.
    const refused = await chat(gw, {})
    expect(refused.status).toBe(429)
    expect(refused.body.error.message).toContain('tokens per day')
    expect(remainingTokens(refused)).toBe(0)
  })

})

describe('per-minute token limits', () => {
  let gw: RunningGateway
  beforeAll(async () => {
    gw = await startTestGateway(limitsConfig(['{ scope: user, tokens_per_minute: 1000, requests_per_minute: 100 }']))
  })
  afterAll(() => gw.close())

  it('refuses a request larger than the whole limit at once, and tells the SDK not to retry', async () => {
    const res = await chat(gw, { max_tokens: 5000 })
    expect(res.status).toBe(429)
    expect(res.headers.get('x-should-retry')).toBe('false')
    expect(res.body.error.message).toContain('Request too large')
    expect(res.body.error.code).toBe('rate_limit_exceeded')
  })

  it('reports requests and tokens headers side by side', async () => {
    const res = await chat(gw, { max_tokens: 100 })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-ratelimit-limit-requests')).toBe('100')
    expect(res.headers.get('x-ratelimit-remaining-requests')).toBe('99')
    expect(res.headers.get('x-ratelimit-limit-tokens')).toBe('1000')
    expect(remainingTokens(res)).toBe(1000 - 104)
    expect(res.headers.get('x-ratelimit-reset-tokens')).toMatch(/^\d+(\.\d+)?s$/)
  })
})

describe('token limits and the cache', () => {
  let gw: RunningGateway
  beforeAll(async () => {
    gw = await startTestGateway(limitsConfig(['{ scope: user, tokens_per_day: 1000 }'], { extra: 'cache: { plugin: memory }\n' }))
  })
  afterAll(() => gw.close())

  it('gives back the whole estimate of a request answered from the cache', async () => {
    const miss = await chat(gw, { temperature: 0, max_tokens: 50 })
    expect(miss.headers.get('x-gateway-cache')).toBe('miss')
    await settle()
    const hit = await chat(gw, { temperature: 0, max_tokens: 50 })
    expect(hit.headers.get('x-gateway-cache')).toBe('hit')
    expect(remainingTokens(hit)).toBe(1000 - 5 - 54)
    await settle()
    const next = await chat(gw, { temperature: 0.5, max_tokens: 50 })
    // Only the miss's 5 actual tokens count: the hit's 54 came back.
    expect(remainingTokens(next)).toBe(1000 - 5 - 54)
  })
})
