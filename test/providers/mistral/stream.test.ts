import { beforeEach, describe, expect, it } from 'vitest'
import { providerSuite } from '../../helpers/provider-suite.ts'
import { expectOpenAISchema } from '../../helpers/openai-schema.ts'
import { CHAT_PATH, MODEL, gatewayConfig, sendMistralStream, startMistralUpstream, streamChunk } from './mistral-upstream.ts'

/** What Mistral streams for "Hello, world!": the role first, text in pieces, the usage on the last chunk. */
const CHUNKS = [
  streamChunk({ role: 'assistant', content: '' }),
  streamChunk({ content: 'Hello' }),
  streamChunk({ content: ', world!' }),
  streamChunk({ content: '' }, { finishReason: 'stop', usage: { prompt_tokens: 6, completion_tokens: 4, total_tokens: 10 } }),
]

describe('mistral: streamed chat completions', () => {
  const suite = providerSuite(startMistralUpstream, gatewayConfig)
  beforeEach(() => {
    suite.upstream.requests.length = 0
    suite.upstream.route(CHAT_PATH, (_req, res) => sendMistralStream(res, CHUNKS))
  })

  it('streams the text as chunks, moving Mistral\'s usage into a final chunk when include_usage is set', async () => {
    const stream = await suite.client.chat.completions.create({ model: 'chat', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Say hello' }] })
    const chunks = []
    for await (const chunk of stream) chunks.push(chunk)
    const req = suite.upstream.requests.at(-1)!
    expect(req.body).toMatchObject({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'Say hello' }] })
    expect(req.body).not.toHaveProperty('stream_options')
    expect(req.headers.accept).toBe('text/event-stream')
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? null)).toEqual(['', 'Hello', ', world!', '', null])
    expect(chunks[0].choices[0].delta.role).toBe('assistant')
    expect(chunks.map((c) => c.choices[0]?.finish_reason ?? null)).toEqual([null, null, null, 'stop', null])
    expect(chunks.slice(0, -1).every((c) => !c.usage)).toBe(true)
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 6, completion_tokens: 4, total_tokens: 10 } })
    for (const chunk of chunks) expectOpenAISchema('CreateChatCompletionStreamResponse', chunk)
  })

  it('sends no usage at all when include_usage is not asked for', async () => {
    const stream = await suite.client.chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'Say hello' }] })
    const chunks = []
    for await (const chunk of stream) chunks.push(chunk)
    expect(chunks.every((c) => c.choices.length === 1 && !c.usage)).toBe(true)
    expect(chunks.map((c) => c.choices[0].delta.content).join('')).toBe('Hello, world!')
  })

  it('forwards each chunk as Mistral sends it', async () => {
    suite.upstream.route(CHAT_PATH, (_req, res) => sendMistralStream(res, CHUNKS, { delayMs: 300 }))
    const started = Date.now()
    const stream = await suite.client.chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'Say hello' }] })
    const arrivals: number[] = []
    for await (const _chunk of stream) arrivals.push(Date.now() - started)
    expect(arrivals).toHaveLength(4)
    expect(arrivals[0]).toBeLessThan(250)
    expect(arrivals[3] - arrivals[0]).toBeGreaterThanOrEqual(800)
  })
})
