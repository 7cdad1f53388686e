/**
 * Reasoning models behind OpenAI-compatible servers. DeepSeek (and Kimi) send the thinking as
 * `reasoning_content`, vLLM 0.10 and later as `reasoning`: OpenAI clients get `reasoning_content` from
 * both, streamed or not, with reasoning tokens in usage. A client's replayed `reasoning_content` is left
 * out by default (DeepSeek-R1 answers 400 to it) and kept with `replay_reasoning_content: true` (Kimi K2
 * thinking answers 400 to a tool loop without it).
 */
import { describe, expect, it } from 'vitest'
import type OpenAI from 'openai'
import type http from 'node:http'
import { reasoningServerDialect, writeFrames, type Reply } from '../openai/wire-fixtures.ts'
import { sendJson, type RecordedRequest } from '../../helpers/upstream.ts'
import { mockUpstreamSuite } from '../../helpers/provider-suite.ts'
import { readReasoningStream } from '../../helpers/reasoning.ts'

const THOUGHT = 'I should look the weather up first.'
const reply: Reply = { content: 'Sunny.', reasoning: THOUGHT, reasoningTokens: 9 }
type Thinking = { reasoning_content?: string }
type Message = Record<string, unknown>

const invalid = (res: http.ServerResponse, message: string) => sendJson(res, 400, { error: { message, type: 'invalid_request_error', param: null, code: 'invalid_request_error' } })

/** DeepSeek (`/deepseek`), Kimi (`/kimi`) and vLLM (`/vllm`) as each answers a reasoning model. */
function servers(req: RecordedRequest, res: http.ServerResponse): Promise<void> | void {
  const server = req.path.split('/')[1]
  const messages = (req.body.messages ?? []) as Message[]
  if (server === 'deepseek' && messages.some((m) => 'reasoning_content' in m)) return invalid(res, 'The reasoning_content is an intermediate result for display purposes only and will not be included in the context for inference. Please remove the reasoning_content from your message to reduce network traffic.')
  const index = messages.findIndex((m) => m.role === 'assistant' && m.tool_calls && !('reasoning_content' in m))
  if (server === 'kimi' && index >= 0) return invalid(res, `thinking is enabled but reasoning_content is missing in assistant tool call message at index ${index}`)
  const dialect = reasoningServerDialect(server === 'vllm' ? 'reasoning' : 'reasoning_content')
  if (req.body.stream) return writeFrames(res, dialect.streamFrames(String(req.body.model), reply, req.body.stream_options?.include_usage === true))
  sendJson(res, 200, dialect.completion(String(req.body.model), reply))
}

describe('provider.openai-compatible: reasoning models', () => {
  const block = (url: string, server: string, extra: object = {}) => JSON.stringify({ plugin: 'openai-compatible', base_url: `${url}/${server}/v1`, ...extra })
  const setup = mockUpstreamSuite((url) => `
version: 1
providers:
  deepseek: ${block(url, 'deepseek')}
  vllm: ${block(url, 'vllm')}
  kimi: ${block(url, 'kimi', { replay_reasoning_content: true })}
routes:
  - { model: deepseek, targets: [ { provider: deepseek, model: deepseek-reasoner } ] }
  - { model: vllm, targets: [ { provider: vllm, model: Qwen/Qwen3-8B } ] }
  - { model: kimi, targets: [ { provider: kimi, model: kimi-k2-thinking } ] }
`, servers)
  const first: OpenAI.ChatCompletionMessageParam = { role: 'user', content: 'Weather in Paris?' }

  it.each(['deepseek', 'vllm'])('answers %s\'s thinking as reasoning_content, with reasoning tokens in usage', async (model) => {
    const answer = await setup.client.chat.completions.create({ model, messages: [first] })
    const message = answer.choices[0].message as OpenAI.ChatCompletionMessage & Thinking
    expect(message.content).toBe('Sunny.')
    expect(message.reasoning_content).toBe(THOUGHT)
    expect(message).not.toHaveProperty('reasoning')
    expect(answer.usage?.completion_tokens_details?.reasoning_tokens).toBe(9)
  })

  it.each(['deepseek', 'vllm'])('streams %s\'s thinking as reasoning_content deltas before the answer', async (model) => {
    const read = await readReasoningStream(await setup.client.chat.completions.create({ model, stream: true, stream_options: { include_usage: true }, messages: [first] }))
    expect(read.thoughts.join('')).toBe(THOUGHT)
    expect(read.content).toBe('Sunny.')
    expect(read.reasoningTokens).toBe(9)
    expect(read.strayReasoning).toBe(false)
  })

  /** A tool loop's second call, the assistant's tool call sent back with its reasoning_content. */
  const toolLoop = (model: string) => setup.client.chat.completions.create({
    model,
    messages: [
      first,
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }], ...{ reasoning_content: THOUGHT } },
      { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
    ],
  })

  it('leaves replayed reasoning_content out by default (DeepSeek refuses it), and keeps it for a provider with replay_reasoning_content (Kimi needs it)', async () => {
    expect((await toolLoop('deepseek')).choices[0].message.content).toBe('Sunny.')
    expect((setup.upstream.requests.at(-1)!.body.messages as Message[])[1]).not.toHaveProperty('reasoning_content')
    expect((await toolLoop('kimi')).choices[0].message.content).toBe('Sunny.')
    expect((setup.upstream.requests.at(-1)!.body.messages as Message[])[1].reasoning_content).toBe(THOUGHT)
  })
})
