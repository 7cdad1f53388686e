import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type OpenAI from 'openai'
import { expectOpenAISchema } from '../../helpers/openai-schema.ts'
import { message, sendMessage, text, toolUse } from './anthropic-upstream.ts'
import { startAnthropicFixture, type AnthropicFixture } from './setup.ts'

const WEATHER_TOOL: OpenAI.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city.',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
}

describe('anthropic provider: tool calls', () => {
  let f: AnthropicFixture
  beforeAll(async () => { f = await startAnthropicFixture() })
  afterAll(() => f.close())

  it('sends tools as Anthropic tools and returns tool_use blocks as OpenAI tool calls', async () => {
    f.upstream.handle((_req, res) => sendMessage(res, message(
      [text('Let me check.'), toolUse('toolu_01A', 'get_weather', { city: 'Paris' }), toolUse('toolu_01B', 'get_weather', { city: 'Rome' })],
      { stop_reason: 'tool_use' },
    )))
    const res = await f.client.chat.completions.create({ model: 'claude', tools: [WEATHER_TOOL], messages: [{ role: 'user', content: 'Weather in Paris and Rome?' }] })
    expectOpenAISchema('CreateChatCompletionResponse', res)
    expect(res.choices[0].finish_reason).toBe('tool_calls')
    expect(res.choices[0].message.content).toBe('Let me check.')
    expect(res.choices[0].message.tool_calls).toEqual([
      { id: 'toolu_01A', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      { id: 'toolu_01B', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
    ])
    expect(f.lastRequest().body.tools).toEqual([{
      name: 'get_weather',
      description: 'Current weather for a city.',
      input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    }])
  })

  it('returns content null when the answer is only tool calls', async () => {
    f.upstream.handle((_req, res) => sendMessage(res, message([toolUse('toolu_01C', 'get_weather', { city: 'Oslo' })], { stop_reason: 'tool_use' })))
    const res = await f.client.chat.completions.create({ model: 'claude', tools: [WEATHER_TOOL], messages: [{ role: 'user', content: 'Oslo?' }] })
    expect(res.choices[0].message.content).toBeNull()
  })

  it('sends the assistant\'s tool calls as tool_use blocks and tool results as tool_result blocks in one user turn', async () => {
    f.upstream.handle((_req, res) => sendMessage(res, message([text('Paris 21°C, Rome 25°C.')])))
    const res = await f.client.chat.completions.create({
      model: 'claude',
      tools: [WEATHER_TOOL],
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'toolu_01A', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'toolu_01B', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_01A', content: '21°C' },
        { role: 'tool', tool_call_id: 'toolu_01B', content: [{ type: 'text', text: '25°C' }] },
        { role: 'user', content: 'Summarise.' },
      ],
    })
    expect(res.choices[0].message.content).toBe('Paris 21°C, Rome 25°C.')
    expect(f.lastRequest().body.messages).toEqual([
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_01B', name: 'get_weather', input: { city: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_01A', content: '21°C' },
          { type: 'tool_result', tool_use_id: 'toolu_01B', content: [{ type: 'text', text: '25°C' }] },
          { type: 'text', text: 'Summarise.' },
        ],
      },
    ])
  })

  it('rejects tool call arguments that are not JSON with a 400 naming them', async () => {
    const err = await f.client.chat.completions.create({
      model: 'claude',
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{oops' } }] },
        { role: 'tool', tool_call_id: 't1', content: 'x' },
      ],
    }).catch((e) => e)
    expect(err.status).toBe(400)
    expect(err.error).toMatchObject({ code: 'invalid_tool_arguments', param: 'messages[1].tool_calls[0].function.arguments' })
  })

  it.each([
    ['auto', { type: 'auto' }],
    ['none', { type: 'none' }],
    ['required', { type: 'any' }],
    [{ type: 'function', function: { name: 'get_weather' } }, { type: 'tool', name: 'get_weather' }],
  ] as const)('maps tool_choice %j to Anthropic\'s %j', async (choice, expected) => {
    f.upstream.handle((_req, res) => sendMessage(res, message([text('ok')])))
    await f.client.chat.completions.create({ model: 'claude', tools: [WEATHER_TOOL], tool_choice: choice as OpenAI.ChatCompletionToolChoiceOption, messages: [{ role: 'user', content: 'Hi' }] })
    expect(f.lastRequest().body.tool_choice).toEqual(expected)
  })

  it('turns parallel_tool_calls: false into disable_parallel_tool_use', async () => {
    f.upstream.handle((_req, res) => sendMessage(res, message([text('ok')])))
    await f.client.chat.completions.create({ model: 'claude', tools: [WEATHER_TOOL], parallel_tool_calls: false, messages: [{ role: 'user', content: 'Hi' }] })
    expect(f.lastRequest().body.tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true })
    await f.client.chat.completions.create({ model: 'claude', tools: [WEATHER_TOOL], tool_choice: 'required', parallel_tool_calls: false, messages: [{ role: 'user', content: 'Hi' }] })
    expect(f.lastRequest().body.tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: true })
  })
})
