import { describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import type { ChatCompletionChunk } from 'openai/resources/chat/completions'
import { describeOpenAIWireProvider, TEST_API_KEY } from '../openai/wire-suite.ts'
import { openrouterDialect, writeFrames } from '../openai/wire-fixtures.ts'
import { sendJson } from '../../helpers/upstream.ts'
import { mockUpstreamSuite } from '../../helpers/provider-suite.ts'

describeOpenAIWireProvider({
  plugin: 'openrouter',
  dialect: openrouterDialect,
  block: (url, extra) => ({ api_key: TEST_API_KEY, base_url: `${url}/api/v1`, ...extra }),
  chatModel: 'openai/gpt-4o-mini',
  embeddingModel: 'openai/text-embedding-3-small',
  path: (endpoint) => `/api/v1/${endpoint}`,
  expectAuth: (req) => expect(req.headers.authorization).toBe(`Bearer ${TEST_API_KEY}`),
  forwardsStreamOptions: true,
})

describe('provider.openrouter specifics', () => {
  const block = (url: string) => JSON.stringify({ plugin: 'openrouter', api_key: TEST_API_KEY, base_url: `${url}/api/v1`, site_url: 'https://chat.acme.example', app_name: 'Acme Chat' })
  const setup = mockUpstreamSuite((url) => `
version: 1
providers:
  openrouter: ${block(url)}
routes:
  - { model: router, targets: [ { provider: openrouter, model: anthropic/claude-3.5-haiku } ] }
`)

  it('sends OpenRouter\'s attribution headers from site_url and app_name', async () => {
    setup.upstream.handle((req, res) => sendJson(res, 200, openrouterDialect.completion(String(req.body.model), { content: 'hi' })))
    await setup.client.chat.completions.create({ model: 'router', messages: [{ role: 'user', content: 'hi' }] })
    const sent = setup.upstream.requests[0]
    expect(sent.headers['http-referer']).toBe('https://chat.acme.example')
    expect(sent.headers['x-title']).toBe('Acme Chat')
    expect(sent.headers['x-openrouter-title']).toBe('Acme Chat')
    expect(sent.body.model).toBe('anthropic/claude-3.5-haiku')
  })

  it('turns an error OpenRouter reports in a 200 body into that error\'s status and message', async () => {
    setup.upstream.handle((_req, res) => sendJson(res, 200, { error: { code: 502, message: 'Provider returned error', metadata: { provider_name: 'Anthropic' } } }))
    const err = (await setup.client.chat.completions.create({ model: 'router', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>
    expect(err).toBeInstanceOf(OpenAI.APIError)
    expect(err.status).toBe(502)
    expect(err.message).toContain('Provider returned error')
  })

  it('keeps a 402 (out of credits) as 402 with OpenRouter\'s message', async () => {
    setup.upstream.handle((_req, res) => sendJson(res, 402, openrouterDialect.errorBody(402, 'Insufficient credits. Add more using https://openrouter.ai/credits')))
    const err = (await setup.client.chat.completions.create({ model: 'router', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>
    expect(err.status).toBe(402)
    expect(err.message).toContain('Insufficient credits')
  })

  it('ignores keep-alive comments and streams only the chunks', async () => {
    setup.upstream.handle((req, res) => writeFrames(res, [
      { comment: 'OPENROUTER PROCESSING' },
      { comment: 'OPENROUTER PROCESSING' },
      ...openrouterDialect.streamFrames(String(req.body.model), { content: 'still here' }, false),
    ]))
    const stream = await setup.client.chat.completions.create({ model: 'router', stream: true, messages: [{ role: 'user', content: 'hi' }] })
    const chunks: ChatCompletionChunk[] = []
    for await (const chunk of stream) chunks.push(chunk)
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('still here')
  })

  it('names the model\'s author as owner in the model list, which OpenRouter leaves out', async () => {
    setup.upstream.handle((_req, res) => sendJson(res, 200, openrouterDialect.models()))
    const models = await setup.gw.controller.current.providers.get('openrouter')!.listModels!()
    expect(models).toEqual([
      { id: 'openai/gpt-4o-mini', object: 'model', created: 1721260800, owned_by: 'openai' },
      { id: 'anthropic/claude-3.5-haiku', object: 'model', created: 1730678400, owned_by: 'anthropic' },
    ])
  })
})
