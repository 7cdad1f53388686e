import { describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { describeOpenAIWireProvider, TEST_API_KEY } from '../openai/wire-suite.ts'
import { groqDialect } from '../openai/wire-fixtures.ts'
import { sendJson } from '../../helpers/upstream.ts'
import { mockUpstreamSuite } from '../../helpers/provider-suite.ts'

const expectBearer = (headers: Record<string, unknown>) => expect(headers.authorization).toBe(`Bearer ${TEST_API_KEY}`)

describeOpenAIWireProvider({
  plugin: 'groq',
  dialect: groqDialect,
  // groq-sdk appends /openai/v1 itself: base_url is the API root.
  block: (url, extra) => ({ api_key: TEST_API_KEY, base_url: url, ...extra }),
  chatModel: 'llama-3.3-70b-versatile',
  embeddingModel: 'nomic-embed-text-v1_5',
  path: (endpoint) => `/openai/v1/${endpoint}`,
  expectAuth: (req) => expectBearer(req.headers),
  // Groq's API has no stream_options: stream usage comes from the final chunk's x_groq.usage.
  forwardsStreamOptions: false,
})

describe('provider.groq drops what Groq cannot honour, and says so', () => {
  const hi = [{ role: 'user' as const, content: 'hi' }]
  const block = (url: string) => JSON.stringify({ plugin: 'groq', api_key: TEST_API_KEY, base_url: url })
  const setup = mockUpstreamSuite((url) => `
version: 1
providers:
  groq: ${block(url)}
routes:
  - { model: fast, targets: [ { provider: groq, model: llama-3.3-70b-versatile } ] }
  - { model: fast-strict, strict: true, targets: [ { provider: groq, model: llama-3.3-70b-versatile } ] }
  - { model: embed, targets: [ { provider: groq, model: nomic-embed-text-v1_5 } ] }
`, (req, res) => {
    if (req.path === '/openai/v1/embeddings') return sendJson(res, 200, groqDialect.embeddings(String(req.body.model), [[0.5]], 'float'))
    sendJson(res, 200, groqDialect.completion(String(req.body.model), { content: 'ok' }))
  })

  it('drops logprobs, top_logprobs, logit_bias and n > 1 with an x-gateway-warning naming each', async () => {
    const { data, response } = await setup.client.chat.completions
      .create({ model: 'fast', messages: hi, logprobs: true, top_logprobs: 2, logit_bias: { '50256': -100 }, n: 3, temperature: 0.5 })
      .withResponse()
    expect(data.choices[0].message.content).toBe('ok')
    const warning = response.headers.get('x-gateway-warning') ?? ''
    for (const param of ['logprobs', 'top_logprobs', 'logit_bias', 'n']) expect(warning).toContain(`'${param}'`)
    const sent = setup.upstream.requests[0].body
    for (const param of ['logprobs', 'top_logprobs', 'logit_bias', 'n']) expect(sent).not.toHaveProperty(param)
    expect(sent.temperature).toBe(0.5)
  })

  it('keeps n: 1 and omits logprobs: false without a warning, since Groq rejects the field itself', async () => {
    const { response } = await setup.client.chat.completions.create({ model: 'fast', messages: hi, n: 1, logprobs: false }).withResponse()
    expect(response.headers.get('x-gateway-warning')).toBeNull()
    expect(setup.upstream.requests[0].body.n).toBe(1)
    expect(setup.upstream.requests[0].body).not.toHaveProperty('logprobs')
  })

  it('rejects an unsupported parameter with 400 naming it on a strict route, without calling Groq', async () => {
    const err = (await setup.client.chat.completions.create({ model: 'fast-strict', messages: hi, n: 2 }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>
    expect(err.status).toBe(400)
    expect(err.param).toBe('n')
    expect(err.code).toBe('unsupported_parameter')
    expect(setup.upstream.requests.length).toBe(0)
  })

  it('strips participant names from messages, which Groq rejects, with a warning', async () => {
    const { response } = await setup.client.chat.completions
      .create({ model: 'fast', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi', name: 'alice' }] })
      .withResponse()
    expect(response.headers.get('x-gateway-warning')).toContain('messages[].name')
    expect(setup.upstream.requests[0].body.messages).toEqual([{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi' }])
  })

  it('translates OpenAI\'s default service tier to Groq\'s on_demand and drops tiers Groq lacks', async () => {
    await setup.client.chat.completions.create({ model: 'fast', messages: hi, service_tier: 'default' })
    expect(setup.upstream.requests[0].body.service_tier).toBe('on_demand')
    const { response } = await setup.client.chat.completions.create({ model: 'fast', messages: hi, service_tier: 'priority' }).withResponse()
    expect(response.headers.get('x-gateway-warning')).toContain('service_tier')
    expect(setup.upstream.requests[1].body).not.toHaveProperty('service_tier')
  })

  it('does not claim Groq\'s own service tier as one of OpenAI\'s in the response', async () => {
    const res = await setup.client.chat.completions.create({ model: 'fast', messages: hi })
    expect(res).not.toHaveProperty('service_tier')
    expect(res.choices[0].message.refusal).toBeNull()
  })

  it('drops embedding dimensions, which Groq cannot change, with a warning', async () => {
    const { response } = await setup.client.embeddings.create({ model: 'embed', input: 'x', dimensions: 256, encoding_format: 'float' }).withResponse()
    expect(response.headers.get('x-gateway-warning')).toContain('dimensions')
    expect(setup.upstream.requests[0].body).not.toHaveProperty('dimensions')
  })
})
