/**
 * Why an answer ended, as a Claude-native client reads it (`stop_reason`, `stop_sequence`) from a
 * route whose target is not reached on Anthropic's own wire: an OpenAI-wire upstream, and an
 * Anthropic one behind a cached route (the cache keeps answers in the unified shape, so the request
 * is translated), whole and streamed, through the official SDK's `messages.create` and
 * `messages.stream().finalMessage()`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Anthropic from '@anthropic-ai/sdk'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { sendJson, sendSse, startUpstream, type MockUpstream } from '../helpers/upstream.ts'
import { MODEL, message, sendMessage, sendStream, streamEvents, text } from '../providers/anthropic/anthropic-upstream.ts'
import { claudeClientOnGpt, openAIChunks, openAICompletion, upstreamProviders, type OpenAIChoice } from './helpers.ts'

describe('stop_reason from an OpenAI-wire target, as the Anthropic SDK reads it', () => {
  let openai: MockUpstream
  let gateway: RunningGateway
  let client: Anthropic
  beforeAll(async () => {
    openai = await startUpstream()
    ;({ gateway, client } = await claudeClientOnGpt(openai.url))
  })
  afterAll(async () => {
    await gateway.close()
    await openai.close()
  })

  /** Answer the next call with `choice`, whole or streamed as the request asks. */
  const answer = (choice: OpenAIChoice, deltas: object[]) => openai.handle((req, res) => (req.body.stream ? sendSse(res, openAIChunks(deltas, choice.finish_reason, choice.extra)) : sendJson(res, 200, openAICompletion(choice))))
  const ask = { model: 'gpt', max_tokens: 50, messages: [{ role: 'user' as const, content: 'Tell me how to pick a lock.' }] }

  describe('a refusal (OpenAI\'s `refusal` in place of content)', () => {
    const refusal = { message: { refusal: 'I can\'t help with that.' }, finish_reason: 'stop' }
    const pieces = [{ refusal: 'I can\'t ' }, { refusal: 'help with that.' }]

    it('is a text block and stop_reason refusal in a whole message', async () => {
      answer(refusal, pieces)
      const res = await client.messages.create(ask)
      expect(res.content).toEqual([{ type: 'text', text: 'I can\'t help with that.', citations: null }])
      expect(res.stop_reason).toBe('refusal')
    })

    it('streams as text deltas, and the SDK\'s final message ends with stop_reason refusal', async () => {
      answer(refusal, pieces)
      const stream = client.messages.stream(ask)
      const texts: string[] = []
      stream.on('text', (delta) => texts.push(delta))
      const final = await stream.finalMessage()
      expect(texts).toEqual(['I can\'t ', 'help with that.'])
      expect(final.content).toEqual([{ type: 'text', text: 'I can\'t help with that.', citations: null }])
      expect(final.stop_reason).toBe('refusal')
    })
  })

  it('says which stop sequence ended the answer where the upstream tells (vLLM\'s stop_reason on the choice), whole and streamed', async () => {
    answer({ message: { content: 'One, two' }, finish_reason: 'stop', extra: { stop_reason: 'THREE' } }, [{ content: 'One, ' }, { content: 'two' }])
    const stops = { ...ask, stop_sequences: ['THREE'] }
    const whole = await client.messages.create(stops)
    expect([whole.stop_reason, whole.stop_sequence]).toEqual(['stop_sequence', 'THREE'])
    expect(openai.requests.at(-1)!.body.stop).toEqual(['THREE'])
    const final = await client.messages.stream(stops).finalMessage()
    expect([final.stop_reason, final.stop_sequence]).toEqual(['stop_sequence', 'THREE'])
  })

  it('takes the choice\'s stop_reason for a stop sequence only when it is one the request set', async () => {
    answer({ message: { content: 'Done.' }, finish_reason: 'stop', extra: { stop_reason: '</s>' } }, [{ content: 'Done.' }])
    const whole = await client.messages.create({ ...ask, stop_sequences: ['THREE'] })
    expect([whole.stop_reason, whole.stop_sequence]).toEqual(['end_turn', null])
    const final = await client.messages.stream(ask).finalMessage()
    expect([final.stop_reason, final.stop_sequence]).toEqual(['end_turn', null])
  })

  it('answers a tool call that max_tokens cut off as stop_reason max_tokens, not as the provider\'s error', async () => {
    const cut = { id: 'call_cut', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Pa' } }
    answer({ message: { tool_calls: [cut] }, finish_reason: 'length' }, [{ tool_calls: [{ index: 0, ...cut }] }])
    const whole = await client.messages.create(ask)
    expect(whole.stop_reason).toBe('max_tokens')
    // Its arguments end mid-way: no input can be read from them, and the stop reason says why.
    expect(whole.content).toEqual([{ type: 'tool_use', id: 'call_cut', name: 'get_weather', input: {}, caller: { type: 'direct' } }])
    const streamed = await client.messages.stream(ask).finalMessage()
    expect(streamed.stop_reason).toBe('max_tokens')
    expect(streamed.content).toMatchObject([{ type: 'tool_use', id: 'call_cut', name: 'get_weather' }])
  })

  it.each([
    ['length', 'max_tokens'],
    ['tool_calls', 'tool_use'],
    ['content_filter', 'refusal'],
    ['stop', 'end_turn'],
  ] as const)('maps finish_reason %s to stop_reason %s, whole and streamed', async (finish, stop) => {
    answer({ message: { content: 'Some text' }, finish_reason: finish }, [{ content: 'Some text' }])
    expect((await client.messages.create(ask)).stop_reason).toBe(stop)
    expect((await client.messages.stream(ask).finalMessage()).stop_reason).toBe(stop)
  })
})

describe('stop_reason from an Anthropic target reached through the unified API (a cached route)', () => {
  let anthropic: MockUpstream
  let gateway: RunningGateway
  let client: Anthropic
  beforeAll(async () => {
    anthropic = await startUpstream()
    gateway = await startTestGateway(`
version: 1
providers:
${upstreamProviders({ anthropic: anthropic.url })}
routes:
  - model: claude
    targets: [ { provider: claude, model: ${MODEL} } ]
    cache: true
cache: { plugin: memory }
`)
    client = new Anthropic({ baseURL: gateway.url, apiKey: 'unused', maxRetries: 0 })
  })
  afterAll(async () => {
    await gateway.close()
    await anthropic.close()
  })

  const stopped = (content: string) => ({ model: 'claude', max_tokens: 50, stop_sequences: ['###'], messages: [{ role: 'user' as const, content }] })

  it('keeps stop_sequence and the sequence on a whole message', async () => {
    anthropic.handle((_req, res) => sendMessage(res, message([text('Part one')], { stop_reason: 'stop_sequence', stop_sequence: '###' })))
    const res = await client.messages.create(stopped('whole'))
    expect([res.stop_reason, res.stop_sequence]).toEqual(['stop_sequence', '###'])
    expect(anthropic.requests.at(-1)!.body.stop_sequences).toEqual(['###'])
  })

  it('keeps them on a stream, and on the same answer replayed from the cache', async () => {
    const events = streamEvents({ text: ['Part ', 'one'] })
    const delta = events.find((e) => e.type === 'message_delta')!
    if (delta.type === 'message_delta') Object.assign(delta.delta, { stop_reason: 'stop_sequence', stop_sequence: '###' })
    anthropic.handle((_req, res) => sendStream(res, events))
    const first = await client.messages.stream(stopped('streamed')).finalMessage()
    expect([first.stop_reason, first.stop_sequence]).toEqual(['stop_sequence', '###'])
    const calls = anthropic.requests.length
    const again = await client.messages.stream(stopped('streamed')).finalMessage()
    expect(anthropic.requests.length).toBe(calls)
    expect(again.content).toEqual([{ type: 'text', text: 'Part one', citations: null }])
    expect([again.stop_reason, again.stop_sequence]).toEqual(['stop_sequence', '###'])
  })
})
