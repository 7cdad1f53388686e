import { afterEach, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { startTestGateway, postJson, type RunningGateway } from '../helpers/gateway.ts'
import { freePort } from '../helpers/ports.ts'
import { ask, provider, routingFixtures } from './helpers.ts'

/** An upstream base URL nothing listens on: every connection is refused. */
const refusing = async () => `http://127.0.0.1:${await freePort()}/v1`

const { cleanup, gateway, upstream, chat } = routingFixtures()

describe('fallback', () => {
  it('tries targets in order and answers from the first that succeeds, saying so in headers', async () => {
    const a = await upstream('a', [{ status: 500 }])
    const b = await upstream('b', [{ ok: 'from b' }])
    const gw = await gateway(`providers:\n${provider('a', a)}${provider('b', b)}routes:\n  - model: r\n    strategy: fallback\n    targets: [ { provider: a, model: model-a }, { provider: b, model: model-b } ]\n`)
    const res = await chat(gw)
    expect(res.status).toBe(200)
    expect(res.body.choices[0].message.content).toBe('from b')
    expect(res.headers.get('x-gateway-route')).toBe('r')
    expect(res.headers.get('x-gateway-provider')).toBe('b')
    expect(res.headers.get('x-gateway-model')).toBe('model-b')
    expect(res.headers.get('x-gateway-attempts')).toBe('2')
    expect(a.requests[0].body.model).toBe('model-a')
    expect(b.requests[0].body.model).toBe('model-b')
  })

  it('falls back on 429, timeout and a refused connection alike', async () => {
    const limited = await upstream('limited', [{ status: 429, retryAfter: '30' }])
    const slow = await upstream('slow', [{ hang: true }])
    const good = await upstream('good', [{ ok: 'good' }])
    const gw = await gateway(`providers:\n${provider('limited', limited)}${provider('slow', slow)}${provider('dead', await refusing())}${provider('good', good)}routes:
  - model: r
    strategy: fallback
    timeout_ms: 300
    targets: [ { provider: limited }, { provider: slow }, { provider: dead }, { provider: good } ]
`)
    const started = performance.now()
    const res = await chat(gw)
    expect(res.status).toBe(200)
    expect(res.headers.get('x-gateway-attempts')).toBe('4')
    expect(performance.now() - started).toBeLessThan(2000)
  })

  it('does not fall back on a client error: the upstream 400 comes back as is', async () => {
    const a = await upstream('a', [{ status: 400, message: 'bad temperature' }])
    const b = await upstream('b', [{ ok: 'b' }])
    const gw = await gateway(`providers:\n${provider('a', a)}${provider('b', b)}routes:\n  - model: r\n    strategy: fallback\n    targets: [ { provider: a }, { provider: b } ]\n`)
    const res = await chat(gw)
    expect(res.status).toBe(400)
    expect(res.body.error.message).toContain('bad temperature')
    expect(b.requests).toHaveLength(0)
  })

  it('reports the last failure when every target fails', async () => {
    const a = await upstream('a', [{ status: 500 }])
    const gw = await gateway(`providers:\n${provider('a', a)}${provider('dead', await refusing())}routes:\n  - model: r\n    strategy: fallback\n    targets: [ { provider: a }, { provider: dead } ]\n`)
    const res = await chat(gw)
    expect(res.status).toBe(502)
    expect(res.body.error.code).toBe('upstream_unreachable')
  })

  it('single tries one target only', async () => {
    const a = await upstream('a', [{ status: 503 }])
    const b = await upstream('b', [{ ok: 'b' }])
    const gw = await gateway(`providers:\n${provider('a', a)}${provider('b', b)}routes:\n  - model: r\n    strategy: single\n    targets: [ { provider: a }, { provider: b } ]\n`)
    expect((await chat(gw)).status).toBe(503)
    expect(b.requests).toHaveLength(0)
  })
})

describe('loadbalance', () => {
  it('spreads 1000 requests by weight (1:3:6) within tolerance', async () => {
    const gw = await gateway(`providers:
  m1: { plugin: mock }
  m2: { plugin: mock }
  m3: { plugin: mock }
routes:
  - model: r
    strategy: loadbalance
    targets: [ { provider: m1, weight: 1 }, { provider: m2, weight: 3 }, { provider: m3, weight: 6 } ]
`)
    const counts: Record<string, number> = { m1: 0, m2: 0, m3: 0 }
    for (let batch = 0; batch < 20; batch++) {
      const results = await Promise.all(Array.from({ length: 50 }, () => chat(gw)))
      for (const r of results) counts[r.headers.get('x-gateway-provider')!]++
    }
    // Binomial sd for n=1000 is at most ~16; allow about 4 sd.
    expect(Math.abs(counts.m1 - 100)).toBeLessThan(45)
    expect(Math.abs(counts.m2 - 300)).toBeLessThan(60)
    expect(Math.abs(counts.m3 - 600)).toBeLessThan(65)
  })

  it('moves on to another target when the picked one fails', async () => {
    const bad = await upstream('bad', [{ status: 500 }])
    const good = await upstream('good', [{ ok: 'from good' }])
    const gw = await gateway(`providers:\n${provider('bad', bad)}${provider('good', good)}routes:\n  - model: r\n    strategy: loadbalance\n    targets: [ { provider: bad, weight: 9 }, { provider: good, weight: 1 } ]\n`)
    const replies = []
    for (let i = 0; i < 10; i++) replies.push(await chat(gw))
    for (const res of replies) {
      expect(res.status).toBe(200)
      expect(res.body.choices[0].message.content).toBe('from good')
      expect(res.headers.get('x-gateway-provider')).toBe('good')
    }
    // At weight 9 of 10 the failing target is picked first nearly every time (all 10 missing it: 1e-10);
    // each such reply took two attempts, one to bad (which failed) and one to good.
    const movedOn = replies.filter((r) => r.headers.get('x-gateway-attempts') === '2').length
    expect(movedOn).toBeGreaterThan(0)
    expect(bad.requests).toHaveLength(movedOn)
    expect(replies.filter((r) => r.headers.get('x-gateway-attempts') === '1')).toHaveLength(10 - movedOn)
    expect(good.requests).toHaveLength(10)
  })

  it('is the routing stage\'s: a route that turns the stage off tries its targets as listed', async () => {
    const gw = await gateway(`providers:
  m1: { plugin: mock }
  m2: { plugin: mock }
routes:
  - model: r
    strategy: loadbalance
    targets: [ { provider: m1, weight: 1 }, { provider: m2, weight: 99 } ]
    stages: { routing: false }
  - model: balanced
    strategy: loadbalance
    targets: [ { provider: m1, weight: 1 }, { provider: m2, weight: 99 } ]
`)
    const providers = async (model: string) => (await Promise.all(Array.from({ length: 20 }, () => chat(gw, { ...ask, model })))).map((r) => r.headers.get('x-gateway-provider'))
    expect(new Set(await providers('r'))).toEqual(new Set(['m1']))
    expect((await providers('balanced')).filter((p) => p === 'm2').length).toBeGreaterThan(10)
  })
})

describe('least-latency', () => {
  it('sends most traffic to the fastest target and still explores the others', async () => {
    const fast = await upstream('fast', [{ ok: 'fast' }])
    const slow = await upstream('slow', [{ ok: 'slow', delayMs: 60 }])
    const gw = await gateway(`providers:\n${provider('fast', fast)}${provider('slow', slow)}routes:\n  - model: r\n    strategy: least-latency\n    targets: [ { provider: slow }, { provider: fast } ]\n`)
    const counts: Record<string, number> = { fast: 0, slow: 0 }
    for (let i = 0; i < 120; i++) counts[(await chat(gw)).headers.get('x-gateway-provider')!]++
    expect(counts.fast).toBeGreaterThan(90)
    expect(counts.slow).toBeGreaterThanOrEqual(2) // measured once, then explored
  })

  it('tries a recovered target again', async () => {
    const flaky = await upstream('flaky', [{ ok: 'slow', delayMs: 80 }, { ok: 'slow', delayMs: 80 }, { ok: 'fast now' }])
    const steady = await upstream('steady', [{ ok: 'steady', delayMs: 20 }])
    const gw = await gateway(`providers:\n${provider('flaky', flaky)}${provider('steady', steady)}routes:\n  - model: r\n    strategy: least-latency\n    targets: [ { provider: flaky }, { provider: steady } ]\n`)
    const seen: string[] = []
    for (let i = 0; i < 200; i++) seen.push((await chat(gw)).body.choices[0].message.content)
    // Exploration found that flaky became fast, and traffic moved back to it.
    expect(seen.slice(-50).filter((s) => s === 'fast now').length).toBeGreaterThan(25)
  })
})

describe('the official OpenAI SDK through a fallback route', () => {
  it('streams from the second target when the first fails before its first byte', async () => {
    const a = await upstream('a', [{ status: 502 }])
    const b = await upstream('b', [{ stream: ['one', ' two'] }])
    const gw = await gateway(`providers:\n${provider('a', a)}${provider('b', b)}routes:\n  - model: r\n    targets: [ { provider: a }, { provider: b } ]\n`)
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'x', maxRetries: 0 })
    let text = ''
    for await (const c of await client.chat.completions.create({ ...ask, stream: true } as OpenAI.ChatCompletionCreateParamsStreaming)) text += c.choices[0]?.delta?.content ?? ''
    expect(text).toBe('one two')
  })
})
