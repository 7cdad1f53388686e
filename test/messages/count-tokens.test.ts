import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Anthropic from '@anthropic-ai/sdk'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { startUpstream, type MockUpstream } from '../helpers/upstream.ts'
import { MODEL, sendError, sendTokenCount } from '../providers/anthropic/anthropic-upstream.ts'
import { WEATHER_TOOL } from './helpers.ts'

const ADMIN_KEY = 'sk-gw-count-admin-0123456789'
const VIEWER_KEY = 'sk-gw-count-viewer-0123456789'
const NARROW_KEY = 'sk-gw-count-narrow-0123456789'

describe('POST /v1/messages/count_tokens: what Claude Code asks before it sends', () => {
  let upstream: MockUpstream
  let gateway: RunningGateway
  let client: Anthropic
  const clientWith = (apiKey: string) => new Anthropic({ baseURL: gateway.url, apiKey, maxRetries: 0 })
  beforeAll(async () => {
    upstream = await startUpstream()
    gateway = await startTestGateway(`
version: 1
providers:
  mock: { plugin: mock }
  claude: { plugin: anthropic, api_key: sk-ant-upstream-key, base_url: '${upstream.url}', betas: [operator-beta-1] }
routes:
  - model: mock
    targets: [ { provider: mock } ]
  - model: claude
    targets: [ { provider: claude, model: ${MODEL} } ]
roles:
  viewer: { permissions: [view_analytics], scope: own_data }
auth:
  strategies:
    - plugin: api-key
      keys:
        - { key: ${ADMIN_KEY}, user: admin, role: admin }
        - { key: ${VIEWER_KEY}, user: viewer, role: viewer }
        - { key: ${NARROW_KEY}, user: narrow, role: user, allowed_models: [mock] }
`)
    client = clientWith(ADMIN_KEY)
  })
  afterAll(async () => {
    await gateway.close()
    await upstream.close()
  })

  describe('on an anthropic route', () => {
    it('passes the request through to Anthropic\'s count_tokens and answers its count', async () => {
      upstream.handle((_req, res) => sendTokenCount(res, 1234))
      const request = {
        model: 'claude', system: 'Be brief.', tools: [WEATHER_TOOL], thinking: { type: 'enabled' as const, budget_tokens: 2048 },
        messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'Weather in Paris?', cache_control: { type: 'ephemeral' as const } }] }],
      }
      const { data, response } = await client.messages.countTokens(request).withResponse()
      expect(data).toEqual({ input_tokens: 1234 })
      expect(response.headers.get('x-gateway-provider')).toBe('claude')
      expect(response.headers.get('x-gateway-warning')).toBeNull()
      const sent = upstream.requests.at(-1)!
      expect(sent.method).toBe('POST')
      expect(sent.path).toBe('/v1/messages/count_tokens')
      expect(sent.headers.authorization).toBe('Bearer sk-ant-upstream-key')
      expect(sent.body).toEqual({ ...request, model: MODEL })
    })

    it('forwards the client\'s anthropic-version and anthropic-beta, with the provider\'s betas', async () => {
      upstream.handle((_req, res) => sendTokenCount(res, 7))
      await client.messages.countTokens(
        { model: 'claude', messages: [{ role: 'user', content: 'hi' }] },
        { headers: { 'anthropic-version': '2023-06-01', 'anthropic-beta': 'token-counting-2024-11-01,context-1m-2025-08-07' } },
      )
      const sent = upstream.requests.at(-1)!
      expect(sent.headers['anthropic-version']).toBe('2023-06-01')
      expect(sent.headers['anthropic-beta']).toBe('operator-beta-1,token-counting-2024-11-01,context-1m-2025-08-07')
    })

    it('passes Anthropic\'s 400 on as the SDK\'s BadRequestError', async () => {
      upstream.handle((_req, res) => sendError(res, 400, 'invalid_request_error', 'messages: roles must alternate'))
      const err = await client.messages.countTokens({ model: 'claude', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e)
      expect(err).toBeInstanceOf(Anthropic.BadRequestError)
      expect(err.type).toBe('invalid_request_error')
      expect(err.apiMessage).toBe('claude: messages: roles must alternate')
    })
  })

  it('never shows the provider\'s key in an upstream error\'s message', async () => {
    upstream.handle((_req, res) => sendError(res, 400, 'invalid_request_error', 'bad request for key sk-ant-upstream-key'))
    const err = await client.messages.countTokens({ model: 'claude', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e)
    expect(err).toBeInstanceOf(Anthropic.BadRequestError)
    expect(err.apiMessage).toBe('claude: bad request for key [redacted]')
  })

  describe('on a route whose target cannot count natively', () => {
    it('answers the gateway\'s own count of the prompt, and says it is an estimate', async () => {
      const calls = upstream.requests.length
      const short = await client.messages.countTokens({ model: 'mock', messages: [{ role: 'user', content: 'hello' }] }).withResponse()
      expect(short.data.input_tokens).toBeGreaterThan(0)
      expect(short.response.headers.get('x-gateway-warning')).toContain("input_tokens is the gateway's estimate")
      // System prompt, tools and history all count.
      const long = await client.messages.countTokens({
        model: 'mock', system: 'You are a meteorologist who answers in one sentence.', tools: [WEATHER_TOOL],
        messages: [
          { role: 'user', content: 'hello' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '21°C and sunny' }] },
        ],
      })
      expect(long.input_tokens).toBeGreaterThan(short.data.input_tokens + 30)
      expect(upstream.requests.length).toBe(calls)
    })

    it('refuses a request without messages with a 400 in Anthropic\'s shape', async () => {
      const err = await client.messages.countTokens({ model: 'mock', messages: [] }).catch((e) => e)
      expect(err).toBeInstanceOf(Anthropic.BadRequestError)
      expect(err.type).toBe('invalid_request_error')
      expect(err.apiMessage).toBe('`messages` must be a non-empty array.')
    })
  })

  describe('the same access rules as /v1/messages', () => {
    it('answers an unknown model with the SDK\'s NotFoundError', async () => {
      const err = await client.messages.countTokens({ model: 'no-such-route', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e)
      expect(err).toBeInstanceOf(Anthropic.NotFoundError)
      expect(err.type).toBe('not_found_error')
      expect(err.apiMessage).toContain("'no-such-route' does not exist")
    })

    it('answers a model the key may not use as not found, without calling Anthropic', async () => {
      const calls = upstream.requests.length
      const err = await clientWith(NARROW_KEY).messages.countTokens({ model: 'claude', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e)
      expect(err).toBeInstanceOf(Anthropic.NotFoundError)
      expect(upstream.requests.length).toBe(calls)
      // The key's own model still counts.
      expect((await clientWith(NARROW_KEY).messages.countTokens({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] })).input_tokens).toBeGreaterThan(0)
    })

    it('refuses a bad key with AuthenticationError and a role without chat with PermissionDeniedError', async () => {
      const params = { model: 'mock', messages: [{ role: 'user' as const, content: 'hi' }] }
      const unknown = await clientWith('sk-gw-not-a-real-key-000000').messages.countTokens(params).catch((e) => e)
      expect(unknown).toBeInstanceOf(Anthropic.AuthenticationError)
      expect(unknown.type).toBe('authentication_error')
      const viewer = await clientWith(VIEWER_KEY).messages.countTokens(params).catch((e) => e)
      expect(viewer).toBeInstanceOf(Anthropic.PermissionDeniedError)
      expect(viewer.type).toBe('permission_error')
    })
  })
})
