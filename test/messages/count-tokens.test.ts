import net from 'node:net'
import type http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Anthropic from '@anthropic-ai/sdk'
import { capability, startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { sendJson, startUpstream, type MockUpstream, type RecordedRequest } from '../helpers/upstream.ts'
import { waitFor } from '../helpers/wait.ts'
import { MODEL, message, sendError, sendMessage, sendTokenCount, text, usage } from '../providers/anthropic/anthropic-upstream.ts'
import { UsageLog } from '../../plugins/contracts/capabilities.ts'
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
      expect(err.apiMessage).toBe('messages: At least one message is required.')
    })
  })

  describe('the same access rules as /v1/messages', () => {
    it('answers an unknown model with the SDK\'s NotFoundError, as messages.create does', async () => {
      const err = await client.messages.countTokens({ model: 'no-such-route', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e)
      expect(err).toBeInstanceOf(Anthropic.NotFoundError)
      expect(err.type).toBe('not_found_error')
      expect(err.apiMessage).toContain("'no-such-route' does not exist")
      const created = await client.messages.create({ model: 'no-such-route', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e)
      expect([created.constructor, created.status, created.type, created.apiMessage]).toEqual([err.constructor, err.status, err.type, err.apiMessage])
    })

    it('answers a model the key may not use with PermissionDeniedError, as messages.create does, without calling Anthropic', async () => {
      const calls = upstream.requests.length
      const narrow = clientWith(NARROW_KEY)
      const err = await narrow.messages.countTokens({ model: 'claude', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e)
      expect(err).toBeInstanceOf(Anthropic.PermissionDeniedError)
      expect(err.type).toBe('permission_error')
      expect(err.apiMessage).toContain("may not use the model 'claude'")
      const created = await narrow.messages.create({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e)
      expect([created.constructor, created.status, created.type, created.apiMessage]).toEqual([err.constructor, err.status, err.type, err.apiMessage])
      expect(upstream.requests.length).toBe(calls)
      // The key's own model still counts.
      expect((await narrow.messages.countTokens({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] })).input_tokens).toBeGreaterThan(0)
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

/** A port nothing listens on: connecting to it is refused. */
async function refusedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** An Anthropic upstream that answers both paths: a count of `tokens`, or a short message. */
const anthropicAnswers = (tokens: number) => (req: RecordedRequest, res: http.ServerResponse): void => {
  if (req.path === '/v1/messages/count_tokens') sendTokenCount(res, tokens)
  else sendMessage(res, message([text('ok')], { usage: usage({ input_tokens: 12, output_tokens: 3 }) }))
}

type OtlpSpan = { name: string; kind: number; traceId: string; parentSpanId?: string; spanId: string; attributes: { key: string; value: Record<string, unknown> }[] }
const attrs = (span: OtlpSpan) => Object.fromEntries(span.attributes.map((a) => [a.key, Object.values(a.value)[0]]))

describe('POST /v1/messages/count_tokens goes through the call step, as /v1/messages does', () => {
  const FIRST_KEY = 'sk-ant-first-secret-0123456789'
  let first: MockUpstream
  let second: MockUpstream
  let collector: MockUpstream
  let gateway: RunningGateway
  let client: Anthropic
  const spans: OtlpSpan[] = []
  const count = (model: string, headers?: Record<string, string>) =>
    client.messages.countTokens({ model, messages: [{ role: 'user', content: 'How many tokens is this?' }] }, headers ? { headers } : undefined).withResponse()
  const failed = (model: string) => count(model).then(() => expect.unreachable('the count should have failed'), (e) => e)
  /** gateway_requests_total for these labels, from GET /metrics. */
  const requestsTotal = async (route: string, provider: string, status: number): Promise<number> => {
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text()
    const line = metrics.split('\n').find((l) => l.startsWith(`gateway_requests_total{route="${route}",provider="${provider}",status="${status}"}`))
    return line ? Number(line.split(' ').at(-1)) : 0
  }

  beforeAll(async () => {
    first = await startUpstream()
    second = await startUpstream(anthropicAnswers(42))
    collector = await startUpstream((req, res) => {
      for (const rs of req.body.resourceSpans ?? []) for (const ss of rs.scopeSpans) spans.push(...ss.spans)
      sendJson(res, 200, {})
    })
    const target = (provider: string, model: string, more = '') => `{ provider: ${provider}, model: ${model}${more} }`
    gateway = await startTestGateway(`
version: 1
telemetry:
  otel: { endpoint: "${collector.url}/v1/traces", flush_interval_ms: 50 }
store: { plugin: embedded, memory: true, vector: false }
providers:
  mock: { plugin: mock }
  first: { plugin: anthropic, api_key: ${FIRST_KEY}, base_url: '${first.url}' }
  second: { plugin: anthropic, api_key: sk-ant-second-0123456789, base_url: '${second.url}' }
  dead: { plugin: anthropic, api_key: sk-ant-dead-0123456789, base_url: 'http://127.0.0.1:${await refusedPort()}' }
routes:
  - model: after-500
    targets: [ ${target('first', 'claude-a')}, ${target('second', MODEL)} ]
  - model: after-refused
    targets: [ ${target('dead', 'claude-b')}, ${target('second', MODEL)} ]
  - model: then-estimate
    targets: [ ${target('first', 'claude-c')}, { provider: mock } ]
  - model: retried
    retry: { attempts: 2, backoff_ms: 1 }
    targets: [ ${target('first', 'claude-d')} ]
  - model: leaky
    targets: [ ${target('first', 'claude-e')} ]
  - model: slow
    timeout_ms: 200
    targets: [ ${target('first', 'claude-f')} ]
  - model: broken
    targets: [ ${target('first', 'claude-g', ', circuit: { failures: 1, cooldown_s: 60 }')}, ${target('second', MODEL)} ]
  - model: team
    when: { headers: { x-team: red } }
    targets: [ ${target('second', MODEL)} ]
  - model: team
    targets: [ { provider: mock } ]
  - model: counted
    targets: [ ${target('second', 'claude-counted')} ]
`)
    client = new Anthropic({ baseURL: gateway.url, apiKey: 'anything', maxRetries: 0 })
  })
  afterAll(async () => {
    await gateway.close()
    await Promise.all([first.close(), second.close(), collector.close()])
  })

  it('falls back to the next target when the first answers 500', async () => {
    first.handle((_req, res) => sendError(res, 500, 'api_error', 'Internal server error'))
    const before = { first: first.requests.length, second: second.requests.length }
    const { data, response } = await count('after-500')
    expect(data).toEqual({ input_tokens: 42 })
    expect(response.headers.get('x-gateway-provider')).toBe('second')
    expect(first.requests.length).toBe(before.first + 1)
    expect(second.requests.slice(before.second).map((r) => [r.path, r.body.model])).toEqual([['/v1/messages/count_tokens', MODEL]])
  })

  it('falls back to the next target when the first refuses the connection', async () => {
    const { data, response } = await count('after-refused')
    expect(data).toEqual({ input_tokens: 42 })
    expect(response.headers.get('x-gateway-provider')).toBe('second')
  })

  it('falls back to a target that cannot count with the gateway\'s estimate, and says so', async () => {
    first.handle((_req, res) => sendError(res, 503, 'api_error', 'unavailable'))
    const { data, response } = await count('then-estimate')
    expect(data.input_tokens).toBeGreaterThan(0)
    expect(response.headers.get('x-gateway-provider')).toBe('mock')
    expect(response.headers.get('x-gateway-warning')).toBe("input_tokens is the gateway's estimate: mock has no token count for this wire")
  })

  it('retries a target as the route\'s retry: says', async () => {
    let tries = 0
    first.handle((_req, res) => (++tries === 1 ? sendError(res, 500, 'api_error', 'hiccup') : sendTokenCount(res, 17)))
    const { data, response } = await count('retried')
    expect(data).toEqual({ input_tokens: 17 })
    expect(response.headers.get('x-gateway-provider')).toBe('first')
    expect(tries).toBe(2)
  })

  it('never shows the provider\'s key in an upstream error\'s message', async () => {
    first.handle((_req, res) => sendError(res, 500, 'api_error', `upstream broke while checking ${FIRST_KEY}`))
    const err = await failed('leaky')
    expect(err).toBeInstanceOf(Anthropic.InternalServerError)
    expect(err.status).toBe(502)
    expect(err.apiMessage).toBe('first: upstream broke while checking [redacted]')
    expect(JSON.stringify(err.error)).not.toContain(FIRST_KEY)
  })

  it('gives up on an upstream that does not answer within the route\'s timeout_ms, with 504', async () => {
    first.handle((_req, res) => { setTimeout(() => sendTokenCount(res, 1), 3000).unref() })
    const started = performance.now()
    const err = await failed('slow')
    expect(performance.now() - started).toBeLessThan(2000)
    expect(err.status).toBe(504)
    expect(err.apiMessage).toContain('no answer within 200 ms')
  })

  it('skips a target whose circuit is open', async () => {
    first.handle((_req, res) => sendError(res, 500, 'api_error', 'down'))
    const calls = first.requests.length
    expect((await count('broken')).response.headers.get('x-gateway-provider')).toBe('second')
    expect(first.requests.length).toBe(calls + 1)
    // One failure opened it: the next count goes straight to the second target.
    expect((await count('broken')).response.headers.get('x-gateway-provider')).toBe('second')
    expect(first.requests.length).toBe(calls + 1)
  })

  it('resolves a route\'s when: on the request\'s headers, as messages.create does', async () => {
    const red = { 'x-team': 'red' }
    const counted = await count('team', red)
    expect(counted.response.headers.get('x-gateway-provider')).toBe('second')
    expect(counted.data).toEqual({ input_tokens: 42 })
    const created = await client.messages.create({ model: 'team', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }, { headers: red }).withResponse()
    expect(created.response.headers.get('x-gateway-provider')).toBe('second')
    // Without the header the next route answers, for both.
    expect((await count('team')).response.headers.get('x-gateway-provider')).toBe('mock')
    const plain = await client.messages.create({ model: 'team', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).withResponse()
    expect(plain.response.headers.get('x-gateway-provider')).toBe('mock')
  })

  it('counts in the gateway\'s metrics and traces, but is no usage event', async () => {
    const before = await requestsTotal('counted', 'second', 200)
    await count('counted')
    await count('counted')
    expect(await requestsTotal('counted', 'second', 200)).toBe(before + 2)
    // Failures count too, under the target that failed (an upstream 500 is the gateway's 502).
    expect(await requestsTotal('leaky', 'first', 502)).toBe(1)

    // The upstream call is a client span under the request's trace.
    const call = (await waitFor(() => spans.find((s) => s.name === 'anthropic-count-tokens claude-counted'), 5000)).value!
    expect(call.kind).toBe(3) // CLIENT
    expect(attrs(call)).toMatchObject({ 'gen_ai.system': 'second', 'gen_ai.request.model': 'claude-counted' })
    const request = spans.find((s) => s.name === 'gateway.request' && s.traceId === call.traceId)
    expect(request).toBeDefined()

    // A message on the same route is a usage event; the counts before it are not.
    await client.messages.create({ model: 'counted', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
    const log = capability(gateway, UsageLog)
    const scope = { from: new Date(Date.now() - 3600_000), to: new Date(Date.now() + 3600_000), limit: 1000 }
    const events = (await waitFor(async () => {
      const rows = (await log.list(scope)).filter((e) => e.route === 'counted')
      return rows.length > 0 ? rows : undefined
    }, 10_000, 25)).value!
    expect(events.map((e) => [e.promptTokens, e.completionTokens])).toEqual([[12, 3]])
  })
})
