import { beforeEach, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions'
import { providerSuite } from '../../helpers/provider-suite.ts'
import { expectOpenAISchema } from '../../helpers/openai-schema.ts'
import { sendJson } from '../../helpers/upstream.ts'
import { CHAT_PATH, completion, gatewayConfig, sendMistralStream, startMistralUpstream, streamChunk } from './mistral-upstream.ts'

const WEATHER_PARAMETERS = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }
const TOOLS: ChatCompletionTool[] = [
  { type: 'function', function: { name: 'get_weather', description: 'Weather in a city', parameters: WEATHER_PARAMETERS } },
  { type: 'function', function: { name: 'get_time' } },
]
const ASK: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }]

describe('mistral: tools and tool calls', () => {
  const suite = providerSuite(startMistralUpstream, gatewayConfig)
  beforeEach(() => {
    suite.upstream.requests.length = 0
    suite.upstream.route(CHAT_PATH, (_req, res) => sendJson(res, 200, completion(
      { content: '', tool_calls: [{ id: 'D681PevKs', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' }, index: 0 }] },
      { finishReason: 'tool_calls' },
    )))
  })
  const lastBody = () => suite.upstream.requests.at(-1)!.body

  it('sends the tools (an argument-less function gets an empty schema) and answers Mistral\'s tool calls as OpenAI tool_calls', async () => {
    const res = await suite.client.chat.completions.create({ model: 'chat', messages: ASK, tools: TOOLS })
    expect(lastBody().tools).toEqual([
      { type: 'function', function: { name: 'get_weather', description: 'Weather in a city', parameters: WEATHER_PARAMETERS } },
      { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } },
    ])
    expect(res.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: { content: null, tool_calls: [{ id: 'D681PevKs', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } }] },
    })
    expectOpenAISchema('CreateChatCompletionResponse', res)
  })

  it.each([
    ['none', 'none'],
    ['auto', 'auto'],
    ['required', 'any'],
    [{ type: 'function', function: { name: 'get_time' } }, { type: 'function', function: { name: 'get_time' } }],
  ] as const)('maps tool_choice %j to %j', async (toolChoice, expected) => {
    await suite.client.chat.completions.create({ model: 'chat', messages: ASK, tools: TOOLS, tool_choice: toolChoice as OpenAI.ChatCompletionToolChoiceOption })
    expect(lastBody().tool_choice).toEqual(expected)
  })

  it('narrows the tool list to an allowed_tools choice, which Mistral has no form for', async () => {
    await suite.client.chat.completions.create({
      model: 'chat', messages: ASK, tools: TOOLS,
      tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'required', tools: [{ type: 'function', function: { name: 'get_time' } }] } },
    })
    expect(lastBody().tools.map((t: { function: { name: string } }) => t.function.name)).toEqual(['get_time'])
    expect(lastBody().tool_choice).toBe('any')
  })

  it('gives OpenAI-style tool call ids the nine-character form Mistral demands, the same on the call and its result', async () => {
    suite.upstream.route(CHAT_PATH, (_req, res) => sendJson(res, 200, completion({ content: 'Sunny.' })))
    await suite.client.chat.completions.create({
      model: 'chat', tools: TOOLS, parallel_tool_calls: false,
      messages: [
        ...ASK,
        { role: 'assistant', content: null, tool_calls: [
          { id: 'call_Xy12AbCdEfGhIjKlMnOpQrSt', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'D681PevKs', type: 'function', function: { name: 'get_time', arguments: '{}' } },
        ] },
        { role: 'tool', tool_call_id: 'call_Xy12AbCdEfGhIjKlMnOpQrSt', content: '{"sky":"sunny"}' },
        { role: 'tool', tool_call_id: 'D681PevKs', content: '14:05' },
      ],
    })
    const [, assistant, firstResult, secondResult] = lastBody().messages
    const mintedId = assistant.tool_calls[0].id
    expect(mintedId).toMatch(/^[a-zA-Z0-9]{9}$/)
    expect(assistant).toEqual({
      role: 'assistant', content: null, prefix: false,
      tool_calls: [
        { id: mintedId, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' }, index: 0 },
        { id: 'D681PevKs', type: 'function', function: { name: 'get_time', arguments: '{}' }, index: 1 },
      ],
    })
    expect(firstResult).toEqual({ role: 'tool', content: '{"sky":"sunny"}', tool_call_id: mintedId, name: 'get_weather' })
    expect(secondResult).toEqual({ role: 'tool', content: '14:05', tool_call_id: 'D681PevKs', name: 'get_time' })
    expect(lastBody().parallel_tool_calls).toBe(false)
  })

  it('streams a tool call as a tool_calls delta, with the finish reason and the usage', async () => {
    suite.upstream.route(CHAT_PATH, (_req, res) => sendMistralStream(res, [
      streamChunk({ role: 'assistant', content: '' }),
      streamChunk({ tool_calls: [
        { id: 'aaaaaaaa1', function: { name: 'get_weather', arguments: '{"city": "Paris"}' }, index: 0 },
        { id: 'bbbbbbbb2', function: { name: 'get_time', arguments: '{}' }, index: 0 },
      ] }, { finishReason: 'tool_calls', usage: { prompt_tokens: 30, completion_tokens: 12, total_tokens: 42 } }),
    ]))
    const stream = await suite.client.chat.completions.create({ model: 'chat', stream: true, stream_options: { include_usage: true }, messages: ASK, tools: TOOLS })
    const chunks = []
    for await (const chunk of stream) chunks.push(chunk)
    for (const chunk of chunks) expectOpenAISchema('CreateChatCompletionStreamResponse', chunk)
    const toolDeltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
    expect(toolDeltas.map((d) => [d.index, d.id, d.type, d.function?.name, d.function?.arguments])).toEqual([
      [0, 'aaaaaaaa1', 'function', 'get_weather', '{"city": "Paris"}'],
      [1, 'bbbbbbbb2', 'function', 'get_time', '{}'],
    ])
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['tool_calls'])
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 30, completion_tokens: 12, total_tokens: 42 } })
  })
})
