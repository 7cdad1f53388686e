/**
 * Anthropic's error types where its clients switch on them: a body over the gateway's limit is
 * `request_too_large` (Anthropic's 413), and an upstream that is overloaded (503) on a translated
 * route is `overloaded_error`, which Claude Code reports and retries as Anthropic's own overload.
 * OpenAI's clients see the same failures as before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { sendJson, startUpstream, type MockUpstream } from '../helpers/upstream.ts'

/** What the Anthropic SDK raised for a request, and the body it parsed. */
async function failure(request: Promise<unknown>): Promise<{ error: InstanceType<typeof Anthropic.APIError>; type: unknown }> {
  const error = await request.then(() => expect.unreachable('it should fail'), (e: unknown) => e)
  expect(error).toBeInstanceOf(Anthropic.APIError)
  const apiError = error as InstanceType<typeof Anthropic.APIError>
  return { error: apiError, type: (apiError.error as { error?: { type?: string } }).error?.type }
}

describe('Anthropic error types on /v1/messages', () => {
  let busy: MockUpstream
  let gateway: RunningGateway
  let claude: Anthropic
  let client: OpenAI
  beforeAll(async () => {
    // As OpenAI answers when it sheds load.
    busy = await startUpstream((_req, res) => sendJson(res, 503, { error: { message: 'The engine is currently overloaded, please try again later', type: 'server_error', param: null, code: null } }))
    gateway = await startTestGateway(`
version: 1
server: { body_limit: 2kb }
providers:
  busy: { plugin: openai, api_key: sk-openai-upstream-key, base_url: '${busy.url}/v1' }
  echo: { plugin: mock }
routes:
  - model: busy
    targets: [ { provider: busy, model: gpt-4o-mini } ]
  - model: echo
    targets: [ { provider: echo } ]
`)
    claude = new Anthropic({ baseURL: gateway.url, apiKey: 'unused', maxRetries: 0 })
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 })
  })
  afterAll(async () => {
    await gateway.close()
    await busy.close()
  })

  it('answers a body over server.body_limit with request_too_large', async () => {
    const { error, type } = await failure(claude.messages.create({ model: 'echo', max_tokens: 10, messages: [{ role: 'user', content: 'x'.repeat(4096) }] }))
    expect(error).toBeInstanceOf(Anthropic.ContentTooLargeError)
    expect(type).toBe('request_too_large')
  })

  it('answers an upstream 503 on a translated route with overloaded_error', async () => {
    const { error, type } = await failure(claude.messages.create({ model: 'busy', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] }))
    expect(error.status).toBe(503)
    expect(type).toBe('overloaded_error')
    expect(error.message).toContain('overloaded')
  })

  it('does so for a stream that fails before its first event', async () => {
    const stream = claude.messages.stream({ model: 'busy', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] })
    const { type } = await failure(stream.finalMessage())
    expect(type).toBe('overloaded_error')
  })

  it('leaves what OpenAI clients see as it was', async () => {
    const err = await client.chat.completions.create({ model: 'busy', messages: [{ role: 'user', content: 'Hi' }] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.InternalServerError)
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(503)
    expect((err as InstanceType<typeof OpenAI.APIError>).type).not.toBe('overloaded_error')
    const tooLarge = await client.chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'x'.repeat(4096) }] }).catch((e: unknown) => e)
    expect((tooLarge as InstanceType<typeof OpenAI.APIError>).status).toBe(413)
    expect((tooLarge as InstanceType<typeof OpenAI.APIError>).type).toBe('invalid_request_error')
  })
})
