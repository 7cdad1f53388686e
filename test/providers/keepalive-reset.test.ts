/**
 * Every provider speaks its wire through the kit's pooled client, as provider.openai does
 * (test/providers/openai/keepalive-reset.test.ts holds the rule itself): a request on a kept-alive
 * connection that the upstream resets before answering goes again on a fresh one, counted, for
 * anthropic (a chat completion, translated, and a Messages API request, passed through), gemini,
 * mistral and Azure OpenAI.
 */
import type http from 'node:http'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { resetRetries, startResettingUpstream, type ResettingUpstream } from '../helpers/resetting-upstream.ts'
import { ANSWER, everyProviderConfig, wholeAnswerFor } from './every-provider.ts'

/** Each provider's answer, by the path it calls. */
function answer(res: http.ServerResponse, req: http.IncomingMessage): void {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(wholeAnswerFor(req.url ?? '')))
}

describe('every provider over a pooled keep-alive connection the upstream resets', () => {
  let upstream: ResettingUpstream
  let gw: RunningGateway

  beforeAll(async () => {
    upstream = await startResettingUpstream((res, _socket, req) => answer(res, req))
    gw = await startTestGateway(everyProviderConfig(upstream.origin))
  })
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })
  beforeEach(() => upstream.clear())

  const chat = (model: string) => async () => (await new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 }).chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] })).choices[0].message.content

  it.each([
    ['anthropic', 'claude', 'a chat completion', chat('claude')],
    ['anthropic', 'claude', 'a Messages API request', async () => {
      const reply = await new Anthropic({ baseURL: gw.url, apiKey: 'unused', maxRetries: 0 }).messages.create({ model: 'claude', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] })
      return reply.content[0].type === 'text' ? reply.content[0].text : undefined
    }],
    ['gemini', 'gemini', 'a chat completion', chat('gemini')],
    ['mistral', 'mistral', 'a chat completion', chat('mistral')],
    ['Azure OpenAI', 'azure', 'a chat completion', chat('azure')],
  ])('%s: sends %s again on a fresh connection when the reused one is reset before any answer', async (_provider, instance, _what, ask) => {
    // A socket of the pool, kept alive: its first request answered, its second reset.
    upstream.resetWhen = (n) => n === 2
    const before = await resetRetries(gw.url, instance)
    expect(await ask()).toBe(ANSWER)
    expect(await ask()).toBe(ANSWER)
    const [first, reset, again] = upstream.seen
    expect([first.answered, reset.answered, again.answered]).toEqual([true, false, true])
    expect(reset.socket).toBe(first.socket)
    expect(again.socket).not.toBe(first.socket)
    // Sent by the kit's own client, not an SDK's fetch.
    expect(upstream.seen.every((s) => s.userAgent === 'ai-gateway')).toBe(true)
    expect(await resetRetries(gw.url, instance)).toBe(before + 1)
  })
})
