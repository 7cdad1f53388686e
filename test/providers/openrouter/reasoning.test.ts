/**
 * A model's thinking through OpenRouter, which sends it as `message.reasoning` (`delta.reasoning`
 * streamed) with `reasoning_details` blocks: OpenAI clients get it as `reasoning_content`, as from every
 * provider, with the details kept for the next turn; Anthropic clients as a thinking block, their
 * thinking budget sent as OpenRouter's `reasoning.max_tokens` for any model; reasoning tokens in usage.
 */
import { describe, expect, it } from 'vitest'
import Anthropic from '@anthropic-ai/sdk'
import type OpenAI from 'openai'
import { TEST_API_KEY } from '../openai/wire-suite.ts'
import { openrouterDialect, OPENROUTER_SIGNATURE, writeFrames } from '../openai/wire-fixtures.ts'
import { sendJson } from '../../helpers/upstream.ts'
import { mockUpstreamSuite } from '../../helpers/provider-suite.ts'
import { readReasoningStream } from '../../helpers/reasoning.ts'

const THOUGHT = 'The user asks for 2+2. That is 4.'
const reply = { content: '4', reasoning: THOUGHT, reasoningTokens: 42 }
type Thinking = { reasoning_content?: string; reasoning_details?: unknown[]; reasoning?: unknown }

describe('provider.openrouter: reasoning', () => {
  const setup = mockUpstreamSuite((url) => `
version: 1
providers:
  openrouter: ${JSON.stringify({ plugin: 'openrouter', api_key: TEST_API_KEY, base_url: `${url}/api/v1` })}
routes:
  - { model: claude, targets: [ { provider: openrouter, model: anthropic/claude-sonnet-4.5 } ] }
`, (req, res) => {
    if (req.body.stream) return writeFrames(res, openrouterDialect.streamFrames(String(req.body.model), reply, true))
    sendJson(res, 200, openrouterDialect.completion(String(req.body.model), reply))
  })
  const ask = (extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}) =>
    setup.client.chat.completions.create({ model: 'claude', reasoning_effort: 'high', messages: [{ role: 'user', content: 'What is 2+2?' }], ...extra })

  it('answers with the thinking as reasoning_content, OpenRouter\'s reasoning_details kept, and reasoning tokens in usage', async () => {
    const answer = await ask()
    // OpenRouter takes reasoning_effort as it is (its shorthand for reasoning.effort).
    expect(setup.upstream.requests[0].body.reasoning_effort).toBe('high')
    const message = answer.choices[0].message as OpenAI.ChatCompletionMessage & Thinking
    expect(message.content).toBe('4')
    expect(message.reasoning_content).toBe(THOUGHT)
    expect(message).not.toHaveProperty('reasoning')
    expect(message.reasoning_details).toEqual([{ type: 'reasoning.text', text: THOUGHT, signature: OPENROUTER_SIGNATURE, format: 'anthropic-claude-v1', index: 0 }])
    expect(answer.usage?.completion_tokens_details?.reasoning_tokens).toBe(42)

    // The next turn sends the answer back: OpenRouter gets its reasoning_details (Claude needs its signed thinking), not the text.
    await ask({ messages: [{ role: 'user', content: 'What is 2+2?' }, message as OpenAI.ChatCompletionMessageParam, { role: 'user', content: 'And plus one?' }] })
    const sent = (setup.upstream.requests[1].body.messages as Record<string, unknown>[])[1]
    expect(sent.reasoning_details).toEqual(message.reasoning_details)
    expect(sent).not.toHaveProperty('reasoning_content')
  })

  it('streams the thinking as reasoning_content deltas before the answer, with reasoning tokens in the usage chunk', async () => {
    const stream = await setup.client.chat.completions.create({ model: 'claude', reasoning_effort: 'high', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'What is 2+2?' }] })
    const read = await readReasoningStream(stream)
    expect(read.thoughts.join('')).toBe(THOUGHT)
    expect(read.content).toBe('4')
    expect(read.reasoningTokens).toBe(42)
    expect(read.strayReasoning).toBe(false)
  })

  it('sends an Anthropic client\'s thinking budget as reasoning.max_tokens to a non-OpenAI model, and answers with a thinking block, streamed or not', async () => {
    const anthropic = new Anthropic({ baseURL: setup.gw.url, apiKey: 'unused', maxRetries: 0 })
    const { data, response } = await anthropic.messages.create({
      model: 'claude', max_tokens: 8000, thinking: { type: 'enabled', budget_tokens: 4000 }, messages: [{ role: 'user', content: 'What is 2+2?' }],
    }).withResponse()
    expect(setup.upstream.requests[0].body.reasoning).toEqual({ max_tokens: 4000 })
    expect(response.headers.get('x-gateway-warning')).toBeNull()
    expect(data.content[0]).toMatchObject({ type: 'thinking', thinking: THOUGHT })
    expect(data.content[1]).toMatchObject({ type: 'text', text: '4' })
    const final = await anthropic.messages.stream({ model: 'claude', max_tokens: 8000, thinking: { type: 'enabled', budget_tokens: 4000 }, messages: [{ role: 'user', content: 'What is 2+2?' }] }).finalMessage()
    expect(final.content[0]).toMatchObject({ type: 'thinking', thinking: THOUGHT })
    expect(final.content[1]).toMatchObject({ type: 'text', text: '4' })
  })
})
