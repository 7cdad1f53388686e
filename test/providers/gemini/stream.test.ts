import { beforeEach, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { providerSuite } from '../../helpers/provider-suite.ts'
import { expectOpenAISchema } from '../../helpers/openai-schema.ts'
import { MODEL, gatewayConfig, sendGeminiStream, startGeminiUpstream, streamPath } from './gemini-upstream.ts'

/** What streamGenerateContent sends for "Hello, world!": text in pieces, a running usage total, STOP last. */
const EVENTS = [
  { candidates: [{ content: { role: 'model', parts: [{ text: 'Hello' }] }, index: 0 }], usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 1, totalTokenCount: 6 }, modelVersion: MODEL, responseId: 'r1' },
  { candidates: [{ content: { role: 'model', parts: [{ text: ', world' }] }, index: 0 }], usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 3, totalTokenCount: 8 }, modelVersion: MODEL, responseId: 'r1' },
  { candidates: [{ content: { role: 'model', parts: [{ text: '!' }] }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 4, thoughtsTokenCount: 2, totalTokenCount: 11 }, modelVersion: MODEL, responseId: 'r1' },
]

describe('gemini: streamed chat completions through streamGenerateContent', () => {
  const suite = providerSuite(startGeminiUpstream, gatewayConfig)
  beforeEach(() => {
    suite.upstream.requests.length = 0
    suite.upstream.route(streamPath(), (_req, res) => sendGeminiStream(res, EVENTS))
  })

  it('streams the text as chunks and ends with the usage chunk when include_usage is set', async () => {
    const stream = await suite.client.chat.completions.create({
      model: 'chat', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Say hello' }],
    })
    const chunks = []
    for await (const chunk of stream) chunks.push(chunk)
    const req = suite.upstream.requests.at(-1)!
    expect(req.path).toBe(streamPath())
    expect(req.query.get('alt')).toBe('sse')
    expect(req.body.contents).toEqual([{ role: 'user', parts: [{ text: 'Say hello' }] }])
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? null)).toEqual(['Hello', ', world', '!', null])
    expect(chunks[0].choices[0].delta.role).toBe('assistant')
    expect(chunks.map((c) => c.choices[0]?.finish_reason ?? null)).toEqual([null, null, 'stop', null])
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 6, total_tokens: 11, completion_tokens_details: { reasoning_tokens: 2 } } })
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1)
    for (const chunk of chunks) expectOpenAISchema('CreateChatCompletionStreamResponse', chunk)
  })

  it('sends no usage chunk when include_usage is not asked for', async () => {
    const stream = await suite.client.chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'Say hello' }] })
    const chunks = []
    for await (const chunk of stream) chunks.push(chunk)
    expect(chunks.every((c) => c.choices.length === 1 && !c.usage)).toBe(true)
    expect(chunks.map((c) => c.choices[0].delta.content).join('')).toBe('Hello, world!')
  })

  it('forwards the first chunk as soon as Gemini sends it, without waiting for the rest', async () => {
    suite.upstream.route(streamPath(), (_req, res) => sendGeminiStream(res, EVENTS, { pauseAfterFirstMs: 800 }))
    const started = Date.now()
    const stream = await suite.client.chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'Say hello' }] })
    const iterator = stream[Symbol.asyncIterator]()
    const first = await iterator.next()
    const firstAfter = Date.now() - started
    expect(first.value?.choices[0].delta.content).toBe('Hello')
    expect(firstAfter).toBeLessThan(600)
    let rest = ''
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) rest += next.value.choices[0]?.delta.content ?? ''
    expect(rest).toBe(', world!')
    expect(Date.now() - started).toBeGreaterThanOrEqual(800)
  })

  it('reports an error Gemini sends inside the stream as an error event', async () => {
    suite.upstream.route(streamPath(), (_req, res) => sendGeminiStream(res, [EVENTS[0], { error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } }]))
    const stream = await suite.client.chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'Say hello' }] })
    let text = ''
    const err = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
    })().catch((e: unknown) => e)
    expect(text).toBe('Hello')
    expect(err).toBeInstanceOf(OpenAI.APIError)
    expect(String((err as Error).message)).toContain('The model is overloaded.')
  })
})
