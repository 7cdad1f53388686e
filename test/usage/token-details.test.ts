/**
 * An admin can recompute a request's cost from the tokens analytics shows. Prompt-cache writes
 * (Anthropic bills them at 1.25x input) and reasoning tokens were priced but not recorded: a row
 * said 1000 prompt tokens, 200 of them cached, and a cost that matched neither all-input nor any
 * other split of what it showed. Both are now in the usage events, /usage's rows, /costs, /events
 * and the CSV exports.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { sendJson, sendSse, startUpstream, type MockUpstream } from '../helpers/upstream.ts'
import type { RunningGateway } from '../helpers/gateway.ts'
import { waitFor } from '../helpers/wait.ts'
import { PRICE, storedEvents, usageGateway, user } from './helpers.ts'

const USAGE = {
  prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500,
  prompt_tokens_details: { cached_tokens: 200, cache_write_tokens: 300 },
  completion_tokens_details: { reasoning_tokens: 120 },
}
const base = { id: 'c', created: 1, model: 'priced-model' }
const ADMIN = user('root', 'admin')

describe('cache-write and reasoning tokens, recorded and shown wherever tokens are', () => {
  let up: MockUpstream
  let gw: RunningGateway
  let cleanup: () => Promise<void>
  beforeAll(async () => {
    up = await startUpstream((req, res) => {
      if (!req.body.stream) return sendJson(res, 200, { ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'ok', refusal: null }, finish_reason: 'stop', logprobs: null }], usage: USAGE })
      const chunk = { ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'ok' }, finish_reason: 'stop', logprobs: null }] }
      sendSse(res, [{ data: chunk }, { data: { ...base, object: 'chat.completion.chunk', choices: [], usage: USAGE } }, { data: '[DONE]' }])
    })
    ;({ gw, cleanup } = await usageGateway(up.url))
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'x', maxRetries: 0, defaultHeaders: user('alice', 'user', 'research') })
    await client.chat.completions.create({ model: 'r', messages: [{ role: 'user', content: 'hi' }] })
    for await (const _ of await client.chat.completions.create({ model: 'r', stream: true, messages: [{ role: 'user', content: 'hi' }] })) { /* drain */ }
    await storedEvents(gw, 2)
  }, 60_000)
  afterAll(async () => { await cleanup(); await up.close() })

  /** The cost of `n` requests from the token counts a row shows, at the suite's prices. */
  const recomputed = (row: { prompt_tokens: number; cached_tokens: number; cache_write_tokens: number; completion_tokens: number }) =>
    ((row.prompt_tokens - row.cached_tokens - row.cache_write_tokens) * PRICE.input + row.cached_tokens * PRICE.cached_input
      + row.cache_write_tokens * PRICE.cache_write_input + row.completion_tokens * PRICE.output) / 1e6
  const get = async (path: string) => (await fetch(`${gw.url}/api/v1/analytics/${path}`, { headers: ADMIN }))

  it('/usage: the totals, and a cost recomputed from them', async () => {
    const [row] = (await (await get('usage')).json()).data
    expect(row).toMatchObject({ requests: 2, prompt_tokens: 2000, cached_tokens: 400, cache_write_tokens: 600, completion_tokens: 1000, reasoning_tokens: 240 })
    expect(row.cost_usd).toBeCloseTo(recomputed(row), 12)
  })

  it('/costs and /events', async () => {
    const costs = (await (await get('costs')).json()).data
    expect(costs.rows[0]).toMatchObject({ group: 'priced-model', cache_write_tokens: 600, reasoning_tokens: 240 })
    const events = (await (await get('events')).json()).data
    expect(events).toHaveLength(2)
    for (const e of events) {
      expect(e).toMatchObject({ cached_tokens: 200, cache_write_tokens: 300, reasoning_tokens: 120 })
      expect(e.cost_usd).toBeCloseTo(recomputed(e), 12)
    }
  })

  it('the CSV exports have the columns', async () => {
    const csv = (text: string) => {
      const [head, ...lines] = text.trim().split('\r\n')
      const columns = head.split(',')
      return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [columns[i], v])))
    }
    const [usage] = csv(await (await get('usage.csv')).text())
    expect(usage).toMatchObject({ cache_write_tokens: '600', reasoning_tokens: '240' })
    const events = csv(await (await get('events.csv')).text())
    expect(events.map((e) => [e.cache_write_tokens, e.reasoning_tokens])).toEqual([['300', '120'], ['300', '120']])
  })
})

describe('/metrics counts them too', () => {
  it('gateway_tokens_total has kinds cache_write and reasoning, as analytics has the columns', async () => {
    const up = await startUpstream((_req, res) => sendJson(res, 200, { ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'ok', refusal: null }, finish_reason: 'stop', logprobs: null }], usage: USAGE }))
    const { gw, cleanup } = await usageGateway(up.url)
    try {
      expect((await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...ADMIN }, body: JSON.stringify({ model: 'r', messages: [{ role: 'user', content: 'hi' }] }) })).status).toBe(200)
      const { value: metrics } = await waitFor(async () => { const text = await (await fetch(`${gw.url}/metrics`)).text(); return text.includes('kind="prompt"') ? text : undefined })
      expect(metrics).toContain('gateway_tokens_total{route="r",provider="a",kind="cache_write"} 300')
      expect(metrics).toContain('gateway_tokens_total{route="r",provider="a",kind="reasoning"} 120')
    } finally {
      await cleanup()
      await up.close()
    }
  })
})
