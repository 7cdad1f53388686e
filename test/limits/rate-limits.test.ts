/**
 * Rate limits end to end (limiter.memory): policies per scope (key, user, department, thread,
 * organization, route), per role and per department with the tightest winning, the 429 that
 * OpenAI's clients understand (error shape, retry-after, x-ratelimit-* headers, also on admitted
 * responses), refill, and config errors.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { expectOpenAISchema } from '../helpers/openai-schema.ts'
import { bearer, chat, limitsConfig, metric } from './helpers.ts'

const KEYS = {
  alice: 'alice-key-0123456789abcdef',
  bob: 'bob-key-0123456789abcdef',
  carol: 'carol-key-0123456789abcdef',
  bot: 'bot-key-0123456789abcdef',
}

// Routes and callers of the first two suites; each adds its departments.
const ROUTES = ['mock', 'other', 'embed']
const CALLERS = `auth:
  strategies:
    - plugin: api-key
      keys:
        - { key: ${KEYS.alice}, user: alice, role: user, department: research }
        - { key: ${KEYS.bob}, user: bob, role: user, department: research }
        - { key: ${KEYS.carol}, user: carol, role: intern, department: sales }
        - { key: ${KEYS.bot}, user: bot, name: ci-bot, role: user, department: sales }
roles:
  intern: { permissions: [chat], scope: own_data }
`

describe('per-user limits, answered the way OpenAI answers', () => {
  let gw: RunningGateway
  beforeAll(async () => {
    gw = await startTestGateway(limitsConfig(['{ scope: user, requests_per_minute: 3 }'], {
      routes: ROUTES, extra: `${CALLERS}departments:\n  research: {}\n  sales: {}\n`,
    }))
  })
  afterAll(() => gw.close())

  it('sends x-ratelimit-limit/remaining/reset-requests on admitted responses, remaining counting down', async () => {
    const seen = []
    for (let i = 0; i < 3; i++) {
      const res = await chat(gw, {}, bearer(KEYS.bob))
      expect(res.status).toBe(200)
      seen.push([res.headers.get('x-ratelimit-limit-requests'), res.headers.get('x-ratelimit-remaining-requests')])
      expect(res.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+(\.\d+)?s$|^\d+m\d+s$/)
    }
    expect(seen).toEqual([['3', '2'], ['3', '1'], ['3', '0']])
  })

  it('refuses the request over the limit with a 429 the OpenAI SDK raises as RateLimitError, with retry-after', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEYS.alice, maxRetries: 0 })
    for (let i = 0; i < 3; i++) await client.chat.completions.create({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] })
    const error = await client.chat.completions.create({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.RateLimitError)
    const rateLimited = error as InstanceType<typeof OpenAI.RateLimitError>
    expect(rateLimited.status).toBe(429)
    expect(rateLimited.code).toBe('rate_limit_exceeded')
    expect(rateLimited.type).toBe('rate_limit_error')
    expect(rateLimited.message).toContain('requests per minute')
    const retryAfter = Number(rateLimited.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(20)
    expect(Number(rateLimited.headers.get('retry-after-ms'))).toBeGreaterThan(0)
    expect(rateLimited.headers.get('x-ratelimit-limit-requests')).toBe('3')
    expect(rateLimited.headers.get('x-ratelimit-remaining-requests')).toBe('0')
  })

  it('the 429 body conforms to OpenAI\'s published error schema', async () => {
    const res = await chat(gw, {}, bearer(KEYS.alice))
    expect(res.status).toBe(429)
    expectOpenAISchema('ErrorResponse', res.body)
    expect(res.body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded', param: null })
  })

  it('counts each user in a bucket of their own', async () => {
    expect((await chat(gw, {}, bearer(KEYS.alice))).status).toBe(429)
    // Carol's first request: her bucket is full, Alice's (and Bob's) use took nothing from it.
    const carol = await chat(gw, {}, bearer(KEYS.carol))
    expect(carol.status).toBe(200)
    expect(carol.headers.get('x-ratelimit-remaining-requests')).toBe('2')
  })

  it('counts refusals in gateway_limiter_rejections_total by scope and kind', async () => {
    // Alice's three refusals in the tests above.
    expect(await metric(gw, 'gateway_limiter_rejections_total', { scope: 'user', kind: 'requests' })).toBe(3)
  })
})

describe('policies per role, department and key: the tightest applicable wins', () => {
  let gw: RunningGateway
  beforeAll(async () => {
    gw = await startTestGateway(limitsConfig([
      '{ scope: user, requests_per_minute: 4 }',
      '{ scope: user, when: { roles: [intern] }, requests_per_minute: 2 }',
      '{ scope: user, when: { roles: [intern] }, requests_per_minute: 50 }',
      '{ scope: key, when: { keys: [config:ci-bot] }, requests_per_minute: 1 }',
    ], { routes: ROUTES, extra: `${CALLERS}departments:\n  research: { limits: { requests_per_minute: 5 } }\n  sales: {}\n` }))
  })
  afterAll(() => gw.close())

  it('gives a role policy tighter than the default its lower limit (and ignores a looser one)', async () => {
    const statuses = []
    for (let i = 0; i < 3; i++) statuses.push((await chat(gw, {}, bearer(KEYS.carol))).status)
    expect(statuses).toEqual([200, 200, 429])
  })

  it('limits one key by its id, apart from the user limits', async () => {
    const first = await chat(gw, {}, bearer(KEYS.bot))
    expect(first.headers.get('x-ratelimit-remaining-requests')).toBe('0')
    expect((await chat(gw, {}, bearer(KEYS.bot))).status).toBe(429)
  })

  it('shares a department limit (departments.<name>.limits) among its members', async () => {
    const alice = []
    for (let i = 0; i < 4; i++) alice.push((await chat(gw, {}, bearer(KEYS.alice))).status)
    expect(alice).toEqual([200, 200, 200, 200])
    // Bob's own bucket is full, but the department has one request left of its 5.
    const bob1 = await chat(gw, {}, bearer(KEYS.bob))
    expect(bob1.status).toBe(200)
    expect(bob1.headers.get('x-ratelimit-remaining-requests')).toBe('0')
    const bob2 = await chat(gw, {}, bearer(KEYS.bob))
    expect(bob2.status).toBe(429)
    expect(bob2.body.error.message).toContain('your department')
  })

  it('a refusal takes nothing: the user bucket is not charged when the department bucket refuses', async () => {
    // Bob was refused above by the department; his own bucket still holds 3 of 4.
    const res = await chat(gw, {}, bearer(KEYS.bob))
    expect(res.status).toBe(429)
    expect(res.headers.get('x-ratelimit-remaining-requests')).toBe('0')
    expect(res.body.error.message).toContain('your department')
  })
})

describe('thread, route and organization scopes', () => {
  let gw: RunningGateway
  beforeAll(async () => {
    gw = await startTestGateway(limitsConfig([
      '{ scope: thread, requests_per_minute: 2 }',
      '{ scope: route, when: { routes: [scarce] }, requests_per_minute: 1 }',
      "{ scope: user, when: { routes: ['oth*'] }, requests_per_minute: 2 }",
      '{ scope: organization, requests_per_hour: 12 }',
    ], { routes: ['mock', 'other', 'scarce'] }))
  })
  afterAll(() => gw.close())

  it('limits a chat thread named by x-thread-id or metadata.thread_id, each thread apart', async () => {
    const t1 = []
    for (let i = 0; i < 3; i++) t1.push((await chat(gw, {}, { 'x-thread-id': 'thread-1' })).status)
    expect(t1).toEqual([200, 200, 429])
    expect((await chat(gw, { metadata: { thread_id: 'thread-2' } })).status).toBe(200)
    expect((await chat(gw, { metadata: { thread_id: 'thread-2' } })).status).toBe(200)
    expect((await chat(gw, { metadata: { thread_id: 'thread-2' } })).status).toBe(429)
    // A request without a thread is not held to any thread's limit.
    expect((await chat(gw, {})).status).toBe(200)
  })

  it('limits a route as a whole, and a user per route where a policy names routes', async () => {
    expect((await chat(gw, { model: 'scarce' })).status).toBe(200)
    const refused = await chat(gw, { model: 'scarce' })
    expect(refused.status).toBe(429)
    expect(refused.body.error.message).toContain('this model')
    // The per-route user policy counts only requests to routes it names.
    expect((await chat(gw, { model: 'other' })).status).toBe(200)
    expect((await chat(gw, { model: 'other' })).status).toBe(200)
    expect((await chat(gw, { model: 'other' })).status).toBe(429)
  })

  it('limits the whole organization: everything above counted towards its 12 per hour', async () => {
    // 8 admitted above (2 + 2 + 1 in threads, 1 + 2 on routes); the refused ones took nothing.
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push((await chat(gw, {})).status)
    expect(statuses).toEqual([200, 200, 200, 200])
    const res = await chat(gw, {})
    expect(res.status).toBe(429)
    expect(res.body.error.message).toContain('the organization')
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(200)
  })
})

describe('refill and other endpoints', () => {
  let gw: RunningGateway
  beforeAll(async () => {
    gw = await startTestGateway(limitsConfig(['{ scope: user, requests_per_second: 2 }']))
  })
  afterAll(() => gw.close())

  it('admits again once retry-after-ms has passed', async () => {
    await chat(gw, {})
    await chat(gw, {})
    const refused = await chat(gw, {})
    expect(refused.status).toBe(429)
    // At 2 a second one request's room comes back within 500 ms.
    const waitMs = Number(refused.headers.get('retry-after-ms'))
    expect(waitMs).toBeGreaterThan(0)
    expect(waitMs).toBeLessThanOrEqual(500)
    await new Promise((r) => setTimeout(r, waitMs + 30))
    const again = await chat(gw, {})
    expect(again.status).toBe(200)
    expect(again.headers.get('x-ratelimit-remaining-requests')).toBe('0')
  })

  it('counts embeddings and Anthropic-style /v1/messages requests too', async () => {
    await new Promise((r) => setTimeout(r, 1100))
    const embed = await fetch(`${gw.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'mock', input: 'hi' }) })
    expect(embed.status).toBe(200)
    expect(embed.headers.get('x-ratelimit-remaining-requests')).toBe('1')
    const message = { model: 'mock', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }
    const first = await fetch(`${gw.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(message) })
    expect(first.status).toBe(200)
    const refused = await fetch(`${gw.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(message) })
    expect(refused.status).toBe(429)
    expect(refused.headers.get('retry-after')).toBeTruthy()
    expect(await refused.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } })
  })
})

describe('hot reload', () => {
  it('keeps counting across a reload that keeps the backend, and applies a changed limit at once', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-limits-reload-'))
    const file = path.join(dir, 'gateway.yaml')
    const yaml = (limit: number) => limitsConfig([`{ scope: user, requests_per_hour: ${limit} }`])
    await writeFile(file, yaml(3))
    const gw = await startTestGateway({ file })
    try {
      expect((await chat(gw, {})).headers.get('x-ratelimit-remaining-requests')).toBe('2')
      await writeFile(file, yaml(5))
      expect((await gw.controller.reload('test')).status).toBe('reloaded')
      // The bucket kept its state (a fresh one would leave 4). GCRA keeps time, not a count: the
      // first request used 20 of the hour's minutes, which at 12 minutes a request is 1.67 of 5.
      const after = await chat(gw, {})
      expect(after.headers.get('x-ratelimit-limit-requests')).toBe('5')
      expect(after.headers.get('x-ratelimit-remaining-requests')).toBe('2')
    } finally {
      await gw.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('config', () => {
  it('refuses policies without a limiter backend, naming the line', async () => {
    const error = await startTestGateway(`version: 1
providers:
  mock: { plugin: mock }
routes:
  - model: mock
    targets: [ { provider: mock } ]
limits:
  policies:
    - { scope: user, requests_per_minute: 3 }
`).then((gw) => gw.close(), (e: Error) => e)
    expect(String(error)).toMatch(/test\.yaml:\d+:\d+ limits\.policies: rate limit policies need a limiter/)
  })

  it('refuses a policy naming a department that does not exist, and an unknown scope', async () => {
    const yaml = limitsConfig(['{ scope: user, when: { departments: [reserch] }, requests_per_minute: 3 }'], { extra: 'departments:\n  research: {}\n' })
    const error = await startTestGateway(yaml).then((gw) => gw.close(), (e: Error) => e)
    expect(String(error)).toContain("limits.policies[0].when.departments[0]: no department 'reserch'")
    const scope = await startTestGateway(`version: 1
limits:
  backend: { plugin: memory }
  policies:
    - { scope: team, requests_per_minute: 3 }
`).then((gw) => gw.close(), (e: Error) => e)
    expect(String(scope)).toContain('limits.policies[0].scope')
  })
})

describe('when: { users } names a user as routes do: by id, or by the name or email they go by', () => {
  let gw: RunningGateway
  beforeAll(async () => {
    // With a store, a config key's user has a UUID for an id: the config can only know its name.
    gw = await startTestGateway(limitsConfig(['{ scope: user, when: { users: [alice] }, requests_per_minute: 1 }'], {
      extra: `${CALLERS}store: { plugin: embedded, memory: true, vector: false }\n`,
    }))
  })
  afterAll(() => gw.close())

  it('applies a policy naming alice to alice, and to no one else', async () => {
    expect((await chat(gw, {}, bearer(KEYS.alice))).status).toBe(200)
    expect((await chat(gw, {}, bearer(KEYS.alice))).status).toBe(429)
    for (let i = 0; i < 3; i++) expect((await chat(gw, {}, bearer(KEYS.bob))).status).toBe(200)
  })
})
