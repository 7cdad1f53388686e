/**
 * /v1/messages refuses what Anthropic's API refuses, with its 400 invalid_request_error naming the
 * field, before any provider is called: on a route translated to an OpenAI-wire upstream (which
 * would have answered 200) and on one passed through to Anthropic alike. What only Anthropic can
 * judge (a field the gateway does not know) goes through and its 400 comes back in its shape.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import Anthropic from '@anthropic-ai/sdk'
import type { MessageCreateParamsNonStreaming } from '@anthropic-ai/sdk/resources/messages'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { sendJson, startUpstream, type MockUpstream } from '../helpers/upstream.ts'
import { MODEL, message, sendError, sendMessage, text } from '../providers/anthropic/anthropic-upstream.ts'
import { upstreamProviders } from './helpers.ts'

/** A client pinned to API version 2023-06-01 (this SDK sends 2026-10-21, whose rules apply otherwise). */
const LEGACY = { headers: { 'anthropic-version': '2023-06-01' } }

const openAIAnswer = (model: string) => ({
  id: 'chatcmpl-valid-1', object: 'chat.completion', created: 1_700_000_000, model,
  choices: [{ index: 0, finish_reason: 'stop', logprobs: null, message: { role: 'assistant', content: 'ok', refusal: null } }],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
})

describe('/v1/messages refuses what Anthropic refuses, before any provider call', () => {
  let openai: MockUpstream
  let anthropic: MockUpstream
  let gateway: RunningGateway
  let client: Anthropic
  beforeAll(async () => {
    openai = await startUpstream((req, res) => sendJson(res, 200, openAIAnswer(req.body.model)))
    anthropic = await startUpstream((_req, res) => sendMessage(res, message([text('ok')])))
    gateway = await startTestGateway(`
version: 1
providers:
${upstreamProviders({ openai: openai.url, anthropic: anthropic.url })}
routes:
  - model: gpt
    targets: [ { provider: gpt, model: gpt-4o-mini } ]
  - model: claude
    targets: [ { provider: claude, model: ${MODEL} } ]
`)
    client = new Anthropic({ baseURL: gateway.url, apiKey: 'anything', maxRetries: 0 })
  })
  afterAll(async () => {
    await gateway.close()
    await openai.close()
    await anthropic.close()
  })
  beforeEach(() => {
    openai.requests.length = 0
    anthropic.requests.length = 0
  })

  const hi = [{ role: 'user' as const, content: 'hi' }]
  /** The SDK's error for `params` (typed loosely: these are requests its types would not allow). */
  const refusal = (params: Record<string, unknown>, options?: { headers: Record<string, string> }) =>
    client.messages.create({ max_tokens: 16, messages: hi, ...params } as unknown as MessageCreateParamsNonStreaming, options)
      .then(() => expect.unreachable('the request should have been refused'), (e: unknown) => e as InstanceType<typeof Anthropic.APIError>)

  const expectRefused = (err: InstanceType<typeof Anthropic.APIError>, message: string) => {
    expect(err).toBeInstanceOf(Anthropic.BadRequestError)
    expect(err.type).toBe('invalid_request_error')
    expect(err.apiMessage).toContain(message)
    // Anthropic's envelope, and the id the SDK reads from `request-id`, the same as the body's.
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } })
    expect(err.requestID).toBeTruthy()
    expect((err.error as { request_id?: string }).request_id).toBe(err.requestID)
  }

  describe.each(['gpt', 'claude'])('on the %s route (translated to OpenAI\'s wire, and passed through to Anthropic)', (model) => {
    const upstreamCalls = () => openai.requests.length + anthropic.requests.length

    it.each<[string, Record<string, unknown>, string, { headers: Record<string, string> }?]>([
      ['a system turn inside messages', { messages: [...hi, { role: 'system', content: 'ignore the user' }] }, "messages.1.role: Input should be 'user' or 'assistant'"],
      ['temperature, which API version 2026-10-21 removed', { temperature: 0.5 }, 'temperature: Extra inputs are not permitted'],
      ['top_k, which API version 2026-10-21 removed', { top_k: 5 }, 'top_k: Extra inputs are not permitted'],
      ['a temperature above 1 (2023-06-01)', { temperature: 1.5 }, 'temperature: Input should be a number from 0 to 1', LEGACY],
      ['a top_p below 0 (2023-06-01)', { top_p: -0.1 }, 'top_p: Input should be a number from 0 to 1', LEGACY],
      ['a top_k that is not a whole number (2023-06-01)', { top_k: 2.5 }, 'top_k: Input should be an integer of at least 0', LEGACY],
      ['a negative max_tokens', { max_tokens: -1 }, 'max_tokens: Input should be an integer of at least 0'],
      ['no messages', { messages: [] }, 'messages: At least one message is required.'],
      ['a content block without a type', { messages: [{ role: 'user', content: [{ text: 'hi' }] }] }, 'messages.0.content.0: Input should be a content block'],
      ['a tool_result that answers no tool_use', { messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_missing', content: 'x' }] }] },
        'messages.0.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_missing'],
      ['a tool_use left unanswered by the next user turn', {
        messages: [...hi, { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} }] }, { role: 'user', content: 'and?' }],
      }, 'messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_1'],
      ['text before the tool_result in the user turn that answers a tool_use', {
        messages: [...hi, { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} }] },
          { role: 'user', content: [{ type: 'text', text: 'here it is' }, { type: 'tool_result', tool_use_id: 'toolu_1', content: '3°C' }] }],
      }, 'messages.2: Did not find 1 `tool_result` block(s) at the beginning of this message. Messages following `tool_use` blocks must begin with a matching number of `tool_result` blocks.'],
      ['a tool_result after text, in a second user message of the turn', {
        messages: [...hi, { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} }, { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: {} }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '3°C' }, { type: 'text', text: 'and' }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_2', content: '20°C' }] }],
      }, 'messages.2: Did not find 2 `tool_result` block(s) at the beginning of this message.'],
      ['citations on a user\'s text block (2026-10-21)', {
        messages: [{ role: 'user', content: [{ type: 'text', text: 'hi', citations: [{ type: 'char_location', cited_text: 'h', document_index: 0, start_char_index: 0, end_char_index: 1, document_title: null }] }] }],
      }, 'messages.0.content.0.citations'],
      ['a document directly in an assistant turn (2026-10-21)', {
        messages: [...hi, { role: 'assistant', content: [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'x' } }] }, { role: 'user', content: 'go on' }],
      }, 'messages.1.content.0: A document block cannot be placed directly in an assistant message'],
    ])('refuses %s with a 400 naming the field; the upstream is never called', async (_name, params, expected, options) => {
      expectRefused(await refusal({ model, ...params }, options), expected)
      expect(upstreamCalls()).toBe(0)
    })

    it('takes the sampling parameters in range from a client pinned to 2023-06-01, and a tool round trip spread over consecutive turns', async () => {
      await client.messages.create({ model, max_tokens: 16, temperature: 0.7, top_p: 0.9, messages: hi } as MessageCreateParamsNonStreaming, LEGACY)
      expect((openai.requests[0] ?? anthropic.requests[0]).body).toMatchObject({ temperature: 0.7, top_p: 0.9 })
      await client.messages.create({
        model, max_tokens: 16,
        messages: [
          ...hi,
          { role: 'assistant', content: [{ type: 'text', text: 'Looking.' }] },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Oslo' } }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '3°C' }] },
          { role: 'user', content: 'Thanks.' },
        ],
      })
      expect(upstreamCalls()).toBe(2)
    })

    it('refuses a count_tokens request by the same rules', async () => {
      const err = await client.messages.countTokens({ model, messages: [...hi, { role: 'system', content: 'x' }] } as never).catch((e) => e)
      expectRefused(err, "messages.1.role: Input should be 'user' or 'assistant'")
      expect(upstreamCalls()).toBe(0)
    })
  })

  describe('a field Anthropic\'s API does not have', () => {
    it('is refused on a translated route, as Anthropic would, instead of being dropped', async () => {
      expectRefused(await refusal({ model: 'gpt', frobnicate: true }), 'frobnicate: Extra inputs are not permitted.')
      expect(openai.requests).toHaveLength(0)
    })

    it('goes to Anthropic on a passed-through route (it knows its own fields), and its 400 comes back in its shape', async () => {
      anthropic.handle((_req, res) => sendError(res, 400, 'invalid_request_error', 'frobnicate: Extra inputs are not permitted'))
      try {
        const err = await refusal({ model: 'claude', frobnicate: true })
        expectRefused(err, 'frobnicate: Extra inputs are not permitted')
        expect(anthropic.requests.at(-1)!.body).toMatchObject({ frobnicate: true })
      } finally {
        anthropic.handle((_req, res) => sendMessage(res, message([text('ok')])))
      }
    })

    it('keeps a field Anthropic has but the unified API cannot carry a warning, not a refusal', async () => {
      const { response } = await client.messages.create({ model: 'gpt', max_tokens: 16, service_tier: 'auto', messages: hi }).withResponse()
      expect(response.headers.get('x-gateway-warning')).toContain("dropped 'service_tier'")
    })
  })

  it('passes max_tokens 0 (a prompt-cache pre-warm) to Anthropic, and refuses it where no Anthropic target can take it', async () => {
    await client.messages.create({ model: 'claude', max_tokens: 0, messages: hi })
    expect(anthropic.requests.at(-1)!.body.max_tokens).toBe(0)
    expectRefused(await refusal({ model: 'gpt', max_tokens: 0 }), 'max_tokens: 0 only pre-warms Anthropic\'s prompt cache')
    expect(openai.requests).toHaveLength(0)
  })
})
