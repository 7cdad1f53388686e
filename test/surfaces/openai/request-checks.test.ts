/**
 * Bodies OpenAI refuses with a 400 are refused by the gateway too, naming the field (`param`) as
 * OpenAI does, and never reach a provider: embeddings' `input` (a number, an empty list, an empty
 * text, mixed or non-integer token ids), `dimensions` and `encoding_format`; a chat request's
 * function tool without its function and content parts without (or with a wrong) field of their
 * type; the legacy completions' `max_tokens`, `n`, `temperature` and the other ranged fields.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { postJson, startTestGateway, type RunningGateway } from '../../helpers/gateway.ts'
import { sendJson, startUpstream, type MockUpstream } from '../../helpers/upstream.ts'

let gw: RunningGateway
let up: MockUpstream

/** An OpenAI-like upstream answering each endpoint with a minimal valid body. */
beforeAll(async () => {
  up = await startUpstream((req, res) => {
    if (req.path.endsWith('/embeddings')) {
      const count = Array.isArray(req.body.input) && typeof req.body.input[0] !== 'number' ? req.body.input.length : 1
      return sendJson(res, 200, { object: 'list', model: req.body.model, data: Array.from({ length: count }, (_, index) => ({ object: 'embedding', index, embedding: [0.5, 0.5] })), usage: { prompt_tokens: 2, total_tokens: 2 } })
    }
    if (req.path.endsWith('/chat/completions')) {
      return sendJson(res, 200, { id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: req.body.model, choices: [{ index: 0, message: { role: 'assistant', content: 'ok', refusal: null }, finish_reason: 'stop', logprobs: null }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } })
    }
    return sendJson(res, 200, { id: 'cmpl-1', object: 'text_completion', created: 1, model: req.body.model, choices: [{ index: 0, text: 'ok', logprobs: null, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } })
  })
  gw = await startTestGateway(`version: 1
providers:
  oa: { plugin: openai, api_key: sk-test, base_url: "${up.url}/v1" }
routes:
  - { model: gpt, targets: [ { provider: oa, model: gpt-4o-mini } ] }
  - { model: embed, targets: [ { provider: oa, model: text-embedding-3-small } ] }
  - { model: instruct, targets: [ { provider: oa, model: gpt-3.5-turbo-instruct } ] }
`)
})
afterAll(async () => {
  await gw?.close()
  await up?.close()
})

const sdk = () => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 })

/** POST `body` (an object, or JSON text for what JSON.stringify cannot write) and expect OpenAI's 400 naming `param`, with the upstream not called. */
async function refused(path: string, body: object | string, param: string, code: string, message?: RegExp): Promise<void> {
  const before = up.requests.length
  const res = await postJson(`${gw.url}/v1/${path}`, body)
  expect(res.status, JSON.stringify(res.body)).toBe(400)
  expect(res.body.error).toMatchObject({ type: 'invalid_request_error', param, code })
  if (message) expect(res.body.error.message).toMatch(message)
  expect(up.requests.length).toBe(before)
}

/** The SDK's error for a call expected to fail. */
async function caught(call: Promise<unknown>): Promise<InstanceType<typeof OpenAI.BadRequestError>> {
  const err = await call.then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(OpenAI.BadRequestError)
  return err as InstanceType<typeof OpenAI.BadRequestError>
}

describe('POST /v1/embeddings refuses what OpenAI refuses', () => {
  const M = { model: 'embed' }
  it.each([
    [{ input: 5 }, 'input', 'invalid_type', /expected a string, an array of strings, an array of integers or an array of arrays of integers, but got an integer/],
    [{ input: { text: 'a' } }, 'input', 'invalid_type', /but got an object/],
    [{ input: true }, 'input', 'invalid_type', /but got a boolean/],
    [{ input: [] }, 'input', 'empty_array', /empty array/],
    [{ input: '' }, 'input', 'empty_string', /empty string/],
    [{ input: [''] }, 'input[0]', 'empty_string', /empty string/],
    [{ input: ['a', ''] }, 'input[1]', 'empty_string', /empty string/],
    [{ input: ['a', 1] }, 'input[1]', 'invalid_type', /expected a string \(as input\[0\]\), but got an integer/],
    [{ input: [1, 'a'] }, 'input[1]', 'invalid_type', /expected an integer \(as input\[0\]\), but got a string/],
    [{ input: [1.5] }, 'input[0]', 'invalid_type', /expected an integer, but got a number/],
    [{ input: [{}] }, 'input[0]', 'invalid_type', /but got an object/],
    [{ input: [null] }, 'input[0]', 'invalid_type', /but got null/],
    [{ input: [[]] }, 'input[0]', 'empty_array', /empty array/],
    [{ input: [[1, 'a']] }, 'input[0][1]', 'invalid_type', /expected an integer, but got a string/],
    [{ input: [[1], 2] }, 'input[1]', 'invalid_type', /expected an array of integers/],
    [{ input: Array.from({ length: 2049 }, () => 'a') }, 'input', 'array_above_max_length', /maximum length 2048, but got an array with length 2049/],
    [{ input: 'a', dimensions: -1 }, 'dimensions', 'invalid_value', /-1 is below the minimum of 1/],
    [{ input: 'a', dimensions: 0 }, 'dimensions', 'invalid_value', /below the minimum of 1/],
    [{ input: 'a', dimensions: 1.5 }, 'dimensions', 'invalid_type', /expected an integer, but got a number/],
    [{ input: 'a', dimensions: '3' }, 'dimensions', 'invalid_type', /got a string/],
    [{ input: 'a', encoding_format: 'hex' }, 'encoding_format', 'invalid_value', /Supported values are: 'float', 'base64'/],
    [{ input: 'a', user: 5 }, 'user', 'invalid_type', /expected a string/],
  ] as const)('%j: 400 naming %s', async (fields, param, code, message) => {
    await refused('embeddings', { ...M, ...fields }, param, code, message)
  })

  it('token ids JSON writes as 1e400 (Infinity once parsed) are not integers', async () => {
    await refused('embeddings', '{"model":"embed","input":[1e400]}', 'input[0]', 'invalid_type')
    await refused('embeddings', '{"model":"embed","input":[[1,-1e400]]}', 'input[0][1]', 'invalid_type')
  })

  it('dimensions JSON writes as 1e400 is not an integer (strictNumbers; Infinity passed minimum: 1 and went upstream as null)', async () => {
    await refused('embeddings', '{"model":"embed","input":"a","dimensions":1e400}', 'dimensions', 'invalid_type', /expected an integer, but got a number/)
  })

  it('the openai SDK raises a BadRequestError with the param', async () => {
    const before = up.requests.length
    expect(await caught(sdk().embeddings.create({ model: 'embed', input: [] }))).toMatchObject({ status: 400, param: 'input', code: 'empty_array', type: 'invalid_request_error' })
    expect(await caught(sdk().embeddings.create({ model: 'embed', input: 'a', dimensions: -1 }))).toMatchObject({ param: 'dimensions', code: 'invalid_value' })
    expect(await caught(sdk().embeddings.create({ model: 'embed', input: 'a', encoding_format: 'hex' as 'float' }))).toMatchObject({ param: 'encoding_format' })
    expect(await caught(sdk().embeddings.create({ model: 'embed', input: 5 as unknown as string }))).toMatchObject({ param: 'input', code: 'invalid_type' })
    expect(up.requests.length).toBe(before)
  })

  it('each of the four shapes of input reaches the provider as written', async () => {
    for (const input of ['one text', ['a', 'b'], [1, 2, 3], [[1, 2], [3]]]) {
      const before = up.requests.length
      const answer = await sdk().embeddings.create({ model: 'embed', input, encoding_format: 'float', dimensions: 2 })
      expect(answer.data.length).toBe(typeof input === 'string' || typeof input[0] === 'number' ? 1 : 2)
      expect(up.requests.length).toBe(before + 1)
      expect(up.requests.at(-1)!.body).toMatchObject({ input, dimensions: 2 })
    }
  })
})

describe('POST /v1/chat/completions: tools and content parts', () => {
  const chat = (fields: object) => ({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }], ...fields })
  const parts = (...content: object[]) => chat({ messages: [{ role: 'user', content }] })
  it.each([
    [chat({ tools: [{ type: 'function' }] }), 'tools[0].function', 'missing_required_parameter', /Missing required parameter: 'tools\[0\]\.function'/],
    [chat({ tools: [{ type: 'function', function: { name: 'f' } }, { type: 'function' }] }), 'tools[1].function', 'missing_required_parameter', undefined],
    [chat({ tools: [{ type: 'function', function: {} }] }), 'tools[0].function.name', 'missing_required_parameter', undefined],
    [chat({ tools: [{ type: 'function', function: 5 }] }), 'tools[0].function', 'invalid_type', /expected an object, but got an integer/],
    [chat({ tools: [{ type: 'function', function: { name: 7 } }] }), 'tools[0].function.name', 'invalid_type', undefined],
    [chat({ tools: [{ type: 'function', function: { name: 'f', parameters: 'none' } }] }), 'tools[0].function.parameters', 'invalid_type', undefined],
    [chat({ functions: [{ description: 'no name' }] }), 'functions[0].name', 'missing_required_parameter', undefined],
    [parts({ type: 'image_url', image_url: 5 }), 'messages[0].content[0].image_url', 'invalid_type', /Invalid type for 'messages\[0\]\.content\[0\]\.image_url': expected an object, but got an integer instead/],
    [parts({ type: 'image_url', image_url: 'https://example.com/a.png' }), 'messages[0].content[0].image_url', 'invalid_type', undefined],
    [parts({ type: 'text', text: 'look' }, { type: 'image_url' }), 'messages[0].content[1].image_url', 'missing_required_parameter', undefined],
    [parts({ type: 'image_url', image_url: {} }), 'messages[0].content[0].image_url.url', 'missing_required_parameter', undefined],
    [parts({ type: 'image_url', image_url: { url: 5 } }), 'messages[0].content[0].image_url.url', 'invalid_type', undefined],
    [parts({ type: 'text' }), 'messages[0].content[0].text', 'missing_required_parameter', undefined],
    [parts({ type: 'text', text: 5 }), 'messages[0].content[0].text', 'invalid_type', undefined],
    [parts({ type: 'input_audio', input_audio: { data: 'AAAA' } }), 'messages[0].content[0].input_audio.format', 'missing_required_parameter', undefined],
    [parts({ type: 'file' }), 'messages[0].content[0].file', 'missing_required_parameter', undefined],
  ] as const)('%j: 400 naming %s', async (body, param, code, message) => {
    await refused('chat/completions', body, param, code, message)
  })

  it('the openai SDK raises a BadRequestError with the param', async () => {
    const before = up.requests.length
    const tools = [{ type: 'function' }] as unknown as OpenAI.ChatCompletionTool[]
    expect(await caught(sdk().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }], tools }))).toMatchObject({ status: 400, param: 'tools[0].function', code: 'missing_required_parameter', type: 'invalid_request_error' })
    const content = [{ type: 'image_url', image_url: 5 }] as unknown as OpenAI.ChatCompletionContentPart[]
    expect(await caught(sdk().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content }] }))).toMatchObject({ param: 'messages[0].content[0].image_url', code: 'invalid_type' })
    expect(up.requests.length).toBe(before)
  })

  it('passes well-formed tools and parts, custom tools and part types it does not know', async () => {
    const before = up.requests.length
    const res = await postJson(`${gw.url}/v1/chat/completions`, {
      model: 'gpt',
      messages: [{ role: 'user', content: [
        { type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'low' } },
        { type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }, { type: 'file', file: { file_id: 'file-1' } },
        { type: 'video_url', video_url: { url: 'https://example.com/v.mp4' } },
      ] }],
      tools: [{ type: 'function', function: { name: 'f', description: 'd', parameters: { type: 'object' }, strict: null } }, { type: 'custom', custom: { name: 'g' } }],
    })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(up.requests.length).toBe(before + 1)
  })
})

describe('POST /v1/completions refuses what OpenAI refuses', () => {
  const M = { model: 'instruct', prompt: 'x' }
  it.each([
    [{ max_tokens: -5 }, 'max_tokens', 'invalid_value', /-5 is below the minimum of 0/],
    [{ max_tokens: 1.5 }, 'max_tokens', 'invalid_type', undefined],
    [{ n: 0 }, 'n', 'invalid_value', undefined],
    [{ n: 129 }, 'n', 'invalid_value', /above the maximum of 128/],
    [{ temperature: 2.5 }, 'temperature', 'invalid_value', undefined],
    [{ temperature: 'hot' }, 'temperature', 'invalid_type', undefined],
    [{ top_p: 1.5 }, 'top_p', 'invalid_value', undefined],
    [{ presence_penalty: -3 }, 'presence_penalty', 'invalid_value', undefined],
    [{ frequency_penalty: 3 }, 'frequency_penalty', 'invalid_value', undefined],
    [{ best_of: 21 }, 'best_of', 'invalid_value', undefined],
    [{ logprobs: 6 }, 'logprobs', 'invalid_value', undefined],
    [{ echo: 'yes' }, 'echo', 'invalid_type', undefined],
    [{ stream: 'yes' }, 'stream', 'invalid_type', undefined],
    [{ suffix: 5 }, 'suffix', 'invalid_type', undefined],
    [{ stop: [1] }, 'stop[0]', 'invalid_type', undefined],
    [{ logit_bias: { 50256: 101 } }, 'logit_bias[50256]', 'invalid_value', undefined],
    [{ seed: 1.5 }, 'seed', 'invalid_type', undefined],
    [{ prompt: [1, 'a'] }, 'prompt[1]', 'invalid_type', undefined],
    [{ prompt: [[]] }, 'prompt[0]', 'empty_array', undefined],
    [{ prompt: [{}] }, 'prompt[0]', 'invalid_type', undefined],
  ] as const)('%j: 400 naming %s', async (fields, param, code, message) => {
    await refused('completions', { ...M, ...fields }, param, code, message)
  })

  it('the openai SDK raises a BadRequestError with the param', async () => {
    const before = up.requests.length
    expect(await caught(sdk().completions.create({ ...M, max_tokens: -5 }))).toMatchObject({ status: 400, param: 'max_tokens', code: 'invalid_value', type: 'invalid_request_error' })
    expect(await caught(sdk().completions.create({ ...M, temperature: 3 }))).toMatchObject({ param: 'temperature' })
    expect(up.requests.length).toBe(before)
  })

  it('passes the edges of the ranges (max_tokens 0, an empty prompt, token ids) to the provider', async () => {
    for (const fields of [{ max_tokens: 0, echo: true }, { prompt: '' }, { prompt: [1, 2, 3], n: 128, temperature: 2, best_of: 0, logprobs: 5 }, { prompt: [[1], [2, 3]] }]) {
      const before = up.requests.length
      const res = await postJson(`${gw.url}/v1/completions`, { ...M, ...fields })
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      expect(up.requests.length).toBe(before + 1)
    }
  })
})
