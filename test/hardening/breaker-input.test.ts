/**
 * Bad input is the caller's 400, never an upstream failure: it is not retried, it does not count
 * toward a circuit breaker (five of them used to open the route for every caller for 30 s), and
 * the engine's own message ("Maximum call stack size exceeded") never reaches the client.
 */
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { createOpenAIWireProvider } from '../../plugins/providers/kit/openai-wire.ts'
import { MAX_JSON_DEPTH, jsonDepthExceeds } from '../../plugin-api/kit/json-depth.ts'
import { GatewayError } from '../../plugin-api/errors.ts'
import { postJson, startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { sendJson, startUpstream, type MockUpstream } from '../helpers/upstream.ts'
import { completion } from '../routing/helpers.ts'
import { generatePath, generateResponse, startGeminiUpstream } from '../providers/gemini/gemini-upstream.ts'

const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`
const ask = (model: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content: 'hi' }], ...extra })
/** A JSON body whose tool schema nests `depth` levels deep, written as text (JSON.stringify could not). */
const deepBody = (model: string, depth: number): string =>
  JSON.stringify(ask(model, { tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }] }))
    .replace('"properties":{}', `"properties":{"x":{"enum":${nested(depth)}}}`)

/** The five requests that used to open the breaker, and one more. */
const ENOUGH_TO_OPEN = 6

describe('a body nested deeper than the limit', () => {
  let upstream: MockUpstream
  let gw: RunningGateway
  beforeAll(async () => {
    upstream = await startUpstream((req, res) => sendJson(res, 200, completion('fine', req.body.model)))
    gw = await startTestGateway(`version: 1
providers:
  local: { plugin: openai-compatible, base_url: '${upstream.url}/v1' }
routes:
  - { model: local, targets: [ { provider: local, model: up } ], circuit: { failures: 5, window_s: 30, cooldown_s: 30 } }
`)
  })
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })

  it('is refused at decode with 400 invalid_json naming the limit, and never opens the breaker', async () => {
    for (let i = 0; i < ENOUGH_TO_OPEN; i++) {
      const res = await postJson(`${gw.url}/v1/chat/completions`, deepBody('local', 6000))
      expect(res.status).toBe(400)
      expect(res.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_json' })
      expect(res.body.error.message).toContain(`${MAX_JSON_DEPTH} levels`)
      expect(res.body.error.message).not.toMatch(/call stack/i)
    }
    expect(upstream.requests).toHaveLength(0)
    const ok = await postJson(`${gw.url}/v1/chat/completions`, ask('local'))
    expect(ok.status).toBe(200)
    expect(ok.body.choices[0].message.content).toBe('fine')
  })

  it('passes a body at the limit and refuses one a level past it', async () => {
    // Seven levels (body, tools, tool, function, parameters, properties, x) hold the enum.
    const around = 7
    const sent = upstream.requests.length
    const atLimit = await postJson(`${gw.url}/v1/chat/completions`, deepBody('local', MAX_JSON_DEPTH - around))
    expect(atLimit.status).toBe(200)
    expect(atLimit.body.choices[0].message.content).toBe('fine')
    const past = await postJson(`${gw.url}/v1/chat/completions`, deepBody('local', MAX_JSON_DEPTH - around + 1))
    expect(past.status).toBe(400)
    expect(past.body.error).toMatchObject({ code: 'invalid_json', message: expect.stringContaining(`${MAX_JSON_DEPTH} levels`) })
    // Only the one at the limit went upstream.
    expect(upstream.requests.length - sent).toBe(1)
  })

  it('counts only structure: brackets inside strings and escaped quotes are text', () => {
    expect(jsonDepthExceeds(JSON.stringify({ a: '[[[[[[[[{{{{{{{{"\\"[[[[' }), 2)).toBe(false)
    expect(jsonDepthExceeds('{"a":{"b":{}}}', 2)).toBe(true)
    expect(jsonDepthExceeds('{"a":{"b":1},"c":{"d":2}}', 2)).toBe(false)
    expect(jsonDepthExceeds(nested(1_000_000))).toBe(true)
  })
})

describe('a request a provider refuses before sending', () => {
  let upstream: Awaited<ReturnType<typeof startGeminiUpstream>>
  let gw: RunningGateway
  beforeAll(async () => {
    upstream = await startGeminiUpstream({ [generatePath('gemini-2.5-flash')]: (_req, res) => sendJson(res, 200, generateResponse([{ text: 'fine' }])) })
    gw = await startTestGateway(`version: 1
providers:
  gemini: { plugin: gemini, api_key: k, base_url: '${upstream.url}', timeout_ms: 5000 }
routes:
  - { model: 'gemini-*', targets: [ { provider: gemini } ], circuit: { failures: 5, window_s: 30, cooldown_s: 30 } }
`)
  })
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })

  it('is a 400 request_not_sent with the provider\'s reason, and the route stays open for every other name', async () => {
    // The Gemini provider refuses any model name with `..` in it, as Google's SDK does; nothing is sent.
    for (let i = 0; i < ENOUGH_TO_OPEN; i++) {
      const res = await postJson(`${gw.url}/v1/chat/completions`, ask('gemini-1..5'))
      expect(res.status).toBe(400)
      expect(res.body.error).toMatchObject({ type: 'invalid_request_error', code: 'request_not_sent' })
      expect(res.body.error.message).toBe('gemini could not send this request: invalid model parameter.')
    }
    expect(upstream.requests).toHaveLength(0)
    const ok = await postJson(`${gw.url}/v1/chat/completions`, ask('gemini-2.5-flash'))
    expect(ok.status).toBe(200)
    expect(ok.body.choices[0].message.content).toBe('fine')
  })

  it('refuses a name with a dot segment before any provider sees it, without touching the breaker', async () => {
    for (let i = 0; i < ENOUGH_TO_OPEN; i++) {
      const res = await postJson(`${gw.url}/v1/chat/completions`, ask('gemini-x/../y'))
      expect(res.status).toBe(400)
      expect(res.body.error).toMatchObject({ code: 'invalid_model', param: 'model' })
    }
    expect((await postJson(`${gw.url}/v1/chat/completions`, ask('gemini-2.5-flash'))).status).toBe(200)
  })

  it('refuses tool-call arguments nested past the limit (the SDK would overflow serialising them)', async () => {
    const args = nested(6000)
    const res = await postJson(`${gw.url}/v1/chat/completions`, {
      model: 'gemini-2.5-flash',
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: `{"a":${args}}` } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'done' },
      ],
    })
    expect(res.status).toBe(400)
    expect(res.body.error).toMatchObject({ code: 'invalid_tool_arguments', param: 'messages[1].tool_calls[0].function.arguments' })
    expect(res.body.error.message).not.toMatch(/call stack/i)
  })
})

describe('a request that cannot be serialised', () => {
  it('is a 400 request_not_sent from an OpenAI-wire provider, not retryable, without the engine\'s message', async () => {
    // What the SDK does with a body: JSON.stringify it, here one too deep for the stack.
    let deep: unknown = []
    for (let i = 0; i < 100_000; i++) deep = [deep]
    const provider = createOpenAIWireProvider(
      { chat: async (body) => { JSON.stringify({ ...body, deep }); throw new Error('unreachable') } },
      { provider: 'up', errors: OpenAI, modelOwner: 'up' },
    )
    const call = { signal: new AbortController().signal, requestId: 'r', unsupported: () => undefined }
    const err = await provider.chat(ask('m') as never, call).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(GatewayError)
    expect(err).toMatchObject({ status: 400, code: 'request_not_sent', retryable: false })
    expect((err as Error).message).toBe('up could not send this request: it is nested too deeply or too large to serialise.')
  })

  it('from a third-party provider that overflows building its request: a 400, and the breaker stays closed', async () => {
    const gw = await startTestGateway(`version: 1
plugins: [ ${path.resolve('test/fixtures/plugins/deep-serialiser')} ]
providers:
  deep: { plugin: deep-serialiser }
routes:
  - { model: deep, targets: [ { provider: deep } ], circuit: { failures: 5, window_s: 30, cooldown_s: 30 } }
`)
    try {
      for (let i = 0; i < ENOUGH_TO_OPEN; i++) {
        const res = await postJson(`${gw.url}/v1/chat/completions`, ask('deep', { metadata: { nest: '100000' } }))
        expect(res.status).toBe(400)
        expect(res.body.error).toMatchObject({ code: 'request_not_sent' })
        expect(res.body.error.message).toBe('deep could not send this request: it is nested too deeply or too large to serialise.')
      }
      const ok = await postJson(`${gw.url}/v1/chat/completions`, ask('deep'))
      expect(ok.status).toBe(200)
    } finally {
      await gw.close()
    }
  })
})
