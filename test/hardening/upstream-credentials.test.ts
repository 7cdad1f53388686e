/**
 * The gateway's provider credentials stay the gateway's business: an upstream that refuses them
 * (401/403) is reported as a 502 `upstream_auth_failed` that says so, not as the client's own 401
 * (which would send a client looking for a fault in its key); and an upstream message that echoes
 * the key, whole or masked (`sk-UPS****7890`), reaches no client, whatever the provider plugin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { sendJson, startUpstream, type MockUpstream } from '../helpers/upstream.ts'

const OPENAI_KEY = 'sk-UPSTREAM-0123456789abcdef-7890'
const ANTHROPIC_KEY = 'sk-ant-UPSTREAM-fedcba9876543210-4321'
const masked = (key: string): string => `${key.slice(0, 6)}${'*'.repeat(20)}${key.slice(-4)}`

const openAIError = (message: string, type = 'invalid_request_error', code: string | null = 'invalid_api_key') => ({ error: { message, type, param: null, code } })
const anthropicError = (message: string, type = 'invalid_request_error') => ({ type: 'error', error: { type, message } })

describe('upstream credentials', () => {
  let openaiUp: MockUpstream
  let anthropicUp: MockUpstream
  let gw: RunningGateway
  let client: OpenAI
  beforeAll(async () => {
    openaiUp = await startUpstream()
    anthropicUp = await startUpstream()
    gw = await startTestGateway(`version: 1
providers:
  openai: { plugin: openai, api_key: "${OPENAI_KEY}", base_url: "${openaiUp.url}/v1" }
  claude: { plugin: anthropic, api_key: "${ANTHROPIC_KEY}", base_url: "${anthropicUp.url}" }
routes:
  - model: gpt
    targets: [ { provider: openai, model: gpt-4o-mini } ]
  - model: claude
    targets: [ { provider: claude, model: claude-haiku-4-5 } ]
`)
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'client-key', maxRetries: 0 })
  })
  afterAll(async () => {
    await gw?.close()
    await openaiUp?.close()
    await anthropicUp?.close()
  })

  /** A request that must fail: the SDK's error. */
  const ask = (model: string, extra: Record<string, unknown> = {}): Promise<InstanceType<typeof OpenAI.APIError>> =>
    client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], ...extra } as never).then(
      () => { throw new Error('expected an error') },
      (e: unknown) => e as InstanceType<typeof OpenAI.APIError>,
    )

  it('reports an upstream 401 as a 502 upstream_auth_failed about the gateway\'s credentials, the masked key redacted', async () => {
    openaiUp.handle((_req, res) => sendJson(res, 401, openAIError(`Incorrect API key provided: ${masked(OPENAI_KEY)}. You can find your API key at https://platform.openai.com/account/api-keys.`)))
    const err = await ask('gpt')
    expect(err).toBeInstanceOf(OpenAI.APIError)
    expect(err).not.toBeInstanceOf(OpenAI.AuthenticationError)
    expect(err.status).toBe(502)
    expect(err.error).toMatchObject({ type: 'upstream_error', code: 'upstream_auth_failed' })
    const message = (err.error as { message: string }).message
    expect(message).toMatch(/refused the gateway's credentials \(upstream 401/)
    expect(message).toMatch(/not the key you sent/)
    expect(message).not.toContain(masked(OPENAI_KEY))
    expect(message).not.toContain('7890')
    expect(message).toContain('[redacted]')
  })

  it('reports an upstream 403 the same way', async () => {
    openaiUp.handle((_req, res) => sendJson(res, 403, openAIError('Project does not have access to model gpt-4o-mini', 'invalid_request_error', 'model_not_found')))
    const err = await ask('gpt')
    expect(err.status).toBe(502)
    expect(err.error).toMatchObject({ code: 'upstream_auth_failed' })
    expect((err.error as { message: string }).message).toMatch(/upstream 403: Project does not have access/)
  })

  it('reports a refused stream the same way, before any byte', async () => {
    openaiUp.handle((_req, res) => sendJson(res, 401, openAIError(`Incorrect API key provided: ${masked(OPENAI_KEY)}.`)))
    const err = await ask('gpt', { stream: true })
    expect(err.status).toBe(502)
    expect(err.error).toMatchObject({ code: 'upstream_auth_failed' })
    expect(JSON.stringify(err.error)).not.toContain('7890')
  })

  it('redacts the key, whole or masked, from any upstream message of a provider that does not redact itself', async () => {
    anthropicUp.handle((_req, res) => sendJson(res, 400, anthropicError(`bad request for key ${masked(ANTHROPIC_KEY)} (full: ${ANTHROPIC_KEY})`)))
    const err = await ask('claude')
    expect(err.status).toBe(400)
    const message = (err.error as { message: string }).message
    expect(message).not.toContain(ANTHROPIC_KEY)
    expect(message).not.toContain(masked(ANTHROPIC_KEY))
    expect(message).not.toContain('4321')
    expect(message).toBe('claude: bad request for key [redacted] (full: [redacted])')
  })

  it('reports an Anthropic authentication_error as upstream_auth_failed, redacted', async () => {
    anthropicUp.handle((_req, res) => sendJson(res, 401, anthropicError(`invalid x-api-key ${masked(ANTHROPIC_KEY)}`, 'authentication_error')))
    const err = await ask('claude')
    expect(err.status).toBe(502)
    expect(err.error).toMatchObject({ code: 'upstream_auth_failed' })
    expect((err.error as { message: string }).message).toMatch(/^claude: the provider refused the gateway's credentials \(upstream 401: invalid x-api-key \[redacted\]\)/)
  })

  it('leaves ordinary messages alone', async () => {
    openaiUp.handle((_req, res) => sendJson(res, 400, openAIError('Invalid value for temperature... expected <= 2 (got ***)', 'invalid_request_error', null)))
    const err = await ask('gpt')
    expect(err.status).toBe(400)
    expect((err.error as { message: string }).message).toBe('openai: Invalid value for temperature... expected <= 2 (got ***)')
  })
})
