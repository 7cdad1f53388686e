/**
 * provider.anthropic speaks the wire through the kit's pooled client, as provider.openai does: a
 * request on a kept-alive connection that the upstream resets before answering goes again on a
 * fresh one, counted, whether it came in as a chat completion (translated) or on Anthropic's own
 * Messages API (passed through).
 */
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../../helpers/gateway.ts'
import { resetRetries, startResettingUpstream, type ResettingUpstream } from '../../helpers/resetting-upstream.ts'
import { message, MODEL, text } from './anthropic-upstream.ts'

describe('provider.anthropic over a pooled keep-alive connection the upstream resets', () => {
  let upstream: ResettingUpstream
  let gw: RunningGateway

  beforeAll(async () => {
    upstream = await startResettingUpstream((res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(message([text('Hello from Claude.')]))))
    gw = await startTestGateway(`
version: 1
providers:
  claude: { plugin: anthropic, api_key: sk-ant-test, base_url: "${upstream.origin}" }
routes:
  - { model: claude, targets: [ { provider: claude, model: ${MODEL} } ] }
`)
  })
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })
  beforeEach(() => upstream.clear())

  it.each([
    ['a chat completion', async () => (await new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 }).chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'hi' }] })).choices[0].message.content],
    ['a Messages API request', async () => {
      const answer = await new Anthropic({ baseURL: gw.url, apiKey: 'unused', maxRetries: 0 }).messages.create({ model: 'claude', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] })
      return answer.content[0].type === 'text' ? answer.content[0].text : undefined
    }],
  ])('sends %s again on a fresh connection when the reused one is reset before any answer', async (_name, ask) => {
    // A socket of the pool, kept alive: its first request answered, its second reset.
    upstream.resetWhen = (n) => n === 2
    const before = await resetRetries(gw.url, 'claude')
    expect(await ask()).toBe('Hello from Claude.')
    expect(await ask()).toBe('Hello from Claude.')
    const [first, reset, again] = upstream.seen
    expect([first.answered, reset.answered, again.answered]).toEqual([true, false, true])
    expect(reset.socket).toBe(first.socket)
    expect(again.socket).not.toBe(first.socket)
    // Sent by the kit's own client, not the SDK's fetch.
    expect(upstream.seen.every((s) => s.userAgent === 'ai-gateway')).toBe(true)
    expect(await resetRetries(gw.url, 'claude')).toBe(before + 1)
  })
})
