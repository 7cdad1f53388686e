/**
 * A /v1/responses answer's usage says what the model reported: the reasoning tokens of a reasoning
 * model (output_tokens_details.reasoning_tokens) and the prompt tokens written to the provider's
 * cache (input_tokens_details.cache_write_tokens), streamed or not. Both read 0 whatever the model
 * spent, so a client reconciling its bill from the Responses API saw no reasoning at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sendJson, sendSse, startUpstream, type MockUpstream } from '../helpers/upstream.ts'
import { startConversations, type ConversationsFixture } from './helpers.ts'

const USAGE = {
  prompt_tokens: 1200, completion_tokens: 340, total_tokens: 1540,
  prompt_tokens_details: { cached_tokens: 500, cache_write_tokens: 600 },
  completion_tokens_details: { reasoning_tokens: 300 },
}

describe('Responses usage carries reasoning tokens and cache writes', () => {
  let up: MockUpstream
  let f: ConversationsFixture
  beforeAll(async () => {
    up = await startUpstream((req, res) => {
      const base = { id: 'c', created: 1, model: 'o4-mini', system_fingerprint: null }
      if (!req.body.stream) return sendJson(res, 200, { ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'thought hard', refusal: null }, finish_reason: 'stop', logprobs: null }], usage: USAGE })
      const chunk = (delta: object, finish: string | null = null) => ({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] })
      return sendSse(res, [{ data: chunk({ role: 'assistant', content: 'thought hard' }) }, { data: chunk({}, 'stop') }, { data: { ...base, object: 'chat.completion.chunk', choices: [], usage: USAGE } }, { data: '[DONE]' }])
    })
    f = await startConversations({
      providers: `  thinker: { plugin: openai, api_key: sk-test, base_url: '${up.url}' }`,
      routes: '  - { model: reasoner, targets: [ { provider: thinker, model: o4-mini } ] }',
    })
  }, 120_000)
  afterAll(async () => { await f?.close(); await up?.close() })

  const expected = {
    input_tokens: 1200, input_tokens_details: { cached_tokens: 500, cache_write_tokens: 600 },
    output_tokens: 340, output_tokens_details: { reasoning_tokens: 300 }, total_tokens: 1540,
  }

  it('not streamed', async () => {
    const response = await f.client('alice').responses.create({ model: 'reasoner', input: 'think' })
    expect(response.usage).toEqual(expected)
  })

  it('streamed: the completed event\'s response', async () => {
    const final = await f.client('alice').responses.stream({ model: 'reasoner', input: 'think' }).finalResponse()
    expect(final.usage).toEqual(expected)
  })
})
