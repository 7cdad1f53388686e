/**
 * Same-wire passthrough: a request on OpenAI's own surface to provider.openai goes upstream as the
 * client sent it (model set to the target's) and the answer comes back byte for byte; its usage is
 * still accounted. A route whose stage needs the unified answer (a cache) takes the translated path.
 */
import { describe, expect, it } from 'vitest'
import { mockUpstreamSuite } from '../../helpers/provider-suite.ts'
import { tokensCounted } from '../../helpers/metrics.ts'
import { usageIn } from '../../../plugins/providers/kit/passthrough.ts'
import { LazyAbort, type Provider, type ProviderCall } from '../../../plugin-api/index.ts'
import { testPluginContext } from '../../helpers/plugin-context.ts'
import { sendJson, startUpstream } from '../../helpers/upstream.ts'
import { waitFor } from '../../helpers/wait.ts'

const USAGE = { prompt_tokens: 11, completion_tokens: 5, total_tokens: 16, prompt_tokens_details: { cached_tokens: 3 } }
/** OpenAI's completion with a field the unified types do not know, pretty-printed: a re-serialised answer would differ. */
const COMPLETION = JSON.stringify({
  id: 'chatcmpl-pass', object: 'chat.completion', created: 1700000000, model: 'gpt-4o-mini-2024-07-18',
  choices: [{ index: 0, message: { role: 'assistant', content: 'A "usage": {"x": 1} in the text.', refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
  usage: USAGE, service_tier: 'default', x_new_field: { kept: true },
}, null, 2)
const chunk = (delta: object, finish: string | null, extra: object = {}) => JSON.stringify({ id: 'chatcmpl-pass', object: 'chat.completion.chunk', created: 1700000000, model: 'gpt-4o-mini', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...extra })
const USAGE_CHUNK = JSON.stringify({ id: 'chatcmpl-pass', object: 'chat.completion.chunk', created: 1700000000, model: 'gpt-4o-mini', choices: [], usage: USAGE })

describe('provider.openai: same-wire passthrough on OpenAI\'s surface', () => {
  const setup = mockUpstreamSuite((url) => `
version: 1
providers:
  oa: { plugin: openai, api_key: sk-pass-0123456789, base_url: "${url}/v1" }
routes:
  - { model: chat, targets: [ { provider: oa, model: gpt-4o-mini, params: { temperature: 0.3 } } ] }
  - { model: cached, cache: true, targets: [ { provider: oa, model: gpt-4o-mini } ] }
  - { model: embed, targets: [ { provider: oa, model: text-embedding-3-small } ] }
cache: { plugin: memory }
`, (req, res) => {
    if (req.body?.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      const frames = [chunk({ role: 'assistant', content: '' }, null, { usage: null, x_chunk_field: 1 }), chunk({ content: 'Hi' }, null, { usage: null }), chunk({ content: ' there' }, null, { usage: null }), chunk({}, 'stop', { usage: null })]
      if (req.body.stream_options?.include_usage) frames.push(USAGE_CHUNK)
      res.end(`${frames.map((f) => `data: ${f}\n\n`).join('')}data: [DONE]\n\n`)
      return
    }
    const text = req.path.endsWith('/embeddings')
      ? JSON.stringify({ object: 'list', model: 'text-embedding-3-small', data: [{ object: 'embedding', index: 0, embedding: [0.25, -0.5] }], usage: { prompt_tokens: 4, total_tokens: 4 } }, null, 1)
      : COMPLETION
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
    res.end(text)
  })

  const post = (body: object) => fetch(`${setup.gw.url}/v1/${'input' in body ? 'embeddings' : 'chat/completions'}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const tokens = (kind: string): Promise<number> => tokensCounted(setup.gw.url, kind)

  it('returns the upstream\'s completion byte for byte and sends the request with only the model and route params set', async () => {
    const promptBefore = await tokens('prompt')
    const res = await post({ model: 'chat', messages: [{ role: 'user', content: 'hi' }], prediction: { type: 'content', content: 'x' }, metadata: { a: 'b' } })
    expect(res.status).toBe(200)
    expect(await res.text()).toBe(COMPLETION)
    expect(res.headers.get('x-gateway-model')).toBe('gpt-4o-mini')
    expect(setup.upstream.requests.at(-1)!.body).toEqual({ model: 'gpt-4o-mini', temperature: 0.3, messages: [{ role: 'user', content: 'hi' }], prediction: { type: 'content', content: 'x' }, metadata: { a: 'b' } })
    // Accounted from the usage cut out of the bytes (not the look-alike inside the message text).
    await waitFor(async () => (await tokens('prompt')) === promptBefore + USAGE.prompt_tokens)
    expect(await tokens('prompt')).toBe(promptBefore + USAGE.prompt_tokens)
  })

  it('a route with a cache takes the translated path: the answer is re-serialised in the unified shape', async () => {
    const res = await post({ model: 'cached', messages: [{ role: 'user', content: 'hi' }] })
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(text).not.toBe(COMPLETION)
    expect(JSON.parse(text).choices[0].message.content).toBe('A "usage": {"x": 1} in the text.')
  })

  it('relays a stream\'s events as they came, asks upstream for usage, and keeps the usage chunk from a client that did not ask', async () => {
    const completionBefore = await tokens('completion')
    const res = await post({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'hi' }] })
    expect(res.status).toBe(200)
    const frames = (await res.text()).split('\n\n').filter(Boolean).map((f) => f.replace(/^data: /, ''))
    expect(frames).toEqual([chunk({ role: 'assistant', content: '' }, null, { usage: null, x_chunk_field: 1 }), chunk({ content: 'Hi' }, null, { usage: null }), chunk({ content: ' there' }, null, { usage: null }), chunk({}, 'stop', { usage: null }), '[DONE]'])
    expect(setup.upstream.requests.at(-1)!.body.stream_options).toEqual({ include_usage: true })
    await waitFor(async () => (await tokens('completion')) === completionBefore + USAGE.completion_tokens)
    expect(await tokens('completion')).toBe(completionBefore + USAGE.completion_tokens)
  })

  it('gives the usage chunk to a client that asked for it, through the official SDK', async () => {
    const chunks = []
    for await (const c of await setup.client.chat.completions.create({ model: 'chat', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] })) chunks.push(c)
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Hi there')
    expect(chunks.at(-1)!.usage).toEqual(USAGE)
  })

  it('passes embeddings through byte for byte, floats asked for when the client named no encoding', async () => {
    const res = await post({ model: 'embed', input: 'hello' })
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(text).toContain('\n "object": "list"')
    expect(JSON.parse(text).data[0].embedding).toEqual([0.25, -0.5])
    expect(setup.upstream.requests.at(-1)!.body).toEqual({ model: 'text-embedding-3-small', input: 'hello', encoding_format: 'float' })
  })
})

describe('usageIn: the usage object cut out of a JSON answer', () => {
  it('finds the top-level usage after a look-alike inside a string, and with spaces around the colon', () => {
    expect(usageIn(Buffer.from(COMPLETION))).toEqual(USAGE)
    expect(usageIn(Buffer.from('{"choices":[],"usage" : {"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}'))).toEqual({ prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 })
  })
  it('reads no usage from a body without one, or with usage null', () => {
    expect(usageIn(Buffer.from('{"choices":[]}'))).toBeUndefined()
    expect(usageIn(Buffer.from('{"choices":[],"usage":null}'))).toBeUndefined()
  })
})

describe('provider.openai passthrough: a call\'s abort source', () => {
  /** A ProviderCall whose signal must not be made: an AbortSignal per request cost the passthrough 13% of its CPU (plugin-api/kit/abort.ts). */
  const lazyCall = () => {
    const abort = new LazyAbort()
    let signalReads = 0
    const call: ProviderCall = {
      requestId: 'abort-test',
      unsupported: () => {},
      get signal() { signalReads++; return abort.signal },
      get aborted() { return abort.aborted },
      onAbort: (listener) => abort.onAbort(listener),
    }
    return { call, abort, signalReads: () => signalReads }
  }

  it('answers a whole call and a stream without making the call\'s AbortSignal, and a client that leaves aborts the upstream through onAbort', async () => {
    let hold: (() => void) | undefined
    const upstream = await startUpstream(async (req, res) => {
      if (req.body.messages[0].content === 'slow') await new Promise<void>((resolve) => { hold = resolve; setTimeout(resolve, 5000) })
      if (res.destroyed) return
      if (req.body.stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        res.end(`data: ${chunk({ content: 'Hi' }, 'stop')}\n\ndata: ${USAGE_CHUNK}\n\ndata: [DONE]\n\n`)
        return
      }
      sendJson(res, 200, JSON.parse(COMPLETION))
    })
    const { default: plugin } = await import('../../../plugins/providers/openai/index.ts')
    const provider = (await plugin.setup(testPluginContext({ id: 'provider.openai', name: 'oa' }), { api_key: 'sk-abort', base_url: `${upstream.url}/v1`, timeout_ms: 60_000 })) as Provider
    try {
      const chat = provider.native!['openai-chat']
      const whole = lazyCall()
      const answer = await chat({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }, whole.call)
      expect(answer.usage()).toMatchObject({ prompt_tokens: 11, completion_tokens: 5 })
      const streamed = lazyCall()
      const stream = await chat({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] }, streamed.call)
      for await (const _ of stream.events!) { /* read to the end */ }
      expect(stream.usage()).toMatchObject({ prompt_tokens: 11 })
      expect([whole.signalReads(), streamed.signalReads()]).toEqual([0, 0])

      const leaving = lazyCall()
      const pending = chat({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'slow' }] }, leaving.call)
      await waitFor(() => hold !== undefined, 2000)
      const started = performance.now()
      leaving.abort.abort(new Error('client closed the connection'))
      await expect(pending).rejects.toThrow()
      expect(performance.now() - started).toBeLessThan(1000)
    } finally {
      hold?.()
      await provider.dispose?.()
      await upstream.close()
    }
  })
})
