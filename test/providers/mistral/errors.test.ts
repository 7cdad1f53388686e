import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { postJson, startTestGateway, type RunningGateway } from '../../helpers/gateway.ts'
import { expectOpenAISchema } from '../../helpers/openai-schema.ts'
import { credentialsRefused, sendJson } from '../../helpers/upstream.ts'
import { CHAT_PATH, EMBEDDINGS_PATH, completion, gatewayConfig, mistralError, sendMistralStream, startMistralUpstream, streamChunk } from './mistral-upstream.ts'

const CHAT = { model: 'chat', messages: [{ role: 'user', content: 'Hi' }] }

/** Bodies in the shapes Mistral answers with. */
const CASES = [
  { upstream: 400, body: mistralError('Tool call id was call_1 but must be a-z, A-Z, 0-9, with a length of 9.', 'invalid_request_message_order', '3230'), message: 'Tool call id was call_1 but must be a-z, A-Z, 0-9, with a length of 9.', expected: 400, type: 'invalid_request_error', code: 'upstream_bad_request' },
  { upstream: 404, body: mistralError('Invalid model: mistral-unknown', 'invalid_model', '1500'), message: 'Invalid model: mistral-unknown', expected: 404, type: 'not_found_error', code: 'upstream_not_found' },
  { upstream: 500, body: mistralError('Internal server error', 'internal_server_error'), message: 'Internal server error', expected: 502, type: 'upstream_error', code: 'upstream_error' },
  { upstream: 503, body: mistralError('Service unavailable.', 'service_unavailable'), message: 'Service unavailable.', expected: 503, type: 'service_unavailable', code: 'upstream_error' },
]

describe('mistral: upstream errors in OpenAI\'s error shape', () => {
  let upstream: Awaited<ReturnType<typeof startMistralUpstream>>
  let gw: RunningGateway
  let client: OpenAI
  // A gateway per test: the failures each test provokes must not add up to open the target's circuit.
  // No test but the timeout ones depends on how long a call takes: the first call of a process
  // pays for the SDK's first use (1.5 s at load 14), which a short timeout_ms turned into a 504.
  beforeAll(async () => {
    upstream = await startMistralUpstream()
    // The first gateway of the process loads the gateway's modules and the SDK: 10 s at load 14,
    // over 30 s at load 20. Paid once here, with room, not in the first test's beforeEach.
    await (await startTestGateway(gatewayConfig(upstream.url))).close()
  }, 120_000)
  afterAll(() => upstream.close())
  beforeEach(async () => {
    gw = await startTestGateway(gatewayConfig(upstream.url, { timeoutMs: 60_000 }))
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 })
  })
  afterEach(() => gw.close())

  // The gateway's own credentials refused: a 502 that says so, not the client's 401/403.
  it.each([
    { upstream: 401, body: { detail: 'Unauthorized' }, message: 'Unauthorized' },
    { upstream: 403, body: { message: 'Forbidden: your workspace cannot use this model', request_id: 'req-1' }, message: 'Forbidden: your workspace cannot use this model' },
  ] as const)('a Mistral $upstream becomes a 502 upstream_auth_failed, keeping Mistral\'s message', async ({ upstream: status, body, message }) => {
    upstream.route(CHAT_PATH, (_req, res) => sendJson(res, status, body))
    const res = await postJson(`${gw.url}/v1/chat/completions`, CHAT)
    expect(res.status).toBe(502)
    expect(res.body.error).toEqual({ message: credentialsRefused('mistral', status, message), type: 'upstream_error', code: 'upstream_auth_failed', param: null })
  })

  it.each(CASES)('a Mistral $upstream becomes a $expected $type, keeping Mistral\'s message', async ({ upstream: status, body, message, expected, type, code }) => {
    upstream.route(CHAT_PATH, (_req, res) => sendJson(res, status, body))
    const res = await postJson(`${gw.url}/v1/chat/completions`, CHAT)
    expect(res.status).toBe(expected)
    expect(res.body.error).toEqual({ message: `mistral: ${message}`, type, code, param: null })
    expectOpenAISchema('ErrorResponse', res.body)
  })

  it('a 422 validation error names the field at fault as param', async () => {
    upstream.route(CHAT_PATH, (_req, res) => sendJson(res, 422, mistralError(
      { detail: [{ type: 'less_than_equal', loc: ['body', 'temperature'], msg: 'Input should be less than or equal to 1.5', input: 1.9 }] },
      'invalid_request_error',
    )))
    const res = await postJson(`${gw.url}/v1/chat/completions`, { ...CHAT, temperature: 1.9 })
    expect(res.status).toBe(422)
    expect(res.body.error).toMatchObject({ message: 'mistral: temperature: Input should be less than or equal to 1.5', param: 'temperature', type: 'invalid_request_error' })
  })

  it('a 429 keeps retry-after', async () => {
    upstream.route(CHAT_PATH, (_req, res) => sendJson(res, 429, mistralError('Rate limit exceeded', 'rate_limited', '1300'), { 'retry-after': '7' }))
    const err = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'Hi' }] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.RateLimitError)
    const rateLimited = err as InstanceType<typeof OpenAI.RateLimitError>
    expect(rateLimited.headers.get('retry-after')).toBe('7')
    expect(rateLimited.error).toMatchObject({ type: 'rate_limit_error', code: 'upstream_rate_limited', message: 'mistral: Rate limit exceeded' })
  })

  it('embeddings errors are mapped the same way', async () => {
    upstream.route(EMBEDDINGS_PATH, (_req, res) => sendJson(res, 401, { detail: 'Unauthorized' }))
    const res = await postJson(`${gw.url}/v1/embeddings`, { model: 'embed', input: 'x' })
    expect(res.status).toBe(502)
    expect(res.body.error.message).toBe(credentialsRefused('mistral', 401, 'Unauthorized'))
  })

  it('a stream that fails before its first chunk answers with the error status', async () => {
    upstream.route(CHAT_PATH, (_req, res) => sendJson(res, 503, mistralError('Service unavailable.', 'service_unavailable')))
    const res = await postJson(`${gw.url}/v1/chat/completions`, { ...CHAT, stream: true })
    expect(res.status).toBe(503)
    expect(res.body.error.message).toBe('mistral: Service unavailable.')
  })

  /** A gateway whose Mistral provider has `timeoutMs`, its chat path (streamed) used once first: the SDK's first use is not what a timeout test times. */
  async function gatewayTimingOut(timeoutMs: number): Promise<RunningGateway> {
    const timed = await startTestGateway(gatewayConfig(upstream.url, { timeoutMs }))
    upstream.route(CHAT_PATH, (_req, res) => sendMistralStream(res, [streamChunk({ role: 'assistant', content: 'warm' }, { finishReason: 'stop' })]))
    // The first call may itself time out on a loaded machine; it is only there to warm up.
    await postJson(`${timed.url}/v1/chat/completions`, { ...CHAT, stream: true })
    return timed
  }

  it('an upstream slower than timeout_ms is a 504', async () => {
    const timed = await gatewayTimingOut(300)
    // The upstream answers after 3 s (or never, once the gateway hangs up): a 504 can only be the 300 ms timeout.
    upstream.route(CHAT_PATH, async (_req, res) => {
      await new Promise((resolve) => { res.once('close', resolve); setTimeout(resolve, 3000).unref() })
      if (!res.destroyed) sendJson(res, 200, completion({ content: 'late' }))
    })
    try {
      const res = await postJson(`${timed.url}/v1/chat/completions`, CHAT)
      expect(res.status).toBe(504)
      expect(res.body.error).toMatchObject({ type: 'timeout_error', code: 'upstream_timeout' })
    } finally {
      await timed.close()
    }
  })

  it('timeout_ms bounds the wait for a stream to start, not the stream itself', async () => {
    // Each gap between chunks is longer than timeout_ms; the stream starts well within it (a warm call: ~130 ms at load 14).
    const timed = await gatewayTimingOut(800)
    upstream.route(CHAT_PATH, (_req, res) => sendMistralStream(res, [
      streamChunk({ role: 'assistant', content: 'slow ' }),
      streamChunk({ content: 'but steady' }, { finishReason: 'stop' }),
    ], { delayMs: 1000 }))
    try {
      const timedClient = new OpenAI({ baseURL: `${timed.url}/v1`, apiKey: 'unused', maxRetries: 0 })
      const stream = await timedClient.chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'Hi' }] })
      let text = ''
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
      expect(text).toBe('slow but steady')
    } finally {
      await timed.close()
    }
  })

  it('an answer the SDK cannot read is a 502, not a crash', async () => {
    upstream.route(CHAT_PATH, (_req, res) => sendJson(res, 200, { unexpected: true }))
    const res = await postJson(`${gw.url}/v1/chat/completions`, CHAT)
    expect(res.status).toBe(502)
    expect(res.body.error.message).toMatch(/^mistral: unreadable answer/)
  })

  it('an upstream that refuses connections is a 502', async () => {
    const closed = http.createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const { port } = closed.address() as AddressInfo
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    const dead = await startTestGateway(gatewayConfig(`http://127.0.0.1:${port}`))
    try {
      const res = await postJson(`${dead.url}/v1/chat/completions`, CHAT)
      expect(res.status).toBe(502)
      expect(res.body.error).toMatchObject({ type: 'upstream_error', code: 'upstream_unreachable' })
      expect(res.body.error.message).toMatch(/^mistral: upstream unreachable/)
      expect(res.body.error.message).not.toContain('test-mistral-key')
    } finally {
      await dead.close()
    }
  })
})
