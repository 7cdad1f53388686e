/**
 * Budgets under concurrency (one process, memory backend): a request's estimated cost is reserved
 * with the check and replaced by its actual cost when it ends, so requests in flight together
 * cannot all see the same spend. A failed request, a refusal or a cache hit spends nothing; a
 * stream cancelled early costs what arrived.
 *
 * Prices (budget-fixtures.ts): with max_tokens 5 each request reserves $12 and costs $12.
 */
import http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { waitFor } from '../helpers/wait.ts'
import { PRICED_ROUTES, PROMPT } from './budget-fixtures.ts'
import { bearer, chat } from './helpers.ts'

const ask = (gw: RunningGateway | string, key: string, body: Record<string, unknown> = {}) =>
  chat(gw, { messages: [{ role: 'user', content: PROMPT }], max_tokens: 5, ...body }, bearer(key))

const remaining = (headers: Headers): number => Number(headers.get('x-gateway-budget-remaining'))

describe('budgets reserve at admission and settle at the end (memory backend)', () => {
  let gw: RunningGateway
  beforeAll(async () => {
    gw = await startTestGateway(`version: 1
${PRICED_ROUTES}cache: { plugin: memory }
auth:
  strategies:
    - plugin: api-key
      keys:
        - { key: alice-key-0123456789abcdef, user: alice }
        - { key: bob-key-0123456789abcdef, user: bob }
        - { key: carol-key-0123456789abcdef, user: carol }
        - { key: dave-key-0123456789abcdef, user: dave }
        - { key: erin-key-0123456789abcdef, user: erin }
limits:
  backend: { plugin: memory }
  budgets:
    - { scope: user, usd_per_day: 100 }
`)
  }, 30_000)
  afterAll(() => gw?.close())

  it('admits exactly 8 of 200 requests sent at once at $12 each against $100 ($96 spent)', async () => {
    const results = await Promise.all(Array.from({ length: 200 }, () => ask(gw, 'alice-key-0123456789abcdef')))
    const admitted = results.filter((r) => r.status === 200)
    expect(admitted).toHaveLength(8)
    expect(results.filter((r) => r.status === 402).every((r) => r.body.error.code === 'budget_exceeded')).toBe(true)
    // Each admitted answer says what its budget has left after its own reservation.
    expect(admitted.map((r) => remaining(r.headers)).sort((a, b) => b - a)).toEqual([88, 76, 64, 52, 40, 28, 16, 4])
    // Once settled, $96 spent: the next one ($12 more) is refused, naming the spend.
    const { value: next } = await waitFor(async () => {
      const r = await ask(gw, 'alice-key-0123456789abcdef')
      return r.body.error?.message?.includes('$96.00 spent') ? r : undefined
    }, 5_000, 50)
    expect(next!.status).toBe(402)
  })

  it('charges a stream cancelled after its first chunk for what arrived and releases the rest', async () => {
    // A plain HTTP request, so the connection is dropped the moment we say (a pooled fetch may keep it).
    const text = await new Promise<string>((resolve, reject) => {
      const req = http.request(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer('bob-key-0123456789abcdef') } }, (res) => {
        let seen = ''
        res.on('data', (d: Buffer) => {
          seen += d.toString()
          if (seen.includes('w01')) { req.destroy(); resolve(seen) }
        })
      })
      req.on('error', () => undefined)
      req.end(JSON.stringify({ model: 'slow', messages: [{ role: 'user', content: PROMPT }], max_tokens: 60, stream: true }))
      setTimeout(() => reject(new Error('no first chunk')), 5000)
    })
    expect(text).toContain('w01')
    // A probe that is always refused (it would reserve $1007) takes nothing and reports what is spent or reserved.
    const committed = async (): Promise<number> => {
      const r = await ask(gw, 'bob-key-0123456789abcdef', { max_tokens: 1000 })
      return Number(/\$([\d.]+) spent or reserved/.exec(r.body.error.message)![1])
    }
    // Released once the gateway has counted what arrived (with the tokenizer, which may be starting up):
    // the prompt and a word or two, far from the $67 reserved or the $27+ of the whole answer.
    const { value: charged } = await waitFor(async () => { const c = await committed(); return c < 67 ? c : undefined }, 20_000, 100)
    expect(charged).toBeGreaterThan(7)
    expect(charged).toBeLessThan(27)
  }, 30_000)

  it('releases the whole reservation of a request that failed upstream (502)', async () => {
    const failed = await ask(gw, 'carol-key-0123456789abcdef', { model: 'broken' })
    expect(failed.status).toBe(502)
    const next = await ask(gw, 'carol-key-0123456789abcdef')
    expect(next.status).toBe(200)
    // Only this request's own $12 reservation is taken from $100.
    expect(remaining(next.headers)).toBe(88)
  })

  it('charges nothing for a cache hit', async () => {
    const first = await ask(gw, 'dave-key-0123456789abcdef', { model: 'cached' })
    expect(first.status).toBe(200)
    expect(first.headers.get('x-gateway-cache')).toBe('miss')
    await waitFor(async () => remaining((await ask(gw, 'dave-key-0123456789abcdef', { model: 'cached' })).headers) === 76, 5_000, 50)
    // Two hits later, still only the first answer's $12 is spent ($100 − 12 − this hit's own reservation).
    const hit = await ask(gw, 'dave-key-0123456789abcdef', { model: 'cached' })
    expect(hit.headers.get('x-gateway-cache')).toBe('hit')
    expect(remaining(hit.headers)).toBe(76)
  })

  it('takes nothing from any budget when a request is refused', async () => {
    // erin's $100: a request reserving $107 (7 + 100) is refused, and then eight of $12 still fit.
    const refused = await ask(gw, 'erin-key-0123456789abcdef', { max_tokens: 100 })
    expect(refused.status).toBe(402)
    expect(refused.body.error.message).toContain('this request may cost up to $107.00')
    const results = await Promise.all(Array.from({ length: 10 }, () => ask(gw, 'erin-key-0123456789abcdef')))
    expect(results.filter((r) => r.status === 200)).toHaveLength(8)
  })
})
