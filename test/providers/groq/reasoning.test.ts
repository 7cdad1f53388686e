/**
 * A model's thinking through Groq. The mock answers as Groq does per model (groq-sdk's
 * CompletionCreateParams): gpt-oss takes reasoning_effort low/medium/high (400 otherwise) and returns
 * its thinking as `reasoning`; qwen3-32b takes none/default (400 otherwise) and, unless
 * `reasoning_format: parsed`, writes its thinking into the content in <think> tags. OpenAI clients
 * get the thinking as `reasoning_content`, Anthropic clients as a thinking block; reasoning tokens in usage.
 */
import { describe, expect, it } from 'vitest'
import Anthropic from '@anthropic-ai/sdk'
import type OpenAI from 'openai'
import type http from 'node:http'
import { TEST_API_KEY } from '../openai/wire-suite.ts'
import { groqDialect, writeFrames, type Reply } from '../openai/wire-fixtures.ts'
import { sendJson, type RecordedRequest } from '../../helpers/upstream.ts'
import { mockUpstreamSuite } from '../../helpers/provider-suite.ts'
import { readReasoningStream } from '../../helpers/reasoning.ts'

const THOUGHT = 'The user asks for 2+2. That is 4.'
const GPT_OSS = 'openai/gpt-oss-120b'
const QWEN = 'qwen/qwen3-32b'
type Thinking = { reasoning_content?: string; reasoning?: unknown }

/** Groq's chat endpoint, as it answers reasoning models. */
function groq(req: RecordedRequest, res: http.ServerResponse): Promise<void> | void {
  const { model, reasoning_effort: effort, reasoning_format: format } = req.body as Record<string, string | undefined>
  const efforts = model === QWEN ? ['none', 'default'] : ['low', 'medium', 'high']
  if (effort !== undefined && !efforts.includes(effort)) {
    return sendJson(res, 400, { error: { message: `\`reasoning_effort\` must be one of ${efforts.join(', ')} for ${model}`, type: 'invalid_request_error', param: 'reasoning_effort' } })
  }
  const thinks = model === GPT_OSS || effort !== 'none'
  const reply: Reply = !thinks ? { content: '4' }
    : model === QWEN && format !== 'parsed' ? { content: `<think>${THOUGHT}</think>4`, reasoningTokens: 12 }
    : { content: '4', reasoning: THOUGHT, reasoningTokens: 12 }
  if (req.body.stream) return writeFrames(res, groqDialect.streamFrames(String(model), reply, false))
  sendJson(res, 200, groqDialect.completion(String(model), reply))
}

describe('provider.groq: reasoning', () => {
  const setup = mockUpstreamSuite((url) => `
version: 1
providers:
  groq: ${JSON.stringify({ plugin: 'groq', api_key: TEST_API_KEY, base_url: url })}
routes:
  - { model: oss, targets: [ { provider: groq, model: ${GPT_OSS} } ] }
  - { model: qwen, targets: [ { provider: groq, model: ${QWEN} } ] }
`, groq)
  const ask = (model: string, extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}) =>
    setup.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'What is 2+2?' }], ...extra }).withResponse()
  const sent = () => setup.upstream.requests.at(-1)!.body

  it('answers gpt-oss\'s thinking as reasoning_content, with its reasoning tokens in usage', async () => {
    const { data } = await ask('oss', { reasoning_effort: 'high' })
    expect(sent().reasoning_effort).toBe('high')
    const message = data.choices[0].message as OpenAI.ChatCompletionMessage & Thinking
    expect(message.content).toBe('4')
    expect(message.reasoning_content).toBe(THOUGHT)
    expect(message).not.toHaveProperty('reasoning')
    expect(data.usage?.completion_tokens_details?.reasoning_tokens).toBe(12)
  })

  it('streams the thinking as reasoning_content deltas, with reasoning tokens in the usage chunk made from x_groq', async () => {
    const stream = await setup.client.chat.completions.create({ model: 'oss', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'What is 2+2?' }] })
    const read = await readReasoningStream(stream)
    expect(read.thoughts.join('')).toBe(THOUGHT)
    expect(read.content).toBe('4')
    expect(read.reasoningTokens).toBe(12)
    expect(read.strayReasoning).toBe(false)
  })

  it('drops reasoning_effort none for gpt-oss, which cannot stop thinking, with a warning instead of Groq\'s 400', async () => {
    const { data, response } = await ask('oss', { reasoning_effort: 'none' })
    expect(sent()).not.toHaveProperty('reasoning_effort')
    expect(data.choices[0].message.content).toBe('4')
    expect(response.headers.get('x-gateway-warning')).toContain("'reasoning_effort'")
  })

  it('asks qwen3-32b to think as it can (default) and for its thinking apart (parsed), instead of a 400 and <think> tags in the answer', async () => {
    const { data, response } = await ask('qwen', { reasoning_effort: 'high' })
    expect(sent()).toMatchObject({ reasoning_effort: 'default', reasoning_format: 'parsed' })
    const message = data.choices[0].message as OpenAI.ChatCompletionMessage & Thinking
    expect(message.content).toBe('4')
    expect(message.reasoning_content).toBe(THOUGHT)
    expect(response.headers.get('x-gateway-warning')).toContain("'reasoning_effort'")
    // Thinking off stays off, and nothing is added.
    await ask('qwen', { reasoning_effort: 'none' })
    expect(sent().reasoning_effort).toBe('none')
    expect(sent()).not.toHaveProperty('reasoning_format')
  })

  it('answers an Anthropic client\'s thinking on qwen3-32b with a thinking block', async () => {
    const anthropic = new Anthropic({ baseURL: setup.gw.url, apiKey: 'unused', maxRetries: 0 })
    const { data, response } = await anthropic.messages.create({
      model: 'qwen', max_tokens: 8000, thinking: { type: 'enabled', budget_tokens: 2000 }, messages: [{ role: 'user', content: 'What is 2+2?' }],
    }).withResponse()
    expect(sent()).toMatchObject({ reasoning_effort: 'default', reasoning_format: 'parsed' })
    expect(response.headers.get('x-gateway-warning')).toBeNull()
    expect(data.content[0]).toMatchObject({ type: 'thinking', thinking: THOUGHT })
    expect(data.content[1]).toMatchObject({ type: 'text', text: '4' })
  })
})
