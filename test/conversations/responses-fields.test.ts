/**
 * Every field of a /v1/responses create is carried out, passed on to the model, or refused naming
 * it: none is dropped without a word (as OpenAI answers an unknown parameter with a 400).
 */
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectOpenAISchema } from '../helpers/openai-schema.ts'
import { waitFor } from '../helpers/wait.ts'
import { startConversations, type ConversationsFixture } from './helpers.ts'

describe('Responses create fields', () => {
  let f: ConversationsFixture
  let alice: OpenAI
  beforeAll(async () => {
    f = await startConversations()
    alice = f.client('alice')
  }, 120_000)
  afterAll(async () => { await f?.close() })

  it('passes user, safety_identifier, prompt_cache_key and service_tier to the model, and echoes them', async () => {
    const response = await alice.responses.create({ model: 'chat-a', input: 'hi', user: 'end-user-7', safety_identifier: 'sid-1', prompt_cache_key: 'team-a', service_tier: 'flex', ...{ max_tool_calls: 2 } })
    expectOpenAISchema('Response', response)
    expect(response).toMatchObject({ user: 'end-user-7', safety_identifier: 'sid-1', prompt_cache_key: 'team-a', service_tier: 'flex', ...{ max_tool_calls: 2 } })
    expect(f.upstreamChats().at(-1)!.body).toMatchObject({ user: 'end-user-7', safety_identifier: 'sid-1', prompt_cache_key: 'team-a', service_tier: 'flex' })
    // Background runs pass them on too.
    const queued = await alice.responses.create({ model: 'chat-a', input: 'later', user: 'end-user-8', background: true })
    expect(queued.user).toBe('end-user-8')
    await waitFor(() => f.upstreamChats().at(-1)!.body.user === 'end-user-8', 5000, 10)
  })

  it('passes text.verbosity to the model as the chat verbosity, streamed or not, and echoes it', async () => {
    const response = await alice.responses.create({ model: 'chat-a', input: 'be terse', text: { verbosity: 'low' } })
    expect(f.upstreamChats().at(-1)!.body.verbosity).toBe('low')
    expectOpenAISchema('Response', response)
    expect(response.text).toEqual({ format: { type: 'text' }, verbosity: 'low' })
    expect(response).not.toHaveProperty('verbosity')
    const final = await alice.responses.stream({ model: 'chat-a', input: 'be wordy', text: { verbosity: 'high', format: { type: 'text' } } }).finalResponse()
    expect(f.upstreamChats().at(-1)!.body.verbosity).toBe('high')
    expect(final.text?.verbosity).toBe('high')
    await alice.responses.create({ model: 'chat-a', input: 'plain' })
    expect(f.upstreamChats().at(-1)!.body).not.toHaveProperty('verbosity')
    await expect(alice.responses.create({ model: 'chat-a', input: 'hi', text: { verbosity: 'loud' as 'low' } })).rejects.toMatchObject({ status: 400, param: 'text.verbosity' })
    await expect(alice.responses.create({ model: 'chat-a', input: 'hi', text: { formt: { type: 'json_object' } } as never })).rejects.toMatchObject({ status: 400, code: 'unknown_parameter', param: 'text.formt' })
  })

  it('refuses a tool_choice that requires or names a tool the request does not have, instead of dropping it', async () => {
    const weather = { type: 'function' as const, name: 'get_weather', parameters: { type: 'object', properties: {} }, strict: false }
    const before = f.upstreamChats().length
    await expect(alice.responses.create({ model: 'chat-a', input: 'hi', tool_choice: 'required' })).rejects.toMatchObject({ status: 400, param: 'tool_choice', code: 'invalid_tool_choice' })
    await expect(alice.responses.create({ model: 'chat-a', input: 'hi', tools: [weather], tool_choice: { type: 'function', name: 'get_time' } })).rejects.toMatchObject({ status: 400, param: 'tool_choice' })
    await expect(alice.responses.create({ model: 'chat-a', input: 'hi', tool_choice: 'required', background: true })).rejects.toMatchObject({ status: 400, param: 'tool_choice' })
    expect(f.upstreamChats().length).toBe(before)
    await alice.responses.create({ model: 'chat-a', input: 'hi', tools: [weather], tool_choice: { type: 'function', name: 'get_weather' } })
    expect(f.upstreamChats().at(-1)!.body.tool_choice).toEqual({ type: 'function', function: { name: 'get_weather' } })
    expect((await alice.responses.create({ model: 'chat-a', input: 'hi', tool_choice: 'none' })).status).toBe('completed')
  })

  it('refuses a metadata key longer than 64 characters, as OpenAI does, on responses and conversations', async () => {
    const long = { ['k'.repeat(65)]: 'v' }
    await expect(alice.responses.create({ model: 'chat-a', input: 'hi', metadata: long })).rejects.toMatchObject({ status: 400, param: expect.stringMatching(/^metadata/) })
    await expect(alice.conversations.create({ metadata: long })).rejects.toMatchObject({ status: 400, param: expect.stringMatching(/^metadata/) })
    expect((await alice.conversations.create({ metadata: { ['k'.repeat(64)]: 'v' } })).metadata).toEqual({ ['k'.repeat(64)]: 'v' })
  })

  it('refuses a message with an empty content list and max_output_tokens below 16, naming the field, without calling the model', async () => {
    const before = f.upstreamChats().length
    await expect(alice.responses.create({ model: 'chat-a', input: [{ role: 'user', content: [] }] })).rejects.toMatchObject({ status: 400, code: 'empty_array', param: 'input[0].content' })
    await expect(alice.responses.create({ model: 'chat-a', input: [{ role: 'user', content: 'hi' }, { type: 'message', role: 'user', content: [] }] })).rejects.toMatchObject({ status: 400, param: 'input[1].content' })
    const conversation = await alice.conversations.create()
    await expect(alice.conversations.items.create(conversation.id, { items: [{ type: 'message', role: 'user', content: [] }] })).rejects.toMatchObject({ status: 400, param: 'items[0].content' })
    await expect(alice.responses.create({ model: 'chat-a', input: 'hi', max_output_tokens: 15 })).rejects.toMatchObject({ status: 400, param: 'max_output_tokens' })
    await expect(alice.responses.create({ model: 'chat-a', input: 'hi', max_output_tokens: 1, background: true })).rejects.toMatchObject({ status: 400, param: 'max_output_tokens' })
    expect(f.upstreamChats().length).toBe(before)
    expect((await alice.conversations.items.list(conversation.id)).data).toEqual([])
    expect((await alice.responses.create({ model: 'chat-a', input: [{ role: 'user', content: [{ type: 'input_text', text: 'hi' }] }], max_output_tokens: 16 })).status).toBe('completed')
    expect(f.upstreamChats().at(-1)!.body.max_tokens ?? f.upstreamChats().at(-1)!.body.max_completion_tokens).toBe(16)
  })

  it('refuses an unknown field and one it cannot carry out, naming it', async () => {
    await expect(alice.responses.create({ model: 'chat-a', input: 'hi', foo: 1 } as never)).rejects.toMatchObject({ status: 400, code: 'unknown_parameter', param: 'foo' })
    await expect(alice.responses.create({ model: 'chat-a', input: 'hi', context_management: [{ type: 'compaction' }] } as never)).rejects.toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'context_management' })
    await expect(alice.responses.create({ model: 'chat-a', input: 'hi', tools: [{ type: 'file_search', vector_store_ids: ['vs_1'] }], ...{ max_tool_calls: 0 } })).rejects.toMatchObject({ status: 400, param: 'max_tool_calls' })
  })
})
