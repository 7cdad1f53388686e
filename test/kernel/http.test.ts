import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, postJson, type RunningGateway } from '../helpers/gateway.ts'

const CONFIG = `
version: 1
server: { body_limit: 2kb }
providers:
  mock: { plugin: mock }
routes:
  - model: mock
    targets: [ { provider: mock } ]
`

describe('HTTP surface', () => {
  let gw: RunningGateway
  beforeAll(async () => { gw = await startTestGateway(CONFIG) })
  afterAll(() => gw.close())
  const url = (p: string) => `${gw.url}${p}`

  it('honours a client x-request-id and generates one otherwise', async () => {
    const mine = await fetch(url('/health'), { headers: { 'x-request-id': 'req-abc.123' } })
    expect(mine.headers.get('x-request-id')).toBe('req-abc.123')
    const generated = await fetch(url('/health'))
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    const unsafe = await fetch(url('/health'), { headers: { 'x-request-id': 'bad id with spaces' } })
    expect(unsafe.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('refuses a body over server.body_limit with 413 in the OpenAI error shape', async () => {
    const res = await postJson(url('/v1/chat/completions'), { model: 'mock', messages: [{ role: 'user', content: 'x'.repeat(4000) }] })
    expect(res.status).toBe(413)
    expect(res.body).toEqual({ error: { message: expect.stringContaining('2048 bytes'), type: 'invalid_request_error', code: 'request_too_large', param: null } })
  })

  it('answers malformed JSON with 400 invalid_json', async () => {
    const res = await postJson(url('/v1/chat/completions'), '{"model": "mock", ')
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('invalid_json')
    expect(res.body.error.type).toBe('invalid_request_error')
  })

  it('reads a body as UTF-8 whole: a leading byte-order mark is skipped, and text split across chunks at any byte stays intact', async () => {
    const json = Buffer.from(JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'Grüße, 日本 🦊' }] }))
    const withBom = await fetch(url('/v1/chat/completions'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json]) })
    expect(withBom.status).toBe(200)
    // Sent a byte at a time: a decoder per chunk would split the multi-byte characters.
    const split = await fetch(url('/v1/chat/completions'), {
      method: 'POST', headers: { 'content-type': 'application/json' }, duplex: 'half',
      body: new ReadableStream({ start(c) { for (const byte of json) c.enqueue(new Uint8Array([byte])); c.close() } }),
    } as RequestInit)
    expect(split.status).toBe(200)
    const answer = (await split.json()) as { choices: { message: { content: string } }[] }
    expect(answer.choices[0].message.content).toContain('Grüße, 日本 🦊')
  })

  it('validates the basic request shape, naming the field', async () => {
    const missing = await postJson(url('/v1/chat/completions'), { model: 'mock' })
    expect(missing.status).toBe(400)
    expect(missing.body.error).toMatchObject({ code: 'invalid_messages', param: 'messages' })
    const noModel = await postJson(url('/v1/chat/completions'), { messages: [{ role: 'user', content: 'x' }] })
    expect(noModel.body.error).toMatchObject({ code: 'missing_model', param: 'model' })
    const array = await postJson(url('/v1/chat/completions'), [1, 2])
    expect(array.body.error.code).toBe('invalid_body')
  })

  it('answers an unknown model with 404 model_not_found, as OpenAI does', async () => {
    const res = await postJson(url('/v1/chat/completions'), { model: 'gpt-9', messages: [{ role: 'user', content: 'x' }] })
    expect(res.status).toBe(404)
    expect(res.body.error).toEqual({ message: "The model 'gpt-9' does not exist or you do not have access to it.", type: 'not_found_error', code: 'model_not_found', param: 'model' })
  })

  it('answers an unknown URL with 404: OpenAI shape on /v1, the envelope on /api/v1', async () => {
    const v1 = await fetch(url('/v1/nothing-here'))
    expect(v1.status).toBe(404)
    expect(await v1.json()).toEqual({ error: { message: 'No route for GET /v1/nothing-here.', type: 'not_found_error', code: 'unknown_url', param: null } })
    const api = await fetch(url('/api/v1/nothing'), { headers: { 'x-request-id': 'r1' } })
    expect(api.status).toBe(404)
    expect(await api.json()).toEqual({ success: false, data: null, message: 'No route for GET /api/v1/nothing.', error: 'unknown_url', details: null, meta: { request_id: 'r1' } })
  })

  it('answers a wrong method with 405 in the OpenAI error shape, saying which methods are allowed', async () => {
    const res = await fetch(url('/v1/chat/completions'))
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe('POST')
    expect(await res.json()).toMatchObject({ error: { code: 'method_not_allowed', type: 'invalid_request_error' } })
  })

  it('reports health with the config version, and readiness when no backends are configured', async () => {
    const health = await (await fetch(url('/health'))).json()
    expect(health).toMatchObject({ status: 'ok', config: { version: expect.stringMatching(/^[0-9a-f]{12}$/), source: 'test.yaml', last_error: null } })
    expect(new Date(health.config.loaded_at).getTime()).toBeLessThanOrEqual(Date.now())
    const ready = await fetch(url('/ready'))
    expect(ready.status).toBe(200)
    expect(await ready.json()).toEqual({ status: 'ready', backends: {} })
  })

  it('answers the probes on the paths their router matches (a trailing slash, any case, HEAD), and no look-alike', async () => {
    for (const path of ['/health/', '/HEALTH', '/Ready', '/metrics/']) expect((await fetch(url(path))).status, path).toBe(200)
    expect((await fetch(url('/health'), { method: 'HEAD' })).status).toBe(200)
    for (const path of ['/healthz', '/health/x', '/v1/health']) expect((await fetch(url(path))).status, path).toBe(404)
  })

  it('gets one model and 404s an unknown one', async () => {
    expect(await (await fetch(url('/v1/models/mock'))).json()).toMatchObject({ id: 'mock', object: 'model' })
    expect((await fetch(url('/v1/models/nope'))).status).toBe(404)
  })

  it('returns embeddings, float and base64', async () => {
    const floats = await postJson(url('/v1/embeddings'), { model: 'mock', input: 'hello' })
    expect(floats.status).toBe(200)
    const vector = floats.body.data[0].embedding as number[]
    expect(vector).toHaveLength(16)
    const b64 = await postJson(url('/v1/embeddings'), { model: 'mock', input: 'hello', encoding_format: 'base64' })
    const bytes = Buffer.from(b64.body.data[0].embedding, 'base64')
    const decoded = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4))
    expect(decoded).toHaveLength(16)
    decoded.forEach((v, i) => expect(v).toBeCloseTo(vector[i], 5))
  })
})

describe('errors never leak internals', () => {
  it('maps a provider that throws a plain Error to 502 in the OpenAI shape, with no stack trace', async () => {
    const gw = await startTestGateway(`
version: 1
plugins: [ ${process.cwd()}/test/fixtures/plugins/acme ]
providers:
  acme: { plugin: acme, greeting: hi }
routes:
  - model: acme
    targets: [ { provider: acme } ]
`)
    try {
      const res = await postJson(`${gw.url}/v1/chat/completions`, { model: 'acme', messages: [{ role: 'user', content: 'x' }], metadata: { throw: 'boom' } })
      expect(res.status).toBe(502)
      expect(res.body).toEqual({ error: { message: 'acme: upstream unreachable: acme exploded: boom', type: 'upstream_error', code: 'upstream_unreachable', param: null } })
      expect(JSON.stringify(res.body)).not.toMatch(/\bat .*\.(js|ts):\d+/)
    } finally {
      await gw.close()
    }
  })
})

describe('routes over optional providers', () => {
  it('skip left-out targets, drop routes with none, and say so on /health and /v1/models', async () => {
    const gw = await startTestGateway(`version: 1
providers:
  mock: { plugin: mock }
  paid: { plugin: openai, api_key: "\${PAID_KEY_NOT_SET}", optional: true }
routes:
  - { model: both, strategy: fallback, targets: [ { provider: paid }, { provider: mock } ] }
  - { model: paid-only, targets: [ { provider: paid } ] }
`, { env: {} })
    try {
      const ok = await postJson(`${gw.url}/v1/chat/completions`, { model: 'both', messages: [{ role: 'user', content: 'hi' }] })
      expect(ok.status).toBe(200)
      expect(ok.headers.get('x-gateway-provider')).toBe('mock')
      expect((await postJson(`${gw.url}/v1/chat/completions`, { model: 'paid-only', messages: [{ role: 'user', content: 'hi' }] })).status).toBe(404)
      const models = (await (await fetch(`${gw.url}/v1/models`)).json()) as { data: { id: string }[] }
      expect(models.data.map((m) => m.id)).toEqual(['both'])
      const health = await (await fetch(`${gw.url}/health`)).json()
      expect(health.config.providers_disabled).toEqual({ paid: 'PAID_KEY_NOT_SET is not set' })
      expect(health.config.routes_unavailable).toEqual(['paid-only'])
    } finally {
      await gw.close()
    }
  })
})

describe('service plugins', () => {
  it('are mounted under /api/v1/<name> and only ever see authenticated requests', async () => {
    const gw = await startTestGateway(`version: 1
plugins: [ ${process.cwd()}/test/fixtures/plugins/echo-service, ${process.cwd()}/test/fixtures/plugins/header-auth ]
auth:
  strategies: [ { plugin: header } ]
services:
  echo: {}
`)
    try {
      const anonymous = await fetch(`${gw.url}/api/v1/echo/whoami`)
      expect(anonymous.status).toBe(401)
      expect((await anonymous.json()).success).toBe(false)
      const known = await fetch(`${gw.url}/api/v1/echo/whoami`, { headers: { 'x-test-user': 'zoe' } })
      expect((await known.json()).data).toEqual({ user: 'zoe' })
    } finally {
      await gw.close()
    }
  })
})
