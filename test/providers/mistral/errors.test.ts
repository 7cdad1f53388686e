import { expect, it } from 'vitest'
import OpenAI from 'openai'
import { postJson } from '../../helpers/gateway.ts'
import { credentialsRefused, sendJson } from '../../helpers/upstream.ts'
import { CHAT, describeUpstreamErrors, type ProviderWire } from '../upstream-errors.ts'
import { API_KEY, CHAT_PATH, EMBEDDINGS_PATH, completion, gatewayConfig, mistralError, sendMistralStream, startMistralUpstream, streamChunk } from './mistral-upstream.ts'

/** Bodies in the shapes Mistral answers with. */
const MISTRAL: ProviderWire = {
  name: 'mistral',
  apiKey: API_KEY,
  start: () => startMistralUpstream(),
  config: gatewayConfig,
  chatPath: CHAT_PATH,
  streamPath: CHAT_PATH,
  answer: (content) => completion({ content }),
  stream: (res, texts, delayMs) => sendMistralStream(res, texts.map((content, i) =>
    streamChunk({ ...(i === 0 ? { role: 'assistant' } : {}), content }, i === texts.length - 1 ? { finishReason: 'stop' } : {})), { delayMs }),
  refusals: [
    { label: 'Mistral 401', upstream: 401, body: { detail: 'Unauthorized' }, message: 'Unauthorized' },
    { label: 'Mistral 403', upstream: 403, body: { message: 'Forbidden: your workspace cannot use this model', request_id: 'req-1' }, message: 'Forbidden: your workspace cannot use this model' },
  ],
  failures: [
    { label: 'Mistral 400', upstream: 400, body: mistralError('Tool call id was call_1 but must be a-z, A-Z, 0-9, with a length of 9.', 'invalid_request_message_order', '3230'), message: 'Tool call id was call_1 but must be a-z, A-Z, 0-9, with a length of 9.', expected: 400, type: 'invalid_request_error', code: 'upstream_bad_request' },
    { label: 'Mistral 404', upstream: 404, body: mistralError('Invalid model: mistral-unknown', 'invalid_model', '1500'), message: 'Invalid model: mistral-unknown', expected: 404, type: 'not_found_error', code: 'upstream_not_found' },
    { label: 'Mistral 500', upstream: 500, body: mistralError('Internal server error', 'internal_server_error'), message: 'Internal server error', expected: 502, type: 'upstream_error', code: 'upstream_error' },
    { label: 'Mistral 503', upstream: 503, body: mistralError('Service unavailable.', 'service_unavailable'), message: 'Service unavailable.', expected: 503, type: 'service_unavailable', code: 'upstream_error' },
  ],
}

describeUpstreamErrors(MISTRAL, (f) => {
  it('a 422 validation error names the field at fault as param', async () => {
    f.upstream.route(CHAT_PATH, (_req, res) => sendJson(res, 422, mistralError(
      { detail: [{ type: 'less_than_equal', loc: ['body', 'temperature'], msg: 'Input should be less than or equal to 1.5', input: 1.9 }] },
      'invalid_request_error',
    )))
    const res = await postJson(`${f.gw.url}/v1/chat/completions`, { ...CHAT, temperature: 1.9 })
    expect(res.status).toBe(422)
    expect(res.body.error).toMatchObject({ message: 'mistral: temperature: Input should be less than or equal to 1.5', param: 'temperature', type: 'invalid_request_error' })
  })

  it('a 429 keeps retry-after', async () => {
    f.upstream.route(CHAT_PATH, (_req, res) => sendJson(res, 429, mistralError('Rate limit exceeded', 'rate_limited', '1300'), { 'retry-after': '7' }))
    const err = await f.client.chat.completions.create(CHAT).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.RateLimitError)
    const rateLimited = err as InstanceType<typeof OpenAI.RateLimitError>
    expect(rateLimited.headers.get('retry-after')).toBe('7')
    expect(rateLimited.error).toMatchObject({ type: 'rate_limit_error', code: 'upstream_rate_limited', message: 'mistral: Rate limit exceeded' })
  })

  it('embeddings errors are mapped the same way', async () => {
    f.upstream.route(EMBEDDINGS_PATH, (_req, res) => sendJson(res, 401, { detail: 'Unauthorized' }))
    const res = await postJson(`${f.gw.url}/v1/embeddings`, { model: 'embed', input: 'x' })
    expect(res.status).toBe(502)
    expect(res.body.error.message).toBe(credentialsRefused('mistral', 401, 'Unauthorized'))
  })

  it('a stream that fails before its first chunk answers with the error status', async () => {
    f.upstream.route(CHAT_PATH, (_req, res) => sendJson(res, 503, mistralError('Service unavailable.', 'service_unavailable')))
    const res = await postJson(`${f.gw.url}/v1/chat/completions`, { ...CHAT, stream: true })
    expect(res.status).toBe(503)
    expect(res.body.error.message).toBe('mistral: Service unavailable.')
  })

  it('an answer the SDK cannot read is a 502, not a crash', async () => {
    f.upstream.route(CHAT_PATH, (_req, res) => sendJson(res, 200, { unexpected: true }))
    const res = await postJson(`${f.gw.url}/v1/chat/completions`, CHAT)
    expect(res.status).toBe(502)
    expect(res.body.error.message).toMatch(/^mistral: unreadable answer/)
  })
})
