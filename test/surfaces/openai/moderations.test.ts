/**
 * Moderations (`client.moderations.create`) through the gateway: routed like any model name, sent
 * to OpenAI's own endpoint as the client wrote it (the answer relayed as its bytes), answered
 * offline by the mock, refused where the route's provider has no moderation endpoint.
 */
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../../helpers/gateway.ts'
import { expectOpenAISchema } from '../../helpers/openai-schema.ts'
import { sendJson, startUpstream, type MockUpstream } from '../../helpers/upstream.ts'

const CATEGORIES = ['hate', 'hate/threatening', 'harassment', 'harassment/threatening', 'illicit', 'illicit/violent', 'self-harm', 'self-harm/intent', 'self-harm/instructions', 'sexual', 'sexual/minors', 'violence', 'violence/graphic']
const result = (flagged: string[]) => ({
  flagged: flagged.length > 0,
  categories: Object.fromEntries(CATEGORIES.map((c) => [c, flagged.includes(c)])),
  category_scores: Object.fromEntries(CATEGORIES.map((c) => [c, flagged.includes(c) ? 0.9 : 0.001])),
  category_applied_input_types: Object.fromEntries(CATEGORIES.map((c) => [c, ['text']])),
})

describe('/v1/moderations with the openai SDK', () => {
  let upstream: MockUpstream
  let gw: RunningGateway
  let client: OpenAI
  beforeAll(async () => {
    // OpenAI's /v1/moderations as its API reference answers it.
    upstream = await startUpstream((req, res) => {
      if (!req.path.endsWith('/moderations')) return sendJson(res, 404, { error: { message: 'no such path', type: 'invalid_request_error', code: null, param: null } })
      if (req.body.input === '') return sendJson(res, 400, { error: { message: 'input must not be empty', type: 'invalid_request_error', code: 'invalid_value', param: 'input' } })
      const inputs: string[] = Array.isArray(req.body.input) ? req.body.input : [req.body.input]
      sendJson(res, 200, { id: 'modr-upstream-1', model: `${req.body.model}-2024-09-26`, results: inputs.map((t) => result(/kill/.test(t) ? ['violence'] : [])) })
    })
    gw = await startTestGateway(`version: 1
providers:
  oa: { plugin: openai, api_key: sk-moderation, base_url: "${upstream.url}/v1" }
  offline: { plugin: mock }
  claude: { plugin: anthropic, api_key: sk-ant, base_url: "${upstream.url}" }
routes:
  - { model: "omni-moderation-*", aliases: ["text-moderation-*"], targets: [ { provider: oa } ] }
  - { model: mock-moderation, targets: [ { provider: offline } ] }
  - { model: claude-moderation, targets: [ { provider: claude, model: claude-haiku-4-5 } ] }
`)
    client = new OpenAI({ apiKey: 'unused', baseURL: `${gw.url}/v1`, maxRetries: 0 })
  }, 60_000)
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })

  it('sends the request to OpenAI as written (its default model when none is named) and relays the answer', async () => {
    const { data, response } = await client.moderations.create({ input: ['I will kill the process', 'hello'] }).withResponse()
    expectOpenAISchema('CreateModerationResponse', data)
    expect(data).toMatchObject({ id: 'modr-upstream-1', model: 'omni-moderation-latest-2024-09-26' })
    expect(data.results.map((r) => r.flagged)).toEqual([true, false])
    expect(data.results[0]!.categories.violence).toBe(true)
    const sent = upstream.requests.at(-1)!
    expect(sent.path).toBe('/v1/moderations')
    expect(sent.body).toEqual({ input: ['I will kill the process', 'hello'], model: 'omni-moderation-latest' })
    expect(sent.headers.authorization).toBe('Bearer sk-moderation')
    expect(response.headers.get('x-gateway-provider')).toBe('oa')
    expect(response.headers.get('x-gateway-route')).toBe('omni-moderation-*')
  })

  it('routes an older model name by its alias, and maps the upstream\'s error to the SDK\'s typed error', async () => {
    const answer = await client.moderations.create({ model: 'text-moderation-stable', input: 'fine' })
    expect(upstream.requests.at(-1)!.body.model).toBe('text-moderation-stable')
    expect(answer.results[0]!.flagged).toBe(false)
    const refused = await client.moderations.create({ model: 'omni-moderation-latest', input: '' }).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError)
    expect((refused as InstanceType<typeof OpenAI.BadRequestError>).message).toContain('input must not be empty')
  })

  it('answers offline with the mock (deterministic words), one result per input', async () => {
    const answer = await client.moderations.create({ model: 'mock-moderation', input: ['you idiot', 'nice day'] })
    expectOpenAISchema('CreateModerationResponse', answer)
    expect(answer.results.map((r) => [r.flagged, r.categories.harassment])).toEqual([[true, true], [false, false]])
    const multimodal = await client.moderations.create({ model: 'mock-moderation', input: [{ type: 'text', text: 'attack now' }, { type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] })
    expect(multimodal.results).toHaveLength(1)
    expect(multimodal.results[0]!.categories.violence).toBe(true)
  })

  it('refuses a route whose provider has no moderation endpoint, and a model no route answers', async () => {
    await expect(client.moderations.create({ model: 'claude-moderation', input: 'x' })).rejects.toMatchObject({ status: 400, code: 'wire_unsupported', param: 'model' })
    await expect(client.moderations.create({ model: 'no-such-moderation', input: 'x' })).rejects.toMatchObject({ status: 404 })
    await expect(client.moderations.create({ model: 'mock-moderation' } as never)).rejects.toMatchObject({ status: 400, param: 'input' })
  })
})
