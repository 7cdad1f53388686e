/**
 * Budgets: cost per day and month per key, user, department (and organization). A request that
 * would exceed one is refused with `budget_exceeded` (402 by default, 429 if configured); alerts
 * at thresholds are log events and metrics. Spend is read from the store's usage events (briefly
 * cached) plus what this process has spent since; without a store, this process's own spend.
 *
 * Prices: the mock's answer to "hello gateway" is 3 completion tokens; at $10,000 per 1M output
 * tokens (and nothing for input) each answer costs $0.03. The model's max_output_tokens (3) is
 * what a request without max_tokens reserves, so each one reserves exactly what it will cost.
 */
import { randomUUID } from 'node:crypto'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newApiKey } from '../../plugins/services/identity/data/keys.ts'
import { usageRepository } from '../../plugins/stages/usage/repository.ts'
import { Identity } from '../../plugins/contracts/capabilities.ts'
import { startGateway } from '../../core/gateway.ts'
import { capability, startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { bearer, capturingLogger, chat, metric } from './helpers.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** Spend accrues once the response has ended; give it a moment. */
const settle = () => sleep(60)

const PRICED = `providers:
  mock: { plugin: mock }
routes:
  - model: mock
    targets: [ { provider: mock, model: priced-1 } ]
  - model: free
    targets: [ { provider: mock, model: unpriced } ]
pricing:
  priced-1: { input: 0, output: 10000, max_output_tokens: 3 }
`

async function spend(gw: RunningGateway, n: number, headers: Record<string, string> = {}): Promise<number[]> {
  const statuses = []
  for (let i = 0; i < n; i++) {
    statuses.push((await chat(gw, {}, headers)).status)
    await settle()
  }
  return statuses
}

describe('a budget without a store (this process\'s own spend)', () => {
  let gw: RunningGateway
  const { logger, lines } = capturingLogger('info')
  beforeAll(async () => {
    gw = await startGateway({
      source: { text: `version: 1\n${PRICED}limits:
  budgets:
    - { scope: user, usd_per_day: 0.1, alert_at: [0.5, 0.8] }
usage: { flush_interval_ms: 50 }
`, label: 'test.yaml', dir: process.cwd() },
      port: 0, host: '127.0.0.1', logger, watch: false,
    })
  })
  afterAll(() => gw.close())

  it('admits requests while their reserved cost fits the day\'s budget, then refuses with 402 budget_exceeded', async () => {
    expect(await spend(gw, 3)).toEqual([200, 200, 200])
    const refused = await chat(gw, {})
    expect(refused.status).toBe(402)
    expect(refused.body.error).toMatchObject({ code: 'budget_exceeded', type: 'insufficient_quota' })
    expect(refused.body.error.message).toMatch(/Your budget of \$0\.1 per day would be exceeded: \$0\.09 spent or reserved by requests in flight, and this request may cost up to \$0\.03 \(set max_tokens to reserve less\)\. It resets at \d{4}-\d\d-\d\dT00:00:00\.000Z/)
    expect(refused.headers.get('x-should-retry')).toBe('false')
  })

  it('raises each alert threshold once, as a log event and a metric', async () => {
    const alerts = lines.filter((l) => l.event === 'budget_alert')
    expect(alerts.map((a) => a.threshold)).toEqual([0.5, 0.8])
    expect(alerts[0]).toMatchObject({ level: 'warn', scope: 'user', subject: 'anonymous', period: 'day', budget_usd: 0.1 })
    expect(await metric(gw, 'gateway_budget_alerts_total', { scope: 'user', period: 'day', threshold: '0.8' })).toBe(1)
    expect(await metric(gw, 'gateway_limiter_rejections_total', { scope: 'user', kind: 'budget' })).toBe(1)
  })

  it('is refused by the OpenAI SDK without retries (402 is not retried)', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 2 })
    const error = await client.chat.completions.create({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.APIError)
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(402)
    expect(await metric(gw, 'gateway_limiter_rejections_total', { scope: 'user', kind: 'budget' })).toBe(2)
  })
})

describe('budgets per department, with the estimated cost of the request and status 429', () => {
  let gw: RunningGateway
  beforeAll(async () => {
    gw = await startTestGateway(`version: 1\n${PRICED}auth:
  strategies:
    - plugin: api-key
      keys:
        - { key: alice-key-0123456789abcdef, user: alice, department: research }
        - { key: bob-key-0123456789abcdef, user: bob, department: research }
        - { key: carol-key-0123456789abcdef, user: carol, department: sales }
departments:
  research: { budget: { usd_per_month: 0.1 } }
  sales: {}
limits:
  budget_status: 429
`)
  })
  afterAll(() => gw.close())

  it('counts every member\'s spend against the department\'s monthly budget', async () => {
    expect(await spend(gw, 2, bearer('alice-key-0123456789abcdef'))).toEqual([200, 200])
    expect(await spend(gw, 1, bearer('bob-key-0123456789abcdef'))).toEqual([200])
  })

  it('refuses a request whose max_tokens could take the spend past the budget, and admits it without', async () => {
    // $0.09 spent: up to 5 more output tokens would cost up to $0.05.
    const risky = await chat(gw, { max_tokens: 5 }, bearer('bob-key-0123456789abcdef'))
    expect(risky.status).toBe(429)
    expect(risky.body.error.code).toBe('budget_exceeded')
    expect(risky.body.error.message).toContain("Your department's (research) budget of $0.1 per month would be exceeded")
    expect(risky.headers.get('x-should-retry')).toBe('false')
    expect((await chat(gw, { max_tokens: 1 }, bearer('bob-key-0123456789abcdef'))).status).toBe(200)
  })

  it('refuses the department once spent, but not another department', async () => {
    await settle()
    const refused = await chat(gw, {}, bearer('alice-key-0123456789abcdef'))
    expect(refused.status).toBe(429)
    expect(refused.body.error.message).toContain('is used up')
    expect((await chat(gw, {}, bearer('carol-key-0123456789abcdef'))).status).toBe(200)
  })
})

describe('budgets with a store: spend read from usage events, plus this process\'s since', () => {
  let gw: RunningGateway
  beforeAll(async () => {
    gw = await startTestGateway(`version: 1
store: { plugin: embedded, memory: true, vector: false }
${PRICED}auth:
  strategies:
    - plugin: api-key
      keys:
        - { key: admin-key-0123456789abcdef, user: admin, role: admin }
        - { key: dana-key-0123456789abcdef, user: dana, department: ops }
        - { key: erin-key-0123456789abcdef, user: erin, department: finance }
departments:
  ops: { budget: { usd_per_day: 0.25 } }
  finance: {}
limits:
  backend: { plugin: memory }
  budget_refresh_s: 0.2
  budgets:
    - { scope: user, when: { departments: [finance] }, usd_per_day: 0.14 }
`)
  }, 60_000)
  afterAll(() => gw.close())

  it('refuses at once when the store already records the day\'s budget as spent', async () => {
    await usageRepository(gw.controller.current.store!.sql).insertBatch([
      { eventId: randomUUID(), time: new Date(), requestId: 'earlier-1', department: 'ops', status: 200, latencyMs: 10, costUsd: 0.2 },
      { eventId: randomUUID(), time: new Date(), requestId: 'earlier-2', department: 'ops', status: 200, latencyMs: 10, costUsd: 0.06 },
    ])
    const refused = await chat(gw, {}, bearer('dana-key-0123456789abcdef'))
    expect(refused.status).toBe(402)
    expect(refused.body.error.message).toContain('($0.26 spent or reserved')
  })

  it('does not count a request twice once its usage event is in the store', async () => {
    const erin = bearer('erin-key-0123456789abcdef')
    expect(await spend(gw, 3, erin)).toEqual([200, 200, 200])
    // Let the usage events reach the store and the spend be read again (an unpriced request triggers the read).
    await sleep(300)
    expect((await chat(gw, { model: 'free' }, erin)).status).toBe(200)
    await sleep(150)
    // $0.09 spent, whether counted from the store or in process; counted twice it would be $0.18 (no room for $0.03 more).
    expect((await chat(gw, {}, erin)).status).toBe(200)
    await settle()
    const refused = await chat(gw, {}, erin)
    expect(refused.status).toBe(402)
    expect(refused.body.error.message).toContain('$0.12 spent or reserved')
  })

  it('enforces a virtual key\'s own limits and budget (api_keys.limits)', async () => {
    const secret = newApiKey()
    await capability(gw, Identity).apiKeys.create({ keyHash: secret.hash, prefix: secret.prefix, role: 'user', department: 'finance', limits: { requests_per_minute: 2, budget_usd_per_day: 0.06 } })
    const first = await chat(gw, {}, bearer(secret.key))
    expect(first.status).toBe(200)
    expect(first.headers.get('x-ratelimit-limit-requests')).toBe('2')
    await settle()
    expect((await chat(gw, {}, bearer(secret.key))).status).toBe(200)
    await settle()
    const refused = await chat(gw, {}, bearer(secret.key))
    expect(refused.status).toBe(402)
    expect(refused.body.error.message).toContain("This API key's budget of $0.06 per day is used up")
  })
})
