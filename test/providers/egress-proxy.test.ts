/**
 * Egress through the company's proxy (HTTPS_PROXY / HTTP_PROXY, NO_PROXY), as curl and most
 * clients read them: the kit's pooled calls (whole answers and streams) and the SDK calls off the
 * hot path (a model list) go through it; hosts in NO_PROXY are reached directly.
 */
import { getGlobalDispatcher, setGlobalDispatcher, type Dispatcher } from 'undici'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { startForwardProxy, type ForwardProxy } from '../helpers/forward-proxy.ts'
import { sendJson, startUpstream, type MockUpstream } from '../helpers/upstream.ts'
import { testPluginContext } from '../helpers/plugin-context.ts'
import { GatewayError, type Provider } from '../../plugin-api/index.ts'

const COMPLETION = {
  id: 'chatcmpl-1', object: 'chat.completion', created: 1700000000, model: 'gpt-4o',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Through the proxy.', refusal: null }, finish_reason: 'stop', logprobs: null }],
  usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 },
}
const ENV = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'] as const

describe('upstream calls through the environment\'s egress proxy', () => {
  let proxy: ForwardProxy
  let upstream: MockUpstream
  let dispatcher: Dispatcher
  const saved: Partial<Record<string, string>> = {}
  const gateways: RunningGateway[] = []

  beforeAll(async () => {
    dispatcher = getGlobalDispatcher()
    for (const name of ENV) saved[name] = process.env[name]
    for (const name of ENV) delete process.env[name]
    proxy = await startForwardProxy()
    upstream = await startUpstream((req, res) => {
      if (req.path.endsWith('/models')) return sendJson(res, 200, { object: 'list', data: [{ id: 'gpt-4o', object: 'model', created: 0, owned_by: 'openai' }] })
      // Where the next test's redirect points: following it would succeed.
      if (req.path.endsWith('/moved/models')) return sendJson(res, 200, { object: 'list', data: [] })
      if ((req.body as { stream?: boolean }).stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        const chunk = { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [{ index: 0, delta: { content: 'Streamed.' }, finish_reason: 'stop' }] }
        return void res.end(`data: ${JSON.stringify(chunk)}\n\ndata: [DONE]\n\n`)
      }
      sendJson(res, 200, COMPLETION)
    })
    // The gateway and this test talk over 127.0.0.1, directly; the upstream is named localhost, which the proxy gets.
    process.env.HTTP_PROXY = proxy.url
    process.env.NO_PROXY = '127.0.0.1'
  })
  afterAll(async () => {
    for (const gw of gateways) await gw.close()
    for (const name of ENV) {
      if (saved[name] === undefined) delete process.env[name]
      else process.env[name] = saved[name]
    }
    setGlobalDispatcher(dispatcher)
    await upstream?.close()
    await proxy?.close()
  })

  const gateway = async () => {
    const gw = await startTestGateway(`
version: 1
providers:
  oa: { plugin: openai, api_key: sk-test, base_url: "${upstream.url.replace('127.0.0.1', 'localhost')}/v1" }
routes:
  - { model: chat, targets: [ { provider: oa, model: gpt-4o } ] }
`)
    gateways.push(gw)
    return new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 })
  }
  const port = () => new URL(upstream.url).port

  it('sends chat completions, whole and streamed, through the proxy', async () => {
    const client = await gateway()
    const seenBefore = proxy.seen.length
    expect((await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] })).choices[0].message.content).toBe('Through the proxy.')
    let streamed = ''
    for await (const chunk of await client.chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'hi' }] })) streamed += chunk.choices[0]?.delta?.content ?? ''
    expect(streamed).toBe('Streamed.')
    const tunnels = proxy.seen.slice(seenBefore)
    expect(tunnels.length).toBeGreaterThanOrEqual(1)
    expect(tunnels.every((host) => host === `localhost:${port()}`)).toBe(true)
  })

  it('sends the SDK\'s calls off the hot path (a model list) through the proxy too', async () => {
    const { default: plugin } = await import('../../plugins/providers/openai/index.ts')
    const provider = (await plugin.setup(testPluginContext({ id: 'provider.openai', name: 'oa' }), { api_key: 'sk-test', base_url: `${upstream.url.replace('127.0.0.1', 'localhost')}/v1`, timeout_ms: 10_000 })) as Provider
    try {
      const seenBefore = proxy.seen.length
      expect((await provider.listModels!()).map((m) => m.id)).toEqual(['gpt-4o'])
      expect(upstream.requests.at(-1)!.path).toBe('/v1/models')
      expect(proxy.seen.slice(seenBefore)).toEqual([`localhost:${port()}`])
    } finally {
      await provider.dispose?.()
    }
  })

  it('reaches a host in NO_PROXY directly', async () => {
    process.env.NO_PROXY = '127.0.0.1,localhost'
    try {
      const client = await gateway()
      const seenBefore = proxy.seen.length
      expect((await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] })).choices[0].message.content).toBe('Through the proxy.')
      expect(proxy.seen.length).toBe(seenBefore)
    } finally {
      process.env.NO_PROXY = '127.0.0.1'
    }
  })

  it('through the proxy, an SDK call\'s redirect is not followed: a 502 upstream_redirect', async () => {
    upstream.handle((req, res) => {
      if (req.path === '/v1/models') return void res.writeHead(307, { location: '/v1/moved/models' }).end()
      sendJson(res, 200, { object: 'list', data: [] })
    })
    const { default: plugin } = await import('../../plugins/providers/openai/index.ts')
    const provider = (await plugin.setup(testPluginContext({ id: 'provider.openai', name: 'oa' }), { api_key: 'sk-test', base_url: `${upstream.url.replace('127.0.0.1', 'localhost')}/v1`, timeout_ms: 10_000 })) as Provider
    try {
      const requestsBefore = upstream.requests.length
      const failure = await provider.listModels!().then(() => undefined, (err: unknown) => err as GatewayError)
      expect(failure).toBeInstanceOf(GatewayError)
      expect(failure!.code).toBe('upstream_redirect')
      expect(upstream.requests.slice(requestsBefore).map((r) => r.path)).toEqual(['/v1/models'])
    } finally {
      await provider.dispose?.()
    }
  })

  it('a proxy that refuses the tunnel: a 502 that says what the proxy answered', async () => {
    const client = await gateway()
    proxy.refuse = 407
    try {
      const failure = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }).then(() => undefined, (err: unknown) => err as InstanceType<typeof OpenAI.APIError>)
      expect(failure).toBeInstanceOf(OpenAI.APIError)
      expect(failure!.status).toBe(502)
      expect(failure!.message).toContain('Proxy response (407)')
    } finally {
      proxy.refuse = undefined
    }
  })
})
