import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'

const CONFIG = `
version: 1
providers:
  mock: { plugin: mock }
routes:
  - model: mock
    targets: [ { provider: mock } ]
`

describe('the mock route, driven by the official OpenAI SDK', () => {
  let gw: RunningGateway
  let client: OpenAI
  beforeAll(async () => {
    gw = await startTestGateway(CONFIG)
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 })
  })
  afterAll(() => gw.close())

  it('answers a chat completion with an echo', async () => {
    const res = await client.chat.completions.create({ model: 'mock', messages: [{ role: 'user', content: 'hello gateway' }] })
    expect(res.choices[0].message.content).toBe('echo: hello gateway')
    expect(res.usage).toEqual({ prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 })
  })

  it('streams the same answer chunk by chunk, with usage last when asked', async () => {
    const stream = await client.chat.completions.create({
      model: 'mock', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hello gateway' }],
    })
    let text = ''
    let usage
    let chunks = 0
    for await (const chunk of stream) {
      chunks++
      text += chunk.choices[0]?.delta?.content ?? ''
      if (chunk.usage) usage = chunk.usage
    }
    expect(text).toBe('echo: hello gateway')
    expect(chunks).toBeGreaterThan(3)
    expect(usage).toEqual({ prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 })
  })

  it('lists the route names as models', async () => {
    const models = await client.models.list()
    expect(models.data.map((m) => m.id)).toEqual(['mock'])
  })
})

describe('wire shapes, checked against OpenAI\'s published schemas', () => {
  let gw: RunningGateway
  beforeAll(async () => { gw = await startTestGateway(CONFIG) })
  afterAll(() => gw.close())

  it('a completion, each stream chunk, an embedding list, the model list and an error all conform', async () => {
    const { expectOpenAISchema } = await import('../helpers/openai-schema.ts')
    const post = (path: string, body: unknown) => fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    expectOpenAISchema('CreateChatCompletionResponse', await (await post('/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content: 'hi' }] })).json())
    const sse = await (await post('/v1/chat/completions', { model: 'mock', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi there' }] })).text()
    const frames = sse.split('\n\n').filter(Boolean).map((f) => f.replace(/^data: /, ''))
    expect(frames.at(-1)).toBe('[DONE]')
    for (const frame of frames.slice(0, -1)) expectOpenAISchema('CreateChatCompletionStreamResponse', JSON.parse(frame))
    expectOpenAISchema('CreateEmbeddingResponse', await (await post('/v1/embeddings', { model: 'mock', input: ['a', 'b'] })).json())
    expectOpenAISchema('ListModelsResponse', await (await fetch(`${gw.url}/v1/models`)).json())
    expectOpenAISchema('ErrorResponse', await (await post('/v1/chat/completions', { model: 'nope', messages: [{ role: 'user', content: 'hi' }] })).json())
  })
})
