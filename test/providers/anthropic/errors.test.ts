import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import type { ErrorType } from '@anthropic-ai/sdk/resources/shared'
import { startTestGateway, postJson, type RunningGateway } from '../../helpers/gateway.ts'
import { expectOpenAISchema } from '../../helpers/openai-schema.ts'
import { credentialsRefused, startUpstream, type MockUpstream } from '../../helpers/upstream.ts'
import { message, MODEL, sendError, sendMessage, text } from './anthropic-upstream.ts'
import { API_KEY, startAnthropicFixture, type AnthropicFixture } from './setup.ts'

const ASK = { model: 'claude', messages: [{ role: 'user' as const, content: 'Hi' }] }

describe('anthropic provider: upstream errors in OpenAI\'s error shape', () => {
  let f: AnthropicFixture
  beforeAll(async () => { f = await startAnthropicFixture() })
  afterAll(() => f.close())

  it.each([
    [400, 'invalid_request_error', 400, 'upstream_bad_request'],
    [404, 'not_found_error', 404, 'upstream_not_found'],
    [413, 'request_too_large', 413, 'upstream_payload_too_large'],
    [500, 'api_error', 502, 'upstream_error'],
  ] as const)('an upstream %i %s becomes a %i %s that keeps the upstream message', async (status, type, expectedStatus, code) => {
    f.upstream.handle((_req, res) => sendError(res, status, type as ErrorType, `upstream says ${type}`))
    const res = await postJson(`${f.gateway.url}/v1/chat/completions`, ASK)
    expect(res.status).toBe(expectedStatus)
    expectOpenAISchema('ErrorResponse', res.body)
    expect(res.body.error.code).toBe(code)
    expect(res.body.error.message).toBe(`claude: upstream says ${type}`)
    expect(res.body.error.message).not.toContain(API_KEY)
  })

  it.each([
    [401, 'authentication_error'],
    [403, 'permission_error'],
  ] as const)('an upstream %i %s (the gateway\'s own key refused) becomes a 502 upstream_auth_failed that keeps the upstream message', async (status, type) => {
    f.upstream.handle((_req, res) => sendError(res, status, type as ErrorType, `upstream says ${type}`))
    const res = await postJson(`${f.gateway.url}/v1/chat/completions`, ASK)
    expect(res.status).toBe(502)
    expectOpenAISchema('ErrorResponse', res.body)
    expect(res.body.error).toMatchObject({ type: 'upstream_error', code: 'upstream_auth_failed', message: credentialsRefused('claude', status, `upstream says ${type}`) })
  })

  it('a 429 keeps its retry-after header for the client', async () => {
    f.upstream.handle((_req, res) => sendError(res, 429, 'rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit', { 'retry-after': '7' }))
    const err = await f.client.chat.completions.create(ASK).catch((e) => e)
    expect(err).toBeInstanceOf(OpenAI.RateLimitError)
    expect(err.status).toBe(429)
    expect(err.headers.get('retry-after')).toBe('7')
    expect(err.error).toMatchObject({ type: 'rate_limit_error', code: 'upstream_rate_limited' })
    expect(err.message).toContain('per-minute rate limit')
  })

  it('a 529 overloaded becomes a retryable 503', async () => {
    f.upstream.handle((_req, res) => sendError(res, 529, 'overloaded_error', 'Overloaded'))
    const err = await f.client.chat.completions.create(ASK).catch((e) => e)
    expect(err.status).toBe(503)
    expect(err.error).toMatchObject({ code: 'upstream_overloaded', message: 'claude: Overloaded' })
  })

  it('an error on a streaming request, before any event, is an HTTP error status, not a broken stream', async () => {
    f.upstream.handle((_req, res) => sendError(res, 429, 'rate_limit_error', 'slow down', { 'retry-after': '3' }))
    const err = await f.client.chat.completions.create({ ...ASK, stream: true }).catch((e) => e)
    expect(err.status).toBe(429)
    expect(err.headers.get('retry-after')).toBe('3')
  })

  it('an upstream slower than the route timeout is a 504', async () => {
    f.upstream.handle(async (_req, res) => {
      await new Promise((r) => setTimeout(r, 1500))
      if (!res.destroyed) sendMessage(res, message([text('too late')]))
    })
    const started = performance.now()
    const err = await f.client.chat.completions.create({ ...ASK, model: 'claude-quick' }).catch((e) => e)
    expect(err.status).toBe(504)
    expect(err.error).toMatchObject({ code: 'upstream_timeout' })
    expect(performance.now() - started).toBeLessThan(1400)
  })
})

describe('anthropic provider: unreachable and slow upstreams', () => {
  let gateway: RunningGateway
  let slow: MockUpstream
  let client: OpenAI
  beforeAll(async () => {
    // A port that was free a moment ago: nothing listens there, so the connection is refused.
    const probe = http.createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const deadPort = (probe.address() as AddressInfo).port
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    slow = await startUpstream(async (_req, res) => {
      await new Promise((r) => setTimeout(r, 1500))
      if (!res.destroyed) sendMessage(res, message([text('too late')]))
    })
    gateway = await startTestGateway(`
version: 1
providers:
  dead: { plugin: anthropic, api_key: ${API_KEY}, base_url: 'http://127.0.0.1:${deadPort}' }
  slow: { plugin: anthropic, api_key: ${API_KEY}, base_url: '${slow.url}', timeout_ms: 200 }
routes:
  - model: dead
    targets: [ { provider: dead, model: ${MODEL} } ]
  - model: slow
    targets: [ { provider: slow, model: ${MODEL} } ]
`)
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 })
  })
  afterAll(async () => {
    await gateway.close()
    await slow.close()
  })

  it('a refused connection is a 502', async () => {
    const err = await client.chat.completions.create({ ...ASK, model: 'dead' }).catch((e) => e)
    expect(err.status).toBe(502)
    expect(err.error).toMatchObject({ code: 'upstream_unreachable' })
  })

  it('the provider\'s own timeout_ms is a 504', async () => {
    const err = await client.chat.completions.create({ ...ASK, model: 'slow' }).catch((e) => e)
    expect(err.status).toBe(504)
    expect(err.error).toMatchObject({ code: 'upstream_timeout' })
  })
})
