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
import { pricedCompletion } from './helpers.ts'

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
