/**
 * What an Anthropic SDK call gets besides a message: Anthropic's error envelope with `request-id`
 * (where the SDK reads `requestID` from) on models and on the paths under /v1/messages the gateway
 * does not serve (message batches without service.batches), message ids of Anthropic's form, and model dates that are not 1970.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Anthropic from '@anthropic-ai/sdk'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { sendJson, startUpstream, type MockUpstream } from '../helpers/upstream.ts'
import { upstreamProviders } from './helpers.ts'

describe('Anthropic\'s error envelope and request-id on every Anthropic SDK call', () => {
  let openai: MockUpstream
  let gateway: RunningGateway
  let client: Anthropic
  beforeAll(async () => {
    openai = await startUpstream((req, res) => sendJson(res, 200, {
      id: 'chatcmpl-valid-1', object: 'chat.completion', created: 1_700_000_000, model: req.body.model,
      choices: [{ index: 0, finish_reason: 'stop', logprobs: null, message: { role: 'assistant', content: 'ok', refusal: null } }],
      usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
    }))
    gateway = await startTestGateway(`
version: 1
providers:
  mock: { plugin: mock }
${upstreamProviders({ openai: openai.url })}
routes:
  - model: mock
    targets: [ { provider: mock } ]
  - model: gpt
    targets: [ { provider: gpt, model: gpt-4o-mini } ]
`)
    client = new Anthropic({ baseURL: gateway.url, apiKey: 'anything', maxRetries: 0 })
  })
  afterAll(async () => {
    await gateway.close()
    await openai.close()
  })

  it('answers models.retrieve of an unknown model with not_found_error in Anthropic\'s envelope and a requestID', async () => {
    const err = await client.models.retrieve('nope').catch((e) => e)
    expect(err).toBeInstanceOf(Anthropic.NotFoundError)
    expect(err.error).toEqual({ type: 'error', error: { type: 'not_found_error', message: "The model 'nope' does not exist or you do not have access to it." }, request_id: err.requestID })
    expect(err.requestID).toBeTruthy()
  })

  it('sets request-id on models answers too, and keeps OpenAI\'s shape for a client without anthropic-version', async () => {
    const { response } = await client.models.retrieve('mock').withResponse()
    expect(response.headers.get('request-id')).toBe(response.headers.get('x-request-id'))
    const openai = await fetch(`${gateway.url}/v1/models/nope`)
    expect(openai.status).toBe(404)
    expect(await openai.json()).toMatchObject({ error: { code: 'model_not_found', param: 'model' } })
  })

  it.each([
    ['messages.batches.list', () => client.messages.batches.list()],
    ['messages.batches.retrieve', () => client.messages.batches.retrieve('msgbatch_1')],
    ['messages.batches.delete', () => client.messages.batches.delete('msgbatch_1')],
  ])('answers %s, on a gateway without service.batches, with a 404 not_found_error that says what to configure, and a requestID', async (_name, call) => {
    const err = await (call() as Promise<unknown>).catch((e: InstanceType<typeof Anthropic.APIError>) => e) as InstanceType<typeof Anthropic.APIError>
    expect(err).toBeInstanceOf(Anthropic.NotFoundError)
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'not_found_error' } })
    expect(err.apiMessage).toMatch(/^Message batches are not enabled on this gateway: .*batches: \{\}/)
    expect(err.requestID).toBeTruthy()
  })

  it('answers a path under /v1/messages it does not serve with a 404 not_found_error in Anthropic\'s envelope, with request-id', async () => {
    const res = await fetch(`${gateway.url}/v1/messages/nothing-here`, { headers: { 'anthropic-version': '2023-06-01' } })
    expect(res.status).toBe(404)
    expect(res.headers.get('request-id')).toBe(res.headers.get('x-request-id'))
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error', message: 'No route for GET /v1/messages/nothing-here.' } })
  })

  it('still answers a wrong method on a served path with 405, in Anthropic\'s envelope with request-id', async () => {
    const res = await fetch(`${gateway.url}/v1/messages`, { method: 'GET', headers: { 'anthropic-version': '2023-06-01' } })
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe('POST')
    const requestId = res.headers.get('x-request-id')
    expect(res.headers.get('request-id')).toBe(requestId)
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' }, request_id: requestId })
  })

  it('gives a translated message an id of Anthropic\'s form, the upstream\'s after the prefix', async () => {
    const res = await client.messages.create({ model: 'gpt', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] })
    expect(res.id).toBe('msg_chatcmpl-valid-1')
  })
})

describe('request-id on the errors an Anthropic client gets from a gateway that checks keys', () => {
  let gateway: RunningGateway
  beforeAll(async () => {
    gateway = await startTestGateway(`
version: 1
auth: { strategies: [ { plugin: api-key, keys: [ { key: sk-gateway-key-0000000001, user: u, role: user } ] } ] }
providers:
  mock: { plugin: mock }
routes:
  - model: mock
    targets: [ { provider: mock } ]
`)
  })
  afterAll(() => gateway.close())

  it.each([
    ['models.list', (c: Anthropic) => c.models.list()],
    ['models.retrieve', (c: Anthropic) => c.models.retrieve('mock')],
    ['messages.create', (c: Anthropic) => c.messages.create({ model: 'mock', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] })],
  ])('answers %s with a refused key as a 401 authentication_error whose requestID is the gateway\'s request id', async (_name, call) => {
    const client = new Anthropic({ baseURL: gateway.url, apiKey: 'sk-not-a-key', maxRetries: 0 })
    const err = await (call(client) as Promise<unknown>).catch((e: InstanceType<typeof Anthropic.APIError>) => e) as InstanceType<typeof Anthropic.APIError>
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError)
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } })
    expect(err.requestID).toBeTruthy()
    expect(err.requestID).toBe(err.headers?.get('x-request-id'))
    expect(err.requestID).toBe((err.error as { request_id?: string }).request_id)
  })

  it('lists models for a valid key with request-id too', async () => {
    const client = new Anthropic({ baseURL: gateway.url, apiKey: 'sk-gateway-key-0000000001', maxRetries: 0 })
    const { response } = await client.models.list().withResponse()
    expect(response.headers.get('request-id')).toBe(response.headers.get('x-request-id'))
  })
})
