/**
 * /v1/messages as a demanding Claude-native client sees it: the official SDK's stream helper on a
 * translated (OpenAI-wire) target with tool calls, the wire headers on the passthrough path, and
 * every refusal as the SDK's typed error with Anthropic's error type.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { sendJson, sendSse, startUpstream, type MockUpstream } from '../helpers/upstream.ts'
import { MODEL, message, sendError, sendMessage, sendStream, streamEvents, text } from '../providers/anthropic/anthropic-upstream.ts'
import { WEATHER_TOOL, parseEvents, upstreamProviders } from './helpers.ts'

const ADMIN_KEY = 'sk-gw-claude-admin-0123456789'
const VIEWER_KEY = 'sk-gw-claude-viewer-0123456789'
const NARROW_KEY = 'sk-gw-claude-narrow-0123456789'
const INTERN_KEY = 'sk-gw-claude-intern-0123456789'

/** OpenAI's wire: text, then two tool calls whose arguments arrive in pieces, then the usage chunk. */
function openAIToolStream(model: string) {
  const common = { id: 'chatcmpl-tools-1', created: 1_700_000_000, model, system_fingerprint: 'fp_test', object: 'chat.completion.chunk' }
  const chunk = (delta: object, finish: string | null = null) => ({ data: { ...common, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] } })
  return [
    chunk({ role: 'assistant', content: '' }),
    chunk({ content: 'Let me ' }),
    chunk({ content: 'check.' }),
    chunk({ tool_calls: [{ index: 0, id: 'call_oslo', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city"' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: ': "Oslo"}' } }] }),
    chunk({ tool_calls: [{ index: 1, id: 'call_rome', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Rome"}' } }] }),
    chunk({}, 'tool_calls'),
    { data: { ...common, choices: [], usage: { prompt_tokens: 42, completion_tokens: 17, total_tokens: 59, prompt_tokens_details: { cached_tokens: 0 } } } },
    { data: '[DONE]' },
  ]
}

/** The same answer, whole. */
function openAIToolAnswer(model: string) {
  return {
    id: 'chatcmpl-tools-2', object: 'chat.completion', created: 1_700_000_000, model, system_fingerprint: 'fp_test',
    choices: [{
      index: 0, finish_reason: 'tool_calls', logprobs: null,
      message: { role: 'assistant', content: 'Let me check.', refusal: null, tool_calls: [{ id: 'call_oslo', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Oslo"}' } }] },
    }],
    usage: { prompt_tokens: 42, completion_tokens: 17, total_tokens: 59 },
  }
}

describe('/v1/messages for Claude-native clients', () => {
  let anthropic: MockUpstream
  let openai: MockUpstream
  let gateway: RunningGateway
  let client: Anthropic
  const clientWith = (apiKey: string) => new Anthropic({ baseURL: gateway.url, apiKey, maxRetries: 0 })
  beforeAll(async () => {
    anthropic = await startUpstream()
    openai = await startUpstream((req, res) => (req.body.stream ? sendSse(res, openAIToolStream(req.body.model)) : sendJson(res, 200, openAIToolAnswer(req.body.model))))
    gateway = await startTestGateway(`
version: 1
providers:
  mock: { plugin: mock }
${upstreamProviders({ openai: openai.url, anthropic: anthropic.url })}
routes:
  - model: mock
    targets: [ { provider: mock } ]
  - model: claude
    targets: [ { provider: claude, model: ${MODEL} } ]
  - model: gpt
    targets: [ { provider: gpt, model: gpt-4o-mini } ]
roles:
  viewer: { permissions: [view_analytics], scope: own_data }
  intern: { permissions: [chat], scope: own_data }
auth:
  strategies:
    - plugin: api-key
      keys:
        - { key: ${ADMIN_KEY}, user: admin, role: admin }
        - { key: ${VIEWER_KEY}, user: viewer, role: viewer }
        - { key: ${NARROW_KEY}, user: narrow, role: user, allowed_models: [mock] }
        - { key: ${INTERN_KEY}, user: intern, role: intern }
limits:
  backend: { plugin: memory }
  policies:
    - { scope: user, when: { roles: [intern] }, requests_per_minute: 1 }
`)
    client = clientWith(ADMIN_KEY)
  })
  afterAll(async () => {
    await gateway.close()
    await anthropic.close()
    await openai.close()
  })

  describe('a stream translated from an OpenAI-wire target', () => {
    it('is assembled by the SDK\'s stream helper: text, then each tool_use with its input parsed, and the final usage', async () => {
      const stream = client.messages.stream({ model: 'gpt', max_tokens: 200, tools: [WEATHER_TOOL], messages: [{ role: 'user', content: 'Oslo and Rome?' }] })
      const pieces: string[] = []
      const json: string[] = []
      stream.on('text', (delta) => pieces.push(delta))
      stream.on('inputJson', (partial) => json.push(partial))
      const final = await stream.finalMessage()
      expect(pieces).toEqual(['Let me ', 'check.'])
      expect(json).toEqual(['{"city"', ': "Oslo"}', '{"city": "Rome"}'])
      expect(final.content).toEqual([
        { type: 'text', text: 'Let me check.', citations: null },
        { type: 'tool_use', id: 'call_oslo', name: 'get_weather', input: { city: 'Oslo' }, caller: { type: 'direct' } },
        { type: 'tool_use', id: 'call_rome', name: 'get_weather', input: { city: 'Rome' }, caller: { type: 'direct' } },
      ])
      expect(final.stop_reason).toBe('tool_use')
      expect(final.usage).toMatchObject({ input_tokens: 42, output_tokens: 17 })
    })

    it('answers a whole message with text and tool_use blocks, which the SDK reads as Anthropic\'s', async () => {
      const res = await client.messages.create({ model: 'gpt', max_tokens: 200, tools: [WEATHER_TOOL], messages: [{ role: 'user', content: 'Oslo?' }] })
      expect(res).toMatchObject({
        type: 'message', role: 'assistant', stop_reason: 'tool_use',
        content: [{ type: 'text', text: 'Let me check.' }, { type: 'tool_use', id: 'call_oslo', name: 'get_weather', input: { city: 'Oslo' } }],
        usage: { input_tokens: 42, output_tokens: 17 },
      })
      expect(openai.requests.at(-1)!.body).toMatchObject({ model: 'gpt-4o-mini', tools: [{ type: 'function', function: { name: 'get_weather' } }] })
    })

    it('writes Anthropic\'s event sequence: each block opened, filled and closed in order, then message_delta with the usage and message_stop', async () => {
      const res = await fetch(`${gateway.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': ADMIN_KEY, 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({ model: 'gpt', max_tokens: 200, stream: true, tools: [WEATHER_TOOL], messages: [{ role: 'user', content: 'Oslo and Rome?' }] }),
      })
      const events = parseEvents(await res.text())
      const shape = events.map((e) => ('index' in e ? `${e.type}:${e.index}` : e.type) + (e.type === 'content_block_delta' ? `:${e.delta.type}` : ''))
      expect(shape).toEqual([
        'message_start',
        'content_block_start:0', 'content_block_delta:0:text_delta', 'content_block_delta:0:text_delta', 'content_block_stop:0',
        'content_block_start:1', 'content_block_delta:1:input_json_delta', 'content_block_delta:1:input_json_delta', 'content_block_stop:1',
        'content_block_start:2', 'content_block_delta:2:input_json_delta', 'content_block_stop:2',
        'message_delta', 'message_stop',
      ])
      const start = events[0] as Extract<RawMessageStreamEvent, { type: 'message_start' }>
      expect(start.message).toMatchObject({ type: 'message', role: 'assistant', content: [], stop_reason: null })
      // The id is the upstream's, so the gateway's and the provider's logs line up.
      // Anthropic's prefix, the upstream's id after it.
      expect(start.message.id).toBe('msg_chatcmpl-tools-1')
      expect(events[5]).toMatchObject({ content_block: { type: 'tool_use', id: 'call_oslo', name: 'get_weather', input: {} } })
      expect(events.at(-2)).toMatchObject({ type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { input_tokens: 42, output_tokens: 17 } })
    })
  })

  describe('the passthrough path', () => {
    it('forwards the client\'s anthropic-version and anthropic-beta to Anthropic', async () => {
      anthropic.handle((_req, res) => sendMessage(res, message([text('ok')])))
      await client.messages.create(
        { model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] },
        { headers: { 'anthropic-version': '2023-06-01', 'anthropic-beta': 'interleaved-thinking-2025-05-14, fine-grained-tool-streaming-2025-05-14' } },
      )
      const sent = anthropic.requests.at(-1)!
      expect(sent.headers['anthropic-version']).toBe('2023-06-01')
      expect(sent.headers['anthropic-beta']).toBe('interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14')
    })

    it('forwards them on a stream too, and the SDK\'s beta client works unchanged', async () => {
      anthropic.handle((_req, res) => sendStream(res, streamEvents({ text: ['o', 'k'] })))
      const final = await client.beta.messages.stream({ model: 'claude', max_tokens: 10, betas: ['context-1m-2025-08-07'], messages: [{ role: 'user', content: 'hi' }] }).finalMessage()
      expect(final.content).toMatchObject([{ type: 'text', text: 'ok' }])
      expect(anthropic.requests.at(-1)!.headers['anthropic-beta']).toBe('context-1m-2025-08-07')
    })

    it('does not send them to a translated target', async () => {
      const before = openai.requests.length
      await client.messages.create({ model: 'gpt', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'anthropic-beta': 'context-1m-2025-08-07' } }).catch(() => undefined)
      expect(openai.requests.length).toBe(before + 1)
      expect(openai.requests.at(-1)!.headers['anthropic-beta']).toBeUndefined()
    })
  })

  describe('GET /v1/models, which both SDKs call', () => {
    it('answers the Anthropic SDK in Anthropic\'s shape: the routes the key may use, one page', async () => {
      const ids: string[] = []
      for await (const model of client.models.list()) {
        expect(model).toMatchObject({ type: 'model', display_name: model.id, lifecycle: 'active' })
        // No release date for a route: the gateway's start, not the epoch (1970).
        expect(Date.parse(model.created_at)).toBeGreaterThan(Date.parse('2020-01-01'))
        ids.push(model.id)
      }
      expect(ids).toEqual(expect.arrayContaining(['mock', 'claude', 'gpt']))
      const narrow = await clientWith(NARROW_KEY).models.list()
      expect(narrow.data.map((m) => m.id)).toEqual(['mock'])
      expect(narrow.has_more).toBe(false)
      expect(await client.models.retrieve('claude')).toMatchObject({ id: 'claude', type: 'model' })
      await expect(client.models.retrieve('claude-none')).rejects.toBeInstanceOf(Anthropic.NotFoundError)
    })

    it('refuses an unknown key in Anthropic\'s error shape to the Anthropic SDK, and in OpenAI\'s to the OpenAI SDK', async () => {
      const refused = clientWith('sk-gw-not-a-real-key-000000')
      for (const call of [() => refused.models.list(), () => refused.models.retrieve('claude')]) {
        const err = await call().catch((e) => e)
        expect(err).toBeInstanceOf(Anthropic.AuthenticationError)
        expect(err.error).toMatchObject({ type: 'error', error: { type: 'authentication_error', message: expect.any(String) } })
      }
      const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-gw-not-a-real-key-000000', maxRetries: 0 })
      for (const call of [() => openai.models.list(), () => openai.models.retrieve('claude')]) {
        const err = await call().catch((e) => e)
        expect(err).toBeInstanceOf(OpenAI.AuthenticationError)
        expect(err.error).toMatchObject({ message: expect.any(String), type: expect.any(String), code: expect.any(String) })
        expect(err.error.type).not.toBe('error')
      }
    })

    it('still answers OpenAI\'s shape to a request without anthropic-version', async () => {
      const res = await fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
      const body = await res.json()
      expect(body.object).toBe('list')
      expect(body.data[0]).toMatchObject({ object: 'model', owned_by: 'gateway' })
    })
  })

  describe('refusals arrive as the SDK\'s typed errors', () => {
    const params = (model: string) => ({ model, max_tokens: 10, messages: [{ role: 'user' as const, content: 'hi' }] })

    it('401: a key the gateway does not know is AuthenticationError', async () => {
      const err = await clientWith('sk-gw-not-a-real-key-000000').messages.create(params('mock')).catch((e) => e)
      expect(err).toBeInstanceOf(Anthropic.AuthenticationError)
      expect(err.type).toBe('authentication_error')
      expect(err.error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } })
    })

    it('403: a role without chat, or a model the key may not use, is PermissionDeniedError', async () => {
      const viewer = await clientWith(VIEWER_KEY).messages.create(params('mock')).catch((e) => e)
      expect(viewer).toBeInstanceOf(Anthropic.PermissionDeniedError)
      expect(viewer.type).toBe('permission_error')
      const narrow = await clientWith(NARROW_KEY).messages.create(params('claude')).catch((e) => e)
      expect(narrow).toBeInstanceOf(Anthropic.PermissionDeniedError)
      expect(narrow.type).toBe('permission_error')
      expect(narrow.apiMessage).toContain("may not use the model 'claude'")
    })

    it('404: an unknown model is NotFoundError', async () => {
      const err = await client.messages.create(params('claude-none')).catch((e) => e)
      expect(err).toBeInstanceOf(Anthropic.NotFoundError)
      expect(err.type).toBe('not_found_error')
    })

    it('429: the gateway\'s own rate limit is RateLimitError with retry-after', async () => {
      const intern = clientWith(INTERN_KEY)
      await intern.messages.create(params('mock'))
      const err = await intern.messages.create(params('mock')).catch((e) => e)
      expect(err).toBeInstanceOf(Anthropic.RateLimitError)
      expect(err.type).toBe('rate_limit_error')
      expect(Number(err.headers.get('retry-after'))).toBeGreaterThan(0)
    })

    it('400: a malformed request is BadRequestError with invalid_request_error', async () => {
      const err = await client.messages.create({ model: 'mock', max_tokens: 0, messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e)
      expect(err).toBeInstanceOf(Anthropic.BadRequestError)
      expect(err.type).toBe('invalid_request_error')
      const notJson = await fetch(`${gateway.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': ADMIN_KEY }, body: '{"model":' })
      expect(notJson.status).toBe(400)
      expect(await notJson.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } })
    })

    it('529: Anthropic overloaded on a passed-through route is OverloadedError, as from Anthropic; an OpenAI client of the route gets 503', async () => {
      anthropic.handle((_req, res) => sendError(res, 529, 'overloaded_error', 'Overloaded'))
      const err = await client.messages.create(params('claude')).catch((e) => e)
      expect(err).toBeInstanceOf(Anthropic.OverloadedError)
      expect([err.status, err.type, err.apiMessage]).toEqual([529, 'overloaded_error', 'claude: Overloaded'])
      const streamed = await client.messages.stream(params('claude')).finalMessage().catch((e) => e)
      expect(streamed).toBeInstanceOf(Anthropic.OverloadedError)
      const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: ADMIN_KEY, maxRetries: 0 })
      const viaOpenAI = await openai.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e)
      expect(viaOpenAI).toBeInstanceOf(OpenAI.InternalServerError)
      expect(viaOpenAI.status).toBe(503)
    })

    it('the SDK reads the gateway\'s request id from request-id, on answers and on errors (in the body too)', async () => {
      const { request_id: requestId, response } = await client.messages.create(params('mock')).withResponse()
      expect(requestId).toBe(response.headers.get('x-request-id'))
      const err = await clientWith('sk-gw-not-a-real-key-000000').messages.create(params('mock')).catch((e) => e)
      expect(err.requestID).toBeTruthy()
      expect(err.requestID).toBe(err.headers.get('x-request-id'))
      expect(err.error.request_id).toBe(err.requestID)
    })
  })
})
