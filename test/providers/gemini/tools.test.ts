import { beforeEach, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions'
import { providerSuite } from '../../helpers/provider-suite.ts'
import { expectOpenAISchema } from '../../helpers/openai-schema.ts'
import { sendJson } from '../../helpers/upstream.ts'
import { MODEL, gatewayConfig, generatePath, generateResponse, sendGeminiStream, startGeminiUpstream, streamPath } from './gemini-upstream.ts'

const WEATHER_PARAMETERS = { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['C', 'F'] } }, required: ['city'], additionalProperties: false }
const TOOLS: ChatCompletionTool[] = [
  { type: 'function', function: { name: 'get_weather', description: 'Weather in a city', parameters: WEATHER_PARAMETERS } },
  { type: 'function', function: { name: 'get_time', description: 'Local time' } },
]
const ASK: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris and Rome?' }]

describe('gemini: tools and function calls', () => {
  const suite = providerSuite(startGeminiUpstream, gatewayConfig)
  beforeEach(() => {
    suite.upstream.requests.length = 0
    suite.upstream.route(generatePath(), (_req, res) => sendJson(res, 200, generateResponse([
      { functionCall: { name: 'get_weather', args: { city: 'Paris' } } },
      { functionCall: { name: 'get_weather', args: { city: 'Rome', unit: 'C' } } },
    ])))
  })
  const lastBody = () => suite.upstream.requests.at(-1)!.body

  it('declares the tools as functionDeclarations with their JSON Schema, and answers function calls as tool_calls', async () => {
    const res = await suite.client.chat.completions.create({ model: 'chat', messages: ASK, tools: TOOLS })
    expect(lastBody().tools).toEqual([{
      functionDeclarations: [
        { name: 'get_weather', description: 'Weather in a city', parametersJsonSchema: WEATHER_PARAMETERS },
        { name: 'get_time', description: 'Local time' },
      ],
    }])
    const choice = res.choices[0]
    expect(choice.finish_reason).toBe('tool_calls')
    expect(choice.message.content).toBeNull()
    const calls = choice.message.tool_calls!.map((c) => (c.type === 'function' ? [c.function.name, JSON.parse(c.function.arguments)] : null))
    expect(calls).toEqual([['get_weather', { city: 'Paris' }], ['get_weather', { city: 'Rome', unit: 'C' }]])
    const ids = choice.message.tool_calls!.map((c) => c.id)
    expect(new Set(ids).size).toBe(2)
    for (const id of ids) expect(id).toMatch(/^call_[A-Za-z0-9_-]+$/)
    expectOpenAISchema('CreateChatCompletionResponse', res)
  })

  it('gives the same tool call ids to the same request', async () => {
    const first = await suite.client.chat.completions.create({ model: 'chat', messages: ASK, tools: TOOLS }, { headers: { 'x-request-id': 'fixed-request' } })
    const second = await suite.client.chat.completions.create({ model: 'chat', messages: ASK, tools: TOOLS }, { headers: { 'x-request-id': 'fixed-request' } })
    expect(second.choices[0].message.tool_calls!.map((c) => c.id)).toEqual(first.choices[0].message.tool_calls!.map((c) => c.id))
  })

  it.each([
    ['none', { mode: 'NONE' }],
    ['auto', { mode: 'AUTO' }],
    ['required', { mode: 'ANY' }],
    [{ type: 'function', function: { name: 'get_time' } }, { mode: 'ANY', allowedFunctionNames: ['get_time'] }],
    [{ type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [{ type: 'function', function: { name: 'get_weather' } }] } }, { mode: 'VALIDATED', allowedFunctionNames: ['get_weather'] }],
  ] as const)('maps tool_choice %j to functionCallingConfig %j', async (toolChoice, config) => {
    await suite.client.chat.completions.create({ model: 'chat', messages: ASK, tools: TOOLS, tool_choice: toolChoice as OpenAI.ChatCompletionToolChoiceOption })
    expect(lastBody().toolConfig).toEqual({ functionCallingConfig: config })
  })

  it('sends the tool results as functionResponse parts naming their function, in one user turn after the model\'s calls', async () => {
    suite.upstream.route(generatePath(), (_req, res) => sendJson(res, 200, generateResponse([{ text: 'Sunny in Paris, rain in Rome.' }])))
    const res = await suite.client.chat.completions.create({
      model: 'chat',
      tools: TOOLS,
      messages: [
        ...ASK,
        {
          role: 'assistant', content: null,
          tool_calls: [
            { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_a', content: '{"sky":"sunny"}' },
        { role: 'tool', tool_call_id: 'call_b', content: '14:05' },
      ],
    })
    expect(lastBody().contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather in Paris and Rome?' }] },
      { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }, { functionCall: { name: 'get_time', args: {} } }] },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_weather', response: { output: { sky: 'sunny' } } } },
          { functionResponse: { name: 'get_time', response: { output: '14:05' } } },
        ],
      },
    ])
    expect(res.choices[0]).toMatchObject({ message: { content: 'Sunny in Paris, rain in Rome.' }, finish_reason: 'stop' })
  })

  it('carries Gemini\'s call id and thought signature through the tool call id, and sends them back on the next turn', async () => {
    suite.upstream.route(generatePath(), (_req, res) => sendJson(res, 200, generateResponse([
      { functionCall: { id: 'fc-123', name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'c2lnbmF0dXJlLWJ5dGVz' },
    ])))
    const first = await suite.client.chat.completions.create({ model: 'chat', messages: ASK, tools: TOOLS })
    const toolCall = first.choices[0].message.tool_calls![0]
    expect(toolCall.id).toMatch(/^[A-Za-z0-9_-]+$/)

    suite.upstream.route(generatePath(), (_req, res) => sendJson(res, 200, generateResponse([{ text: 'Sunny.' }])))
    await suite.client.chat.completions.create({
      model: 'chat', tools: TOOLS,
      messages: [...ASK, first.choices[0].message as ChatCompletionMessageParam, { role: 'tool', tool_call_id: toolCall.id, content: 'sunny' }],
    })
    expect(lastBody().contents.slice(1)).toEqual([
      { role: 'model', parts: [{ functionCall: { id: 'fc-123', name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'c2lnbmF0dXJlLWJ5dGVz' }] },
      { role: 'user', parts: [{ functionResponse: { id: 'fc-123', name: 'get_weather', response: { output: 'sunny' } } }] },
    ])
  })

  it('streams a function call as one tool_calls delta with its name and whole arguments', async () => {
    suite.upstream.route(streamPath(), (_req, res) => sendGeminiStream(res, [
      { candidates: [{ content: { role: 'model', parts: [{ text: 'Checking.' }] }, index: 0 }], modelVersion: MODEL },
      { candidates: [{ content: { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] }, index: 0 }], modelVersion: MODEL },
      { candidates: [{ content: { role: 'model', parts: [{ functionCall: { name: 'get_time', args: {} } }] }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 9, candidatesTokenCount: 12, totalTokenCount: 21 }, modelVersion: MODEL },
    ]))
    const stream = await suite.client.chat.completions.create({ model: 'chat', stream: true, stream_options: { include_usage: true }, messages: ASK, tools: TOOLS })
    const chunks = []
    for await (const chunk of stream) chunks.push(chunk)
    for (const chunk of chunks) expectOpenAISchema('CreateChatCompletionStreamResponse', chunk)
    const toolDeltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
    expect(toolDeltas.map((d) => [d.index, d.function?.name, d.function?.arguments])).toEqual([[0, 'get_weather', '{"city":"Paris"}'], [1, 'get_time', '{}']])
    expect(toolDeltas.every((d) => d.type === 'function' && typeof d.id === 'string')).toBe(true)
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['tool_calls'])
    expect(chunks.at(-1)!.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 12, total_tokens: 21 })
  })

  it('rejects tool call arguments that are not a JSON object', async () => {
    const err = await suite.client.chat.completions.create({
      model: 'chat', tools: TOOLS,
      messages: [...ASK, { role: 'assistant', tool_calls: [{ id: 'call_x', type: 'function', function: { name: 'get_weather', arguments: '{not json' } }] }, { role: 'tool', tool_call_id: 'call_x', content: 'x' }],
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.BadRequestError)
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ code: 'invalid_tool_arguments', param: 'messages[1].tool_calls[0].function.arguments' })
  })

  it('rejects a tool result whose call is not in the history, since Gemini needs the function name', async () => {
    const err = await suite.client.chat.completions.create({ model: 'chat', messages: [...ASK, { role: 'tool', tool_call_id: 'call_unknown', content: 'x' }] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.BadRequestError)
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ code: 'invalid_tool_call_id', param: 'messages[1].tool_call_id' })
    expect(suite.upstream.requests).toHaveLength(0)
  })

  it('warns that parallel_tool_calls: false and strict function schemas cannot be honoured', async () => {
    const { response } = await suite.client.chat.completions.create({
      model: 'chat', messages: ASK, parallel_tool_calls: false,
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: WEATHER_PARAMETERS, strict: true } }],
    }).withResponse()
    const warning = response.headers.get('x-gateway-warning')!
    expect(warning).toContain("'parallel_tool_calls'")
    expect(warning).toContain("'tools[0].function.strict'")
  })
})
