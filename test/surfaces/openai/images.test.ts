/**
 * Image generation (`client.images.generate`) through the gateway: routed like any model name, sent
 * to OpenAI's own endpoint as the client wrote it (the answer relayed as its bytes), answered offline
 * by the mock, and metered as chat is: a usage event with the tokens a GPT image model reports,
 * priced by the catalog, under the caller's rate limits and budgets.
 */
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { capability, startTestGateway, type RunningGateway } from '../../helpers/gateway.ts'
import { expectOpenAISchema } from '../../helpers/openai-schema.ts'
import { formOf, sendJson, startUpstream, type MockUpstream } from '../../helpers/upstream.ts'
import { waitFor } from '../../helpers/wait.ts'
import { UsageLog } from '../../../plugins/contracts/capabilities.ts'

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII='
const KEYS = {
  ann: 'ann-key-0123456789abcdef', bo: 'bo-key-0123456789abcdef', cy: 'cy-key-0123456789abcdef', dee: 'dee-key-0123456789abcdef',
  eve: 'eve-key-0123456789abcdef', fay: 'fay-key-0123456789abcdef',
}
/** Output tokens of a 1024×1024 image by quality, as OpenAI's image generation guide documents them for gpt-image-1. */
const SQUARE: Record<string, number> = { low: 272, medium: 1056, high: 4160 }
/** gpt-image-1's catalog prices, USD per token: text input, image output. */
const INPUT = 5e-6
const OUTPUT = 40e-6

describe('/v1/images/generations with the openai SDK', () => {
  let upstream: MockUpstream
  let gw: RunningGateway
  const edits: FormData[] = []
  const variations: FormData[] = []
  const client = (key: string) => new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 })
  beforeAll(async () => {
    // OpenAI's /v1/images/generations as its API reference answers it: GPT image models base64 with
    // token usage, DALL·E a URL (with dall-e-3's revised prompt) and no usage.
    upstream = await startUpstream(async (req, res) => {
      if (req.path.endsWith('/images/edits')) {
        edits.push(await formOf(req))
        return sendJson(res, 200, { created: 1_765_000_000, data: [{ b64_json: PNG }], usage: { input_tokens: 300, output_tokens: 1056, total_tokens: 1356, input_tokens_details: { text_tokens: 20, image_tokens: 280 } } })
      }
      if (req.path.endsWith('/images/variations')) {
        // dall-e-2's answer: a URL or base64 as response_format asks, and no usage.
        const form = await formOf(req)
        variations.push(form)
        const image = form.get('response_format') === 'b64_json' ? { b64_json: PNG } : { url: 'https://images.example/v.png' }
        return sendJson(res, 200, { created: 1_765_000_000, data: Array.from({ length: Number(form.get('n') ?? 1) }, () => image) })
      }
      if (!req.path.endsWith('/images/generations')) return sendJson(res, 404, { error: { message: 'no such path', type: 'invalid_request_error', code: null, param: null } })
      if (String(req.body.prompt).includes('forbidden')) return sendJson(res, 400, { error: { message: 'Your request was rejected by the safety system.', type: 'image_generation_user_error', code: 'moderation_blocked', param: null } })
      const n = req.body.n ?? 1
      if (String(req.body.model).startsWith('dall-e')) {
        return sendJson(res, 200, { created: 1_765_000_000, data: Array.from({ length: n }, () => ({ url: 'https://images.example/a.png', revised_prompt: `revised: ${req.body.prompt}` })) })
      }
      // `auto` quality and size (the defaults) come out as a medium square image.
      const quality = req.body.quality in SQUARE ? req.body.quality : 'medium'
      const output = SQUARE[quality] * n
      sendJson(res, 200, {
        created: 1_765_000_000, background: 'opaque', output_format: 'png', quality, size: '1024x1024',
        data: Array.from({ length: n }, () => ({ b64_json: PNG })),
        usage: { input_tokens: 50, output_tokens: output, total_tokens: 50 + output, input_tokens_details: { text_tokens: 50, image_tokens: 0 } },
      })
    })
    gw = await startTestGateway(`version: 1
store: { plugin: embedded, memory: true, vector: false }
providers:
  oa: { plugin: openai, api_key: sk-images, base_url: "${upstream.url}/v1" }
  offline: { plugin: mock }
  claude: { plugin: anthropic, api_key: sk-ant, base_url: "${upstream.url}" }
auth:
  strategies:
    - plugin: api-key
      keys:
        - { key: ${KEYS.ann}, user: ann, department: design }
        - { key: ${KEYS.bo}, user: bo, department: frugal }
        - { key: ${KEYS.cy}, user: cy, department: busy }
        - { key: ${KEYS.dee}, user: dee, department: design }
        - { key: ${KEYS.eve}, user: eve, department: studio }
        - { key: ${KEYS.fay}, user: fay, department: burst }
departments:
  design: {}
  frugal: { budget: { usd_per_day: 0.05 } }
  busy: { limits: { requests_per_minute: 1 } }
  studio: { budget: { usd_per_day: 0.3 } }
  burst: { budget: { usd_per_day: 0.5 } }
limits:
  backend: { plugin: memory }
  budget_status: 429
routes:
  - { model: "gpt-image-*", aliases: ["dall-e-*"], targets: [ { provider: oa } ] }
  - { model: mock-image, targets: [ { provider: offline, model: gpt-image-1 } ] }
  - { model: claude-image, targets: [ { provider: claude, model: claude-haiku-4-5 } ] }
`)
  }, 60_000)
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })

  /** The usage events of a config key (`config:<user>`). */
  const eventsOf = async (user: string) =>
    capability(gw, UsageLog).list({ from: new Date(Date.now() - 60_000), to: new Date(Date.now() + 60_000), keyId: `config:${user}` })

  it('sends the request to OpenAI as written, relays the answer, and records its tokens and cost as usage', async () => {
    const { data, response } = await client(KEYS.ann).images.generate({ model: 'gpt-image-1', prompt: 'a lighthouse at dawn', quality: 'high', size: '1024x1024' }).withResponse()
    expectOpenAISchema('ImagesResponse', data)
    expect(data.data?.[0]?.b64_json).toBe(PNG)
    expect(data.usage).toMatchObject({ input_tokens: 50, output_tokens: 4160 })
    const sent = upstream.requests.at(-1)!
    expect(sent.path).toBe('/v1/images/generations')
    expect(sent.body).toEqual({ model: 'gpt-image-1', prompt: 'a lighthouse at dawn', quality: 'high', size: '1024x1024' })
    expect(sent.headers.authorization).toBe('Bearer sk-images')
    expect(response.headers.get('x-gateway-provider')).toBe('oa')
    // Priced by the catalog: $5 per 1M input tokens, $40 per 1M image output tokens.
    const event = (await waitFor(async () => (await eventsOf('ann')).find((e) => e.model === 'gpt-image-1'), 5000, 25)).value!
    expect(event).toMatchObject({ route: 'gpt-image-1', provider: 'oa', status: 200, promptTokens: 50, completionTokens: 4160 })
    expect(event.costUsd).toBeCloseTo(50 * 5e-6 + 4160 * 40e-6, 8)
  })

  it('sends a request that names no model to OpenAI\'s default (dall-e-2), and DALL·E\'s URL answers through', async () => {
    const answer = await client(KEYS.ann).images.generate({ prompt: 'a red kite' })
    expectOpenAISchema('ImagesResponse', answer)
    expect(upstream.requests.at(-1)!.body).toEqual({ model: 'dall-e-2', prompt: 'a red kite' })
    const three = await client(KEYS.ann).images.generate({ model: 'dall-e-3', prompt: 'a blue kite', response_format: 'url' })
    expect(three.data?.[0]).toEqual({ url: 'https://images.example/a.png', revised_prompt: 'revised: a blue kite' })
  })

  it('sends an edit\'s upload (image and mask) to OpenAI as made, and meters it as a generation', async () => {
    const image = Buffer.from(PNG, 'base64')
    const edited = await client(KEYS.ann).images.edit({
      model: 'gpt-image-1', prompt: 'add a flag', image: await toFile(image, 'tower.png', { type: 'image/png' }), mask: await toFile(image, 'mask.png', { type: 'image/png' }),
    })
    expectOpenAISchema('ImagesResponse', edited)
    expect(edited.data?.[0]?.b64_json).toBe(PNG)
    const form = edits.at(-1)!
    expect([form.get('model'), form.get('prompt')]).toEqual(['gpt-image-1', 'add a flag'])
    const sentImage = form.get('image') as File
    expect([sentImage.name, sentImage.type]).toEqual(['tower.png', 'image/png'])
    expect(Buffer.from(await sentImage.arrayBuffer()).equals(image)).toBe(true)
    expect((form.get('mask') as File).name).toBe('mask.png')
    const event = (await waitFor(async () => (await eventsOf('ann')).find((e) => e.completionTokens === 1056 && e.promptTokens === 300), 5000, 25)).value!
    expect(event.costUsd).toBeCloseTo(300 * 5e-6 + 1056 * 40e-6, 8)
    // Offline, and refused without its image.
    expect((await client(KEYS.ann).images.edit({ model: 'mock-image', prompt: 'x', image: await toFile(image, 'a.png', { type: 'image/png' }) })).data?.[0]?.b64_json).toBe(PNG)
    const noImage = new FormData()
    noImage.append('prompt', 'x')
    const refused = await fetch(`${gw.url}/v1/images/edits`, { method: 'POST', headers: { authorization: `Bearer ${KEYS.ann}` }, body: noImage })
    expect(refused.status).toBe(400)
    expect((await refused.json()).error).toMatchObject({ param: 'image' })
  })

  it('sends a variation\'s upload to OpenAI byte for byte, as dall-e-2 when the client names no model, and records it as usage', async () => {
    // A PNG signature, then every byte value (CR, LF, dashes: what a multipart encoder could mangle).
    const image = Buffer.concat([Buffer.from(PNG, 'base64'), Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 256))])
    const { data, response } = await client(KEYS.dee).images.createVariation({ image: await toFile(image, 'otter.png', { type: 'image/png' }), n: 2, size: '256x256', response_format: 'b64_json', user: 'u-42' }).withResponse()
    expectOpenAISchema('ImagesResponse', data)
    expect(data.data?.map((d) => d.b64_json)).toEqual([PNG, PNG])
    expect(response.headers.get('x-gateway-provider')).toBe('oa')
    expect(upstream.requests.at(-1)!.path).toBe('/v1/images/variations')
    const form = variations.at(-1)!
    expect(['model', 'n', 'size', 'response_format', 'user'].map((f) => form.get(f))).toEqual(['dall-e-2', '2', '256x256', 'b64_json', 'u-42'])
    const sent = form.get('image') as File
    expect([sent.name, sent.type]).toEqual(['otter.png', 'image/png'])
    expect(Buffer.from(await sent.arrayBuffer()).equals(image)).toBe(true)
    // DALL·E reports no usage: a request with no tokens, priced at nothing (the catalog has no per-image price).
    const event = (await waitFor(async () => (await eventsOf('dee')).find((e) => e.model === 'dall-e-2'), 5000, 25)).value!
    expect(event).toMatchObject({ route: 'dall-e-2', provider: 'oa', status: 200, promptTokens: 0, completionTokens: 0, costUsd: 0 })
    // Named, the model goes as named; offline, the mock answers.
    const named = await client(KEYS.dee).images.createVariation({ model: 'dall-e-2', image: await toFile(image, 'otter.png', { type: 'image/png' }) })
    expect(named.data?.[0]?.url).toBe('https://images.example/v.png')
    expect(variations.at(-1)!.get('model')).toBe('dall-e-2')
    const offline = await client(KEYS.dee).images.createVariation({ model: 'mock-image', image: await toFile(image, 'otter.png', { type: 'image/png' }) })
    expect(offline.data?.[0]?.b64_json).toBe(PNG)
  })

  it('refuses a variation without its image, and one whose route\'s provider makes no variations', async () => {
    const noImage = new FormData()
    noImage.append('model', 'dall-e-2')
    const refused = await fetch(`${gw.url}/v1/images/variations`, { method: 'POST', headers: { authorization: `Bearer ${KEYS.ann}` }, body: noImage })
    expect(refused.status).toBe(400)
    expect((await refused.json()).error).toMatchObject({ param: 'image', code: 'missing_required_parameter' })
    const image = await toFile(Buffer.from(PNG, 'base64'), 'a.png', { type: 'image/png' })
    await expect(client(KEYS.ann).images.createVariation({ model: 'claude-image', image })).rejects.toMatchObject({ status: 400, code: 'wire_unsupported', param: 'model' })
  })

  it('maps the upstream\'s refusal to the SDK\'s typed error', async () => {
    const refused = await client(KEYS.ann).images.generate({ model: 'gpt-image-1', prompt: 'something forbidden' }).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError)
    expect((refused as InstanceType<typeof OpenAI.BadRequestError>).message).toContain('rejected by the safety system')
  })

  it('answers offline with the mock, metered: a department\'s budget is spent by images and then refuses them', async () => {
    const first = await client(KEYS.bo).images.generate({ model: 'mock-image', prompt: 'a small cabin', n: 1, quality: 'medium', size: '1024x1024' })
    expectOpenAISchema('ImagesResponse', first)
    expect(first.data?.[0]?.b64_json).toBe(PNG)
    // A medium 1024×1024 image is 1,056 output tokens: about $0.042 of the department's $0.05 a day.
    const spent = (await waitFor(async () => (await eventsOf('bo'))[0], 5000, 25)).value!
    expect(spent).toMatchObject({ route: 'mock-image', model: 'gpt-image-1', completionTokens: 1056 })
    expect(spent.costUsd).toBeCloseTo(0.04224 + spent.promptTokens * 5e-6, 8)
    // A second one would take the spend past $0.05: refused before it is made, naming what it would cost.
    const refused = await client(KEYS.bo).images.generate({ model: 'mock-image', prompt: 'a second cabin', quality: 'medium', size: '1024x1024' }).catch((err: unknown) => err)
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError)
    expect((refused as Error).message).toMatch(/budget of \$0\.05 per day would be exceeded.*may cost up to \$0\.0422/)
    // Edits and variations reserve the same way, from their multipart fields.
    const image = await toFile(Buffer.from(PNG, 'base64'), 'a.png', { type: 'image/png' })
    await expect(client(KEYS.bo).images.edit({ model: 'mock-image', prompt: 'a door', image, quality: 'medium', size: '1024x1024' })).rejects.toBeInstanceOf(OpenAI.RateLimitError)
    await expect(client(KEYS.bo).images.createVariation({ model: 'mock-image', image })).rejects.toBeInstanceOf(OpenAI.RateLimitError)
    expect((await eventsOf('bo')).filter((e) => e.status === 200)).toHaveLength(1)
  })

  it('reserves an image\'s documented output tokens before the call: a nearly spent budget refuses the next image before it reaches OpenAI, and what it admits is settled to its cost', async () => {
    const eve = client(KEYS.eve)
    const generations = () => upstream.requests.filter((r) => r.path === '/v1/images/generations').length
    const prompt = 'a harbour' // 3 tokens by the estimate (9 bytes / 4)
    /** A request refused whatever is spent (ten high images reserve $1.66): its refusal says what is spent or reserved. */
    const committed = async () => {
      const refused = await eve.images.generate({ model: 'gpt-image-1', prompt, quality: 'high', n: 10 }).then(() => new Error('admitted'), (err: Error) => err)
      return Number(/\$([\d.]+) spent or reserved/.exec(refused.message)![1])
    }
    const sentBefore = generations()
    // Auto quality and size (the defaults) reserve the dearest image OpenAI may make: high, 1536×1024, 6,240 tokens ($0.2496 of $0.30).
    expect((await eve.images.generate({ model: 'gpt-image-1', prompt })).usage?.output_tokens).toBe(1056)
    // OpenAI made a medium one: the usage event, and then the budget, hold what it cost, not what was reserved.
    const first = 50 * INPUT + 1056 * OUTPUT
    const event = (await waitFor(async () => (await eventsOf('eve')).find((e) => e.status === 200), 5000, 25)).value!
    expect(event).toMatchObject({ model: 'gpt-image-1', promptTokens: 50, completionTokens: 1056 })
    expect(event.costUsd).toBeCloseTo(first, 8)
    expect(await committed()).toBeCloseTo(first, 6)
    // So a high square image ($0.1664) still fits.
    const second = await eve.images.generate({ model: 'gpt-image-1', prompt, quality: 'high', size: '1024x1024' })
    expect(second.usage?.output_tokens).toBe(4160)
    expect(generations()).toBe(sentBefore + 2)
    await waitFor(async () => (await eventsOf('eve')).filter((e) => e.status === 200).length === 2 || undefined, 5000, 25)
    const spent = first + 50 * INPUT + 4160 * OUTPUT
    expect(await committed()).toBeCloseTo(spent, 6)
    // About $0.209 spent of $0.30: another one is refused, and OpenAI never sees it.
    const refused = await eve.images.generate({ model: 'gpt-image-1', prompt, quality: 'high', size: '1024x1024' }).catch((err: unknown) => err)
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError)
    expect((refused as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('budget_exceeded')
    expect((refused as Error).message).toContain('may cost up to $0.166415')
    // n multiplies it: three medium square images ($0.1267) do not fit in the $0.091 left; two low ones ($0.0218) do.
    await expect(eve.images.generate({ model: 'gpt-image-1', prompt, quality: 'medium', size: '1024x1024', n: 3 })).rejects.toBeInstanceOf(OpenAI.RateLimitError)
    expect(generations()).toBe(sentBefore + 2)
    const small = await eve.images.generate({ model: 'gpt-image-1', prompt, quality: 'low', size: '1024x1024', n: 2 })
    expect(small.usage?.output_tokens).toBe(2 * 272)
    expect(generations()).toBe(sentBefore + 3)
  })

  it('admits only the images a budget holds when they are sent at once, and reserves nothing for DALL·E, which the catalog has no price for', async () => {
    const fay = client(KEYS.fay)
    const sentBefore = upstream.requests.length
    // Five high square images at once, $0.166405 reserved each, against $0.50: three fit.
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => fay.images.generate({ model: 'gpt-image-1', prompt: 'x', quality: 'high', size: '1024x1024' })))
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3)
    expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof OpenAI.RateLimitError)).toBe(true)
    expect(upstream.requests.length).toBe(sentBefore + 3)
    // DALL·E answers report no usage and the catalog prices no DALL·E image: it reserves and costs $0, so it is admitted while the budget is not used up.
    const dalle = await fay.images.generate({ model: 'dall-e-3', prompt: 'x', quality: 'hd', size: '1792x1024' })
    expect(dalle.data?.[0]?.url).toBe('https://images.example/a.png')
  })

  it('counts images against a rate limit as chat requests are, and says so in the x-ratelimit headers', async () => {
    const { response } = await client(KEYS.cy).images.generate({ model: 'mock-image', prompt: 'one' }).withResponse()
    expect(response.headers.get('x-ratelimit-limit-requests')).toBe('1')
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('0')
    await expect(client(KEYS.cy).images.generate({ model: 'mock-image', prompt: 'two' })).rejects.toBeInstanceOf(OpenAI.RateLimitError)
  })

  it('refuses a stream, a route whose provider generates no images, a missing prompt and a model no route answers', async () => {
    const ann = client(KEYS.ann)
    await expect(ann.images.generate({ model: 'gpt-image-1', prompt: 'x', stream: true })).rejects.toMatchObject({ status: 400, param: 'stream' })
    await expect(ann.images.generate({ model: 'claude-image', prompt: 'x' })).rejects.toMatchObject({ status: 400, code: 'wire_unsupported', param: 'model' })
    await expect(ann.images.generate({ model: 'mock-image' } as never)).rejects.toMatchObject({ status: 400, param: 'prompt' })
    await expect(ann.images.generate({ model: 'no-such-image-model', prompt: 'x' })).rejects.toMatchObject({ status: 404 })
  })
})
