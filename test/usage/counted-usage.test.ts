/**
 * A stream whose upstream ignores `stream_options.include_usage` (an OpenAI-compatible server that
 * sends no usage chunk): a client that asked for usage still gets the final usage chunk, made from
 * the gateway's own count (the tokenizer) and marked `x_gateway: { usage: 'counted' }`, and the
 * usage event records exactly those figures. Driven with both official SDKs, on the passthrough
 * path (OpenAI's wire relayed as it came), the translated path (a cached route reads the unified
 * answer) and /v1/messages (Anthropic's final message_delta).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import Anthropic from '@anthropic-ai/sdk'
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages'
import { WorkerTokenizer } from '../../plugins/services/tokenizer/counter.ts'
import { startOpenAIUpstream, UPSTREAM_USAGE, type OpenAIUpstream } from '../helpers/openai-upstream.ts'
import { capability, type RunningGateway } from '../helpers/gateway.ts'
import { waitFor } from '../helpers/wait.ts'
import { UsageLog, type UsageEventRecord } from '../../plugins/contracts/capabilities.ts'
import { usageGateway, user } from './helpers.ts'

const tokenizer = new WorkerTokenizer()

describe('a stream whose upstream sends no usage: the client that asked gets the gateway\'s count, the one recorded', () => {
  let upstream: OpenAIUpstream
  let gw: RunningGateway
  let cleanup: () => Promise<void>
  let openai: (caller: string) => OpenAI
  let anthropic: (caller: string) => Anthropic
  beforeAll(async () => {
    upstream = await startOpenAIUpstream({ ignoresIncludeUsage: true })
    ;({ gw, cleanup } = await usageGateway(upstream.url, {
      extra: `  - model: cached
    cache: true
    targets: [ { provider: a, model: priced-model } ]
cache: { plugin: memory }
`,
    }))
    openai = (caller) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'x', maxRetries: 0, defaultHeaders: user(caller) })
    anthropic = (caller) => new Anthropic({ baseURL: gw.url, apiKey: 'x', maxRetries: 0, defaultHeaders: user(caller) })
  }, 60_000)
  afterAll(async () => {
    await cleanup()
    await upstream.close()
    await tokenizer.dispose()
  })

  /** The usage event of `caller`'s one request, once it is stored. */
  async function recorded(caller: string): Promise<UsageEventRecord> {
    const scope = { from: new Date(Date.now() - 3600_000), to: new Date(Date.now() + 3600_000), limit: 1000 }
    const { value } = await waitFor(async () => (await capability(gw, UsageLog).list(scope)).find((e) => e.userId === caller), 20_000, 25)
    return value!
  }

  for (const [path, model] of [['passed through', 'r'], ['translated', 'cached']] as const) {
    it(`/v1/chat/completions (${path}): the last chunk is the counted usage, and the SDK's stream helper takes it`, async () => {
      const caller = `openai-${model}`
      const messages = [{ role: 'user' as const, content: `How do foxes hunt in the ${model} snow?` }]
      const chunks: OpenAI.ChatCompletionChunk[] = []
      let text = ''
      for await (const chunk of await openai(caller).chat.completions.create({ model, messages, stream: true, stream_options: { include_usage: true } })) {
        chunks.push(chunk)
        text += chunk.choices[0]?.delta?.content ?? ''
      }
      expect(upstream.chats().at(-1)!.body.stream_options).toEqual({ include_usage: true })
      const last = chunks.at(-1)!
      expect(last.choices).toEqual([])
      expect(chunks.filter((c) => c.usage)).toEqual([last])
      const prompt = await tokenizer.countChat({ model, messages })
      const completion = await tokenizer.count(text)
      expect(last.usage).toEqual({ prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion })
      expect(last.usage).not.toEqual(UPSTREAM_USAGE)
      // The envelope is the stream's own (the SDK's snapshot keeps it), and the chunk says who counted.
      expect(last).toMatchObject({ id: chunks[0].id, model: chunks[0].model, object: 'chat.completion.chunk', x_gateway: { usage: 'counted' } })
      const event = await recorded(caller)
      expect(event).toMatchObject({ status: 200, streamed: true, promptTokens: prompt, completionTokens: completion })

      // The SDK's helper assembles the same usage into its final completion.
      const helper = openai(`${caller}-helper`).chat.completions.stream({ model, messages: [{ role: 'user', content: `And in the ${model} rain?` }], stream_options: { include_usage: true } })
      const final = await helper.finalChatCompletion()
      expect(final.usage?.completion_tokens).toBe(await tokenizer.count(final.choices[0].message.content ?? ''))
      expect((await recorded(`${caller}-helper`)).completionTokens).toBe(final.usage?.completion_tokens)
    })
  }

  it('/v1/chat/completions without include_usage: no usage chunk for the client, the count recorded all the same', async () => {
    const messages = [{ role: 'user' as const, content: 'Do foxes sleep in dens?' }]
    const chunks: OpenAI.ChatCompletionChunk[] = []
    for await (const chunk of await openai('no-usage').chat.completions.create({ model: 'r', messages, stream: true })) chunks.push(chunk)
    expect(chunks.some((c) => c.usage || c.choices.length === 0)).toBe(false)
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')
    expect(await recorded('no-usage')).toMatchObject({ promptTokens: await tokenizer.countChat({ model: 'r', messages }), completionTokens: await tokenizer.count(text) })
  })

  it('/v1/messages: message_start carries the prompt estimate, message_delta the counted tokens, which finalMessage() reports and the gateway records', async () => {
    const events: RawMessageStreamEvent[] = []
    const stream = anthropic('claude').messages.stream({ model: 'r', max_tokens: 100, system: 'Be brief.', messages: [{ role: 'user', content: 'Tell me about foxes.' }] })
    // A copy: the SDK's snapshot is message_start's message, updated in place by message_delta.
    stream.on('streamEvent', (event) => events.push(structuredClone(event)))
    const final = await stream.finalMessage()
    const start = events.find((e) => e.type === 'message_start')
    // 'Be brief.' + 'Tell me about foxes.' is 29 bytes: the admission estimate, ceil(29 / 4).
    expect(start?.type === 'message_start' && start.message.usage.input_tokens).toBe(8)
    const text = final.content.map((block) => (block.type === 'text' ? block.text : '')).join('')
    const input = await tokenizer.countChat({ model: 'r', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Tell me about foxes.' }] })
    const output = await tokenizer.count(text)
    expect(final.usage).toMatchObject({ input_tokens: input, output_tokens: output })
    expect(input).not.toBe(8)
    expect(await recorded('claude')).toMatchObject({ status: 200, promptTokens: input, completionTokens: output })
  })

  it('/v1/messages on an upstream that reports usage: finalMessage() has the upstream\'s figures, as recorded', async () => {
    upstream.ignoresIncludeUsage = false
    try {
      const stream = anthropic('claude-reported').messages.stream({ model: 'r', max_tokens: 100, messages: [{ role: 'user', content: 'And wolves?' }] })
      const starts: number[] = []
      stream.on('streamEvent', (event) => { if (event.type === 'message_start') starts.push(event.message.usage.input_tokens) })
      const final = await stream.finalMessage()
      // 'And wolves?' is 11 bytes: ceil(11 / 4) until the upstream's figure arrives at the end.
      expect(starts).toEqual([3])
      expect(final.usage).toMatchObject({ input_tokens: UPSTREAM_USAGE.prompt_tokens, output_tokens: UPSTREAM_USAGE.completion_tokens })
      expect(await recorded('claude-reported')).toMatchObject({ promptTokens: UPSTREAM_USAGE.prompt_tokens, completionTokens: UPSTREAM_USAGE.completion_tokens })
    } finally {
      upstream.ignoresIncludeUsage = true
    }
  })
})
