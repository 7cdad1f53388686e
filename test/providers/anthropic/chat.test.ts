import Anthropic from '@anthropic-ai/sdk'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ANTHROPIC_VERSION } from '../../../plugins/providers/anthropic/schema.ts'
import { expectOpenAISchema } from '../../helpers/openai-schema.ts'
import { message, MODEL, sendMessage, text, usage } from './anthropic-upstream.ts'
import { API_KEY, startAnthropicFixture, type AnthropicFixture } from './setup.ts'

describe('anthropic provider: chat completions', () => {
  let f: AnthropicFixture
  beforeAll(async () => { f = await startAnthropicFixture() })
  afterAll(() => f.close())
  beforeEach(() => f.upstream.handle((_req, res) => sendMessage(res, message([text('Hello from Claude.')]))))

  it('answers through the Messages API and returns an OpenAI chat completion', async () => {
    const res = await f.client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'Hi' }] })
    expectOpenAISchema('CreateChatCompletionResponse', res)
    expect(res.choices[0].message).toMatchObject({ role: 'assistant', content: 'Hello from Claude.' })
    expect(res.choices[0].finish_reason).toBe('stop')
    expect(res.model).toBe(MODEL)
    expect(res.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 6, total_tokens: 18 })

    const sent = f.lastRequest()
    expect(sent.method).toBe('POST')
    expect(sent.path).toBe('/v1/messages')
    expect(sent.headers.authorization).toBe(`Bearer ${API_KEY}`)
    expect(sent.headers['anthropic-version']).toBe('2026-10-21')
    expect(sent.body).toEqual({ model: MODEL, max_tokens: 8192, messages: [{ role: 'user', content: 'Hi' }] })
  })

  it('sends the headers the official SDK sends: its auth, anthropic-version and content type', async () => {
    // The gateway speaks the wire itself (the kit's pooled client); the SDK is the reference for what a request carries.
    const sdk = new Anthropic({ apiKey: API_KEY, baseURL: f.upstream.url, maxRetries: 0 })
    await sdk.messages.create({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] })
    const bySdk = f.lastRequest().headers
    await f.client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'Hi' }] })
    const byGateway = f.lastRequest().headers
    for (const name of ['authorization', 'x-api-key', 'anthropic-version', 'anthropic-beta', 'content-type']) {
      expect([name, byGateway[name]]).toEqual([name, bySdk[name]])
    }
    expect(bySdk['anthropic-version']).toBe(ANTHROPIC_VERSION)
  })

  it('sends system and developer messages as Anthropic\'s top-level system prompt', async () => {
    await f.client.chat.completions.create({
      model: 'claude',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
        { role: 'user', content: 'Hi' },
      ],
    })
    const body = f.lastRequest().body
    expect(body.system).toEqual([{ type: 'text', text: 'You are terse.' }, { type: 'text', text: 'Answer in French.' }])
    expect(body.messages).toEqual([{ role: 'user', content: 'Hi' }])
  })

  it('sends a single system message as a plain string', async () => {
    await f.client.chat.completions.create({ model: 'claude', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }] })
    expect(f.lastRequest().body.system).toBe('Be brief.')
  })

  it('keeps multi-turn history in order and merges consecutive turns of one role', async () => {
    await f.client.chat.completions.create({
      model: 'claude',
      messages: [
        { role: 'user', content: 'My name is Ada.' },
        { role: 'user', content: 'I like tea.' },
        { role: 'assistant', content: 'Noted, Ada.' },
        { role: 'system', content: 'Now answer in one word.' },
        { role: 'user', content: 'What do I like?' },
      ],
    })
    expect(f.lastRequest().body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'My name is Ada.' }, { type: 'text', text: 'I like tea.' }] },
      { role: 'assistant', content: 'Noted, Ada.' },
      // A system message after the conversation began stays where it was.
      { role: 'system', content: [{ type: 'text', text: 'Now answer in one word.' }] },
      { role: 'user', content: 'What do I like?' },
    ])
    expect(f.lastRequest().body.system).toBeUndefined()
  })

  it('translates max_completion_tokens, stop and user, and defaults max_tokens per model when absent', async () => {
    await f.client.chat.completions.create({ model: 'claude', max_completion_tokens: 300, stop: ['END', '###'], user: 'user-42', messages: [{ role: 'user', content: 'Hi' }] })
    expect(f.lastRequest().body).toMatchObject({ max_tokens: 300, stop_sequences: ['END', '###'], metadata: { user_id: 'user-42' } })

    await f.client.chat.completions.create({ model: 'claude', max_tokens: 50, stop: 'STOP', messages: [{ role: 'user', content: 'Hi' }] })
    expect(f.lastRequest().body).toMatchObject({ max_tokens: 50, stop_sequences: ['STOP'] })

    // The instance's default_max_tokens wins over the per-model table.
    await f.client.chat.completions.create({ model: 'claude-legacy', messages: [{ role: 'user', content: 'Hi' }] })
    expect(f.lastRequest().body.max_tokens).toBe(1000)
  })

  it('reports cached prompt tokens: prompt_tokens includes them and prompt_tokens_details counts reads and writes', async () => {
    f.upstream.handle((_req, res) => sendMessage(res, message([text('ok')], { usage: usage({ input_tokens: 10, cache_read_input_tokens: 90, cache_creation_input_tokens: 5, output_tokens: 3 }) })))
    const res = await f.client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'Hi' }] })
    expect(res.usage).toMatchObject({ prompt_tokens: 105, completion_tokens: 3, total_tokens: 108, prompt_tokens_details: { cached_tokens: 90, cache_write_tokens: 5 } })
    // Priced from the catalog: writes at 1.25x input (claude-sonnet-4-5: $3.75 per 1M), reads at 0.1x.
    const { PriceTable } = await import('../../../plugins/services/pricing/prices.ts')
    expect(new PriceTable().cost('claude-sonnet-4-5-20250929', { prompt: 105, completion: 3, cached: 90, cacheWrite: 5 })).toBeCloseTo((10 * 3 + 90 * 0.3 + 5 * 3.75 + 3 * 15) / 1e6, 12)
  })

  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['refusal', 'content_filter'],
  ] as const)('maps stop_reason %s to finish_reason %s', async (stopReason, finishReason) => {
    f.upstream.handle((_req, res) => sendMessage(res, message([text('partial')], { stop_reason: stopReason })))
    const res = await f.client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'Hi' }] })
    expect(res.choices[0].finish_reason).toBe(finishReason)
  })
})

describe('anthropic provider: images and structured output', () => {
  let f: AnthropicFixture
  beforeAll(async () => {
    f = await startAnthropicFixture()
    f.upstream.handle((_req, res) => sendMessage(res, message([text('{"animal":"cat"}')])))
  })
  afterAll(() => f.close())

  it('sends an image URL as a url source and a data URL as a base64 source', async () => {
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=='
    await f.client.chat.completions.create({
      model: 'claude',
      messages: [{
        role: 'user',
        content: [
          { type: 'text', text: 'What is in these?' },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } },
        ],
      }],
    })
    expect(f.lastRequest().body.messages).toEqual([{
      role: 'user',
      content: [
        { type: 'text', text: 'What is in these?' },
        { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } },
      ],
    }])
  })

  it('rejects an image type Anthropic cannot read with a 400 naming the content part', async () => {
    const err = await f.client.chat.completions.create({
      model: 'claude',
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/bmp;base64,Qk0=' } }] }],
    }).catch((e) => e)
    expect(err.status).toBe(400)
    expect(err.error).toMatchObject({ code: 'invalid_image', param: 'messages[0].content[0].image_url.url' })
  })

  it('sends a JSON schema response_format as output_config.format', async () => {
    const schema = { type: 'object', properties: { animal: { type: 'string' } }, required: ['animal'], additionalProperties: false }
    const res = await f.client.chat.completions.create({
      model: 'claude',
      response_format: { type: 'json_schema', json_schema: { name: 'animal', schema, strict: true } },
      messages: [{ role: 'user', content: 'Name an animal.' }],
    })
    expect(f.lastRequest().body.output_config).toEqual({ format: { type: 'json_schema', schema } })
    expect(JSON.parse(res.choices[0].message.content!)).toEqual({ animal: 'cat' })
  })
})

describe('anthropic provider: parameters Anthropic cannot honour', () => {
  let f: AnthropicFixture
  beforeAll(async () => {
    f = await startAnthropicFixture()
    f.upstream.handle((_req, res) => sendMessage(res, message([text('ok')])))
  })
  afterAll(() => f.close())

  it('drops temperature, top_p and seed with an x-gateway-warning, since API version 2026-10-21 rejects them', async () => {
    const { response } = await f.client.chat.completions.create({
      model: 'claude', temperature: 0.2, top_p: 0.9, seed: 7, messages: [{ role: 'user', content: 'Hi' }],
    }).withResponse()
    const warning = response.headers.get('x-gateway-warning') ?? ''
    expect(warning).toContain("dropped 'seed'")
    expect(warning).toContain("dropped 'temperature'")
    expect(warning).toContain("dropped 'top_p'")
    const body = f.lastRequest().body
    expect(body).not.toHaveProperty('temperature')
    expect(body).not.toHaveProperty('top_p')
  })

  it('rejects them with a 400 naming the parameter on a strict route, without calling the upstream', async () => {
    const before = f.upstream.requests.length
    const err = await f.client.chat.completions.create({ model: 'claude-strict', n: 2, messages: [{ role: 'user', content: 'Hi' }] }).catch((e) => e)
    expect(err.status).toBe(400)
    expect(err.error).toMatchObject({ code: 'unsupported_parameter', param: 'n' })
    expect(f.upstream.requests.length).toBe(before)
  })

  it('forwards temperature and top_p to an upstream pinned to API version 2023-06-01', async () => {
    await f.client.chat.completions.create({ model: 'claude-legacy', temperature: 0.2, top_p: 0.9, messages: [{ role: 'user', content: 'Hi' }] })
    const sent = f.lastRequest()
    expect(sent.headers['anthropic-version']).toBe('2023-06-01')
    expect(sent.body).toMatchObject({ temperature: 0.2, top_p: 0.9 })
  })

  it('drops a temperature above Anthropic\'s range of 0 to 1 instead of clamping it', async () => {
    const { response } = await f.client.chat.completions.create({ model: 'claude-legacy', temperature: 1.5, messages: [{ role: 'user', content: 'Hi' }] }).withResponse()
    expect(response.headers.get('x-gateway-warning')).toContain("dropped 'temperature'")
    expect(f.lastRequest().body).not.toHaveProperty('temperature')
  })
})
