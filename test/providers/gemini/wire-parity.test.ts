/**
 * The gateway speaks Gemini's REST wire itself (the kit's pooled client); @google/genai is the
 * reference for what a request carries. For requests that use every part of the translation
 * (system prompt, tools and tool choice, a JSON schema, sampling, thinking, an image, a tool
 * round trip), the body and key header the upstream receives from the gateway equal what the SDK
 * sends for the same parameters, and so do a stream's and embeddings'.
 */
import { GoogleGenAI } from '@google/genai'
import type OpenAI from 'openai'
import { beforeEach, describe, expect, it } from 'vitest'
import { providerSuite } from '../../helpers/provider-suite.ts'
import { sendJson } from '../../helpers/upstream.ts'
import { API_KEY, MODEL, embedPath, EMBEDDING_MODEL, gatewayConfig, generatePath, generateResponse, sendGeminiStream, startGeminiUpstream, streamPath } from './gemini-upstream.ts'

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=='

describe('gemini: the wire the gateway writes is the one @google/genai writes', () => {
  const suite = providerSuite(startGeminiUpstream, gatewayConfig)
  const sdk = () => new GoogleGenAI({ apiKey: API_KEY, vertexai: false, httpOptions: { baseUrl: suite.upstream.url } })
  beforeEach(() => {
    suite.upstream.requests.length = 0
    suite.upstream.route(generatePath(), (_req, res) => sendJson(res, 200, generateResponse([{ text: 'ok' }])))
    suite.upstream.route(embedPath(), (req, res) => sendJson(res, 200, { embeddings: (req.body.requests as unknown[]).map(() => ({ values: [0.1, 0.2] })) }))
  })

  const requests: Array<[string, OpenAI.ChatCompletionCreateParamsNonStreaming]> = [
    ['a plain question', { model: 'chat', messages: [{ role: 'user', content: 'Hi' }] }],
    ['system prompt, sampling, stop and thinking', {
      model: 'chat', temperature: 0.3, top_p: 0.9, max_tokens: 50, stop: 'END', seed: 7, presence_penalty: 0.1, frequency_penalty: 0.2, reasoning_effort: 'low',
      messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'Hi' }],
    }],
    ['tools, a forced choice and a JSON schema', {
      model: 'chat',
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      response_format: { type: 'json_schema', json_schema: { name: 'w', schema: { type: 'object', properties: { t: { type: 'number' } } } } },
      messages: [{ role: 'user', content: 'Weather?' }],
    }],
    ['an image and a tool round trip', {
      model: 'chat',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'What is it?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'look', arguments: '{"x":1}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '{"seen":"a pixel"}' },
      ],
    }],
  ]

  it.each(requests)('%s', async (_name, request) => {
    await suite.client.chat.completions.create(request)
    const byGateway = suite.upstream.requests.at(-1)!
    // The same parameters as the SDK takes them: everything but the contents in its `config`.
    const { contents, generationConfig, ...rest } = byGateway.body as Record<string, Record<string, unknown>>
    await sdk().models.generateContent({ model: MODEL, contents: contents as never, config: { ...generationConfig, ...rest } })
    const bySdk = suite.upstream.requests.at(-1)!
    expect(byGateway.path).toBe(bySdk.path)
    expect(byGateway.body).toEqual(bySdk.body)
    expect(byGateway.headers['x-goog-api-key']).toBe(bySdk.headers['x-goog-api-key'])
    expect(byGateway.headers['content-type']).toBe(bySdk.headers['content-type'])
  })

  it('a stream: streamGenerateContent with alt=sse, the same body', async () => {
    suite.upstream.route(streamPath(), (_req, res) => sendGeminiStream(res, [generateResponse([{ text: 'ok' }])]))
    const request = requests[1][1]
    const stream = await suite.client.chat.completions.create({ ...request, stream: true })
    for await (const _chunk of stream) { /* read to the end */ }
    const byGateway = suite.upstream.requests.at(-1)!
    const { contents, generationConfig, ...rest } = byGateway.body as Record<string, Record<string, unknown>>
    for await (const _chunk of await sdk().models.generateContentStream({ model: MODEL, contents: contents as never, config: { ...generationConfig, ...rest } })) { /* read to the end */ }
    const bySdk = suite.upstream.requests.at(-1)!
    expect(byGateway.path).toBe(bySdk.path)
    expect(byGateway.query.get('alt')).toBe(bySdk.query.get('alt'))
    expect(byGateway.body).toEqual(bySdk.body)
  })

  it('embeddings: batchEmbedContents with one request per text', async () => {
    await suite.client.embeddings.create({ model: 'embed', input: ['one', 'two'], dimensions: 8 })
    const byGateway = suite.upstream.requests.at(-1)!
    await sdk().models.embedContent({ model: EMBEDDING_MODEL, contents: [{ parts: [{ text: 'one' }] }, { parts: [{ text: 'two' }] }], config: { outputDimensionality: 8 } })
    const bySdk = suite.upstream.requests.at(-1)!
    expect(byGateway.path).toBe(bySdk.path)
    expect(byGateway.body).toEqual(bySdk.body)
  })
})
