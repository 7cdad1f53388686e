import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type OpenAI from 'openai'
import { expectOpenAISchema } from '../../helpers/openai-schema.ts'
import { sendStream, streamEvents } from './anthropic-upstream.ts'
import { startAnthropicFixture, type AnthropicFixture } from './setup.ts'

/** Read a stream from the gateway as raw chunks, checking each against OpenAI's schema. */
async function collect(stream: AsyncIterable<OpenAI.ChatCompletionChunk>): Promise<OpenAI.ChatCompletionChunk[]> {
  const chunks: OpenAI.ChatCompletionChunk[] = []
  for await (const chunk of stream) {
    expectOpenAISchema('CreateChatCompletionStreamResponse', chunk)
    chunks.push(chunk)
  }
  return chunks
}

describe('anthropic provider: streaming', () => {
  let f: AnthropicFixture
  beforeAll(async () => { f = await startAnthropicFixture() })
  afterAll(() => f.close())

  it('turns Anthropic\'s event sequence into chunks, with usage last when include_usage is set', async () => {
    f.upstream.handle((_req, res) => sendStream(res, streamEvents({ text: ['Hel', 'lo', ' there.'], inputTokens: 20, outputTokens: 4, cacheRead: 5 })))
    const chunks = await collect(await f.client.chat.completions.create({
      model: 'claude', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Hi' }],
    }))
    expect(chunks[0].choices[0].delta.role).toBe('assistant')
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hello there.')
    const finish = chunks.at(-2)!
    expect(finish.choices[0].finish_reason).toBe('stop')
    const last = chunks.at(-1)!
    expect(last.choices).toEqual([])
    expect(last.usage).toMatchObject({ prompt_tokens: 25, completion_tokens: 4, total_tokens: 29, prompt_tokens_details: { cached_tokens: 5 } })
    expect(f.lastRequest().body.stream).toBe(true)
  })

  it('sends no usage chunk when include_usage is not set', async () => {
    f.upstream.handle((_req, res) => sendStream(res, streamEvents({ text: ['Hi'] })))
    const chunks = await collect(await f.client.chat.completions.create({ model: 'claude', stream: true, messages: [{ role: 'user', content: 'Hi' }] }))
    expect(chunks.some((c) => c.usage)).toBe(false)
    expect(chunks.at(-1)!.choices[0].finish_reason).toBe('stop')
  })

  it('streams tool calls: id and name first, then the arguments in the pieces Anthropic sent them', async () => {
    f.upstream.handle((_req, res) => sendStream(res, streamEvents({
      text: ['Checking.'],
      tools: [
        { id: 'toolu_01A', name: 'get_weather', argumentPieces: ['{"ci', 'ty": "Pa', 'ris"}'] },
        { id: 'toolu_01B', name: 'get_time', argumentPieces: ['{"tz": "CET"}'] },
      ],
    })))
    const chunks = await collect(await f.client.chat.completions.create({
      model: 'claude', stream: true, messages: [{ role: 'user', content: 'Weather and time in Paris?' }],
      tools: [
        { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
        { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: { tz: { type: 'string' } } } } },
      ],
    }))
    const toolDeltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
    expect(toolDeltas[0]).toEqual({ index: 0, id: 'toolu_01A', type: 'function', function: { name: 'get_weather', arguments: '' } })
    expect(toolDeltas.filter((d) => d.index === 0).slice(1).map((d) => d.function?.arguments)).toEqual(['{"ci', 'ty": "Pa', 'ris"}'])
    const calls = new Map<number, { id?: string; name?: string; args: string }>()
    for (const d of toolDeltas) {
      const call = calls.get(d.index) ?? { args: '' }
      call.id ??= d.id
      call.name ??= d.function?.name
      call.args += d.function?.arguments ?? ''
      calls.set(d.index, call)
    }
    expect([...calls.values()]).toEqual([
      { id: 'toolu_01A', name: 'get_weather', args: '{"city": "Paris"}' },
      { id: 'toolu_01B', name: 'get_time', args: '{"tz": "CET"}' },
    ])
    expect(chunks.at(-1)!.choices[0].finish_reason).toBe('tool_calls')
  })

  it('forwards the first chunk before the upstream has finished', async () => {
    let release!: () => void
    const held = new Promise<void>((resolve) => { release = resolve })
    f.upstream.handle(async (_req, res) => {
      const events = streamEvents({ text: ['first', ' second'] })
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      for (const e of events.slice(0, 3)) res.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`)
      await held
      for (const e of events.slice(3)) res.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`)
      res.end()
    })
    const stream = await f.client.chat.completions.create({ model: 'claude', stream: true, messages: [{ role: 'user', content: 'Hi' }] })
    const iterator = stream[Symbol.asyncIterator]()
    expect((await iterator.next()).value.choices[0].delta.role).toBe('assistant')
    expect((await iterator.next()).value.choices[0].delta.content).toBe('first')
    release()
    let rest = ''
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) rest += next.value.choices[0]?.delta.content ?? ''
    expect(rest).toBe(' second')
  })

  it('reports an error event from Anthropic mid-stream as a stream error the OpenAI SDK raises', async () => {
    f.upstream.handle((_req, res) => {
      const events = streamEvents({ text: ['partial'] }).slice(0, 3)
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      for (const e of events) res.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`)
      res.end(`event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })}\n\n`)
    })
    const stream = await f.client.chat.completions.create({ model: 'claude', stream: true, messages: [{ role: 'user', content: 'Hi' }] })
    let text = ''
    const err = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
    })().catch((e) => e)
    expect(text).toBe('partial')
    expect(String(err?.message)).toContain('Overloaded')
  })

  it('ends a stream that outlives the route timeout with a timeout error, not a quiet end', async () => {
    f.upstream.handle(async (_req, res) => {
      const events = streamEvents({ text: ['slow'] })
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      for (const e of events.slice(0, 3)) res.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`)
      await new Promise((r) => setTimeout(r, 1500))
      if (!res.destroyed) res.end()
    })
    const stream = await f.client.chat.completions.create({ model: 'claude-quick', stream: true, messages: [{ role: 'user', content: 'Hi' }] })
    let text = ''
    const err = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
    })().catch((e) => e)
    expect(text).toBe('slow')
    expect(String(err?.message)).toContain('timed out')
  })

  it('reports a stream cut off before message_stop as an error, not as a finished answer', async () => {
    f.upstream.handle((_req, res) => {
      const events = streamEvents({ text: ['cut'] }).slice(0, 3)
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      for (const e of events) res.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`)
      res.end()
    })
    const stream = await f.client.chat.completions.create({ model: 'claude', stream: true, messages: [{ role: 'user', content: 'Hi' }] })
    const finishes: Array<string | null> = []
    const err = await (async () => {
      for await (const chunk of stream) if (chunk.choices[0]) finishes.push(chunk.choices[0].finish_reason)
    })().catch((e) => e)
    expect(finishes.every((r) => r === null)).toBe(true)
    expect(String(err?.message)).toContain('message_stop')
  })
})
