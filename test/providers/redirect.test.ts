/**
 * An upstream that answers a redirect: the kit does not follow it (a POST, with the provider's
 * key, sent on to an address nobody configured), and the client gets a 502 naming where it points,
 * for every provider, whole answers and streams alike, not the 3xx itself without its Location.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { everyProviderConfig } from './every-provider.ts'
import { testPluginContext } from '../helpers/plugin-context.ts'
import { GatewayError, type Provider } from '../../plugin-api/index.ts'

const TARGET = 'https://llm.example.com/v1/chat/completions'
/** What the client must never see: the redirect's query and its body (a sign-in page). */
const QUERY = '?state=secret-state'
const PAGE = '<html>Sign in at https://sso.example.com/login?ticket=secret-ticket</html>'

describe('an upstream that answers with a redirect', () => {
  let upstream: http.Server
  let gw: RunningGateway
  let requests = 0

  beforeAll(async () => {
    upstream = http.createServer((req, res) => {
      req.resume()
      req.on('end', () => {
        requests++
        res.writeHead(307, { location: TARGET + QUERY, 'content-type': 'text/html' }).end(PAGE)
      })
    })
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
    const origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
    gw = await startTestGateway(`${everyProviderConfig(origin)}  - { model: openai, targets: [ { provider: openai, model: gpt-4o } ] }
`.replace('providers:\n', `providers:\n  openai: { plugin: openai, api_key: sk-test, base_url: "${origin}/v1" }\n`))
  })
  afterAll(async () => {
    await gw?.close()
    await new Promise((resolve) => upstream?.close(resolve))
  })
  beforeEach(() => { requests = 0 })

  const openai = () => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 })
  const failureOf = (promise: Promise<unknown>) => promise.then(() => undefined, (err: unknown) => err as InstanceType<typeof OpenAI.APIError>)

  it.each(['openai', 'azure', 'claude', 'gemini', 'mistral'])('%s: a chat completion, whole or streamed, is a 502 naming the redirect\'s target, sent once', async (model) => {
    for (const stream of [false, true]) {
      const failure = await failureOf((async () => {
        const answer = await openai().chat.completions.create({ model, stream, messages: [{ role: 'user', content: 'hi' }] })
        if (stream) for await (const _ of answer as AsyncIterable<unknown>) { /* read */ }
      })())
      expect(failure, `stream: ${stream}`).toBeInstanceOf(OpenAI.APIError)
      expect(failure!.status, `stream: ${stream}`).toBe(502)
      expect(failure!.message).toContain(`the upstream answered 307, a redirect, which the gateway does not follow: set the provider's base_url to where it points (${TARGET})`)
      expect(failure!.message).not.toContain('secret')
      expect(failure!.code).toBe('upstream_redirect')
    }
    expect(requests).toBe(2)
  })

  it('anthropic: a Messages API request passed through is a 502 naming the target', async () => {
    const client = new Anthropic({ baseURL: gw.url, apiKey: 'unused', maxRetries: 0 })
    const failure = await client.messages.create({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).then(() => undefined, (err: unknown) => err as InstanceType<typeof Anthropic.APIError>)
    expect(failure).toBeInstanceOf(Anthropic.APIError)
    expect(failure!.status).toBe(502)
    expect(failure!.message).toContain(`(${TARGET})`)
    expect(failure!.message).not.toContain('secret')
    expect(requests).toBe(1)
  })

  it.each([['openai', { base: '/v1' }], ['anthropic', { base: '' }], ['mistral', { base: '' }]])('%s: an SDK call off the hot path (a model list) is not followed either: a 502 upstream_redirect without the body or query', async (name, { base }) => {
    const { default: plugin } = await import(`../../plugins/providers/${name}/index.ts`)
    const origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
    const provider = (await plugin.setup(testPluginContext({ id: `provider.${name}`, name }), { api_key: 'sk-test', base_url: `${origin}${base}`, timeout_ms: 10_000 })) as Provider
    try {
      const failure = await provider.listModels!().then(() => undefined, (err: unknown) => err as GatewayError)
      expect(failure).toBeInstanceOf(GatewayError)
      expect(failure!.status).toBe(502)
      expect(failure!.code).toBe('upstream_redirect')
      expect(failure!.message).not.toContain('secret')
      expect(requests).toBe(1)
    } finally {
      await provider.dispose?.()
    }
  })
})
