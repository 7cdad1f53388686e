/**
 * An answer bound above the target model's output cap: Claude Code asks for `max_tokens: 32000`,
 * which OpenAI refuses for gpt-4o (at most 16384) with a 400. The gateway sends the model's cap
 * (the catalog's, or a `pricing:` entry's max_output_tokens) and says so in `x-gateway-warning`,
 * per target: a fallback to a model with a larger cap gets the larger value.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import type { RunningGateway } from '../helpers/gateway.ts'
import { sendJson, startUpstream, type MockUpstream, type UpstreamHandler } from '../helpers/upstream.ts'
import { gatewayWithDownUpstream, openAICompletion } from './helpers.ts'

/** The caps OpenAI enforces, as config/models.json and the `pricing:` below know them. */
const CAPS: Record<string, number> = { 'gpt-4o': 16384, 'gpt-4.1': 32768, 'local-llm': 4096 }

/** OpenAI's answer to an answer bound above the model's cap (its wording), else a completion. */
const openAIUpstream: UpstreamHandler = (req, res) => {
  const asked = Number(req.body.max_completion_tokens ?? req.body.max_tokens)
  const cap = CAPS[String(req.body.model)]
  if (cap !== undefined && asked > cap) {
    return sendJson(res, 400, {
      error: { message: `max_tokens is too large: ${asked}. This model supports at most ${cap} completion tokens, whereas you provided ${asked}.`, type: 'invalid_request_error', param: 'max_tokens', code: 'invalid_value' },
    })
  }
  sendJson(res, 200, openAICompletion({ message: { content: 'Done.' }, finish_reason: 'stop' }))
}

describe('an answer bound above the target model\'s output cap', () => {
  let openai: MockUpstream
  let down: MockUpstream
  let gateway: RunningGateway
  let claude: Anthropic
  let client: OpenAI
  beforeAll(async () => {
    openai = await startUpstream(openAIUpstream)
    ;({ gateway, down } = await gatewayWithDownUpstream(openai.url, `  local: { plugin: openai-compatible, base_url: '${openai.url}/v1' }
routes:
  - model: gpt
    targets: [ { provider: gpt, model: gpt-4o } ]
  - model: strict-gpt
    strict: true
    targets: [ { provider: gpt, model: gpt-4o } ]
  - model: fallback
    strategy: fallback
    targets: [ { provider: down, model: gpt-4o }, { provider: gpt, model: gpt-4.1 } ]
  - model: local
    targets: [ { provider: local, model: local-llm } ]
pricing:
  local-llm: { input: 0, output: 0, max_output_tokens: 4096 }
`))
    // A timeout of its own, as without one the SDK refuses a whole (non-streamed) answer of 32000 tokens.
    claude = new Anthropic({ baseURL: gateway.url, apiKey: 'unused', maxRetries: 0, timeout: 60_000 })
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 })
  })
  afterAll(async () => {
    await gateway.close()
    await openai.close()
    await down.close()
  })

  it('sends gpt-4o its cap when Claude Code asks for 32000, and says so', async () => {
    const { data, response } = await claude.messages.create({ model: 'gpt', max_tokens: 32000, messages: [{ role: 'user', content: 'Hi' }] }).withResponse()
    expect(data.content).toEqual([{ type: 'text', text: 'Done.', citations: null }])
    expect(openai.requests.at(-1)!.body.max_completion_tokens).toBe(16384)
    expect(response.headers.get('x-gateway-warning')).toContain('gpt-4o writes at most 16384 output tokens; sent 16384 instead of 32000')
  })

  it('streams too', async () => {
    const stream = claude.messages.stream({ model: 'gpt', max_tokens: 32000, messages: [{ role: 'user', content: 'Hi' }] })
    expect((await stream.finalMessage()).content).toEqual([{ type: 'text', text: 'Done.', citations: null }])
    expect(openai.requests.at(-1)!.body.max_completion_tokens).toBe(16384)
  })

  it('leaves a bound within the cap as it is, without a warning', async () => {
    const { response } = await claude.messages.create({ model: 'gpt', max_tokens: 1000, messages: [{ role: 'user', content: 'Hi' }] }).withResponse()
    expect(openai.requests.at(-1)!.body.max_completion_tokens).toBe(1000)
    expect(response.headers.get('x-gateway-warning')).toBeNull()
  })

  it('gives a fallback target with a larger cap the larger value', async () => {
    const before = down.requests.length
    await claude.messages.create({ model: 'fallback', max_tokens: 32000, messages: [{ role: 'user', content: 'Hi' }] })
    expect(down.requests.slice(before).map((r) => r.body.max_completion_tokens)).toContain(16384)
    expect(openai.requests.at(-1)!.body).toMatchObject({ model: 'gpt-4.1', max_completion_tokens: 32000 })
  })

  it('caps OpenAI clients\' max_tokens and max_completion_tokens as well', async () => {
    const { response } = await client.chat.completions.create({ model: 'gpt', max_tokens: 32000, messages: [{ role: 'user', content: 'Hi' }] }).withResponse()
    expect(openai.requests.at(-1)!.body.max_completion_tokens).toBe(16384)
    expect(response.headers.get('x-gateway-warning')).toContain("'max_tokens'")
    await client.chat.completions.create({ model: 'gpt', max_completion_tokens: 20000, messages: [{ role: 'user', content: 'Hi' }] })
    expect(openai.requests.at(-1)!.body.max_completion_tokens).toBe(16384)
  })

  it('takes the cap of a `pricing:` entry, on an OpenAI-compatible target', async () => {
    await claude.messages.create({ model: 'local', max_tokens: 32000, messages: [{ role: 'user', content: 'Hi' }] })
    expect(openai.requests.at(-1)!.body).toMatchObject({ model: 'local-llm', max_completion_tokens: 4096 })
  })

  it('refuses it on a strict route, naming the cap', async () => {
    const sent = openai.requests.length
    const err = await claude.messages.create({ model: 'strict-gpt', max_tokens: 32000, messages: [{ role: 'user', content: 'Hi' }] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(Anthropic.BadRequestError)
    expect((err as Error).message).toContain('at most 16384')
    expect(openai.requests.length).toBe(sent)
  })
})
