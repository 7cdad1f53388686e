/**
 * Errors as the official openai Node SDK raises them: each failure is the SDK's typed error
 * (BadRequestError, AuthenticationError, PermissionDeniedError, NotFoundError, RateLimitError)
 * with the `code` and `param` OpenAI's clients switch on, the request id, and a `retry-after`
 * the SDK's own retry honours.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { startTestGateway, type RunningGateway } from '../../helpers/gateway.ts'
import { sendJson, startUpstream, type MockUpstream } from '../../helpers/upstream.ts'
import { expectOpenAISchema } from '../../helpers/openai-schema.ts'

const ALICE = 'sk-alice-0123456789abcdef'
const VIEWER = 'sk-viewer-0123456789abcdef'

/** What the upstream answers next: OpenAI's error bodies as its API sends them, or a completion. */
let next: Array<{ status: number; body: unknown; headers?: Record<string, string>; html?: string }> = []
const completion = { id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'gpt-4o', choices: [{ index: 0, message: { role: 'assistant', content: 'ok', refusal: null }, finish_reason: 'stop', logprobs: null }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }
const openAIError = (message: string, type: string, code: string | null, param: string | null = null) => ({ error: { message, type, code, param } })

let gw: RunningGateway
let up: MockUpstream

beforeAll(async () => {
  up = await startUpstream((_req, res) => {
    const answer = next.shift() ?? { status: 200, body: completion }
    if (answer.html !== undefined) res.writeHead(answer.status, { 'content-type': 'text/html' }).end(answer.html)
    else sendJson(res, answer.status, answer.body, answer.headers)
  })
  gw = await startTestGateway(`version: 1
providers:
  oa: { plugin: openai, api_key: sk-upstream-key, base_url: "${up.url}/v1" }
  local: { plugin: openai-compatible, base_url: "${up.url}/v1" }
routes:
  - { model: gpt, targets: [ { provider: oa, model: gpt-4o } ] }
  - { model: local, targets: [ { provider: local, model: llama } ] }
auth:
  strategies:
    - plugin: api-key
      keys:
        - { key: ${ALICE}, user: alice, role: admin }
        - { key: ${VIEWER}, user: victor, role: viewer }
roles:
  viewer: { permissions: [view_analytics], scope: own_data }
`)
})
afterAll(async () => {
  await gw?.close()
  await up?.close()
})
beforeEach(() => { next = [] })

const sdk = (apiKey = ALICE, maxRetries = 0) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries })
const hello = (model: string) => ({ model, messages: [{ role: 'user' as const, content: 'hello' }] })
async function caught(call: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const err = await call.then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(OpenAI.APIError)
  return err as InstanceType<typeof OpenAI.APIError>
}

describe('errors raised by the openai SDK', () => {
  it('a wrong field is a BadRequestError naming it in param, with a code, in OpenAI\'s error schema', async () => {
    const err = await caught(sdk().chat.completions.create({ ...hello('gpt'), temperature: 3 }))
    expect(err).toBeInstanceOf(OpenAI.BadRequestError)
    expect(err).toMatchObject({ status: 400, param: 'temperature', code: 'invalid_value', type: 'invalid_request_error' })
    expect(err.requestID).toMatch(/.+/)
    expectOpenAISchema('ErrorResponse', { error: err.error })
    expect(up.requests).toHaveLength(0)
  })

  it('max_tokens of 1e400 (Infinity once parsed) is a 400 naming it, never sent upstream without a cap', async () => {
    const before = up.requests.length
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${ALICE}`, 'content-type': 'application/json' },
      body: '{"model":"gpt","messages":[{"role":"user","content":"hello"}],"max_tokens":1e400}',
    })
    expect(res.status).toBe(400)
    expect((await res.json()).error).toMatchObject({ param: 'max_tokens', type: 'invalid_request_error' })
    expect(up.requests).toHaveLength(before)
  })

  it.each(['gpt', 'local'])('%s: an upstream\'s HTML error page (a proxy\'s, a traceback) is said in words, never quoted', async (model) => {
    const page = '<html><body><h1>Internal Server Error</h1><pre>Traceback (most recent call last):\n  File "app.py", line 12</pre></body></html>'
    next = [{ status: 500, body: null, html: page }]
    const err = await caught(sdk().chat.completions.create(hello(model)))
    expect(err).toMatchObject({ status: 502, code: 'upstream_error' })
    expect(err.message).toMatch(/answered with a web page \("Internal Server Error"\), not an API error/)
    expect(err.message).not.toMatch(/Traceback|<html|<h1>/)
  })

  it('a wrong key is an AuthenticationError; a role without chat a PermissionDeniedError', async () => {
    expect(await caught(sdk('sk-wrong-0123456789abcdef').chat.completions.create(hello('gpt')))).toBeInstanceOf(OpenAI.AuthenticationError)
    const denied = await caught(sdk(VIEWER).chat.completions.create(hello('gpt')))
    expect(denied).toBeInstanceOf(OpenAI.PermissionDeniedError)
    expect(denied.status).toBe(403)
  })

  it('an unknown model is a NotFoundError with code model_not_found, for chat, embeddings and models.retrieve', async () => {
    // One call at a time: a rejection nobody awaits yet is an unhandled one.
    for (const call of [() => sdk().chat.completions.create(hello('gpt-9')), () => sdk().embeddings.create({ model: 'gpt-9', input: 'x' }), () => sdk().models.retrieve('gpt-9')]) {
      const err = await caught(call())
      expect(err).toBeInstanceOf(OpenAI.NotFoundError)
      expect(err).toMatchObject({ code: 'model_not_found', param: 'model' })
    }
  })

  it.each(['gpt', 'local'])('%s: an upstream 400 keeps OpenAI\'s code and param (context_length_exceeded)', async (model) => {
    next = [{ status: 400, body: openAIError('This model\'s maximum context length is 128000 tokens.', 'invalid_request_error', 'context_length_exceeded', 'messages') }]
    const err = await caught(sdk().chat.completions.create(hello(model)))
    expect(err).toBeInstanceOf(OpenAI.BadRequestError)
    expect(err).toMatchObject({ code: 'context_length_exceeded', param: 'messages' })
    expect(err.message).toContain('maximum context length')
  })

  it.each(['gpt', 'local'])('%s: an upstream 429 insufficient_quota stays insufficient_quota, told apart from a rate limit', async (model) => {
    next = [{ status: 429, body: openAIError('You exceeded your current quota.', 'insufficient_quota', 'insufficient_quota') }]
    const err = await caught(sdk().chat.completions.create(hello(model)))
    expect(err).toBeInstanceOf(OpenAI.RateLimitError)
    expect(err.code).toBe('insufficient_quota')
  })

  it('the gateway\'s own credentials refused upstream (401) is not the client\'s invalid_api_key, and the SDK does not retry it', async () => {
    next = [0, 1, 2].map(() => ({ status: 401, body: openAIError('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key') }))
    const before = up.requests.length
    const err = await caught(sdk(ALICE, 2).chat.completions.create(hello('gpt')))
    expect(err.status).toBe(502)
    expect(err.code).toBe('upstream_auth_failed')
    expect(err.headers?.get('x-should-retry')).toBe('false')
    expect(up.requests.length - before).toBe(1)
  })

  it('an upstream 429 keeps retry-after, and the SDK\'s retry waits for it and then succeeds', async () => {
    next = [{ status: 429, body: openAIError('Rate limit reached for gpt-4o.', 'requests', 'rate_limit_exceeded'), headers: { 'retry-after': '1' } }]
    const before = up.requests.length
    const started = performance.now()
    const { data, response } = await sdk(ALICE, 1).chat.completions.create(hello('gpt')).withResponse()
    expect(data.choices[0].message.content).toBe('ok')
    expect(performance.now() - started).toBeGreaterThanOrEqual(950)
    expect(up.requests.length - before).toBe(2)
    expect(response.headers.get('x-request-id')).toMatch(/.+/)
  })

  it('without a retry, the RateLimitError carries the code and the retry-after header', async () => {
    next = [{ status: 429, body: openAIError('Rate limit reached for gpt-4o.', 'requests', 'rate_limit_exceeded'), headers: { 'retry-after': '7' } }]
    const err = await caught(sdk().chat.completions.create(hello('gpt')))
    expect(err).toBeInstanceOf(OpenAI.RateLimitError)
    expect(err.code).toBe('rate_limit_exceeded')
    expect(err.headers?.get('retry-after')).toBe('7')
  })

  it('x-request-id is the SDK\'s request id, via .withResponse() and on every answer', async () => {
    const { data, response, request_id } = await sdk().chat.completions.create(hello('gpt')).withResponse()
    expect(request_id).toBe(response.headers.get('x-request-id'))
    expect((data as unknown as { _request_id?: string })._request_id).toBe(request_id)
    const custom = await sdk().chat.completions.create(hello('gpt'), { headers: { 'x-request-id': 'req-mine-42' } }).withResponse()
    expect(custom.request_id).toBe('req-mine-42')
  })
})
