import { beforeEach, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { postJson, startTestGateway } from '../../helpers/gateway.ts'
import { providerSuite } from '../../helpers/provider-suite.ts'
import { expectOpenAISchema } from '../../helpers/openai-schema.ts'
import { sendJson } from '../../helpers/upstream.ts'
import { API_KEY, MODEL, gatewayConfig, generatePath, generateResponse, startGeminiUpstream } from './gemini-upstream.ts'

describe('gemini: chat completions through generateContent', () => {
  const suite = providerSuite(startGeminiUpstream, gatewayConfig)
  beforeEach(() => {
    suite.upstream.requests.length = 0
    suite.upstream.route(generatePath(), (_req, res) => sendJson(res, 200, generateResponse([{ text: 'Bonjour !' }])))
  })
  const lastBody = () => suite.upstream.requests.at(-1)!.body

  it('sends system and developer messages as systemInstruction and the history as user/model turns', async () => {
    await suite.client.chat.completions.create({
      model: 'chat',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: 'Hi!' },
        { role: 'user', content: [{ type: 'text', text: 'How are ' }, { type: 'text', text: 'you?' }] },
      ],
    })
    const req = suite.upstream.requests.at(-1)!
    expect(req.method).toBe('POST')
    expect(req.path).toBe(generatePath())
    expect(req.headers['x-goog-api-key']).toBe(API_KEY)
    expect(req.body.systemInstruction).toEqual({ parts: [{ text: 'You are terse.' }, { text: 'Answer in French.' }] })
    expect(req.body.contents).toEqual([
      { role: 'user', parts: [{ text: 'Hello' }] },
      { role: 'model', parts: [{ text: 'Hi!' }] },
      { role: 'user', parts: [{ text: 'How are ' }, { text: 'you?' }] },
    ])
  })

  it('maps sampling parameters into generationConfig', async () => {
    await suite.client.chat.completions.create({
      model: 'chat',
      messages: [{ role: 'user', content: 'Hi' }],
      temperature: 0.3, top_p: 0.9, max_completion_tokens: 200, stop: 'END', seed: 42, presence_penalty: 0.5, frequency_penalty: 0.25,
    })
    expect(lastBody().generationConfig).toEqual({
      temperature: 0.3, topP: 0.9, maxOutputTokens: 200, stopSequences: ['END'], seed: 42, presencePenalty: 0.5, frequencyPenalty: 0.25,
    })
  })

  it('takes max_tokens when max_completion_tokens is absent', async () => {
    await suite.client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 64, stop: ['a', 'b'] })
    expect(lastBody().generationConfig).toEqual({ maxOutputTokens: 64, stopSequences: ['a', 'b'] })
  })

  it('answers in OpenAI\'s shape, with usage counting thinking and cached tokens', async () => {
    suite.upstream.route(generatePath(), (_req, res) => sendJson(res, 200, generateResponse(
      [{ text: 'thinking about it', thought: true }, { text: 'Bonjour' }, { text: ' !' }],
      { usage: { promptTokenCount: 12, candidatesTokenCount: 4, thoughtsTokenCount: 6, cachedContentTokenCount: 8, totalTokenCount: 22 }, modelVersion: 'gemini-2.5-flash-001' },
    )))
    const { data, response } = await suite.client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'Salut' }] }).withResponse()
    // The thought summary is the model's notes, not its answer: reasoning_content, as LiteLLM returns it.
    expect(data.choices).toEqual([{ index: 0, message: { role: 'assistant', content: 'Bonjour !', refusal: null, reasoning_content: 'thinking about it' }, finish_reason: 'stop', logprobs: null }])
    expect(data.model).toBe('gemini-2.5-flash-001')
    expect(data.usage).toEqual({
      prompt_tokens: 12, completion_tokens: 10, total_tokens: 22,
      prompt_tokens_details: { cached_tokens: 8 }, completion_tokens_details: { reasoning_tokens: 6 },
    })
    expect(response.headers.get('x-gateway-provider')).toBe('gemini')
    expect(response.headers.get('x-gateway-model')).toBe(MODEL)
    expect(response.headers.get('x-gateway-warning')).toBeNull()
    expectOpenAISchema('CreateChatCompletionResponse', data)
  })

  it.each([
    ['STOP', 'stop'], ['MAX_TOKENS', 'length'], ['SAFETY', 'content_filter'], ['RECITATION', 'content_filter'],
    ['PROHIBITED_CONTENT', 'content_filter'], ['BLOCKLIST', 'content_filter'], ['SPII', 'content_filter'], ['OTHER', 'stop'],
  ])('maps finish reason %s to %s', async (gemini, openai) => {
    suite.upstream.route(generatePath(), (_req, res) => sendJson(res, 200, generateResponse([{ text: 'x' }], { finishReason: gemini })))
    const res = await suite.client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'Hi' }] })
    expect(res.choices[0].finish_reason).toBe(openai)
  })

  it('reports a blocked prompt as a content_filter finish with no content', async () => {
    suite.upstream.route(generatePath(), (_req, res) => sendJson(res, 200, { promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 5, totalTokenCount: 5 }, modelVersion: MODEL }))
    const res = await suite.client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'something bad' }] })
    expect(res.choices).toEqual([{ index: 0, message: { role: 'assistant', content: null, refusal: null }, finish_reason: 'content_filter', logprobs: null }])
    expectOpenAISchema('CreateChatCompletionResponse', res)
  })

  it('asks for n candidates and answers one choice per candidate', async () => {
    suite.upstream.route(generatePath(), (_req, res) => sendJson(res, 200, generateResponse([], {
      candidates: [
        { content: { role: 'model', parts: [{ text: 'one' }] }, finishReason: 'STOP', index: 0 },
        { content: { role: 'model', parts: [{ text: 'two' }] }, finishReason: 'MAX_TOKENS', index: 1 },
      ],
    })))
    const res = await suite.client.chat.completions.create({ model: 'chat', n: 2, messages: [{ role: 'user', content: 'Hi' }] })
    expect(lastBody().generationConfig.candidateCount).toBe(2)
    expect(res.choices.map((c) => [c.index, c.message.content, c.finish_reason])).toEqual([[0, 'one', 'stop'], [1, 'two', 'length']])
  })

  it('asks for JSON with json_object, and for a schema with json_schema (as JSON Schema, unconverted)', async () => {
    await suite.client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'JSON please' }], response_format: { type: 'json_object' } })
    expect(lastBody().generationConfig).toEqual({ responseMimeType: 'application/json' })
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false }
    suite.upstream.route(generatePath(), (_req, res) => sendJson(res, 200, generateResponse([{ text: '{"city":"Paris"}' }])))
    const res = await suite.client.chat.completions.create({
      model: 'chat', messages: [{ role: 'user', content: 'Where?' }],
      response_format: { type: 'json_schema', json_schema: { name: 'place', schema, strict: true } },
    })
    expect(lastBody().generationConfig).toEqual({ responseMimeType: 'application/json', responseJsonSchema: schema })
    expect(JSON.parse(res.choices[0].message.content!)).toEqual({ city: 'Paris' })
  })

  it('maps reasoning_effort to a thinking budget on Gemini 2.5 (levels are Gemini 3\'s), asking for the thoughts', async () => {
    await suite.client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'Think' }], reasoning_effort: 'low' })
    expect(lastBody().generationConfig.thinkingConfig).toEqual({ thinkingBudget: 1024, includeThoughts: true })
  })

  it('drops a parameter Gemini cannot honour with an x-gateway-warning', async () => {
    const { response } = await suite.client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'Hi' }], logit_bias: { '50256': -100 }, user: 'u-1' }).withResponse()
    expect(lastBody().generationConfig).toEqual({})
    expect(JSON.stringify(lastBody())).not.toMatch(/50256|u-1/)
    const warning = response.headers.get('x-gateway-warning')
    expect(warning).toContain("'logit_bias'")
    expect(warning).toContain("'user'")
  })

  it('sends a target\'s extra headers with the call', async () => {
    const withHeaders = await startTestGateway(`
version: 1
providers:
  gemini: { plugin: gemini, api_key: ${API_KEY}, base_url: '${suite.upstream.url}' }
routes:
  - model: chat
    targets: [ { provider: gemini, model: ${MODEL}, headers: { x-trace: abc123 } } ]
`)
    try {
      await postJson(`${withHeaders.url}/v1/chat/completions`, { model: 'chat', messages: [{ role: 'user', content: 'Hi' }] })
      expect(suite.upstream.requests.at(-1)!.headers).toMatchObject({ 'x-trace': 'abc123', 'x-goog-api-key': API_KEY })
    } finally {
      await withHeaders.close()
    }
  })

  it('rejects a parameter Gemini cannot honour on a strict route, before calling upstream', async () => {
    const err = await suite.client.chat.completions.create({ model: 'chat-strict', messages: [{ role: 'user', content: 'Hi' }], logit_bias: { '1': 1 } }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.BadRequestError)
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ code: 'unsupported_parameter', param: 'logit_bias', type: 'invalid_request_error' })
    expect(suite.upstream.requests).toHaveLength(0)
  })
})
