/**
 * Real traffic of every kind (an answer, a fallback, a retry, a cache hit, a stream, a rate-limit
 * refusal, an unknown model) and every number an admin reads about it agrees: the analytics
 * totals and groups with what happened, and with /metrics' counters. A cache hit is counted as
 * one (it was not visible in analytics at all: a hit rate could not be read), at cost 0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { sendJson, sendSse, startUpstream, type MockUpstream } from '../helpers/upstream.ts'
import { postJson, type RunningGateway } from '../helpers/gateway.ts'
import { waitFor } from '../helpers/wait.ts'
import { PRICE, pricedCompletion, storedEvents, usageGateway, user } from './helpers.ts'

const ALICE = user('alice', 'user', 'research')
const BOB = user('bob', 'user', 'sales')
const ROOT = user('root', 'admin')
/** Each answer: 10 prompt and 1 completion tokens of the priced model. */
const COST = (10 * PRICE.input + 1 * PRICE.output) / 1e6
const chunk = (delta: object, finish: string | null = null) => ({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'priced-model', choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] })

const ROUTES = `  - model: fb
    strategy: fallback
    targets: [ { provider: a, model: down-model }, { provider: a, model: priced-model } ]
  - model: retried
    retry: { attempts: 2, backoff_ms: 10 }
    targets: [ { provider: a, model: priced-model, params: { user: flaky } } ]
cache: { plugin: memory, ttl_s: 600 }
limits:
  backend: { plugin: memory }
  policies:
    - { scope: user, when: { users: [carol] }, requests_per_minute: 1 }
`

describe('analytics and /metrics agree with the traffic', () => {
  let up: MockUpstream
  let gw: RunningGateway
  let cleanup: () => Promise<void>
  const usage = async (query: string) => (await (await fetch(`${gw.url}/api/v1/analytics/usage?${query}`, { headers: ROOT })).json()).data

  beforeAll(async () => {
    let failNext = true
    up = await startUpstream((req, res) => {
      if (req.body.model === 'down-model') return sendJson(res, 503, { error: { message: 'down' } })
      if (req.body.user === 'flaky' && (failNext = !failNext) === false) return sendJson(res, 500, { error: { message: 'boom' } })
      if (req.body.stream) return sendSse(res, [{ data: chunk({ content: 'hi' }) }, { data: chunk({}, 'stop') }, { data: { ...chunk({}), choices: [], usage: pricedCompletion.usage } }, { data: '[DONE]' }])
      sendJson(res, 200, pricedCompletion)
    })
    ;({ gw, cleanup } = await usageGateway(up.url, { extra: ROUTES }))
    const ask = (model: string, who: Record<string, string>) => postJson(`${gw.url}/v1/chat/completions`, { model, temperature: 0, messages: [{ role: 'user', content: 'x' }] }, who)
    const statuses = [
      (await ask('r', ALICE)).status, // answered: 200
      (await ask('fb', ALICE)).status, // the first target down, the second answers: 200, 2 attempts
      (await ask('retried', ALICE)).status, // 500, then 200 on the retry
      (await ask('r', ALICE)).status, // the same question again: a cache hit
      (await ask('r', user('carol'))).status, // within the limit
      (await ask('r', user('carol', 'user'))).status, // 429
      (await ask('nope', BOB)).status, // 404
    ]
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 404])
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'x', maxRetries: 0, defaultHeaders: BOB })
    for await (const _ of await client.chat.completions.create({ model: 'fb', stream: true, messages: [{ role: 'user', content: 'stream' }] })) { /* drain */ }
    await storedEvents(gw, 8)
  }, 60_000)
  afterAll(async () => { await cleanup(); await up.close() })

  it('totals: requests, errors, cache hits, tokens and cost as they happened', async () => {
    const [total] = await usage('')
    // Answered upstream: r, fb, retried, carol's, the stream (5); from the cache: 1; refused: 2.
    expect(total).toMatchObject({ requests: 8, errors: 2, cache_hits: 1, prompt_tokens: 60, completion_tokens: 6 })
    expect(total.cost_usd).toBeCloseTo(5 * COST, 12)
  })

  it('per department and per route', async () => {
    const byDept = Object.fromEntries((await usage('group_by=department')).map((r: { group: string }) => [r.group, r]))
    expect(byDept.research).toMatchObject({ requests: 4, errors: 0, cache_hits: 1, prompt_tokens: 40 })
    expect(byDept.research.cost_usd).toBeCloseTo(3 * COST, 12)
    expect(byDept.sales).toMatchObject({ requests: 2, errors: 1, cache_hits: 0, prompt_tokens: 10 })
    expect(byDept.sales.cost_usd).toBeCloseTo(1 * COST, 12)
    const byRoute = Object.fromEntries((await usage('group_by=route')).map((r: { group: string }) => [r.group, r]))
    expect(byRoute.fb).toMatchObject({ requests: 2, errors: 0 })
    expect(byRoute.r).toMatchObject({ requests: 4, errors: 1, cache_hits: 1 })
  })

  it('/metrics counts the same requests, tokens and cost', async () => {
    const metrics = async () => (await (await fetch(`${gw.url}/metrics`)).text()).split('\n')
    const sum = (lines: string[], name: string, match = '') => lines.filter((l) => l.startsWith(`${name}{`) && l.includes(match)).reduce((n, l) => n + Number(l.split(' ').at(-1)), 0)
    const { value: lines } = await waitFor(async () => { const l = await metrics(); return sum(l, 'gateway_requests_total') === 8 ? l : undefined }, 5000)
    const [total] = await usage('')
    expect(sum(lines!, 'gateway_requests_total', 'status="4')).toBe(total.errors)
    expect(sum(lines!, 'gateway_cache_hits_total')).toBe(total.cache_hits)
    expect(sum(lines!, 'gateway_tokens_total', 'kind="prompt"')).toBe(total.prompt_tokens)
    expect(sum(lines!, 'gateway_tokens_total', 'kind="completion"')).toBe(total.completion_tokens)
    expect(sum(lines!, 'gateway_cost_usd_total')).toBeCloseTo(total.cost_usd, 12)
  })
})
