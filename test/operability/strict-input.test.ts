/**
 * Strict, clear input on /v1: wrong types and ranges are 400s naming the field, a field outside
 * OpenAI's API is dropped with x-gateway-warning (or passed where a route lists it, or refused on a
 * strict route), a wrong method is a 405 in OpenAI's shape, gzip bodies are read and other encodings
 * or non-JSON types are a 415, and a route whose provider was left out says which variable to set.
 */
import { gzipSync, brotliCompressSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { sendJson, startUpstream, type MockUpstream } from '../helpers/upstream.ts'

const chat = (extra: Record<string, unknown> = {}, model = 'mock') => ({ model, messages: [{ role: 'user', content: 'hi' }], ...extra })

let gw: RunningGateway
let upstream: MockUpstream

beforeAll(async () => {
  upstream = await startUpstream((req, res) => sendJson(res, 200, {
    id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: req.body.model,
    choices: [{ index: 0, message: { role: 'assistant', content: 'ok', refusal: null }, finish_reason: 'stop', logprobs: null }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  }))
  gw = await startTestGateway(`version: 1
providers:
  mock: { plugin: mock }
  up: { plugin: openai, api_key: sk-test, base_url: "${upstream.url}/v1" }
  absent: { plugin: anthropic, api_key: "\${C17_UNSET_ANTHROPIC_KEY}", optional: true }
routes:
  - model: mock
    targets: [ { provider: mock } ]
  - model: strict-mock
    strict: true
    targets: [ { provider: mock } ]
  - model: up
    extra_params: [top_k]
    targets: [ { provider: up, model: up-1 } ]
  - model: up-plain
    targets: [ { provider: up, model: up-1 } ]
  - model: "claude-*"
    targets: [ { provider: absent } ]
`, { env: { ...process.env, C17_UNSET_ANTHROPIC_KEY: '' } })
})
afterAll(async () => {
  await gw.close()
  await upstream.close()
})

async function post(body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }, raw?: Buffer | string) {
  const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers, body: raw === undefined ? JSON.stringify(body) : typeof raw === 'string' ? raw : new Uint8Array(raw) })
  return { status: res.status, headers: res.headers, body: await res.json() as any }
}

describe('strict input', () => {
  it.each([
    [{ messages: [{ role: 'wizard', content: 'x' }] }, 'messages[0].role'],
    [{ messages: [{ role: 'user', content: 42 }] }, 'messages[0].content'],
    [{ temperature: 9 }, 'temperature'],
    [{ max_tokens: 'lots' }, 'max_tokens'],
  ])('refuses %j with a 400 naming the field', async (extra, param) => {
    const { status, body } = await post(chat(extra))
    expect(status).toBe(400)
    expect(body.error).toMatchObject({ type: 'invalid_request_error', param })
  })

  it('drops a field outside the API with x-gateway-warning, suggesting what it meant', async () => {
    const { status, headers } = await post(chat({ temperatur: 1 }, 'up-plain'))
    expect(status).toBe(200)
    expect(headers.get('x-gateway-warning')).toMatch(/dropped 'temperatur'.*did you mean 'temperature'/)
    expect(upstream.requests.at(-1)!.body).not.toHaveProperty('temperatur')
  })

  it("passes a field the route lists in extra_params, and a strict route refuses one it does not", async () => {
    const { status, headers } = await post(chat({ top_k: 5, temperatur: 1 }, 'up'))
    expect(status).toBe(200)
    expect(upstream.requests.at(-1)!.body).toMatchObject({ top_k: 5 })
    expect(upstream.requests.at(-1)!.body).not.toHaveProperty('temperatur')
    expect(headers.get('x-gateway-warning')).not.toContain('top_k')
    const strict = await post(chat({ temperatur: 1 }, 'strict-mock'))
    expect(strict.status).toBe(400)
    expect(strict.body.error).toMatchObject({ code: 'unknown_parameter', param: 'temperatur' })
  })

  it('answers a wrong method with a 405 in OpenAI\'s error shape', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`)
    expect(res.status).toBe(405)
    expect(res.headers.get('content-type')).toContain('application/json')
    expect(await res.json()).toMatchObject({ error: { code: 'method_not_allowed', type: 'invalid_request_error' } })
  })

  it('reads gzip and brotli bodies, and refuses other encodings and non-JSON types with 415', async () => {
    const json = JSON.stringify(chat())
    expect((await post(null, { 'content-type': 'application/json', 'content-encoding': 'gzip' }, gzipSync(json))).status).toBe(200)
    expect((await post(null, { 'content-type': 'application/json', 'content-encoding': 'br' }, brotliCompressSync(json))).status).toBe(200)
    const zstd = await post(null, { 'content-type': 'application/json', 'content-encoding': 'zstd' }, json)
    expect(zstd.status).toBe(415)
    expect(zstd.body.error).toMatchObject({ code: 'unsupported_content_encoding', param: 'content-encoding' })
    const bad = await post(null, { 'content-type': 'application/json', 'content-encoding': 'gzip' }, 'not gzip at all')
    expect(bad.status).toBe(400)
    expect(bad.body.error.code).toBe('invalid_content_encoding')
    const unlabelled = await post(null, { 'content-type': 'application/json' }, gzipSync(json))
    expect(unlabelled.status).toBe(400)
    expect(unlabelled.body.error.message).not.toMatch(/[\u0000-\u0008\u001f\ufffd]/)
    const text = await post(null, { 'content-type': 'text/plain' }, json)
    expect(text.status).toBe(415)
    expect(text.body.error).toMatchObject({ code: 'unsupported_media_type' })
  })

  it('keeps the body limit on the decompressed size', async () => {
    const small = await startTestGateway('version: 1\nserver: { body_limit: 2kb }\nproviders: { mock: { plugin: mock } }\nroutes: [ { model: mock, targets: [ { provider: mock } ] } ]\n')
    try {
      const big = gzipSync(JSON.stringify(chat({ user: 'x'.repeat(100_000) })))
      expect(big.length).toBeLessThan(2048)
      const res = await fetch(`${small.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: new Uint8Array(big) })
      expect(res.status).toBe(413)
    } finally { await small.close() }
  })

  it('says a route exists but its provider is not configured, naming the variable to set', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 })
    const err = await client.chat.completions.create({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.NotFoundError)
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('provider_not_configured')
    expect((err as Error).message).toMatch(/route 'claude-\*'.*absent \(C17_UNSET_ANTHROPIC_KEY is not set\)/)
    // A process's environment is fixed at its start: a reload (SIGHUP, the file changed) cannot see a variable set since.
    expect((err as Error).message).toContain('restart the gateway')
  })
})
