import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Anthropic from '@anthropic-ai/sdk'
import { postJson, startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { startUpstream, type MockUpstream } from '../helpers/upstream.ts'
import { message, MODEL, sendError, sendMessage, sendStream, streamEvents, text, toolUse, usage } from '../providers/anthropic/anthropic-upstream.ts'
import { WEATHER_TOOL, parseEvents } from './helpers.ts'

describe('POST /v1/messages: Claude-native clients on any route', () => {
  let upstream: MockUpstream
  let gateway: RunningGateway
  let client: Anthropic
  beforeAll(async () => {
    upstream = await startUpstream()
    gateway = await startTestGateway(`
version: 1
providers:
  mock: { plugin: mock }
  claude: { plugin: anthropic, api_key: sk-ant-upstream-key, base_url: '${upstream.url}' }
routes:
  - model: mock
    targets: [ { provider: mock } ]
  - model: claude
    targets: [ { provider: claude, model: ${MODEL} } ]
`)
    client = new Anthropic({ baseURL: gateway.url, apiKey: 'anything', maxRetries: 0 })
  })
  afterAll(async () => {
    await gateway.close()
    await upstream.close()
  })

  describe('on a mock route', () => {
    it('answers messages.create with an Anthropic Message', async () => {
      const res = await client.messages.create({ model: 'mock', max_tokens: 100, messages: [{ role: 'user', content: 'hello gateway' }] })
      expect(res).toMatchObject({
        type: 'message',
        role: 'assistant',
        content: [{ type: 'text', text: 'echo: hello gateway' }],
        stop_reason: 'end_turn',
        usage: { input_tokens: 2, output_tokens: 3 },
      })
    })

    it('streams Anthropic\'s event sequence, which the SDK\'s stream helper assembles into the final message', async () => {
      const stream = client.messages.stream({ model: 'mock', max_tokens: 100, messages: [{ role: 'user', content: 'hello streaming gateway' }] })
      const pieces: string[] = []
      stream.on('text', (delta) => pieces.push(delta))
      const final = await stream.finalMessage()
      expect(pieces.length).toBeGreaterThan(1)
      expect(pieces.join('')).toBe('echo: hello streaming gateway')
      expect(final.content).toEqual([{ type: 'text', text: 'echo: hello streaming gateway', citations: null }])
      expect(final.stop_reason).toBe('end_turn')
      expect(final.usage).toMatchObject({ input_tokens: 3, output_tokens: 4 })
    })

    it('writes every event with its event: name, in the documented order', async () => {
      const res = await fetch(`${gateway.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'mock', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'a b' }] }),
      })
      expect(res.headers.get('content-type')).toContain('text/event-stream')
      const types = parseEvents(await res.text()).map((e) => e.type)
      expect(types[0]).toBe('message_start')
      expect(types[1]).toBe('content_block_start')
      expect(types.slice(2, -3).every((t) => t === 'content_block_delta')).toBe(true)
      expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop'])
    })

    it('answers an unknown model with Anthropic\'s error shape, which the SDK raises as NotFoundError', async () => {
      const err = await client.messages.create({ model: 'no-such-route', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e)
      expect(err).toBeInstanceOf(Anthropic.NotFoundError)
      expect(err.status).toBe(404)
      expect(err.type).toBe('not_found_error')
      expect(err.apiMessage).toContain("'no-such-route' does not exist")
    })

    it('refuses a request without max_tokens with a 400 in Anthropic\'s error shape', async () => {
      const res = await postJson(`${gateway.url}/v1/messages`, { model: 'mock', messages: [{ role: 'user', content: 'hi' }] })
      expect(res.status).toBe(400)
      expect(res.body).toEqual({
        type: 'error',
        error: { type: 'invalid_request_error', message: 'max_tokens: Field required: the most tokens to generate, an integer (0 only pre-warms the prompt cache).' },
        request_id: res.headers.get('x-request-id'),
      })
    })

    it.each([
      ['an empty messages array', { messages: [] }, 'messages: At least one message is required.'],
      ['a tool_choice that is not an object', { tool_choice: 'auto' }, '`tool_choice` must be an object.'],
      ['a content block the unified API has no part for', { messages: [{ role: 'user', content: [{ type: 'search_result', source: 's', title: 't', content: [] }] }] }, "type 'search_result'"],
      ['an unknown role', { messages: [{ role: 'tool', content: 'x' }] }, "messages.0.role: Input should be 'user' or 'assistant'"],
    ])('refuses %s with a 400 invalid_request_error', async (_name, patch, expected) => {
      const res = await postJson(`${gateway.url}/v1/messages`, { model: 'mock', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], ...patch })
      expect(res.status).toBe(400)
      expect(res.body.type).toBe('error')
      expect(res.body.error.type).toBe('invalid_request_error')
      expect(res.body.error.message).toContain(expected)
    })

    it('says in x-gateway-warning what it dropped, such as thinking', async () => {
      const { response } = await client.messages.create({
        model: 'mock', max_tokens: 2000, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: [{ role: 'user', content: 'hi' }],
      }).withResponse()
      expect(response.headers.get('x-gateway-warning')).toContain("dropped 'thinking'")
    })
  })

  describe('on an anthropic route', () => {
    it('reaches Anthropic with the system prompt as system and the answer comes back unchanged', async () => {
      upstream.handle((_req, res) => sendMessage(res, message([text('Bonjour.')], { usage: usage({ input_tokens: 9, cache_read_input_tokens: 30, output_tokens: 2 }) })))
      const res = await client.messages.create({
        model: 'claude', max_tokens: 200, system: 'Answer in French.', stop_sequences: ['END'],
        metadata: { user_id: 'user-7' }, messages: [{ role: 'user', content: 'Hello' }],
      })
      expect(res.content).toEqual([{ type: 'text', text: 'Bonjour.', citations: null }])
      expect(res.usage).toMatchObject({ input_tokens: 9, cache_read_input_tokens: 30, output_tokens: 2 })
      const sent = upstream.requests.at(-1)!
      expect(sent.headers.authorization).toBe('Bearer sk-ant-upstream-key')
      expect(sent.body).toEqual({
        model: MODEL, max_tokens: 200, system: 'Answer in French.', stop_sequences: ['END'],
        metadata: { user_id: 'user-7' }, messages: [{ role: 'user', content: 'Hello' }],
      })
    })

    it('carries a tool use round trip: tool_use out, tool_result back in', async () => {
      upstream.handle((_req, res) => sendMessage(res, message([text('Checking.'), toolUse('toolu_01A', 'get_weather', { city: 'Paris' })], { stop_reason: 'tool_use' })))
      const first = await client.messages.create({ model: 'claude', max_tokens: 200, tools: [WEATHER_TOOL], tool_choice: { type: 'auto' }, messages: [{ role: 'user', content: 'Weather in Paris?' }] })
      expect(first.stop_reason).toBe('tool_use')
      const call = first.content.find((b) => b.type === 'tool_use')
      expect(call).toMatchObject({ type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { city: 'Paris' } })
      expect(upstream.requests.at(-1)!.body).toMatchObject({ tools: [WEATHER_TOOL], tool_choice: { type: 'auto' } })

      upstream.handle((_req, res) => sendMessage(res, message([text('21°C and sunny.')])))
      const second = await client.messages.create({
        model: 'claude', max_tokens: 200, tools: [WEATHER_TOOL],
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', content: first.content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01A', content: '21°C, sunny' }] },
        ],
      })
      expect(second.content).toEqual([{ type: 'text', text: '21°C and sunny.', citations: null }])
      // Passed through as the client sent it: the assistant turn is the first answer's content.
      expect(upstream.requests.at(-1)!.body.messages).toEqual([
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: JSON.parse(JSON.stringify(first.content)) },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01A', content: '21°C, sunny' }] },
      ])
    })

    it('streams a tool use that the SDK\'s stream helper assembles, arguments parsed', async () => {
      upstream.handle((_req, res) => sendStream(res, streamEvents({
        text: ['Let me look.'],
        tools: [{ id: 'toolu_02', name: 'get_weather', argumentPieces: ['{"city"', ': "Oslo"}'] }],
        inputTokens: 15, outputTokens: 9,
      })))
      const final = await client.messages.stream({ model: 'claude', max_tokens: 200, tools: [WEATHER_TOOL], messages: [{ role: 'user', content: 'Oslo?' }] }).finalMessage()
      expect(final.content).toEqual([
        { type: 'text', text: 'Let me look.', citations: null },
        { type: 'tool_use', id: 'toolu_02', name: 'get_weather', input: { city: 'Oslo' }, caller: { type: 'direct' } },
      ])
      expect(final.stop_reason).toBe('tool_use')
      expect(final.usage).toMatchObject({ input_tokens: 15, output_tokens: 9 })
    })

    it('sends workspace_id and user_profile_id as the headers Anthropic takes them in, as its SDK does', async () => {
      upstream.handle((_req, res) => sendMessage(res, message([text('ok')])))
      const res = await fetch(`${gateway.url}/v1/messages`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'unused' },
        body: JSON.stringify({ model: 'claude', max_tokens: 50, workspace_id: 'wrkspc_01', user_profile_id: 'uprof_7', messages: [{ role: 'user', content: 'hi' }] }),
      })
      expect(res.status).toBe(200)
      const sent = upstream.requests.at(-1)!
      expect(sent.headers['anthropic-workspace-id']).toBe('wrkspc_01')
      expect(sent.headers['anthropic-user-profile-id']).toBe('uprof_7')
      expect(sent.body).toEqual({ model: MODEL, max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] })
    })

    it('relays the upstream\'s stream as it came, frame for frame, its pings included', async () => {
      const events = streamEvents({ text: ['Hel', 'lo.'], inputTokens: 7, outputTokens: 2 })
      upstream.handle((_req, res) => sendStream(res, events))
      const res = await fetch(`${gateway.url}/v1/messages`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'unused' },
        body: JSON.stringify({ model: 'claude', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      })
      expect(res.status).toBe(200)
      const frames = (await res.text()).split('\n\n').filter(Boolean)
      const sent = events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}`)
      sent.splice(1, 0, `event: ping\ndata: ${JSON.stringify({ type: 'ping' })}`)
      expect(frames).toEqual(sent)
    })

    it('passes a base64 image through to Anthropic as a base64 source', async () => {
      upstream.handle((_req, res) => sendMessage(res, message([text('A pixel.')])))
      const data = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=='
      await client.messages.create({
        model: 'claude', max_tokens: 50,
        messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data } }, { type: 'text', text: 'What is it?' }] }],
      })
      expect(upstream.requests.at(-1)!.body.messages[0].content).toEqual([
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data } },
        { type: 'text', text: 'What is it?' },
      ])
    })

    it('carries output_config.format through the unified response_format and back to Anthropic', async () => {
      upstream.handle((_req, res) => sendMessage(res, message([text('{"city":"Paris"}')])))
      const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false }
      const res = await client.messages.create({
        model: 'claude', max_tokens: 50, output_config: { format: { type: 'json_schema', schema } }, messages: [{ role: 'user', content: 'A city?' }],
      })
      expect(res.content).toEqual([{ type: 'text', text: '{"city":"Paris"}', citations: null }])
      expect(upstream.requests.at(-1)!.body.output_config).toEqual({ format: { type: 'json_schema', schema } })
    })

    it('reports a failure in the middle of a stream as Anthropic\'s error event, which the SDK raises', async () => {
      upstream.handle((_req, res) => {
        const events = streamEvents({ text: ['partial'] }).slice(0, 3)
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        for (const e of events) res.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`)
        res.end(`event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })}\n\n`)
      })
      const stream = client.messages.stream({ model: 'claude', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] })
      const pieces: string[] = []
      stream.on('text', (delta) => pieces.push(delta))
      const err = await stream.finalMessage().catch((e) => e)
      expect(pieces).toEqual(['partial'])
      expect(err).toBeInstanceOf(Anthropic.APIError)
      expect(err.type).toBe('overloaded_error')
      expect(err.apiMessage).toBe('claude: Overloaded')
    })

    it('passes an upstream 429 on as Anthropic\'s rate_limit_error with retry-after', async () => {
      upstream.handle((_req, res) => sendError(res, 429, 'rate_limit_error', 'Too many requests', { 'retry-after': '5' }))
      const err = await client.messages.create({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e)
      expect(err).toBeInstanceOf(Anthropic.RateLimitError)
      expect(err.type).toBe('rate_limit_error')
      expect(err.headers.get('retry-after')).toBe('5')
      expect(err.apiMessage).toBe('claude: Too many requests')
    })

    it('passes the request through untranslated: cache_control breakpoints, thinking and server tools reach Anthropic as sent', async () => {
      upstream.handle((_req, res) => sendMessage(res, message([text('Cached.')], { usage: usage({ input_tokens: 3, cache_creation_input_tokens: 1200, output_tokens: 1 }) })))
      const request = {
        model: 'claude', max_tokens: 2000,
        system: [{ type: 'text' as const, text: 'A long, stable system prompt.', cache_control: { type: 'ephemeral' as const } }],
        thinking: { type: 'enabled' as const, budget_tokens: 1024 },
        tools: [{ type: 'web_search_20250305' as const, name: 'web_search' as const }, { ...WEATHER_TOOL, cache_control: { type: 'ephemeral' as const } }],
        messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'Hello', cache_control: { type: 'ephemeral' as const, ttl: '1h' as const } }] }],
      }
      const { data, response } = await client.messages.create(request).withResponse()
      expect(data.content).toEqual([{ type: 'text', text: 'Cached.', citations: null }])
      expect(data.usage).toMatchObject({ cache_creation_input_tokens: 1200 })
      expect(upstream.requests.at(-1)!.body).toEqual({ ...request, model: MODEL })
      // Nothing was dropped, so nothing is warned about.
      expect(response.headers.get('x-gateway-warning')).toBeNull()
      expect(response.headers.get('x-gateway-provider')).toBe('claude')
    })

    it('streams a passed-through answer event by event, as Anthropic sent it, and accounts its usage', async () => {
      upstream.handle((_req, res) => sendStream(res, streamEvents({ text: ['Hel', 'lo'], inputTokens: 11, outputTokens: 2 })))
      const stream = client.messages.stream({ model: 'claude', max_tokens: 50, system: [{ type: 'text', text: 'x', cache_control: { type: 'ephemeral' } }], messages: [{ role: 'user', content: 'hi' }] })
      const final = await stream.finalMessage()
      expect(final.content).toEqual([{ type: 'text', text: 'Hello', citations: null }])
      expect(final.usage).toMatchObject({ input_tokens: 11, output_tokens: 2 })
      expect(upstream.requests.at(-1)!.body.system).toEqual([{ type: 'text', text: 'x', cache_control: { type: 'ephemeral' } }])
      const metrics = await (await fetch(`${gateway.url}/metrics`)).text()
      expect(metrics).toMatch(/gateway_tokens_total\{route="claude",provider="claude",kind="completion"\} \d+/)
    })
  })

  it('refuses Anthropic server tools on a route whose target is not Anthropic, with a 400 naming the tool', async () => {
    const err = await client.messages.create({
      model: 'mock', max_tokens: 10, tools: [{ type: 'web_search_20250305', name: 'web_search' }], messages: [{ role: 'user', content: 'hi' }],
    }).catch((e) => e)
    expect(err).toBeInstanceOf(Anthropic.BadRequestError)
    expect(err.apiMessage).toContain('web_search_20250305')
  })
})
