/**
 * A model name a glob route passes through reaches only the resource it names. Names that would
 * change an upstream URL (dot segments, `?`, `#`, control characters, also percent-encoded) are
 * refused before routing; every provider that puts the model in a URL (Azure's deployment path,
 * Gemini's `models/{model}:generateContent`) escapes it as a path segment; and a key's
 * `allowed_models` or a department's `models` are checked against the exact names the request goes
 * by, never against a glob route's pattern.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startTestGateway, postJson, type RunningGateway } from '../helpers/gateway.ts'
import { sendJson, startUpstream, type MockUpstream } from '../helpers/upstream.ts'
import { completion } from '../routing/helpers.ts'
import { generateResponse, startGeminiUpstream } from '../providers/gemini/gemini-upstream.ts'
import { pathSegment, unsafeModelName } from '../../plugin-api/kit/model-names.ts'

const API_VERSION = '2024-10-21'
const AZURE_KEY = 'azure-secret-key-0000'
const CHEAP_KEY = 'cheap-key-0123456789abcdef'
const SINGLE_KEY = 'single-key-0123456789abcdef'
const OPS_KEY = 'ops-key-0123456789abcdef'
const TINY_KEY = 'tiny-key-0123456789abcdef'

const ask = (model: string) => ({ model, messages: [{ role: 'user', content: 'hi' }] })
const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

describe('model names on Azure OpenAI (openai-compatible with api_version)', () => {
  let upstream: MockUpstream
  let gw: RunningGateway
  const chat = (model: string, key = CHEAP_KEY) => postJson(`${gw.url}/v1/chat/completions`, ask(model), bearer(key))

  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      if (req.path.endsWith('/embeddings')) sendJson(res, 200, { object: 'list', model: 'e', data: [{ object: 'embedding', index: 0, embedding: [0.1] }], usage: { prompt_tokens: 1, total_tokens: 1 } })
      else sendJson(res, 200, completion('from azure', req.body.model))
    })
    gw = await startTestGateway(`version: 1
providers:
  azure: { plugin: openai-compatible, base_url: '${upstream.url}', api_key: ${AZURE_KEY}, api_version: '${API_VERSION}' }
routes:
  - { model: 'az-*', targets: [ { provider: azure } ] }
departments:
  ops: { route_overrides: { fast: az-1 } }
  tiny: { models: [ 'az-?' ] }
auth:
  strategies:
    - plugin: api-key
      keys:
        - { key: "${CHEAP_KEY}", user: cheap, role: user, allowed_models: [ 'az-cheap*' ] }
        - { key: "${SINGLE_KEY}", user: single, role: user, allowed_models: [ 'az-?' ] }
        - { key: "${OPS_KEY}", user: ops, role: user, department: ops, allowed_models: [ az-1 ] }
        - { key: "${TINY_KEY}", user: tiny, role: user, department: tiny }
`)
  })
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })
  beforeEach(() => { upstream.requests.length = 0 })

  it('sends an allowed name to its own deployment, with the api-version query intact', async () => {
    const res = await chat('az-cheap')
    expect(res.status).toBe(200)
    expect(upstream.requests).toHaveLength(1)
    expect(upstream.requests[0].path).toBe('/openai/deployments/az-cheap/chat/completions')
    expect(upstream.requests[0].query.get('api-version')).toBe(API_VERSION)
  })

  it.each([
    ['az-cheap/../gpt-4-32k', 'a `.` or `..` path segment'],
    ['az-x/../../../evil', 'a `.` or `..` path segment'],
    ['az-cheap/%2e%2e/gpt-4-32k', 'a `.` or `..` path segment'],
    ['az-cheap%2F..%2Fgpt-4-32k', 'a `.` or `..` path segment'],
    ['az-cheap\\..\\gpt-4-32k', 'a `.` or `..` path segment'],
    ['az-cheap?api-version=1#', '`?` or `#`'],
    ['az-cheap#frag', '`?` or `#`'],
    ['az-cheap\r\nx-injected: 1', 'control characters'],
    ['az-cheap\u0000', 'control characters'],
  ])('refuses %j with 400 invalid_model before anything is sent', async (model, reason) => {
    const res = await chat(model)
    expect(res.status).toBe(400)
    expect(res.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_model', param: 'model' })
    expect(res.body.error.message).toBe(`This model name cannot be used: it contains ${reason}.`)
    expect(upstream.requests).toHaveLength(0)
  })

  it('escapes what remains as one path segment: the deployment called is the name that was authorized', async () => {
    expect((await chat('az-cheap/sub')).status).toBe(200)
    expect((await chat('az-cheap name')).status).toBe(200)
    expect((await chat('az-cheap%41')).status).toBe(200)
    expect(upstream.requests.map((r) => r.path)).toEqual([
      '/openai/deployments/az-cheap%2Fsub/chat/completions',
      '/openai/deployments/az-cheap%20name/chat/completions',
      '/openai/deployments/az-cheap%2541/chat/completions',
    ])
    for (const req of upstream.requests) {
      expect(req.query.get('api-version')).toBe(API_VERSION)
      expect(req.headers['api-key']).toBe(AZURE_KEY)
    }
  })

  it('escapes the deployment of embeddings the same way', async () => {
    const res = await postJson(`${gw.url}/v1/embeddings`, { model: 'az-cheap/emb', input: 'hello' }, bearer(CHEAP_KEY))
    expect(res.status).toBe(200)
    expect(upstream.requests[0].path).toBe('/openai/deployments/az-cheap%2Femb/embeddings')
  })

  it('refuses a name outside the key\'s allowed_models even though the glob route takes it', async () => {
    const res = await chat('az-gpt-4-32k')
    expect(res.status).toBe(403)
    expect(res.body.error.code).toBe('model_not_allowed')
    expect(upstream.requests).toHaveLength(0)
  })

  it('never matches a scope against the glob route\'s pattern: `az-?` does not admit every name of `az-*`', async () => {
    expect((await chat('az-1', SINGLE_KEY)).status).toBe(200)
    const key = await chat('az-gpt-4-32k', SINGLE_KEY)
    expect(key.status).toBe(403)
    expect(key.body.error.message).toContain('This API key may not use')
    expect((await chat('az-2', TINY_KEY)).status).toBe(200)
    const department = await chat('az-gpt-4-32k', TINY_KEY)
    expect(department.status).toBe(403)
    expect(department.body.error.message).toContain('Your department (tiny) may not use')
    expect(upstream.requests.map((r) => r.path)).toEqual(['/openai/deployments/az-1/chat/completions', '/openai/deployments/az-2/chat/completions'])
  })

  it('checks a key against the name its department routes the request as', async () => {
    const res = await chat('fast', OPS_KEY)
    expect(res.status).toBe(200)
    expect(upstream.requests[0].path).toBe('/openai/deployments/az-1/chat/completions')
  })
})

describe('model names on Gemini (models/{model}:generateContent)', () => {
  let upstream: Awaited<ReturnType<typeof startGeminiUpstream>>
  let gw: RunningGateway
  beforeAll(async () => {
    upstream = await startGeminiUpstream()
    // Any path answers: the test reads which path was asked for.
    upstream.handle((req, res) => sendJson(res, 200, req.path.endsWith(':batchEmbedContents') ? { embeddings: [{ values: [0.1, 0.2] }] } : generateResponse([{ text: 'from gemini' }])))
    gw = await startTestGateway(`version: 1
providers:
  gemini: { plugin: gemini, api_key: k, base_url: '${upstream.url}', timeout_ms: 5000 }
routes:
  - { model: 'gemini-*', targets: [ { provider: gemini } ] }
`)
  })
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })
  beforeEach(() => { upstream.requests.length = 0 })

  it('escapes each segment, so a name cannot call another method or resource', async () => {
    expect((await postJson(`${gw.url}/v1/chat/completions`, ask('gemini-2.5-flash'))).status).toBe(200)
    expect((await postJson(`${gw.url}/v1/chat/completions`, ask('gemini-x:countTokens'))).status).toBe(200)
    expect((await postJson(`${gw.url}/v1/chat/completions`, ask('gemini-x y'))).status).toBe(200)
    expect(upstream.requests.map((r) => r.path)).toEqual([
      '/v1beta/models/gemini-2.5-flash:generateContent',
      '/v1beta/models/gemini-x%3AcountTokens:generateContent',
      '/v1beta/models/gemini-x%20y:generateContent',
    ])
  })

  it('refuses dot segments, also percent-encoded, before the SDK sees them', async () => {
    for (const model of ['gemini-x/../../files', 'gemini-x/%2E%2E/files', 'gemini-x?alt=media']) {
      const res = await postJson(`${gw.url}/v1/chat/completions`, ask(model))
      expect(res.status).toBe(400)
      expect(res.body.error.code).toBe('invalid_model')
    }
    expect(upstream.requests).toHaveLength(0)
  })

  it('escapes the model of embeddings the same way', async () => {
    const res = await postJson(`${gw.url}/v1/embeddings`, { model: 'gemini-x:embed', input: 'hello' })
    expect(res.status).toBe(200)
    expect(upstream.requests[0].path).toBe('/v1beta/models/gemini-x%3Aembed:batchEmbedContents')
  })
})

describe('the name rules', () => {
  it('accept the names providers use, slashes and colons included', () => {
    for (const name of ['gpt-4o-mini', 'meta-llama/Llama-3.1-8B-Instruct', 'llama3.2:3b', 'claude-3-5-haiku@20241022', 'models/gemini-2.5-flash', 'a..b', '.hidden-ish']) {
      expect(unsafeModelName(name)).toBeUndefined()
    }
  })

  it('refuse a name longer than any model name, which would otherwise fill the glob match cache', () => {
    expect(unsafeModelName('a'.repeat(257))).toContain('longer than 256')
  })

  it('escape every character a path gives meaning to', () => {
    expect(pathSegment('a/b?c#d%e f')).toBe('a%2Fb%3Fc%23d%25e%20f')
  })
})
