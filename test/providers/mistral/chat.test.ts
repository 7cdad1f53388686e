import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { Mistral } from '@mistralai/mistralai'
import { postJson, startTestGateway, type RunningGateway } from '../../helpers/gateway.ts'
import { expectOpenAISchema } from '../../helpers/openai-schema.ts'
import { sendJson } from '../../helpers/upstream.ts'
import { API_KEY, CHAT_PATH, MODEL, completion, gatewayConfig, sendMistralStream, startMistralUpstream, streamChunk } from './mistral-upstream.ts'

describe('mistral: chat completions', () => {
  let upstream: Awaited<ReturnType<typeof startMistralUpstream>>
  let gw: RunningGateway
  let client: OpenAI
  beforeAll(async () => {
    upstream = await startMistralUpstream()
    // base_url written OpenAI-style, with /v1: the plugin must not double it.
    gw = await startTestGateway(gatewayConfig(`${upstream.url}/v1`))
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 })
  })
  afterAll(async () => {
    await gw.close()
    await upstream.close()
  })
  beforeEach(() => {
    upstream.requests.length = 0
    upstream.route(CHAT_PATH, (_req, res) => sendJson(res, 200, completion({ content: 'Bonjour !' })))
  })
  const lastBody = () => upstream.requests.at(-1)!.body

  it('writes the request the official SDK writes: its path, body, key and content type', async () => {
    // The gateway sends over the kit's client, the body written by the SDK's own schema; the SDK's client is the reference.
    const sdk = new Mistral({ apiKey: API_KEY, serverURL: upstream.url, retryConfig: { strategy: 'none' } })
    await sdk.chat.complete({ model: MODEL, maxTokens: 20, temperature: 0.2, messages: [{ role: 'system', content: 'Terse.' }, { role: 'user', content: 'Hi' }] })
    const bySdk = upstream.requests.at(-1)!
    await client.chat.completions.create({ model: 'chat', max_tokens: 20, temperature: 0.2, messages: [{ role: 'system', content: 'Terse.' }, { role: 'user', content: 'Hi' }] })
    const byGateway = upstream.requests.at(-1)!
    expect(byGateway.path).toBe(bySdk.path)
    expect(byGateway.body).toEqual(bySdk.body)
    for (const name of ['authorization', 'content-type', 'accept']) expect([name, byGateway.headers[name]]).toEqual([name, bySdk.headers[name]])
  })

  it('writes every parameter and kind of message it translates as the official SDK writes them', async () => {
    // The gateway writes Mistral's wire itself (typed by the SDK's wire types); the SDK, given the
    // same request in its own (camelCase) terms, is the reference for the body.
    const sdk = new Mistral({ apiKey: API_KEY, serverURL: upstream.url, retryConfig: { strategy: 'none' } })
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }
    await sdk.chat.complete({
      model: MODEL, temperature: 0.3, topP: 0.9, maxTokens: 50, stop: ['END'], randomSeed: 7, n: 1,
      presencePenalty: 0.1, frequencyPenalty: 0.2, parallelToolCalls: false, metadata: { team: 'a' }, promptCacheKey: 'k1',
      serviceTier: 'auto', reasoningEffort: 'high', prediction: { type: 'content', content: 'Paris' }, safePrompt: true,
      responseFormat: { type: 'json_schema', jsonSchema: { name: 'city', description: 'A city', schemaDefinition: schema, strict: true } },
      tools: [{ type: 'function', function: { name: 'weather', description: 'Weather in a city', parameters: schema, strict: true } }],
      toolChoice: { type: 'function', function: { name: 'weather' } },
      messages: [
        { role: 'system', content: 'Terse.' },
        { role: 'user', content: [{ type: 'text', text: 'Look:' }, { type: 'image_url', imageUrl: { url: 'https://example.com/a.png', detail: 'low' } }, { type: 'input_audio', inputAudio: 'UklGRg==' }] },
        { role: 'assistant', content: null, toolCalls: [{ id: 'abcDEF123', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' }, index: 0 }] },
        { role: 'tool', content: 'Sunny', toolCallId: 'abcDEF123', name: 'weather' },
        { role: 'user', content: 'And tomorrow?' },
      ],
    })
    const bySdk = upstream.requests.at(-1)!
    await client.chat.completions.create({
      model: 'chat', temperature: 0.3, top_p: 0.9, max_completion_tokens: 50, stop: ['END'], seed: 7, n: 1,
      presence_penalty: 0.1, frequency_penalty: 0.2, parallel_tool_calls: false, metadata: { team: 'a' }, prompt_cache_key: 'k1',
      service_tier: 'auto', reasoning_effort: 'high', prediction: { type: 'content', content: 'Paris' },
      response_format: { type: 'json_schema', json_schema: { name: 'city', description: 'A city', schema, strict: true } },
      tools: [{ type: 'function', function: { name: 'weather', description: 'Weather in a city', parameters: schema, strict: true } }],
      tool_choice: { type: 'function', function: { name: 'weather' } },
      messages: [
        { role: 'developer', content: 'Terse.' },
        { role: 'user', content: [{ type: 'text', text: 'Look:' }, { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'low' } }, { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'abcDEF123', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', content: 'Sunny', tool_call_id: 'abcDEF123' },
        { role: 'user', content: 'And tomorrow?' },
      ],
      // Mistral's own field, as an OpenAI client sends it.
      ...{ safe_prompt: true },
    })
    expect(upstream.requests.at(-1)!.body).toEqual(bySdk.body)
  })

  it('reads a choice without a message as an empty answer, as the SDK\'s schema does', async () => {
    upstream.route(CHAT_PATH, (_req, res) => sendJson(res, 200, completion({ content: null }, { choices: [{ index: 0, finish_reason: 'stop' }] })))
    const answer = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'Hi' }] })
    expect(answer.choices[0]).toMatchObject({ index: 0, message: { role: 'assistant', content: '' }, finish_reason: 'stop' })
  })

  it('writes a stream request as the official SDK writes it: the body with stream, and accept text/event-stream', async () => {
    upstream.route(CHAT_PATH, (_req, res) => sendMistralStream(res, [streamChunk({ role: 'assistant', content: 'ok' }, { finishReason: 'stop' })]))
    const sdk = new Mistral({ apiKey: API_KEY, serverURL: upstream.url, retryConfig: { strategy: 'none' } })
    for await (const _event of await sdk.chat.stream({ model: MODEL, maxTokens: 20, messages: [{ role: 'user', content: 'Hi' }] })) { /* read to the end */ }
    const bySdk = upstream.requests.at(-1)!
    for await (const _chunk of await client.chat.completions.create({ model: 'chat', max_tokens: 20, stream: true, messages: [{ role: 'user', content: 'Hi' }] })) { /* read to the end */ }
    const byGateway = upstream.requests.at(-1)!
    expect(byGateway.path).toBe(bySdk.path)
    expect(byGateway.body).toEqual(bySdk.body)
    for (const name of ['authorization', 'content-type', 'accept']) expect([name, byGateway.headers[name]]).toEqual([name, bySdk.headers[name]])
  })

  it('sends the conversation to /v1/chat/completions with developer messages as system messages', async () => {
    await client.chat.completions.create({
      model: 'chat',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: 'Hi!' },
        { role: 'user', content: 'How are you?' },
      ],
    })
    const req = upstream.requests.at(-1)!
    expect(req.path).toBe(CHAT_PATH)
    expect(req.headers.authorization).toBe(`Bearer ${API_KEY}`)
    expect(req.body).toEqual({
      model: MODEL,
      stream: false,
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'system', content: 'Answer in French.' },
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: 'Hi!', prefix: false },
        { role: 'user', content: 'How are you?' },
      ],
    })
  })

  it('maps sampling parameters to Mistral\'s names (seed is random_seed)', async () => {
    await client.chat.completions.create({
      model: 'chat', messages: [{ role: 'user', content: 'Hi' }],
      temperature: 0.3, top_p: 0.9, max_completion_tokens: 200, stop: ['END'], seed: 42, n: 2, presence_penalty: 0.5, frequency_penalty: 0.25,
      reasoning_effort: 'high', prompt_cache_key: 'session-42', prediction: { type: 'content', content: 'draft' },
    })
    expect(lastBody()).toMatchObject({
      temperature: 0.3, top_p: 0.9, max_tokens: 200, stop: ['END'], random_seed: 42, n: 2, presence_penalty: 0.5, frequency_penalty: 0.25,
      reasoning_effort: 'high', prompt_cache_key: 'session-42', prediction: { type: 'content', content: 'draft' },
    })
    expect(lastBody()).not.toHaveProperty('seed')
    expect(lastBody()).not.toHaveProperty('max_completion_tokens')
  })

  it('answers in OpenAI\'s shape with Mistral\'s usage, cached prompt tokens included', async () => {
    upstream.route(CHAT_PATH, (_req, res) => sendJson(res, 200, completion(
      { content: [{ type: 'thinking', thinking: [{ type: 'text', text: 'hmm' }] }, { type: 'text', text: 'Bonjour' }, { type: 'text', text: ' !' }] },
      { usage: { prompt_tokens: 120, completion_tokens: 4, total_tokens: 124, prompt_tokens_details: { cached_tokens: 64 } } },
    )))
    const { data, response } = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'Salut' }] }).withResponse()
    expect(data).toMatchObject({ id: 'cmpl-0123456789abcdef0123456789abcdef', object: 'chat.completion', created: 1_750_000_000, model: MODEL })
    // The thinking chunk is the model's notes, not its answer: reasoning_content (test/providers/mistral/thinking.test.ts).
    expect(data.choices).toEqual([{ index: 0, message: { role: 'assistant', content: 'Bonjour !', refusal: null, reasoning_content: 'hmm' }, finish_reason: 'stop', logprobs: null }])
    expect(data.usage).toEqual({ prompt_tokens: 120, completion_tokens: 4, total_tokens: 124, prompt_tokens_details: { cached_tokens: 64 } })
    expect(response.headers.get('x-gateway-provider')).toBe('mistral')
    expectOpenAISchema('CreateChatCompletionResponse', data)
  })

  it.each([['stop', 'stop'], ['length', 'length'], ['model_length', 'length'], ['tool_calls', 'tool_calls']])('maps finish reason %s to %s', async (mistral, openai) => {
    upstream.route(CHAT_PATH, (_req, res) => sendJson(res, 200, completion({ content: 'x' }, { finishReason: mistral })))
    const res = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'Hi' }] })
    expect(res.choices[0].finish_reason).toBe(openai)
  })

  it('reports a generation that stopped with finish reason "error" as a 502', async () => {
    upstream.route(CHAT_PATH, (_req, res) => sendJson(res, 200, completion({ content: 'partial' }, { finishReason: 'error' })))
    const res = await postJson(`${gw.url}/v1/chat/completions`, { model: 'chat', messages: [{ role: 'user', content: 'Hi' }] })
    expect(res.status).toBe(502)
    expect(res.body.error.message).toBe('mistral: the model stopped with an error')
  })

  it('asks for JSON with json_object, and for a schema with json_schema', async () => {
    await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'JSON please' }], response_format: { type: 'json_object' } })
    expect(lastBody().response_format).toEqual({ type: 'json_object' })
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false }
    upstream.route(CHAT_PATH, (_req, res) => sendJson(res, 200, completion({ content: '{"city":"Paris"}' })))
    const res = await client.chat.completions.create({
      model: 'chat', messages: [{ role: 'user', content: 'Where?' }],
      response_format: { type: 'json_schema', json_schema: { name: 'place', description: 'A place', schema, strict: true } },
    })
    expect(lastBody().response_format).toEqual({ type: 'json_schema', json_schema: { name: 'place', description: 'A place', schema, strict: true } })
    expect(JSON.parse(res.choices[0].message.content!)).toEqual({ city: 'Paris' })
  })

  it('passes images through as image_url chunks, by URL or as a data URL, with their detail', async () => {
    const dataUrl = 'data:image/png;base64,iVBORw0KGgo='
    await client.chat.completions.create({
      model: 'chat',
      messages: [{
        role: 'user',
        content: [
          { type: 'text', text: 'Compare' },
          { type: 'image_url', image_url: { url: 'https://example.com/a.jpg', detail: 'high' } },
          { type: 'image_url', image_url: { url: dataUrl } },
        ],
      }],
    })
    expect(lastBody().messages[0]).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'Compare' },
        { type: 'image_url', image_url: { url: 'https://example.com/a.jpg', detail: 'high' } },
        { type: 'image_url', image_url: { url: dataUrl } },
      ],
    })
  })

  it('sends safe_prompt when the provider block asks for it, or the request does', async () => {
    const safe = await startTestGateway(gatewayConfig(upstream.url, { extra: ', safe_prompt: true' }))
    try {
      await postJson(`${safe.url}/v1/chat/completions`, { model: 'chat', messages: [{ role: 'user', content: 'Hi' }] })
      expect(lastBody().safe_prompt).toBe(true)
      await postJson(`${safe.url}/v1/chat/completions`, { model: 'chat', safe_prompt: false, messages: [{ role: 'user', content: 'Hi' }] })
      expect(lastBody()).not.toHaveProperty('safe_prompt')
    } finally {
      await safe.close()
    }
    await postJson(`${gw.url}/v1/chat/completions`, { model: 'chat', safe_prompt: true, messages: [{ role: 'user', content: 'Hi' }] })
    expect(lastBody().safe_prompt).toBe(true)
  })

  it('sends a target\'s extra headers with the call', async () => {
    const withHeaders = await startTestGateway(`
version: 1
providers:
  mistral: { plugin: mistral, api_key: ${API_KEY}, base_url: '${upstream.url}', headers: { x-team: research } }
routes:
  - model: chat
    targets: [ { provider: mistral, model: ${MODEL}, headers: { x-trace: abc123 } } ]
`)
    try {
      await postJson(`${withHeaders.url}/v1/chat/completions`, { model: 'chat', messages: [{ role: 'user', content: 'Hi' }] })
      expect(upstream.requests.at(-1)!.headers).toMatchObject({ 'x-trace': 'abc123', 'x-team': 'research', authorization: `Bearer ${API_KEY}` })
    } finally {
      await withHeaders.close()
    }
  })

  it('drops a parameter Mistral cannot honour with an x-gateway-warning, and rejects it on a strict route', async () => {
    const { response } = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'Hi' }], logprobs: true, user: 'u-1' }).withResponse()
    expect(lastBody()).not.toHaveProperty('logprobs')
    expect(lastBody()).not.toHaveProperty('user')
    expect(response.headers.get('x-gateway-warning')).toMatch(/'logprobs'.*'user'/)
    upstream.requests.length = 0
    const err = await client.chat.completions.create({ model: 'chat-strict', messages: [{ role: 'user', content: 'Hi' }], logprobs: true }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.BadRequestError)
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ code: 'unsupported_parameter', param: 'logprobs' })
    expect(upstream.requests).toHaveLength(0)
  })
})
