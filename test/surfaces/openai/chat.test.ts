/**
 * Chat completions as a demanding user of the official openai Node SDK drives them: several
 * choices, JSON-schema output parsed by `.parse()`, log probabilities, seeds, parallel tool calls
 * streamed in pieces, `stream_options.include_usage`, the `.stream()` helper. Each through the
 * same-wire passthrough (provider.openai), the translated OpenAI-wire path
 * (provider.openai-compatible), a cached route, and the mock provider where it applies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { z } from 'zod'
import { zodResponseFormat } from 'openai/helpers/zod'
import type { ChatCompletionChunk, ChatCompletionTool } from 'openai/resources/chat/completions'
import { startTestGateway, type RunningGateway } from '../../helpers/gateway.ts'
import { sendJson, sendSse, startUpstream, type MockUpstream, type RecordedRequest } from '../../helpers/upstream.ts'
import { expectOpenAISchema } from '../../helpers/openai-schema.ts'

const USAGE = { prompt_tokens: 12, completion_tokens: 8, total_tokens: 20 }
const WEATHER = { city: 'Paris', celsius: 21 }
const LOGPROBS = { content: [{ token: 'ok', logprob: -0.01, bytes: [111, 107], top_logprobs: [{ token: 'ok', logprob: -0.01, bytes: [111, 107] }] }], refusal: null }
/** Two calls, each streamed as OpenAI streams them: id and name first, then the arguments in pieces. */
const CALLS = [{ id: 'call_paris', city: 'Paris', pieces: ['{"ci', 'ty": "Pa', 'ris"}'] }, { id: 'call_rome', city: 'Rome', pieces: ['{"city"', ': "Rome"}'] }]

/** OpenAI's chat completions as its API answers them: `n` choices, tools, JSON schema, logprobs, streams with include_usage. */
function answerChat(req: RecordedRequest, res: Parameters<Parameters<typeof startUpstream>[0] & object>[1]): Promise<void> | void {
  const body = req.body
  const n: number = body.n ?? 1
  const tools = Array.isArray(body.tools) && body.messages.at(-1).role === 'user'
  const text = body.response_format?.type === 'json_schema' ? JSON.stringify(WEATHER) : 'ok'
  const common = { id: 'chatcmpl-up', created: 1_700_000_000, model: body.model, system_fingerprint: 'fp_up', service_tier: 'default' }
  const logprobs = body.logprobs ? LOGPROBS : null
  if (!body.stream) {
    const choices = Array.from({ length: n }, (_, index) => ({
      index, logprobs, finish_reason: tools ? 'tool_calls' : 'stop',
      message: tools
        ? { role: 'assistant', content: null, refusal: null, annotations: [], tool_calls: CALLS.map((c) => ({ id: c.id, type: 'function', function: { name: 'get_weather', arguments: c.pieces.join('') } })) }
        : { role: 'assistant', content: `${text}`, refusal: null, annotations: [] },
    }))
    return sendJson(res, 200, { ...common, object: 'chat.completion', choices, usage: USAGE })
  }
  const usageField = body.stream_options?.include_usage ? { usage: null } : {}
  const chunk = (index: number, delta: object, finish: string | null = null) => ({ data: { ...common, object: 'chat.completion.chunk', ...usageField, choices: [{ index, delta, finish_reason: finish, logprobs: null }] } })
  const frames = []
  for (let index = 0; index < n; index++) {
    frames.push(chunk(index, { role: 'assistant', content: tools ? null : '', refusal: null }))
    if (tools) {
      CALLS.forEach((c, i) => {
        frames.push(chunk(index, { tool_calls: [{ index: i, id: c.id, type: 'function', function: { name: 'get_weather', arguments: '' } }] }))
        for (const piece of c.pieces) frames.push(chunk(index, { tool_calls: [{ index: i, function: { arguments: piece } }] }))
      })
    } else {
      frames.push(chunk(index, { content: text.slice(0, 5) }), chunk(index, { content: text.slice(5) }))
    }
    frames.push(chunk(index, {}, tools ? 'tool_calls' : 'stop'))
  }
  if (body.stream_options?.include_usage) frames.push({ data: { ...common, object: 'chat.completion.chunk', choices: [], usage: USAGE } })
  return sendSse(res, [...frames, { data: '[DONE]' }])
}

const TOOL: ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'The weather in a city.', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } },
}

let gw: RunningGateway
let up: MockUpstream

beforeAll(async () => {
  up = await startUpstream(answerChat)
  gw = await startTestGateway(`version: 1
providers:
  oa: { plugin: openai, api_key: sk-upstream-key, base_url: "${up.url}/v1" }
  local: { plugin: openai-compatible, base_url: "${up.url}/v1" }
  m: { plugin: mock, reply: "mock says hi" }
cache: { plugin: memory, ttl_s: 60 }
routes:
  - { model: passthrough, targets: [ { provider: oa, model: gpt-4o } ] }
  - { model: translated, targets: [ { provider: local, model: llama-3 } ] }
  - { model: cached, cache: true, targets: [ { provider: oa, model: gpt-4o } ] }
  - { model: mock, targets: [ { provider: m } ] }
`)
})
afterAll(async () => {
  await gw?.close()
  await up?.close()
})

const sdk = () => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 })
const ask = (content = 'What is the weather in Paris and Rome?') => [{ role: 'user' as const, content }]
const UPSTREAM_ROUTES = ['passthrough', 'translated'] as const
const lastSent = () => up.requests.at(-1)!.body

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = []
  for await (const chunk of stream) chunks.push(chunk)
  return chunks
}

describe('chat completions through the openai SDK', () => {
  it.each([...UPSTREAM_ROUTES, 'mock'])('%s: n: 2 gives two choices, indexed 0 and 1, in OpenAI\'s schema', async (model) => {
    const answer = await sdk().chat.completions.create({ model, n: 2, messages: ask('hello') })
    expectOpenAISchema('CreateChatCompletionResponse', answer)
    expect(answer.choices.map((c) => c.index)).toEqual([0, 1])
    expect(answer.choices[1].message.content).toBe(answer.choices[0].message.content)
  })

  it('mock: n: 2 streams both choices, each finished', async () => {
    const chunks = await collect(await sdk().chat.completions.create({ model: 'mock', n: 2, stream: true, messages: ask('hello') }))
    for (const chunk of chunks) expectOpenAISchema('CreateChatCompletionStreamResponse', chunk)
    const finished = chunks.flatMap((c) => c.choices).filter((c) => c.finish_reason).map((c) => c.index)
    expect(finished.sort()).toEqual([0, 1])
    const text = (index: number) => chunks.flatMap((c) => c.choices).filter((c) => c.index === index).map((c) => c.delta.content ?? '').join('')
    expect([text(0), text(1)]).toEqual(['mock says hi', 'mock says hi'])
  })

  it.each([...UPSTREAM_ROUTES, 'cached'])('%s: .parse() with a zod response_format sends json_schema and parses the answer', async (model) => {
    const Weather = z.object({ city: z.string(), celsius: z.number() })
    const answer = await sdk().chat.completions.parse({ model, messages: ask(), response_format: zodResponseFormat(Weather, 'weather') })
    expect(answer.choices[0].message.parsed).toEqual(WEATHER)
    const sent = lastSent().response_format
    expect(sent).toMatchObject({ type: 'json_schema', json_schema: { name: 'weather', strict: true, schema: { type: 'object', required: ['city', 'celsius'] } } })
  })

  it('mock: .parse() and the .stream() helper get JSON the zod schema accepts, offline', async () => {
    const Trip = z.object({
      city: z.string(), days: z.number().int().min(2), kind: z.enum(['city', 'beach']), tags: z.array(z.string()),
      hotel: z.object({ name: z.string(), stars: z.number().nullable() }), rainy: z.boolean(), start: z.string().datetime(), code: z.string().max(3),
    })
    const format = zodResponseFormat(Trip, 'trip')
    const parsed = (await sdk().chat.completions.parse({ model: 'mock', messages: ask('plan'), response_format: format })).choices[0].message.parsed
    expect(Trip.parse(parsed)).toEqual({ city: 'mock says hi', days: 2, kind: 'city', tags: ['mock says hi'], hotel: { name: 'mock says hi', stars: 0 }, rainy: false, start: '2025-01-01T00:00:00Z', code: 'moc' })
    const streamed = await sdk().chat.completions.stream({ model: 'mock', messages: ask('plan'), response_format: format }).finalChatCompletion()
    expect(streamed.choices[0].message.parsed).toEqual(parsed)
    const object = await sdk().chat.completions.create({ model: 'mock', messages: ask('plan'), response_format: { type: 'json_object' } })
    expect(JSON.parse(object.choices[0].message.content!)).toEqual({ reply: 'mock says hi' })
  })

  it('mock: logprobs: true gives a certain logprob per token, plain and streamed, in OpenAI\'s schema', async () => {
    const answer = await sdk().chat.completions.create({ model: 'mock', messages: ask('hello'), logprobs: true, top_logprobs: 2 })
    expectOpenAISchema('CreateChatCompletionResponse', answer)
    const content = answer.choices[0].logprobs?.content ?? []
    expect(content.map((t) => t.token).join('')).toBe('mock says hi')
    expect(content[0]).toEqual({ token: 'mock ', logprob: 0, bytes: [...Buffer.from('mock ')], top_logprobs: [{ token: 'mock ', logprob: 0, bytes: [...Buffer.from('mock ')] }] })
    const chunks = await collect(await sdk().chat.completions.create({ model: 'mock', stream: true, messages: ask('hello'), logprobs: true }))
    for (const chunk of chunks) expectOpenAISchema('CreateChatCompletionStreamResponse', chunk)
    expect(chunks.flatMap((c) => c.choices.flatMap((choice) => choice.logprobs?.content ?? [])).map((t) => t.token).join('')).toBe('mock says hi')
    expect((await sdk().chat.completions.create({ model: 'mock', messages: ask('hello') })).choices[0].logprobs).toBeNull()
  })

  it.each(UPSTREAM_ROUTES)('%s: logprobs, top_logprobs, seed, parallel_tool_calls and max_completion_tokens reach the upstream unchanged', async (model) => {
    const answer = await sdk().chat.completions.create({
      model, messages: ask('hello'), logprobs: true, top_logprobs: 1, seed: 42, parallel_tool_calls: false, tools: [TOOL], max_completion_tokens: 64,
    })
    expect(lastSent()).toMatchObject({ logprobs: true, top_logprobs: 1, seed: 42, parallel_tool_calls: false, max_completion_tokens: 64 })
    expect(lastSent()).not.toHaveProperty('max_tokens')
    expect(answer.choices[0].logprobs).toEqual(LOGPROBS)
    expect(answer.system_fingerprint).toBe('fp_up')
  })

  it.each(['passthrough', 'cached'])('%s: max_tokens reaches OpenAI as max_completion_tokens, the name its reasoning models require', async (model) => {
    await sdk().chat.completions.create({ model, messages: ask(`hello ${model}`), max_tokens: 32 })
    expect(lastSent()).toMatchObject({ max_completion_tokens: 32 })
    expect(lastSent()).not.toHaveProperty('max_tokens')
  })

  it('translated: max_tokens reaches an OpenAI-compatible server as it was sent (it may know only that name)', async () => {
    await sdk().chat.completions.create({ model: 'translated', messages: ask('hello'), max_tokens: 32 })
    expect(lastSent()).toMatchObject({ max_tokens: 32 })
    expect(lastSent()).not.toHaveProperty('max_completion_tokens')
  })

  it('passthrough: both names sent go to OpenAI as they were (the client chose)', async () => {
    await sdk().chat.completions.create({ model: 'passthrough', messages: ask('hello'), max_tokens: 32, max_completion_tokens: 64 })
    expect(lastSent()).toMatchObject({ max_tokens: 32, max_completion_tokens: 64 })
  })

  it.each([...UPSTREAM_ROUTES, 'cached'])('%s: parallel tool calls stream as deltas with their index, the arguments in pieces', async (model) => {
    const chunks = await collect(await sdk().chat.completions.create({ model, stream: true, tools: [TOOL], messages: ask() }))
    for (const chunk of chunks) expectOpenAISchema('CreateChatCompletionStreamResponse', chunk)
    const deltas = chunks.flatMap((c) => c.choices.flatMap((choice) => choice.delta.tool_calls ?? []))
    expect(new Set(deltas.map((d) => d.index))).toEqual(new Set([0, 1]))
    const joined = (index: number) => deltas.filter((d) => d.index === index).map((d) => d.function?.arguments ?? '').join('')
    expect([JSON.parse(joined(0)), JSON.parse(joined(1))]).toEqual([{ city: 'Paris' }, { city: 'Rome' }])
    expect(deltas.filter((d) => d.id).map((d) => d.id)).toEqual(['call_paris', 'call_rome'])
    expect(chunks.flatMap((c) => c.choices).at(-1)?.finish_reason).toBe('tool_calls')
  })

  it.each([...UPSTREAM_ROUTES, 'cached'])('%s: the .stream() helper assembles the tool calls and reports usage when asked', async (model) => {
    const stream = sdk().chat.completions.stream({ model, tools: [TOOL], messages: ask(), stream_options: { include_usage: true } })
    const final = await stream.finalChatCompletion()
    expect(final.choices[0].message.tool_calls?.map((c) => c.type === 'function' && JSON.parse(c.function.arguments))).toEqual([{ city: 'Paris' }, { city: 'Rome' }])
    expect(final.usage).toEqual(USAGE)
  })

  it.each([...UPSTREAM_ROUTES, 'cached', 'mock'])('%s: a usage chunk comes only when stream_options.include_usage asks for it', async (model) => {
    // The cached route answers from its cache the second time: both answers are checked.
    for (let round = 0; round < 2; round++) {
      const plain = await collect(await sdk().chat.completions.create({ model, stream: true, messages: ask('count me') }))
      expect(plain.filter((c) => c.usage), `round ${round}`).toEqual([])
      expect(plain.every((c) => c.choices.length > 0), `round ${round}`).toBe(true)
      const counted = await collect(await sdk().chat.completions.create({ model, stream: true, stream_options: { include_usage: true }, messages: ask('count me too') }))
      const last = counted.at(-1)!
      expect(last.choices, `round ${round}`).toEqual([])
      expect(last.usage?.total_tokens, `round ${round}`).toBeGreaterThan(0)
      expect(counted.slice(0, -1).filter((c) => c.usage), `round ${round}`).toEqual([])
    }
  })

  it.each([...UPSTREAM_ROUTES, 'mock'])('%s: the .stream() helper gives the whole text and the final completion', async (model) => {
    const stream = sdk().chat.completions.stream({ model, messages: ask('hello') })
    let text = ''
    stream.on('content', (delta) => { text += delta })
    const final = await stream.finalChatCompletion()
    expect(final.choices[0].message.content).toBe(text)
    expect(text.length).toBeGreaterThan(0)
  })
})

