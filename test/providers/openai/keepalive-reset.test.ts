/**
 * The kit's pooled client against an upstream that resets a kept-alive connection: a request
 * sent on a reused socket that the upstream resets before answering is sent once more on a fresh
 * connection (nothing had reached the client), and counted; a second reset is the client's 502,
 * and so is a reset once the answer has begun, or long after the request was sent (the upstream
 * had the request: never sent twice).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { startTestGateway, type RunningGateway } from '../../helpers/gateway.ts'
import { resetRetries, startResettingUpstream, type ResettingUpstream } from '../../helpers/resetting-upstream.ts'
import { STALE_SOCKET_WINDOW_MS } from '../../../plugins/providers/kit/wire-client.ts'

const COMPLETION = {
  id: 'chatcmpl-1', object: 'chat.completion', created: 1700000000, model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello.', refusal: null }, finish_reason: 'stop', logprobs: null }],
  usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
}

describe('provider.openai over a pooled keep-alive connection the upstream resets', () => {
  let upstream: ResettingUpstream
  let gw: RunningGateway
  let client: OpenAI
  /** The upstream sends its answer's headers and part of its body, then resets. */
  let cutMidBody = false
  /** The upstream works on the request for a while, then resets without answering. */
  let resetLate = false

  beforeAll(async () => {
    upstream = await startResettingUpstream((res, socket) => {
      if (resetLate) {
        setTimeout(() => socket.resetAndDestroy(), STALE_SOCKET_WINDOW_MS + 200)
        return
      }
      if (cutMidBody) {
        const body = JSON.stringify(COMPLETION)
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) }).write(body.slice(0, 40))
        setTimeout(() => socket.resetAndDestroy(), 50)
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(COMPLETION))
    })
    gw = await startTestGateway(`
version: 1
providers:
  up: { plugin: openai, api_key: sk-test, base_url: "${upstream.origin}/v1" }
routes:
  - { model: chat, targets: [ { provider: up, model: gpt-4o-mini } ] }
`)
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 })
  })
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })
  beforeEach(() => {
    upstream.clear()
    cutMidBody = false
    resetLate = false
  })

  const retries = (): Promise<number> => resetRetries(gw.url, 'up')
  const seen = (): ResettingUpstream['seen'] => upstream.seen
  /** A chat completion that fails: the client's 502, as the OpenAI SDK raises it. */
  const badGateway = async (): Promise<InstanceType<typeof OpenAI.APIError>> => {
    const err = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.APIError)
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502)
    return err as InstanceType<typeof OpenAI.APIError>
  }

  it('sends the request again on a fresh connection when the reused one is reset before any answer', async () => {
    upstream.resetWhen = (n) => n === 2
    const before = await retries()
    const first = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] })
    const second = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'again' }] })

    expect(first.choices[0].message.content).toBe('Hello.')
    expect(second.choices[0].message.content).toBe('Hello.')
    // The second request went out on the first request's (kept-alive) socket, was reset, and went again on a new one.
    expect(seen().map((s) => s.answered)).toEqual([true, false, true])
    expect(seen()[1].socket).toBe(seen()[0].socket)
    expect(seen()[2].socket).not.toBe(seen()[0].socket)
    // Sent by the kit's own client, not the SDK's fetch.
    expect(seen().every((s) => s.userAgent === 'ai-gateway')).toBe(true)
    expect(await retries()).toBe(before + 1)
  })

  it('retries once only: a second reset is the client\'s 502 naming the reset', async () => {
    upstream.resetWhen = () => true
    const before = await retries()
    const err = await badGateway()
    expect(err.message).toContain('ECONNRESET')
    expect(seen().filter((s) => !s.answered)).toHaveLength(2)
    expect(await retries()).toBe(before + 1)
  })

  it('does not send again when the reset came long after the request: the upstream had it, and may have billed it', async () => {
    resetLate = true
    const before = await retries()
    const err = await badGateway()
    expect(seen()).toHaveLength(1)
    expect(await retries()).toBe(before)
  })

  it('does not send again once the answer has started: a reset mid-body is the client\'s 502', async () => {
    cutMidBody = true
    const before = await retries()
    const err = await badGateway()
    expect(err.message).toContain('ECONNRESET')
    // The upstream had the request and was answering it: sent once only, nothing counted as a retry.
    expect(seen()).toHaveLength(1)
    expect(await retries()).toBe(before)
  })
})
