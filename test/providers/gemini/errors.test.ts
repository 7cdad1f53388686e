import { expect, it } from 'vitest'
import OpenAI from 'openai'
import { postJson } from '../../helpers/gateway.ts'
import { credentialsRefused, sendJson } from '../../helpers/upstream.ts'
import { CHAT, describeUpstreamErrors, type ProviderWire } from '../upstream-errors.ts'
import { API_KEY, gatewayConfig, generatePath, generateResponse, googleError, sendGeminiStream, startGeminiUpstream, streamPath } from './gemini-upstream.ts'

/** Google's bodies, with the status names the API writes in `error.status` for each HTTP code. */
const failure = (upstream: number, status: string, message: string) => ({ label: `Gemini ${upstream} (${status})`, upstream, body: googleError(upstream, status, message), message })

const GEMINI: ProviderWire = {
  name: 'gemini',
  apiKey: API_KEY,
  start: () => startGeminiUpstream(),
  config: gatewayConfig,
  chatPath: generatePath(),
  streamPath: streamPath(),
  answer: (text) => generateResponse([{ text }]),
  stream: (res, texts, delayMs) => sendGeminiStream(res, texts.map((text, i) => ({
    candidates: [{ content: { role: 'model', parts: [{ text }] }, index: 0, ...(i === texts.length - 1 ? { finishReason: 'STOP' } : {}) }],
  })), { delayMs }),
  refusals: [
    failure(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.'),
    failure(403, 'PERMISSION_DENIED', 'Method doesn\'t allow unregistered callers.'),
  ],
  failures: [
    { ...failure(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received. Unknown name "foo".'), expected: 400, type: 'invalid_request_error', code: 'upstream_bad_request' },
    { ...failure(404, 'NOT_FOUND', 'models/gemini-9 is not found for API version v1beta.'), expected: 404, type: 'not_found_error', code: 'upstream_not_found' },
    { ...failure(500, 'INTERNAL', 'An internal error has occurred.'), expected: 502, type: 'upstream_error', code: 'upstream_error' },
    { ...failure(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.'), expected: 503, type: 'service_unavailable', code: 'upstream_error' },
  ],
}

describeUpstreamErrors(GEMINI, (f) => {
  it('a 429 keeps the retry delay Google sends in RetryInfo as retry-after', async () => {
    f.upstream.route(generatePath(), (_req, res) => sendJson(res, 429, googleError(429, 'RESOURCE_EXHAUSTED', 'You exceeded your current quota.', [
      { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests' }] },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '16.5s' },
    ])))
    const err = await f.client.chat.completions.create(CHAT).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.RateLimitError)
    const rateLimited = err as InstanceType<typeof OpenAI.RateLimitError>
    expect(rateLimited.headers.get('retry-after')).toBe('17')
    expect(rateLimited.error).toMatchObject({ type: 'rate_limit_error', code: 'upstream_rate_limited', message: 'gemini: You exceeded your current quota.' })
  })

  it('a 200 that is not a JSON answer (a proxy\'s login page) is the upstream\'s 502, not an empty completion', async () => {
    f.upstream.route(generatePath(), (_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Sign in</body></html>') })
    const res = await postJson(`${f.gw.url}/v1/chat/completions`, CHAT)
    expect(res.status).toBe(502)
    expect(res.body.error).toMatchObject({ type: 'upstream_error' })
    expect(res.body.error.message).toContain('Sign in')
  })

  it('a stream that fails before its first event answers with the error status, not a 200 stream', async () => {
    f.upstream.route(streamPath(), (_req, res) => sendJson(res, 401, googleError(401, 'UNAUTHENTICATED', 'API key not valid. Please pass a valid API key.')))
    const res = await postJson(`${f.gw.url}/v1/chat/completions`, { ...CHAT, stream: true })
    expect(res.status).toBe(502)
    expect(res.body.error.message).toBe(credentialsRefused('gemini', 401, 'API key not valid. Please pass a valid API key.'))
  })
})
