/**
 * A model the catalog and gateway.yaml do not price costs 0: its spend is missing from analytics
 * and /metrics, and budgets never count it. That used to be silent; the gateway now says so once
 * per model, naming it and the `pricing:` line that fixes it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type RunningGateway } from '../../core/gateway.ts'
import { capturingLogger } from '../helpers/logs.ts'
import { postJson } from '../helpers/gateway.ts'
import { sendJson, startUpstream, type MockUpstream } from '../helpers/upstream.ts'
import { pricedCompletion, storedEvents, usageGateway, user } from './helpers.ts'

describe('models without a price', () => {
  let up: MockUpstream
  let gw: RunningGateway
  const { logger, lines } = capturingLogger('info')
  beforeAll(async () => {
    up = await startUpstream((req, res) => sendJson(res, 200, { ...pricedCompletion, model: req.body.model }))
    gw = await startGateway({
      source: { text: `version: 1
pricing:
  priced-model: { input: 2, output: 8 }
providers:
  a: { plugin: openai, api_key: sk-test, base_url: "${up.url}/v1" }
routes:
  - { model: local, targets: [ { provider: a, model: my-local-llm } ] }
  - { model: priced, targets: [ { provider: a, model: priced-model } ] }
`, label: 'test.yaml', dir: process.cwd() },
      port: 0, host: '127.0.0.1', logger, watch: false,
    })
  })
  afterAll(async () => { await gw.close(); await up.close() })

  const ask = (model: string) => postJson(`${gw.url}/v1/chat/completions`, { model, messages: [{ role: 'user', content: 'x' }] })

  it('are named once in a warning that says their calls cost 0 and how to price them', async () => {
    for (let i = 0; i < 3; i++) expect((await ask('local')).status).toBe(200)
    expect((await ask('priced')).status).toBe(200)
    await new Promise((r) => setTimeout(r, 100))
    const told = lines.filter((l) => l.level === 'warn' && typeof l.msg === 'string' && l.msg.includes('has no price'))
    expect(told.map((l) => l.model)).toEqual(['my-local-llm'])
    expect(told[0].msg).toContain('pricing: { my-local-llm: { input: <USD per 1M>, output: <USD per 1M> } }')
  })
})

/**
 * In analytics, such calls used to add $0 to the cost with nothing to tell them from free ones: an
 * admin read a total that left them out. Each event now records whether its model had a price, and
 * /usage, /costs and /events say how many requests (and which models) the cost leaves out.
 */
describe('analytics of models without a price', () => {
  let up: MockUpstream
  let gw: RunningGateway
  let cleanup: () => Promise<void>
  const ROOT = user('root', 'admin')
  const get = async (path: string) => {
    const res = await fetch(`${gw.url}/api/v1/analytics/${path}`, { headers: ROOT })
    expect(res.status).toBe(200)
    return res.json()
  }
  beforeAll(async () => {
    up = await startUpstream((req, res) => (req.body.messages[0].content === 'fail'
      ? sendJson(res, 500, { error: { message: 'boom' } })
      : sendJson(res, 200, { ...pricedCompletion, model: req.body.model })))
    ;({ gw, cleanup } = await usageGateway(up.url, {
      extra: '  - { model: local, targets: [ { provider: a, model: my-local-llm } ] }\n  - { model: other, targets: [ { provider: a, model: other-llm } ] }\n',
    }))
    const ask = (model: string, content = 'x') => postJson(`${gw.url}/v1/chat/completions`, { model, messages: [{ role: 'user', content }] }, ROOT)
    for (const model of ['r', 'local', 'local', 'other']) expect((await ask(model)).status).toBe(200)
    // A failed call spent no tokens: its 0 is a fact, not a missing price.
    expect((await ask('local', 'fail')).status).toBe(502)
    await storedEvents(gw, 5)
  })
  afterAll(async () => { await cleanup(); await up.close() })

  it('/usage counts the requests whose cost is not known and names their models, in totals and per group', async () => {
    const [total] = (await get('usage')).data
    expect(total).toMatchObject({ requests: 5, unpriced_requests: 3, unpriced_models: ['my-local-llm', 'other-llm'] })
    expect(total.cost_usd).toBeGreaterThan(0)
    const byModel = (await get('usage?group_by=model')).data
    expect(Object.fromEntries(byModel.map((r: { group: string; unpriced_requests: number; unpriced_models: string[] }) => [r.group, [r.unpriced_requests, r.unpriced_models]]))).toEqual({
      'priced-model': [0, []], 'my-local-llm': [2, ['my-local-llm']], 'other-llm': [1, ['other-llm']],
    })
  })

  it('/costs says its total leaves requests out, and which models lack a price', async () => {
    const costs = (await get('costs')).data
    expect(costs).toMatchObject({ unpriced_requests: 3, unpriced_models: ['my-local-llm', 'other-llm'] })
    expect(costs.rows.find((r: { group: string }) => r.group === 'my-local-llm')).toMatchObject({ cost_usd: 0, unpriced_requests: 2 })
  })

  it('/events marks each unpriced request, and not a failed one that spent nothing', async () => {
    const events = (await get('events')).data as { model: string; status: number; unpriced: boolean }[]
    expect(events.map((e) => [e.model, e.status, e.unpriced])).toEqual([
      ['priced-model', 200, false], ['my-local-llm', 200, true], ['my-local-llm', 200, true], ['other-llm', 200, true], ['my-local-llm', 502, false],
    ])
  })
})
