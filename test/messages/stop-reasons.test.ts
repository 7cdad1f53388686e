/**
 * Why an answer ended, as a Claude-native client reads it (`stop_reason`, `stop_sequence`) from a
 * route whose target is not reached on Anthropic's own wire: an OpenAI-wire upstream, whole and
 * streamed, through the official SDK's `messages.create` and `messages.stream().finalMessage()`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Anthropic from '@anthropic-ai/sdk'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { sendJson, sendSse, startUpstream, type MockUpstream } from '../helpers/upstream.ts'
import { upstreamProviders } from './helpers.ts'

type Choice = { message?: Record<string, unknown>; finish_reason: string; extra?: Record<string, unknown> }

/** An OpenAI chat completion with this one choice. */
function completion({ message, finish_reason, extra }: Choice) {
  return {
    id: 'chatcmpl-stops', object: 'chat.completion', created: 1_700_000_000, model: 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: null, ...message }, finish_reason, logprobs: null, ...extra }],
    usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 },
  }
}

/** The same answer as OpenAI streams it: the deltas given, then the finish chunk (with `extra` on its choice) and the usage chunk. */
function chunks(deltas: object[], finish: string, extra: Record<string, unknown> = {}) {
  const common = { id: 'chatcmpl-stops', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o-mini' }
  const chunk = (delta: object, finish_reason: string | null = null, more = {}) => ({ data: { ...common, choices: [{ index: 0, delta, finish_reason, logprobs: null, ...more }] } })
  return [
    chunk({ role: 'assistant', content: null }),
    ...deltas.map((delta) => chunk(delta)),
    chunk({}, finish, extra),
    { data: { ...common, choices: [], usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 } } },
    { data: '[DONE]' },
  ]
}

describe('stop_reason from an OpenAI-wire target, as the Anthropic SDK reads it', () => {
  let openai: MockUpstream
  let gateway: RunningGateway
  let client: Anthropic
  beforeAll(async () => {
    openai = await startUpstream()
    gateway = await startTestGateway(`
version: 1
providers:
${upstreamProviders({ openai: openai.url })}
routes:
  - model: gpt
    targets: [ { provider: gpt, model: gpt-4o-mini } ]
`)
    client = new Anthropic({ baseURL: gateway.url, apiKey: 'unused', maxRetries: 0 })
  })
  afterAll(async () => {
    await gateway.close()
    await openai.close()
  })

  /** Answer the next call with `choice`, whole or streamed as the request asks. */
  const answer = (choice: Choice, deltas: object[]) => openai.handle((req, res) => (req.body.stream ? sendSse(res, chunks(deltas, choice.finish_reason, choice.extra)) : sendJson(res, 200, completion(choice))))
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
