/**
 * GatewayCalls.native as a third party's service uses it: a provider's own wire call through the
 * route's targets, those whose provider lacks the wire skipped when the caller gives no stand-in.
 */
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postJson, startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { startUpstream, type MockUpstream } from '../helpers/upstream.ts'
import { MODEL, sendTokenCount } from '../providers/anthropic/anthropic-upstream.ts'
import { ANTHROPIC_COUNT_TOKENS } from '../../plugins/contracts/wires.ts'

const CALLER = path.resolve('test/fixtures/plugins/native-caller')

describe('GatewayCalls.native without a stand-in', () => {
  let upstream: MockUpstream
  let gateway: RunningGateway
  const call = (model: string) => postJson(`${gateway.url}/api/v1/native-caller/call`, {
    wire: ANTHROPIC_COUNT_TOKENS, model, body: { model, messages: [{ role: 'user', content: 'hi' }] },
  })
  beforeAll(async () => {
    upstream = await startUpstream((_req, res) => sendTokenCount(res, 9))
    gateway = await startTestGateway(`
version: 1
plugins: [ ${CALLER} ]
services:
  native-caller: {}
providers:
  mock: { plugin: mock }
  claude: { plugin: anthropic, api_key: sk-ant-native-0123456789, base_url: '${upstream.url}' }
routes:
  - model: mock-first
    targets: [ { provider: mock }, { provider: claude, model: ${MODEL} } ]
  - model: mock-only
    targets: [ { provider: mock } ]
`)
  })
  afterAll(async () => {
    await gateway.close()
    await upstream.close()
  })

  it('skips a target whose provider lacks the wire and calls the next that speaks it', async () => {
    const res = await call('mock-first')
    expect(res.status).toBe(200)
    expect(res.body.data).toEqual({ provider: 'claude', model: MODEL, answer: { input_tokens: 9 } })
    expect(upstream.requests.at(-1)!.body).toEqual({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] })
  })

  it('refuses a route none of whose targets speaks the wire with a 400 naming it', async () => {
    const calls = upstream.requests.length
    const res = await call('mock-only')
    expect(res.status).toBe(400)
    expect(res.body.error).toBe('wire_unsupported')
    expect(res.body.message).toContain(`No target of route 'mock-only' speaks ${ANTHROPIC_COUNT_TOKENS}.`)
    expect(upstream.requests.length).toBe(calls)
  })
})
