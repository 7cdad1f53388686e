/**
 * What a key has spent of its budget, on the key: `GET /api/v1/keys/:id` answers `spend` (this UTC
 * day and calendar month, the periods `budget_usd_per_day` / `budget_usd_per_month` run on), as
 * LiteLLM's /key/info answers `spend` beside `max_budget`. A finance admin setting a key's budget
 * could see the limit but not how much of it was gone, short of an analytics query per key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { waitFor } from '../helpers/wait.ts'
import { ADMIN, apiKeyStrategy, bearer, call, config } from './helpers.ts'

/** $1 per token: the mock's answer and prompt make each request cost a few dollars. */
const ROUTES = `providers:
  mock: { plugin: mock, reply: "one two three" }
routes:
  - { model: dear, targets: [ { provider: mock, model: dear-model } ] }
pricing:
  dear-model: { input: 1000000, output: 1000000 }
`

describe('a key\'s spend in its budget\'s periods', () => {
  let gw: RunningGateway
  beforeAll(async () => {
    gw = await startTestGateway(config({ routes: ROUTES, auth: apiKeyStrategy(), extra: 'services: { keys: {}, analytics: {} }\n' }), { usage: { flushIntervalMs: 20 } })
  }, 60_000)
  afterAll(async () => { await gw?.close() })

  it('is what its usage events cost today and this month', async () => {
    const created = await call(gw, 'POST', '/api/v1/keys', { headers: ADMIN, body: { name: 'finance-bot', limits: { budget_usd_per_month: 100 } } })
    expect(created.status).toBe(201)
    const { id, key } = created.body.data
    const fresh = (await call(gw, 'GET', `/api/v1/keys/${id}`, { headers: ADMIN })).body.data
    expect(fresh.spend).toMatchObject({ day_usd: 0, month_usd: 0 })
    const now = new Date()
    expect(fresh.spend.month_started_at).toBe(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString())

    for (let i = 0; i < 3; i++) {
      expect((await call(gw, 'POST', '/v1/chat/completions', { headers: bearer(key), body: { model: 'dear', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] } })).status).toBe(200)
    }
    const costs = async () => (await call(gw, 'GET', `/api/v1/analytics/costs?key_id=${id}`, { headers: ADMIN })).body.data
    const { value: recorded } = await waitFor(async () => { const c = await costs(); return c.rows[0]?.requests === 3 ? c : undefined })
    expect(recorded!.total_cost_usd).toBeGreaterThan(0)
    const spent = (await call(gw, 'GET', `/api/v1/keys/${id}`, { headers: ADMIN })).body.data.spend
    expect(spent.day_usd).toBeCloseTo(recorded!.total_cost_usd, 9)
    expect(spent.month_usd).toBeCloseTo(recorded!.total_cost_usd, 9)
  })

  it('is on every key of the list too, read at once for all of them (a key that spent nothing: 0)', async () => {
    const idle = (await call(gw, 'POST', '/api/v1/keys', { headers: ADMIN, body: { name: 'idle-bot' } })).body.data
    const spender = (await call(gw, 'POST', '/api/v1/keys', { headers: ADMIN, body: { name: 'spender', limits: { budget_usd_per_day: 100 } } })).body.data
    expect((await call(gw, 'POST', '/v1/chat/completions', { headers: bearer(spender.key), body: { model: 'dear', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] } })).status).toBe(200)
    const one = async (id: string) => (await call(gw, 'GET', `/api/v1/keys/${id}`, { headers: ADMIN })).body.data.spend
    await waitFor(async () => ((await one(spender.id)).day_usd > 0 ? true : undefined))
    const listed = (await call(gw, 'GET', '/api/v1/keys', { headers: ADMIN })).body.data as { id: string; spend: unknown }[]
    expect(listed.length).toBeGreaterThanOrEqual(3)
    for (const key of listed) expect(key.spend).toEqual(await one(key.id))
    expect(listed.find((k) => k.id === idle.id)!.spend).toMatchObject({ day_usd: 0, month_usd: 0 })
    expect((listed.find((k) => k.id === spender.id)!.spend as { day_usd: number }).day_usd).toBeGreaterThan(0)
  })
})
