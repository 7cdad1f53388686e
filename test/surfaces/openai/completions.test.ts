/**
 * Legacy text completions (`client.completions.create`), as code-completion tools call them:
 * passed through as written (suffix for fill-in-the-middle included) to an upstream that serves
 * /v1/completions (a vLLM-like server behind openai-compatible), whole and streamed, usage always
 * asked for; translated to a chat completion for any other target (max_tokens 16 when unset, as
 * the API defaults), answered as a text_completion; what a chat cannot carry refused there.
 */
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../../helpers/gateway.ts'
import { expectOpenAISchema } from '../../helpers/openai-schema.ts'
import { sendJson, startUpstream, type MockUpstream } from '../../helpers/upstream.ts'

describe('/v1/completions with the openai SDK', () => {
  let upstream: MockUpstream
  let gw: RunningGateway
  let client: OpenAI
  beforeAll(async () => {
    // A vLLM-like server: /v1/completions as OpenAI's reference answers it; chat for the translated path.
    upstream = await startUpstream((req, res) => {
      const usage = { prompt_tokens: 6, completion_tokens: 3, total_tokens: 9 }
      if (req.path.endsWith('/chat/completions')) {
        return sendJson(res, 200, { id: 'chatcmpl-x', object: 'chat.completion', created: 1, model: req.body.model, choices: [{ index: 0, message: { role: 'assistant', content: 'from chat' }, finish_reason: 'length', logprobs: null }], usage })
      }
      const base = { id: 'cmpl-up-1', object: 'text_completion', created: 1700000000, model: req.body.model }
      if (!req.body.stream) return sendJson(res, 200, { ...base, choices: [{ index: 0, text: '    return a + b', logprobs: null, finish_reason: 'stop' }], usage })
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      for (const text of ['    return', ' a + b']) res.write(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, text, logprobs: null, finish_reason: null }] })}\n\n`)
      res.write(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, text: '', logprobs: null, finish_reason: 'stop' }] })}\n\n`)
      if (req.body.stream_options?.include_usage) res.write(`data: ${JSON.stringify({ ...base, choices: [], usage })}\n\n`)
      res.end('data: [DONE]\n\n')
    })
    gw = await startTestGateway(`version: 1
providers:
  local: { plugin: openai-compatible, base_url: "${upstream.url}/v1" }
  chatonly: { plugin: groq, api_key: gsk-test, base_url: "${upstream.url}" }
  offline: { plugin: mock }
routes:
  - { model: code-model, targets: [ { provider: local, model: qwen2.5-coder-7b } ] }
  - { model: chat-only, targets: [ { provider: chatonly, model: llama-3.1-8b-instant } ] }
  - { model: mock-complete, targets: [ { provider: offline } ] }
`)
    client = new OpenAI({ apiKey: 'unused', baseURL: `${gw.url}/v1`, maxRetries: 0 })
  }, 60_000)
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })

  it('passes a fill-in-the-middle request through as written and relays the answer', async () => {
    const { data, response } = await client.completions.create({ model: 'code-model', prompt: 'def add(a, b):\n', suffix: '\n\nprint(add(1, 2))', max_tokens: 20, temperature: 0 }).withResponse()
    expectOpenAISchema('CreateCompletionResponse', data)
    expect(data).toMatchObject({ id: 'cmpl-up-1', object: 'text_completion', choices: [{ text: '    return a + b', finish_reason: 'stop' }], usage: { total_tokens: 9 } })
    const sent = upstream.requests.at(-1)!
    expect(sent.path).toBe('/v1/completions')
    expect(sent.body).toEqual({ model: 'qwen2.5-coder-7b', prompt: 'def add(a, b):\n', suffix: '\n\nprint(add(1, 2))', max_tokens: 20, temperature: 0 })
    expect(response.headers.get('x-gateway-provider')).toBe('local')
  })

  it('relays a stream, asking usage upstream but giving the client the usage chunk only when it asked', async () => {
    const texts: string[] = []
    let usageChunks = 0
    for await (const chunk of await client.completions.create({ model: 'code-model', prompt: 'x = ', stream: true })) {
      texts.push(chunk.choices[0]?.text ?? '')
      if (chunk.usage) usageChunks++
    }
    expect(texts.join('')).toBe('    return a + b')
    expect(usageChunks).toBe(0)
    expect(upstream.requests.at(-1)!.body.stream_options).toEqual({ include_usage: true })
    let usage: unknown
    for await (const chunk of await client.completions.create({ model: 'code-model', prompt: 'x = ', stream: true, stream_options: { include_usage: true } })) if (chunk.usage) usage = chunk.usage
    expect(usage).toEqual({ prompt_tokens: 6, completion_tokens: 3, total_tokens: 9 })
  })

  it('translates to a chat completion for a target that does not serve it (max_tokens 16 unless set), answering a text_completion', async () => {
    const answer = await client.completions.create({ model: 'chat-only', prompt: 'Once upon a time', stop: ['\n'] })
    expectOpenAISchema('CreateCompletionResponse', answer)
    expect(answer).toMatchObject({ object: 'text_completion', choices: [{ index: 0, text: 'from chat', finish_reason: 'length' }], usage: { total_tokens: 9 } })
    const sent = upstream.requests.at(-1)!
    expect(sent.path).toBe('/openai/v1/chat/completions')
    expect(sent.body).toMatchObject({ model: 'llama-3.1-8b-instant', messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 16, stop: ['\n'] })
    const offline = await client.completions.create({ model: 'mock-complete', prompt: 'Say hi', max_tokens: 50 })
    expect(offline.choices[0]!.text).toBe('echo: Say hi')
    const streamed: string[] = []
    for await (const chunk of await client.completions.create({ model: 'mock-complete', prompt: 'stream this please', stream: true })) {
      expect(chunk.object).toBe('text_completion')
      streamed.push(chunk.choices[0]?.text ?? '')
    }
    expect(streamed.join('')).toBe('echo: stream this please')
  })

  it('refuses what a chat cannot carry on a translated route, naming it, and a request without a prompt', async () => {
    await expect(client.completions.create({ model: 'mock-complete', prompt: 'a', suffix: 'b' })).rejects.toMatchObject({ status: 400, param: 'suffix' })
    await expect(client.completions.create({ model: 'chat-only', prompt: [1, 2, 3] })).rejects.toMatchObject({ status: 400, param: 'prompt' })
    await expect(client.completions.create({ model: 'mock-complete', prompt: 'a', echo: true })).rejects.toMatchObject({ status: 400, param: 'echo' })
    await expect(client.completions.create({ model: 'code-model' } as never)).rejects.toMatchObject({ status: 400, param: 'prompt' })
  })
})
