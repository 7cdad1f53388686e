/**
 * The behaviour every OpenAI-wire provider plugin owes its clients, as one suite each plugin's test
 * file runs against a mock upstream speaking that provider's dialect. The client is the official
 * openai SDK pointed at the gateway; the upstream's recorded requests show what the plugin sent.
 */
import { describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import type { ChatCompletionChunk, ChatCompletionCreateParamsNonStreaming, ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions'
import { sendJson, type RecordedRequest, type UpstreamHandler } from '../../helpers/upstream.ts'
import { mockUpstreamSuite } from '../../helpers/provider-suite.ts'
import { expectOpenAISchema } from '../../helpers/openai-schema.ts'
import { DEFAULT_USAGE, fromBase64, writeFrames, type Frame, type Reply, type WireDialect } from './wire-fixtures.ts'
import { freePort } from '../../helpers/ports.ts'

export const TEST_API_KEY = 'sk-test-wire-0123456789abcdef'

export interface WireSuiteSpec {
  /** The plugin name gateway.yaml writes after `plugin:`. */
  readonly plugin: string
  readonly dialect: WireDialect
  /** The provider block for an upstream at `url` (the api key is TEST_API_KEY), with `extra` keys. */
  block(url: string, extra?: Record<string, unknown>): Record<string, unknown>
  /** The target model of the chat route. */
  readonly chatModel: string
  /** The target model of the embeddings route, when the provider has embeddings. */
  readonly embeddingModel?: string
  /** The path the upstream sees for a call to `model`. */
  path(endpoint: 'chat/completions' | 'embeddings' | 'models', model?: string): string
  /** Assert the credentials the upstream received. */
  expectAuth(req: RecordedRequest): void
  /** Whether `stream_options` reaches the upstream (Groq's API does not take it). */
  readonly forwardsStreamOptions: boolean
}

const WEATHER_TOOL: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city.',
    parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } }, required: ['city'] },
  },
}
const TOOL_ARGUMENTS = ['{"ci', 'ty": "Par', 'is", "unit', '": "celsius"}']

function yamlFor(spec: WireSuiteSpec, upstreamUrl: string, deadUrl: string): string {
  const block = (extra?: Record<string, unknown>, url = upstreamUrl) => JSON.stringify({ plugin: spec.plugin, ...spec.block(url, extra) })
  const embedRoute = spec.embeddingModel ? `  - { model: embed, targets: [ { provider: up, model: ${JSON.stringify(spec.embeddingModel)} } ] }\n` : ''
  const model = JSON.stringify(spec.chatModel)
  return `
version: 1
providers:
  up: ${block({ headers: { 'x-team': 'research' } })}
  slow: ${block({ timeout_ms: 300 })}
  dead: ${block({}, deadUrl)}
routes:
  - { model: chat, targets: [ { provider: up, model: ${model}, headers: { x-route-tag: gold } } ] }
  - { model: chat-slow, targets: [ { provider: slow, model: ${model} } ] }
  - { model: chat-dead, targets: [ { provider: dead, model: ${model} } ] }
  - { model: chat-deadline, timeout_ms: 700, targets: [ { provider: up, model: ${model} } ] }
${embedRoute}`
}

/** Read an SSE body into its JSON frames (the final `[DONE]` checked and dropped). */
async function sseFrames(res: Response): Promise<unknown[]> {
  const text = await res.text()
  const frames = text.split('\n\n').filter(Boolean).map((f) => f.replace(/^data: /, ''))
  expect(frames.at(-1)).toBe('[DONE]')
  return frames.slice(0, -1).map((f) => JSON.parse(f))
}

export function describeOpenAIWireProvider(spec: WireSuiteSpec): void {
  const { dialect } = spec

  describe(`provider.${spec.plugin} over ${dialect.name}'s wire format, driven by the official openai SDK`, () => {
    /** Answer chat calls with `reply` (streamed when asked), recording the request. */
    const answer = (reply: Reply, options: { afterFirst?: Promise<unknown>; delayMs?: number; frames?: Frame[] } = {}): UpstreamHandler => async (req, res) => {
      if (req.path === spec.path('models')) return sendJson(res, 200, dialect.models())
      if (req.body?.stream) {
        const includeUsage = req.body.stream_options?.include_usage === true
        return writeFrames(res, options.frames ?? dialect.streamFrames(String(req.body.model), reply, includeUsage), options)
      }
      sendJson(res, 200, dialect.completion(String(req.body.model), reply))
    }
    const setup = mockUpstreamSuite(async (url) => yamlFor(spec, url, `http://127.0.0.1:${await freePort()}`), answer({ content: 'Hello there, gateway!' }))
    const lastRequest = (): RecordedRequest => setup.upstream.requests.at(-1)!
    const chat = (body: Omit<ChatCompletionCreateParamsNonStreaming, 'model'>, model = 'chat') => setup.client.chat.completions.create({ model, ...body })
    const post = (path: string, body: unknown) => fetch(`${setup.gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

    it('answers a chat completion; the upstream gets the request unchanged but for the target model, with provider and target headers', async () => {
      const messages: ChatCompletionMessageParam[] = [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Say hello.' },
        { role: 'assistant', content: 'Hello.' },
        { role: 'user', content: 'Again, to the gateway.' },
      ]
      const res = await chat({ messages, temperature: 0.2, top_p: 0.9, max_completion_tokens: 64, stop: ['\n\n'], seed: 7, user: 'user-42' })

      expect(res.choices[0].message.content).toBe('Hello there, gateway!')
      expect(res.choices[0].finish_reason).toBe('stop')
      expect(res.usage).toMatchObject(DEFAULT_USAGE)
      expectOpenAISchema('CreateChatCompletionResponse', res)

      const sent = lastRequest()
      expect(sent.method).toBe('POST')
      expect(sent.path).toBe(spec.path('chat/completions', spec.chatModel))
      spec.expectAuth(sent)
      expect(sent.headers['x-team']).toBe('research')
      expect(sent.headers['x-route-tag']).toBe('gold')
      expect(sent.headers.authorization ?? '').not.toContain('client-key')
      expect(sent.body).toMatchObject({ model: spec.chatModel, messages, temperature: 0.2, top_p: 0.9, max_completion_tokens: 64, stop: ['\n\n'], seed: 7, user: 'user-42' })
    })

    it('streams the answer chunk by chunk, with the usage chunk last when include_usage is set', async () => {
      const stream = await setup.client.chat.completions.create({
        model: 'chat', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Say hello.' }],
      })
      const chunks: ChatCompletionChunk[] = []
      for await (const chunk of stream) chunks.push(chunk)

      expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Hello there, gateway!')
      expect(chunks.filter((c) => c.choices[0]?.delta?.content).length).toBeGreaterThan(2)
      expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason).toBe('stop')
      const last = chunks.at(-1)!
      expect(last.choices).toEqual([])
      expect(last.usage).toMatchObject(DEFAULT_USAGE)

      const sent = lastRequest()
      expect(sent.body.stream).toBe(true)
      if (spec.forwardsStreamOptions) expect(sent.body.stream_options).toEqual({ include_usage: true })
      else expect(sent.body).not.toHaveProperty('stream_options')
    })

    it('sends every streamed chunk in the shape of OpenAI\'s published stream schema', async () => {
      const res = await post('/v1/chat/completions', { model: 'chat', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] })
      expect(res.status).toBe(200)
      const frames = await sseFrames(res)
      expect(frames.length).toBeGreaterThan(3)
      for (const frame of frames) expectOpenAISchema('CreateChatCompletionStreamResponse', frame)
    })

    it('sends no usage chunk when the client did not ask for one', async () => {
      const stream = await setup.client.chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'Say hello.' }] })
      const chunks: ChatCompletionChunk[] = []
      for await (const chunk of stream) chunks.push(chunk)
      expect(chunks.length).toBeGreaterThan(2)
      expect(chunks.every((c) => c.choices.length > 0)).toBe(true)
    })

    it('forwards the first chunk while the upstream is still generating (no buffering)', async () => {
      let release!: () => void
      const held = new Promise<void>((resolve) => { release = resolve })
      setup.upstream.handle(answer({ content: 'one two three' }, { afterFirst: held }))
      try {
        const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('first chunk not forwarded while the upstream was held')), 3000))
        const stream = await Promise.race([setup.client.chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'count' }] }), timeout])
        const iterator = stream[Symbol.asyncIterator]()
        const first = await Promise.race([iterator.next(), timeout])
        expect(first.done).toBe(false)
        expect(first.value?.choices[0].delta.role).toBe('assistant')
        release()
        let text = ''
        for (let next = await iterator.next(); !next.done; next = await iterator.next()) text += next.value.choices[0]?.delta?.content ?? ''
        expect(text).toBe('one two three')
      } finally {
        release()
      }
    })

    it('keeps a character whose UTF-8 bytes the upstream splits across two chunks intact', async () => {
      const content = 'déjà vu 😀 ok'
      const text = dialect.streamFrames(spec.chatModel, { content }, false)
        .map((frame) => ('comment' in frame ? `: ${frame.comment}\n\n` : `data: ${typeof frame.data === 'string' ? frame.data : JSON.stringify(frame.data)}\n\n`)).join('')
      const bytes = Buffer.from(text)
      // Inside the emoji's four bytes: the first chunk ends on a partial character.
      const cut = bytes.indexOf(Buffer.from('😀')) + 2
      setup.upstream.handle(async (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        res.write(bytes.subarray(0, cut))
        await new Promise((r) => setTimeout(r, 30))
        res.end(bytes.subarray(cut))
      })
      const stream = await setup.client.chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'hi' }] })
      let received = ''
      for await (const chunk of stream) received += chunk.choices[0]?.delta?.content ?? ''
      expect(received).toBe(content)
    })

    it('passes tools, tool_choice, parallel_tool_calls and tool-call history through, and returns the tool call', async () => {
      setup.upstream.handle(answer({ toolCalls: [{ id: 'call_Wd4Yx1', name: 'get_weather', pieces: TOOL_ARGUMENTS }] }))
      const messages: ChatCompletionMessageParam[] = [
        { role: 'system', content: 'Use tools.' },
        { role: 'user', content: 'Weather in Rome?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_prev', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } }] },
        { role: 'tool', tool_call_id: 'call_prev', content: '{"temp":21}' },
        { role: 'user', content: 'And in Paris?' },
      ]
      const res = await chat({ messages, tools: [WEATHER_TOOL], tool_choice: 'auto', parallel_tool_calls: false })

      const call = res.choices[0].message.tool_calls?.[0]
      expect(res.choices[0].finish_reason).toBe('tool_calls')
      expect(call).toMatchObject({ id: 'call_Wd4Yx1', type: 'function', function: { name: 'get_weather' } })
      expect(JSON.parse((call as { function: { arguments: string } }).function.arguments)).toEqual({ city: 'Paris', unit: 'celsius' })
      expectOpenAISchema('CreateChatCompletionResponse', res)
      expect(lastRequest().body).toMatchObject({ messages, tools: [WEATHER_TOOL], tool_choice: 'auto', parallel_tool_calls: false })
    })

    it('streams a tool call whose arguments arrive in pieces, which the client reassembles', async () => {
      setup.upstream.handle(answer({ toolCalls: [{ id: 'call_Wd4Yx1', name: 'get_weather', pieces: TOOL_ARGUMENTS }] }))
      let argumentPieces = 0
      const runner = setup.client.chat.completions.stream({ model: 'chat', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [WEATHER_TOOL] })
      runner.on('chunk', (chunk) => { if (chunk.choices[0]?.delta?.tool_calls?.[0]?.function?.arguments) argumentPieces++ })
      const final = await runner.finalChatCompletion()

      expect(argumentPieces).toBe(TOOL_ARGUMENTS.length)
      const call = final.choices[0].message.tool_calls?.[0] as { id: string; function: { name: string; arguments: string } }
      expect(call.id).toBe('call_Wd4Yx1')
      expect(call.function.name).toBe('get_weather')
      expect(call.function.arguments).toBe(TOOL_ARGUMENTS.join(''))
      expect(final.choices[0].finish_reason).toBe('tool_calls')
      expect(lastRequest().body.tools).toEqual([WEATHER_TOOL])
    })

    it('delivers image inputs (a URL and a base64 data URL) to the upstream intact', async () => {
      const dataUrl = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='
      const messages: ChatCompletionMessageParam[] = [{
        role: 'user',
        content: [
          { type: 'text', text: 'What is in these images?' },
          { type: 'image_url', image_url: { url: 'https://upload.example.com/cat.jpg', detail: 'high' } },
          { type: 'image_url', image_url: { url: dataUrl } },
        ],
      }]
      await chat({ messages })
      expect(lastRequest().body.messages).toEqual(messages)
    })

    it('passes JSON mode through and returns the JSON answer', async () => {
      setup.upstream.handle(answer({ content: '{"greeting":"hello"}' }))
      const res = await chat({ messages: [{ role: 'user', content: 'Greet in JSON.' }], response_format: { type: 'json_object' } })
      expect(JSON.parse(res.choices[0].message.content!)).toEqual({ greeting: 'hello' })
      expect(lastRequest().body.response_format).toEqual({ type: 'json_object' })
    })

    it('passes a json_schema response format through unchanged', async () => {
      setup.upstream.handle(answer({ content: '{"city":"Paris","temp":18}' }))
      const responseFormat = {
        type: 'json_schema' as const,
        json_schema: { name: 'weather', strict: true, schema: { type: 'object', properties: { city: { type: 'string' }, temp: { type: 'number' } }, required: ['city', 'temp'], additionalProperties: false } },
      }
      const res = await chat({ messages: [{ role: 'user', content: 'Weather?' }], response_format: responseFormat })
      expect(JSON.parse(res.choices[0].message.content!)).toEqual({ city: 'Paris', temp: 18 })
      expect(lastRequest().body.response_format).toEqual(responseFormat)
    })

    if (spec.embeddingModel) {
      const vectors = [[0.5, -0.25, 0.125], [1, 0, -1]]
      const embeddingsHandler: UpstreamHandler = (req, res) => {
        sendJson(res, 200, dialect.embeddings(String(req.body.model), vectors, req.body.encoding_format === 'base64' ? 'base64' : 'float'))
      }

      it('returns float embeddings and sends the upstream the input and encoding', async () => {
        setup.upstream.handle(embeddingsHandler)
        const res = await setup.client.embeddings.create({ model: 'embed', input: ['first', 'second'], encoding_format: 'float' })
        expect(res.data.map((d) => d.embedding)).toEqual(vectors)
        expectOpenAISchema('CreateEmbeddingResponse', res)
        const sent = lastRequest()
        expect(sent.path).toBe(spec.path('embeddings', spec.embeddingModel))
        spec.expectAuth(sent)
        expect(sent.body).toMatchObject({ model: spec.embeddingModel, input: ['first', 'second'], encoding_format: 'float' })
      })

      it('returns base64 embeddings as the upstream encoded them', async () => {
        setup.upstream.handle(embeddingsHandler)
        const res = await setup.client.embeddings.create({ model: 'embed', input: 'first', encoding_format: 'base64' })
        expect(typeof res.data[0].embedding).toBe('string')
        expect(fromBase64(res.data[0].embedding as unknown as string)).toEqual(vectors[0])
        expect(lastRequest().body.encoding_format).toBe('base64')
      })

      it('asks the upstream for floats when the request names no encoding', async () => {
        setup.upstream.handle(embeddingsHandler)
        const res = await post('/v1/embeddings', { model: 'embed', input: 'first' })
        expect((await res.json()).data[0].embedding).toEqual(vectors[0])
        expect(lastRequest().body.encoding_format).toBe('float')
      })
    }

    it('lists the upstream\'s models in OpenAI\'s model shape', async () => {
      const provider = setup.gw.controller.current.providers.get('up')!
      const models = await provider.listModels!()
      expect(models.length).toBeGreaterThan(0)
      for (const model of models) expectOpenAISchema('Model', model)
      const listed = (dialect.models().data as Array<{ id: string }>).map((m) => m.id)
      expect(models.map((m) => m.id)).toEqual(listed)
      expect(lastRequest().path).toBe(spec.path('models'))
      spec.expectAuth(lastRequest())
    })

    describe('upstream errors come back in OpenAI\'s error shape, with the upstream\'s message', () => {
      const cases: Array<{ upstream: number; gateway: number; type: string }> = [
        { upstream: 400, gateway: 400, type: 'invalid_request_error' },
        // The gateway's own credentials refused: a 502 that says so, not the client's 401/403.
        { upstream: 401, gateway: 502, type: 'upstream_error' },
        { upstream: 403, gateway: 502, type: 'upstream_error' },
        { upstream: 404, gateway: 404, type: 'not_found_error' },
        { upstream: 413, gateway: 413, type: 'invalid_request_error' },
        { upstream: 429, gateway: 429, type: 'rate_limit_error' },
        { upstream: 500, gateway: 502, type: 'upstream_error' },
        { upstream: 503, gateway: 503, type: 'service_unavailable' },
      ]
      it.each(cases)('upstream $upstream becomes $gateway ($type)', async ({ upstream: status, gateway, type }) => {
        const message = `upstream says ${status}: the model is unhappy`
        setup.upstream.handle((_req, res) => sendJson(res, status, dialect.errorBody(status, message), status === 429 ? { 'retry-after': '7' } : {}))
        const err = await chat({ messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)

        expect(err).toBeInstanceOf(OpenAI.APIError)
        const apiError = err as InstanceType<typeof OpenAI.APIError>
        expect(apiError.status).toBe(gateway)
        expect(apiError.type).toBe(type)
        expect((apiError.error as { message: string }).message).toContain(message)
        expectOpenAISchema('ErrorResponse', { error: apiError.error })
        if (status === 429) expect(apiError.headers?.get('retry-after')).toBe('7')
        // One attempt: the SDK's own retries are off, the gateway owns retries.
        expect(setup.upstream.requests.length).toBe(1)
      })
    })

    it('never echoes the provider key back in an error message', async () => {
      setup.upstream.handle((_req, res) => sendJson(res, 401, dialect.errorBody(401, `Incorrect API key provided: ${TEST_API_KEY}.`)))
      const err = (await chat({ messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>
      expect(err.status).toBe(502)
      expect(err.error).toMatchObject({ code: 'upstream_auth_failed' })
      expect(err.message).not.toContain(TEST_API_KEY)
      expect(err.message).toContain('[redacted]')
    })

    it('answers 504 when the upstream does not answer within the provider\'s timeout_ms', async () => {
      setup.upstream.handle(async (req, res) => {
        await new Promise((r) => setTimeout(r, 2000))
        if (!res.destroyed) sendJson(res, 200, dialect.completion(String(req.body.model), { content: 'too late' }))
      })
      const started = Date.now()
      const err = (await chat({ messages: [{ role: 'user', content: 'hi' }] }, 'chat-slow').catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>
      expect(err.status).toBe(504)
      expect(err.type).toBe('timeout_error')
      expect(Date.now() - started).toBeLessThan(1800)
    })

    it('answers 502 when the upstream refuses the connection', async () => {
      const err = (await chat({ messages: [{ role: 'user', content: 'hi' }] }, 'chat-dead').catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>
      expect(err.status).toBe(502)
      expect(err.type).toBe('upstream_error')
      expect(err.message).toContain('ECONNREFUSED')
    })

    it('ends a stream cut short by the route\'s timeout with an error event, not a clean finish', async () => {
      setup.upstream.handle(answer({ content: 'a long story that never ends' }, { afterFirst: new Promise((r) => setTimeout(r, 3000)) }))
      const received: ChatCompletionChunk[] = []
      const err = await (async () => {
        const stream = await setup.client.chat.completions.create({ model: 'chat-deadline', stream: true, messages: [{ role: 'user', content: 'tell me' }] })
        for await (const chunk of stream) received.push(chunk)
      })().catch((e: unknown) => e)
      expect(received.every((c) => !c.choices[0]?.finish_reason)).toBe(true)
      expect(err).toBeInstanceOf(OpenAI.APIError)
      expect((err as Error).message).toMatch(/timed out/)
    })

    it('ends a stream whose upstream connection drops mid-answer with an error event, not a clean finish', async () => {
      const frames = dialect.streamFrames(spec.chatModel, { content: 'half of an answer' }, false)
      setup.upstream.handle(async (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        for (const frame of frames.slice(0, 3)) res.write('comment' in frame ? `: ${frame.comment}\n\n` : `data: ${JSON.stringify(frame.data)}\n\n`)
        await new Promise((r) => setTimeout(r, 50))
        res.socket?.destroy()
      })
      const received: ChatCompletionChunk[] = []
      const err = await (async () => {
        const stream = await setup.client.chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'hi' }] })
        for await (const chunk of stream) received.push(chunk)
      })().catch((e: unknown) => e)
      expect(received.length).toBeGreaterThan(0)
      expect(received.every((c) => !c.choices[0]?.finish_reason)).toBe(true)
      expect(err).toBeInstanceOf(OpenAI.APIError)
    })

    it('relays an error the upstream sends mid-stream, with its message', async () => {
      const frames = dialect.streamFrames(spec.chatModel, { content: 'partial answer' }, false).slice(0, 2)
      setup.upstream.handle(answer({ content: '' }, { frames: [...frames, { data: dialect.midStreamError(spec.chatModel, 'the model fell over') }] }))
      const stream = await setup.client.chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'hi' }] })
      const err = await (async () => { for await (const _chunk of stream) { /* drain */ } })().catch((e: unknown) => e)
      expect(err).toBeInstanceOf(OpenAI.APIError)
      expect((err as Error).message).toContain('the model fell over')
    })
  })
}
