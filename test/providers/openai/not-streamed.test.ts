/**
 * A stream request answered whole: some OpenAI-compatible servers ignore `stream: true` and send
 * one JSON completion. The client that streams gets that answer as chunks (on the passthrough and
 * on the translated path, usage accounted), not an empty stream. A 200 that holds no events at all
 * (a proxy's login page) is a 502 that says so; a stream labelled JSON is still read as a stream.
 */
import { describe, expect, it } from 'vitest'
import { mockUpstreamSuite } from '../../helpers/provider-suite.ts'
import { tokensCounted } from '../../helpers/metrics.ts'
import { waitFor } from '../../helpers/wait.ts'
import type { UpstreamHandler } from '../../helpers/upstream.ts'

const USAGE = { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 }
const COMPLETION = {
  id: 'chatcmpl-whole', object: 'chat.completion', created: 1700000000, model: 'local-model',
  choices: [{
    index: 0, finish_reason: 'tool_calls', logprobs: null,
    message: { role: 'assistant', content: 'Checking the weather.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } }] },
  }],
  usage: USAGE,
}
const TEXT_COMPLETION = { id: 'cmpl-whole', object: 'text_completion', created: 1700000000, model: 'local-model', choices: [{ index: 0, text: ' a fox.', logprobs: null, finish_reason: 'stop' }], usage: USAGE }
const chunk = (content: string) => JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })

let release: () => void = () => {}
let released = new Promise<void>((resolve) => { release = resolve })

/** Each request answered as its first message (or prompt) says. */
const answer: UpstreamHandler = (req, res) => {
  const body = req.body as { messages?: Array<{ content: string }>; prompt?: string }
  const say = body.messages?.[0]?.content ?? body.prompt
  if (say === 'html') {
    res.writeHead(200, { 'content-type': 'text/html' })
    res.end('<html><body>Sign in to the proxy</body></html>')
  } else if (say === 'failed') {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ error: { message: 'The model is loading.', type: 'server_error' } }))
  } else if (say === 'mislabelled') {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(`data: ${chunk('Still ')}\n\ndata: ${chunk('a stream.')}\n\ndata: [DONE]\n\n`)
  } else if (say === 'mislabelled slowly') {
    // The first event, then nothing until the test lets the rest come.
    res.writeHead(200, { 'content-type': 'application/json' })
    res.write(`data: ${chunk('First, ')}\n\n`)
    void released.then(() => res.end(`data: ${chunk('then the rest.')}\n\ndata: [DONE]\n\n`))
  } else if (say === 'untyped') {
    // A lax server: tool calls without their `type`.
    res.writeHead(200, { 'content-type': 'application/json' })
    const { type: _type, ...call } = COMPLETION.choices[0].message.tool_calls[0]
    res.end(JSON.stringify({ ...COMPLETION, choices: [{ ...COMPLETION.choices[0], message: { ...COMPLETION.choices[0].message, tool_calls: [call] } }] }))
  } else if (say === 'empty') {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.end()
  } else {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(req.path.endsWith('/chat/completions') ? COMPLETION : TEXT_COMPLETION))
  }
}

describe('a stream request the upstream answered whole', () => {
  const setup = mockUpstreamSuite((url) => `
version: 1
providers:
  local: { plugin: openai, api_key: sk-local-0123456789, base_url: "${url}/v1" }
routes:
  - { model: chat, circuit: { failures: 1000 }, targets: [ { provider: local, model: local-model } ] }
  - { model: cached, cache: true, circuit: { failures: 1000 }, targets: [ { provider: local, model: local-model } ] }
cache: { plugin: memory }
`, answer)

  const tokens = (kind: string): Promise<number> => tokensCounted(setup.gw.url, kind)
  const streamed = async (model: string, content: string, includeUsage: boolean) => {
    const stream = await setup.client.chat.completions.create({ model, stream: true, ...(includeUsage ? { stream_options: { include_usage: true } } : {}), messages: [{ role: 'user', content }] })
    const chunks = []
    for await (const c of stream) chunks.push(c)
    return chunks
  }

  for (const model of ['chat', 'cached']) {
    const path = model === 'chat' ? 'the passthrough' : 'the translated path (a cached route)'
    it(`on ${path}: the official SDK streaming gets the completion as chunks, tool call and finish included, usage when it asked`, async () => {
      const completionBefore = await tokens('completion')
      const chunks = await streamed(model, `whole ${model}`, true)
      expect(setup.upstream.requests.at(-1)!.body.stream).toBe(true)
      expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Checking the weather.')
      expect(chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? [])).toEqual([{ index: 0, id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } }])
      expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['tool_calls'])
      expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true)
      expect(chunks.at(-1)!.usage).toEqual(USAGE)
      // Accounted from the answer's usage, as a stream's would be.
      await waitFor(async () => (await tokens('completion')) === completionBefore + USAGE.completion_tokens)
      expect(await tokens('completion')).toBe(completionBefore + USAGE.completion_tokens)

      const withoutUsage = await streamed(model, `again ${model}`, false)
      expect(withoutUsage.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Checking the weather.')
      expect(withoutUsage.some((c) => c.usage)).toBe(false)
    })
  }

  it('tool calls a lax server sent without their type still reach the client', async () => {
    const chunks = await streamed('chat', 'untyped', false)
    expect(chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []).map((c) => c.function?.name)).toEqual(['weather'])
  })

  it('a text completion (legacy /completions) answered whole comes as one chunk of its own shape', async () => {
    const res = await fetch(`${setup.gw.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'chat', prompt: 'Name an animal:', stream: true, stream_options: { include_usage: true } }) })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/event-stream')
    const frames = (await res.text()).split('\n\n').filter(Boolean).map((f) => f.replace(/^data: /, ''))
    expect(frames.at(-1)).toBe('[DONE]')
    const events = frames.slice(0, -1).map((f) => JSON.parse(f) as { choices: Array<{ text: string }>; usage?: unknown })
    expect(events[0]).toMatchObject({ id: 'cmpl-whole', object: 'text_completion', choices: [{ text: ' a fox.', finish_reason: 'stop' }] })
    expect(events[0].usage).toBeUndefined()
    expect(events.at(-1)!.usage).toEqual(USAGE)
  })

  it('a 200 error body to a stream request is the upstream\'s error, not an empty stream', async () => {
    for (const model of ['chat', 'cached']) {
      const res = await fetch(`${setup.gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'failed' }] }) })
      expect(res.status, model).toBe(502)
      expect((await res.json()).error.message, model).toContain('The model is loading.')
    }
  })

  it('a 200 page that holds no server-sent events, or nothing at all, is a 502 saying what came (not its text), on both paths', async () => {
    for (const model of ['chat', 'cached']) {
      for (const [content, what] of [['html', '(46 bytes of text/html)'], ['empty', '(an empty body)']]) {
        const res = await fetch(`${setup.gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content }] }) })
        expect(res.status, model).toBe(502)
        const { error } = await res.json()
        expect(error.message, model).toContain(`held no server-sent events ${what}`)
        expect(error.message, model).not.toContain('Sign in')
      }
    }
  })

  it('a stream labelled JSON is relayed as it comes, not held until it ends', async () => {
    for (const model of ['chat', 'cached']) {
      const stream = await setup.client.chat.completions.create({ model, stream: true, messages: [{ role: 'user', content: 'mislabelled slowly' }] })
      const iterator = stream[Symbol.asyncIterator]()
      let text = ''
      while (!text.includes('First, ')) text += (await iterator.next()).value?.choices[0]?.delta?.content ?? ''
      release()
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) text += next.value.choices[0]?.delta?.content ?? ''
      expect(text, model).toBe('First, then the rest.')
      released = new Promise<void>((resolve) => { release = resolve })
    }
  })

  it('a stream labelled application/json is still read as the stream it is', async () => {
    for (const model of ['chat', 'cached']) {
      const chunks = await streamed(model, 'mislabelled', false)
      expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), model).toBe('Still a stream.')
    }
  })
})
