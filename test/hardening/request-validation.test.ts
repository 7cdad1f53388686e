/**
 * A chat request's common fields are checked (types and ranges from OpenAI's API reference) before
 * it is routed: a wrong-typed field gets a 400 naming it, and never reaches a provider (`stream:
 * "yes"` made an upstream stream while the gateway read a JSON answer). Fields it does not know
 * still pass through.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { postJson, startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { sendJson, startUpstream, type MockUpstream } from '../helpers/upstream.ts'

const COMPLETION = {
  id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'fine' }, finish_reason: 'stop', logprobs: null }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
}
const USER = [{ role: 'user', content: 'hi' }]

describe('chat request validation', () => {
  let upstream: MockUpstream
  let gw: RunningGateway
  beforeAll(async () => {
    upstream = await startUpstream((_req, res) => sendJson(res, 200, COMPLETION))
    gw = await startTestGateway(`version: 1
providers:
  up: { plugin: openai, api_key: sk-test-key-123456, base_url: "${upstream.url}/v1" }
routes:
  - model: gpt
    extra_params: [top_k, repetition_penalty]
    targets: [ { provider: up, model: gpt-4o-mini } ]
`)
  })
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })

  const send = (body: Record<string, unknown>) => postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt', messages: USER, ...body })

  it.each([
    [{ n: 1_000_000 }, 'n', 'invalid_value', /Invalid 'n': 1000000 is above the maximum of 128/],
    [{ n: 0 }, 'n', 'invalid_value', /below the minimum of 1/],
    [{ temperature: 'hot' }, 'temperature', 'invalid_type', /Invalid type for 'temperature': expected a number or null, but got a string instead/],
    [{ temperature: 2.5 }, 'temperature', 'invalid_value', /above the maximum of 2/],
    [{ top_p: -0.1 }, 'top_p', 'invalid_value', /below the minimum of 0/],
    [{ stream: 'yes' }, 'stream', 'invalid_type', /expected a boolean or null, but got a string/],
    [{ stream: true, stream_options: { include_usage: 'yes' } }, 'stream_options.include_usage', 'invalid_type', /expected a boolean/],
    [{ max_tokens: 1.5 }, 'max_tokens', 'invalid_type', /expected an integer or null, but got a number/],
    [{ max_completion_tokens: -5 }, 'max_completion_tokens', 'invalid_value', /below the minimum of 1/],
    [{ presence_penalty: 3 }, 'presence_penalty', 'invalid_value', /above the maximum of 2/],
    [{ frequency_penalty: '1' }, 'frequency_penalty', 'invalid_type', /got a string/],
    [{ top_logprobs: 21 }, 'top_logprobs', 'invalid_value', /above the maximum of 20/],
    [{ stop: [1, 2] }, 'stop[0]', 'invalid_type', /expected a string/],
    [{ tools: [{ function: { name: 'x' } }] }, 'tools[0].type', 'missing_required_parameter', /Missing required parameter: 'tools\[0\]\.type'/],
    [{ messages: [{ role: 'user', content: 'hi' }, { role: 'robot', content: 'beep' }] }, 'messages[1].role', 'invalid_value', /Supported values are: 'system', 'developer', 'user'/],
    [{ messages: [{ content: 'hi' }] }, 'messages[0].role', 'missing_required_parameter', /Missing required parameter/],
    [{ messages: [{ role: 'user', content: 42 }] }, 'messages[0].content', 'invalid_type', /expected a string or an array or null, but got an integer/],
    [{ messages: 'hi' }, 'messages', 'invalid_type', /expected an array/],
  ] as const)('refuses %j with a 400 that names %s, without calling the provider', async (fields, param, code, message) => {
    const before = upstream.requests.length
    const res = await send(fields)
    expect(res.status).toBe(400)
    expect(res.body.error).toMatchObject({ type: 'invalid_request_error', param, code })
    expect(res.body.error.message).toMatch(message)
    expect(upstream.requests.length).toBe(before)
  })

  it('reaches the OpenAI SDK as a BadRequestError with the param', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 })
    const err = await client.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }], temperature: 'hot' as unknown as number }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.BadRequestError)
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('temperature')
  })

  it('accepts nulls, valid values and the full message vocabulary, and passes the fields its route lists in extra_params through', async () => {
    const before = upstream.requests.length
    const res = await send({
      messages: [
        { role: 'developer', content: 'be brief' },
        { role: 'user', content: [{ type: 'text', text: 'hi' }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'done' },
      ],
      temperature: null, top_p: 1, n: 1, stream: null, max_tokens: 100, stop: 'END', seed: 7,
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }], tool_choice: 'auto',
      response_format: { type: 'json_object' }, metadata: { thread_id: 't-1' }, logit_bias: { 50256: -100 },
      top_k: 40, repetition_penalty: 1.1,
    })
    expect(res.status).toBe(200)
    expect(upstream.requests.length).toBe(before + 1)
    expect(upstream.requests.at(-1)!.body).toMatchObject({ top_k: 40, repetition_penalty: 1.1, temperature: null, stop: 'END' })
  })
})
