/**
 * A reasoning model's thinking through Mistral: Magistral answers with content as chunks, its notes in
 * `thinking` chunks (each a list of text chunks) before the `text` chunks of its answer, streamed the
 * same way. OpenAI clients get the notes as `reasoning_content` and the text alone as content;
 * Anthropic clients a thinking block, their thinking asked for as Mistral's `reasoning_effort`.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import Anthropic from '@anthropic-ai/sdk'
import { startTestGateway, type RunningGateway } from '../../helpers/gateway.ts'
import { sendJson } from '../../helpers/upstream.ts'
import { readReasoningStream } from '../../helpers/reasoning.ts'
import { CHAT_PATH, completion, gatewayConfig, sendMistralStream, startMistralUpstream, streamChunk, thinkingChunk } from './mistral-upstream.ts'

const THOUGHTS = ['The user asks for 2+2. ', 'That is 4.']
type Thinking = { reasoning_content?: string }

describe('mistral: reasoning models\' thinking', () => {
  let upstream: Awaited<ReturnType<typeof startMistralUpstream>>
  let gw: RunningGateway
  let openai: OpenAI
  beforeAll(async () => {
    upstream = await startMistralUpstream()
    gw = await startTestGateway(gatewayConfig(upstream.url))
    openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 })
  })
  afterAll(async () => {
    await gw.close()
    await upstream.close()
  })
  beforeEach(() => {
    upstream.requests.length = 0
    upstream.route(CHAT_PATH, (req, res) => {
      if (!req.body.stream) return sendJson(res, 200, completion({ content: [thinkingChunk(THOUGHTS.join('')), { type: 'text', text: 'The answer is ' }, { type: 'text', text: '4.' }] }))
      return sendMistralStream(res, [
        ...THOUGHTS.map((text, i) => streamChunk({ ...(i === 0 ? { role: 'assistant' } : {}), content: [thinkingChunk(text)] })),
        streamChunk({ content: 'The answer is ' }),
        streamChunk({ content: [{ type: 'text', text: '4.' }] }, { finishReason: 'stop', usage: { prompt_tokens: 10, completion_tokens: 30, total_tokens: 40 } }),
      ])
    })
  })

  it('answers the thinking chunks as reasoning_content and the text chunks as the content', async () => {
    const answer = await openai.chat.completions.create({ model: 'chat', reasoning_effort: 'high', messages: [{ role: 'user', content: 'What is 2+2?' }] })
    expect(upstream.requests[0].body.reasoning_effort).toBe('high')
    const message = answer.choices[0].message as OpenAI.ChatCompletionMessage & Thinking
    expect(message.content).toBe('The answer is 4.')
    expect(message.reasoning_content).toBe(THOUGHTS.join(''))
  })

  it('streams the thinking chunks as reasoning_content deltas before the answer', async () => {
    const stream = await openai.chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'What is 2+2?' }] })
    const read = await readReasoningStream(stream)
    expect(read.thoughts).toEqual(THOUGHTS)
    expect(read.content).toBe('The answer is 4.')
    expect(read.strayReasoning).toBe(false)
  })

  it('asks for an Anthropic client\'s thinking as reasoning_effort, and answers with a thinking block, streamed or not', async () => {
    const anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'unused', maxRetries: 0 })
    const { data, response } = await anthropic.messages.create({
      model: 'chat', max_tokens: 8000, thinking: { type: 'enabled', budget_tokens: 2000 }, messages: [{ role: 'user', content: 'What is 2+2?' }],
    }).withResponse()
    expect(upstream.requests[0].body.reasoning_effort).toBe('low')
    expect(response.headers.get('x-gateway-warning')).toBeNull()
    expect(data.content[0]).toMatchObject({ type: 'thinking', thinking: THOUGHTS.join('') })
    expect(data.content[1]).toMatchObject({ type: 'text', text: 'The answer is 4.' })
    const final = await anthropic.messages.stream({ model: 'chat', max_tokens: 8000, thinking: { type: 'enabled', budget_tokens: 2000 }, messages: [{ role: 'user', content: 'What is 2+2?' }] }).finalMessage()
    expect(final.content[0]).toMatchObject({ type: 'thinking', thinking: THOUGHTS.join('') })
    expect(final.content[1]).toMatchObject({ type: 'text', text: 'The answer is 4.' })
  })
})
