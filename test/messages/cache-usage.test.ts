/**
 * Prompt-cache usage on /v1/messages and what it costs: cache reads and writes that an OpenAI-wire
 * upstream reports (`prompt_tokens_details.cached_tokens` / `cache_write_tokens`) come back as
 * Anthropic's `cache_read_input_tokens` / `cache_creation_input_tokens`, and Anthropic's 1-hour
 * cache writes (`cache_creation.ephemeral_1h_input_tokens`) are priced at `cache_write_1h_input`
 * (2x input) rather than as 5-minute writes (1.25x).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { sendJson, sendSse, startUpstream, type MockUpstream } from '../helpers/upstream.ts'
import { waitFor } from '../helpers/wait.ts'
import { message, sendMessage, sendStream, streamEvents, text, usage } from '../providers/anthropic/anthropic-upstream.ts'
import { upstreamProviders } from './helpers.ts'

/** claude-sonnet-4-5 in config/models.json, USD per 1M tokens. */
const SONNET = { input: 3, output: 15, cached_input: 0.3, cache_write_input: 3.75, cache_write_1h_input: 6 }
const CACHED_USAGE = { prompt_tokens: 1000, completion_tokens: 5, total_tokens: 1005, prompt_tokens_details: { cached_tokens: 600, cache_write_tokens: 300 } }

describe('prompt-cache reads and writes on /v1/messages, and 1-hour cache writes priced apart', () => {
  let openai: MockUpstream
  let anthropic: MockUpstream
  let gateway: RunningGateway
  let claudeClient: Anthropic
  let openaiClient: OpenAI
  beforeAll(async () => {
    openai = await startUpstream()
    anthropic = await startUpstream()
    gateway = await startTestGateway(`
version: 1
providers:
${upstreamProviders({ openai: openai.url, anthropic: anthropic.url })}
routes:
  - model: gpt
    targets: [ { provider: gpt, model: gpt-4o-mini } ]
  - model: claude-native
    targets: [ { provider: claude, model: claude-sonnet-4-5 } ]
  - model: claude-translated
    targets: [ { provider: claude, model: claude-sonnet-4-5 } ]
  - model: claude-streamed
    targets: [ { provider: claude, model: claude-sonnet-4-5 } ]
`)
    claudeClient = new Anthropic({ baseURL: gateway.url, apiKey: 'anything', maxRetries: 0 })
    openaiClient = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'anything', maxRetries: 0 })
  })
  afterAll(async () => {
    await gateway.close()
    await openai.close()
    await anthropic.close()
  })

  /** The gateway's cost counter for a route, once it has counted a call. */
  const costOf = async (route: string): Promise<number> => (await waitFor(async () => {
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text()
    const line = metrics.split('\n').find((l) => l.startsWith(`gateway_cost_usd_total{route="${route}",`))
    return line ? Number(line.split(' ').at(-1)) : undefined
  })).value!

  it('reports an OpenAI-wire upstream\'s cache reads and writes as cache_read_input_tokens and cache_creation_input_tokens', async () => {
    openai.handle((req, res) => sendJson(res, 200, {
      id: 'chatcmpl-cache-1', object: 'chat.completion', created: 1_700_000_000, model: req.body.model,
      choices: [{ index: 0, finish_reason: 'stop', logprobs: null, message: { role: 'assistant', content: 'ok', refusal: null } }],
      usage: CACHED_USAGE,
    }))
    const res = await claudeClient.messages.create({ model: 'gpt', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] })
    // Anthropic's input_tokens are the prompt tokens neither read from nor written to the cache.
    expect(res.usage).toMatchObject({ input_tokens: 100, cache_read_input_tokens: 600, cache_creation_input_tokens: 300, output_tokens: 5, cache_creation: null })
  })

  it('carries them in a translated stream\'s message_delta, which the SDK\'s finalMessage takes up', async () => {
    openai.handle((req, res) => {
      const base = { id: 'chatcmpl-cache-2', object: 'chat.completion.chunk', created: 1_700_000_000, model: req.body.model }
      return sendSse(res, [
        { data: { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: 'o' }, finish_reason: null }] } },
        { data: { ...base, choices: [{ index: 0, delta: { content: 'k' }, finish_reason: 'stop' }] } },
        { data: { ...base, choices: [], usage: CACHED_USAGE } },
        { data: '[DONE]' },
      ])
    })
    const final = await claudeClient.messages.stream({ model: 'gpt', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }).finalMessage()
    expect(final.content).toEqual([{ type: 'text', text: 'ok', citations: null }])
    expect(final.usage).toMatchObject({ input_tokens: 100, cache_read_input_tokens: 600, cache_creation_input_tokens: 300, output_tokens: 5 })
  })

  const oneHourUsage = usage({ input_tokens: 10, cache_read_input_tokens: 0, cache_creation_input_tokens: 1000, cache_creation: { ephemeral_1h_input_tokens: 800, ephemeral_5m_input_tokens: 200 }, output_tokens: 4 })
  const oneHourCost = (10 * SONNET.input + 200 * SONNET.cache_write_input + 800 * SONNET.cache_write_1h_input + 4 * SONNET.output) / 1e6

  it('prices an Anthropic answer\'s 1-hour cache writes at cache_write_1h_input (2x input), its 5-minute ones at 1.25x', async () => {
    anthropic.handle((_req, res) => sendMessage(res, message([text('Cached.')], { model: 'claude-sonnet-4-5', usage: oneHourUsage })))
    const res = await claudeClient.messages.create({
      model: 'claude-native', max_tokens: 16,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'A long document.', cache_control: { type: 'ephemeral', ttl: '1h' } }] }],
    })
    expect(res.usage).toMatchObject({ cache_creation_input_tokens: 1000, cache_creation: { ephemeral_1h_input_tokens: 800, ephemeral_5m_input_tokens: 200 } })
    expect(await costOf('claude-native')).toBeCloseTo(oneHourCost, 12)
  })

  it('tells an OpenAI client the 1-hour part of the cache writes and prices it the same', async () => {
    anthropic.handle((_req, res) => sendMessage(res, message([text('Cached.')], { model: 'claude-sonnet-4-5', usage: oneHourUsage })))
    const res = await openaiClient.chat.completions.create({ model: 'claude-translated', messages: [{ role: 'user', content: 'hi' }] })
    expect(res.usage).toMatchObject({ prompt_tokens: 1010, prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 1000, cache_write_1h_tokens: 800 } })
    expect(await costOf('claude-translated')).toBeCloseTo(oneHourCost, 12)
  })

  it('keeps the 1-hour split of message_start through a streamed answer\'s message_delta', async () => {
    const events = streamEvents({ text: ['Ca', 'ched.'], inputTokens: 10, outputTokens: 4 })
    const start = events[0]
    if (start.type !== 'message_start') throw new Error('streamEvents starts with message_start')
    start.message.usage = { ...oneHourUsage, output_tokens: 1 }
    // message_delta repeats the cumulative cache writes, without their split by lifetime.
    const delta = events.find((e) => e.type === 'message_delta')
    if (delta?.type === 'message_delta') delta.usage.cache_creation_input_tokens = 1000
    anthropic.handle((_req, res) => sendStream(res, events))
    const stream = await openaiClient.chat.completions.create({ model: 'claude-streamed', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] })
    let last: OpenAI.Chat.ChatCompletionChunk | undefined
    for await (const chunk of stream) last = chunk
    expect(last?.usage).toMatchObject({ prompt_tokens: 1010, prompt_tokens_details: { cache_write_tokens: 1000, cache_write_1h_tokens: 800 } })
    expect(await costOf('claude-streamed')).toBeCloseTo(oneHourCost, 12)
  })
})
