import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { postJson, startTestGateway, type RunningGateway } from '../../helpers/gateway.ts'
import { expectOpenAISchema } from '../../helpers/openai-schema.ts'
import { credentialsRefused, sendJson } from '../../helpers/upstream.ts'
import { gatewayConfig, generatePath, generateResponse, googleError, sendGeminiStream, startGeminiUpstream, streamPath } from './gemini-upstream.ts'

const CHAT = { model: 'chat', messages: [{ role: 'user', content: 'Hi' }] }

/** Google's status names for the HTTP codes, as the API writes them in `error.status`. */
const CASES = [
  { upstream: 400, status: 'INVALID_ARGUMENT', message: 'Invalid JSON payload received. Unknown name "foo".', expected: 400, type: 'invalid_request_error', code: 'upstream_bad_request' },
  { upstream: 404, status: 'NOT_FOUND', message: 'models/gemini-9 is not found for API version v1beta.', expected: 404, type: 'not_found_error', code: 'upstream_not_found' },
  { upstream: 500, status: 'INTERNAL', message: 'An internal error has occurred.', expected: 502, type: 'upstream_error', code: 'upstream_error' },
  { upstream: 503, status: 'UNAVAILABLE', message: 'The model is overloaded. Please try again later.', expected: 503, type: 'service_unavailable', code: 'upstream_error' },
]

describe('gemini: upstream errors in OpenAI\'s error shape', () => {
  let upstream: Awaited<ReturnType<typeof startGeminiUpstream>>
  let gw: RunningGateway
  let client: OpenAI
  // A gateway per test: the failures each test provokes must not add up to open the target's circuit.
  beforeAll(async () => { upstream = await startGeminiUpstream() })
  afterAll(() => upstream.close())
  beforeEach(async () => {
    gw = await startTestGateway(gatewayConfig(upstream.url, { timeoutMs: 300 }))
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 })
  })
  afterEach(() => gw.close())

  // The gateway's own credentials refused: a 502 that says so, not the client's 401/403.
  it.each([
    { upstream: 401, status: 'UNAUTHENTICATED', message: 'Request had invalid authentication credentials.' },
    { upstream: 403, status: 'PERMISSION_DENIED', message: 'Method doesn\'t allow unregistered callers.' },
  ] as const)('a Gemini $upstream ($status) becomes a 502 upstream_auth_failed, keeping Google\'s message', async ({ upstream: code, status, message }) => {
    upstream.route(generatePath(), (_req, res) => sendJson(res, code, googleError(code, status, message)))
    const res = await postJson(`${gw.url}/v1/chat/completions`, CHAT)
    expect(res.status).toBe(502)
    expect(res.body.error).toEqual({ message: credentialsRefused('gemini', code, message), type: 'upstream_error', code: 'upstream_auth_failed', param: null })
  })

  it.each(CASES)('a Gemini $upstream ($status) becomes a $expected $type, keeping Google\'s message', async ({ upstream: code, status, message, expected, type, code: errorCode }) => {
    upstream.route(generatePath(), (_req, res) => sendJson(res, code, googleError(code, status, message)))
    const res = await postJson(`${gw.url}/v1/chat/completions`, CHAT)
    expect(res.status).toBe(expected)
    expect(res.body.error).toEqual({ message: `gemini: ${message}`, type, code: errorCode, param: null })
    expectOpenAISchema('ErrorResponse', res.body)
  })

  it('a 429 keeps the retry delay Google sends in RetryInfo as retry-after', async () => {
    upstream.route(generatePath(), (_req, res) => sendJson(res, 429, googleError(429, 'RESOURCE_EXHAUSTED', 'You exceeded your current quota.', [
      { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests' }] },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '16.5s' },
    ])))
    const err = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'Hi' }] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.RateLimitError)
    const rateLimited = err as InstanceType<typeof OpenAI.RateLimitError>
    expect(rateLimited.headers.get('retry-after')).toBe('17')
    expect(rateLimited.error).toMatchObject({ type: 'rate_limit_error', code: 'upstream_rate_limited', message: 'gemini: You exceeded your current quota.' })
  })

  it('a stream that fails before its first event answers with the error status, not a 200 stream', async () => {
    upstream.route(streamPath(), (_req, res) => sendJson(res, 401, googleError(401, 'UNAUTHENTICATED', 'API key not valid. Please pass a valid API key.')))
    const res = await postJson(`${gw.url}/v1/chat/completions`, { ...CHAT, stream: true })
    expect(res.status).toBe(502)
    expect(res.body.error.message).toBe(credentialsRefused('gemini', 401, 'API key not valid. Please pass a valid API key.'))
  })

  it('an upstream slower than timeout_ms is a 504', async () => {
    upstream.route(generatePath(), async (_req, res) => {
      await new Promise((resolve) => setTimeout(resolve, 1000))
      if (!res.destroyed) sendJson(res, 200, generateResponse([{ text: 'late' }]))
    })
    const started = Date.now()
    const res = await postJson(`${gw.url}/v1/chat/completions`, CHAT)
    expect(res.status).toBe(504)
    expect(res.body.error).toMatchObject({ type: 'timeout_error', code: 'upstream_timeout' })
    expect(Date.now() - started).toBeLessThan(900)
  })

  it('timeout_ms bounds the wait for a stream to start, not the stream itself', async () => {
    upstream.route(streamPath(), (_req, res) => sendGeminiStream(res, [
      { candidates: [{ content: { role: 'model', parts: [{ text: 'slow ' }] }, index: 0 }] },
      { candidates: [{ content: { role: 'model', parts: [{ text: 'but steady' }] }, finishReason: 'STOP', index: 0 }] },
    ], { delayMs: 400 }))
    const stream = await client.chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'Hi' }] })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
    expect(text).toBe('slow but steady')
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
      expect(res.body.error.message).toMatch(/^gemini: upstream unreachable/)
      expect(res.body.error.message).not.toContain('test-gemini-key')
    } finally {
      await dead.close()
    }
  })
})
