/**
 * An answer bound above the target model's output cap on Anthropic, Gemini and Mistral targets, as
 * on OpenAI-wire ones (test/messages/output-cap.test.ts): an OpenAI client asking claude-3-5-haiku
 * (at most 8192 output tokens) for 16000 got Anthropic's 400; the gateway now sends the model's cap
 * (config/models.json, or a `pricing:` entry's max_output_tokens) and says so in `x-gateway-warning`;
 * a `strict` route refuses it before anything is sent. Claude Code's 32000 on /v1/messages, passed
 * through to an Anthropic target, is capped the same way, and so is a provider's default_max_tokens.
 */
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { sendJson, startUpstream, type MockUpstream, type RoutedUpstream, type UpstreamHandler } from '../helpers/upstream.ts'
import { message, sendError, sendMessage, sendStream, streamEvents, text } from './anthropic/anthropic-upstream.ts'
import { generatePath, generateResponse, googleError, startGeminiUpstream } from './gemini/gemini-upstream.ts'
import { CHAT_PATH, completion, mistralError, startMistralUpstream } from './mistral/mistral-upstream.ts'

/** The caps the providers enforce, as config/models.json and the `pricing:` below know them. */
const HAIKU = 'claude-3-5-haiku-20241022'
const CAPS: Record<string, number> = { [HAIKU]: 8192, 'gemini-2.0-flash': 8192, 'gemini-2.5-flash': 65536, 'mistral-small-latest': 32768, 'my-mistral': 4096 }

describe('an answer bound above the model\'s cap, on Anthropic, Gemini and Mistral targets', () => {
  let anthropic: MockUpstream
  let gemini: RoutedUpstream
  let mistral: RoutedUpstream
  let gateway: RunningGateway
  let client: OpenAI
  let claude: Anthropic

  beforeAll(async () => {
    // Each upstream refuses more than the model's cap with its own 400, as the real APIs do.
    anthropic = await startUpstream((req, res) => {
      const asked = Number(req.body.max_tokens)
      if (asked > CAPS[String(req.body.model)]) return sendError(res, 400, 'invalid_request_error', `max_tokens: ${asked} > ${CAPS[String(req.body.model)]}, which is the maximum allowed number of output tokens for ${String(req.body.model)}`)
      if (req.body.stream) return sendStream(res, streamEvents({ text: ['Hello'] }))
      sendMessage(res, message([text('Hello')]))
    })
    const geminiAnswer = (model: string): UpstreamHandler => (req, res) => {
      const asked = Number((req.body.generationConfig as { maxOutputTokens?: number } | undefined)?.maxOutputTokens)
      if (asked > CAPS[model]) return sendJson(res, 400, googleError(400, 'INVALID_ARGUMENT', `The input max_output_tokens (${asked}) exceeds the maximum allowed (${CAPS[model] + 1}).`))
      sendJson(res, 200, generateResponse([{ text: 'Hallo' }]))
    }
    gemini = await startGeminiUpstream({ [generatePath('gemini-2.0-flash')]: geminiAnswer('gemini-2.0-flash'), [generatePath('gemini-2.5-flash')]: geminiAnswer('gemini-2.5-flash') })
    mistral = await startMistralUpstream({
      [CHAT_PATH]: (req, res) => {
        const asked = Number(req.body.max_tokens)
        if (asked > CAPS[String(req.body.model)]) return sendJson(res, 400, mistralError(`max_tokens ${asked} is too large`, 'invalid_request_error'))
        sendJson(res, 200, completion({ content: 'Bonjour' }))
      },
    })
    gateway = await startTestGateway(`
version: 1
providers:
  claude: { plugin: anthropic, api_key: sk-ant-test, base_url: '${anthropic.url}' }
  claude-big-default: { plugin: anthropic, api_key: sk-ant-test, base_url: '${anthropic.url}', default_max_tokens: 32000 }
  gemini: { plugin: gemini, api_key: gemini-key, base_url: '${gemini.url}' }
  mistral: { plugin: mistral, api_key: mistral-key, base_url: '${mistral.url}' }
routes:
  - model: haiku
    targets: [ { provider: claude, model: ${HAIKU} } ]
  - model: strict-haiku
    strict: true
    targets: [ { provider: claude, model: ${HAIKU} } ]
  - model: haiku-big-default
    targets: [ { provider: claude-big-default, model: ${HAIKU} } ]
  - model: flash
    targets: [ { provider: gemini, model: gemini-2.0-flash } ]
  - model: strict-flash
    strict: true
    targets: [ { provider: gemini, model: gemini-2.0-flash } ]
  - model: flash-25
    targets: [ { provider: gemini, model: gemini-2.5-flash } ]
  - model: mistral
    targets: [ { provider: mistral, model: mistral-small-latest } ]
  - model: my-mistral
    targets: [ { provider: mistral, model: my-mistral } ]
pricing:
  my-mistral: { input: 0, output: 0, max_output_tokens: 4096 }
`)
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 })
    // A timeout of its own, as without one the SDK refuses a whole (non-streamed) answer of 32000 tokens.
    claude = new Anthropic({ baseURL: gateway.url, apiKey: 'unused', maxRetries: 0, timeout: 60_000 })
  })
  afterAll(async () => {
    await gateway?.close()
    await Promise.all([anthropic?.close(), gemini?.close(), mistral?.close()])
  })

  it('sends claude-3-5-haiku its cap when an OpenAI client asks for 16000, and says so', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'haiku', max_tokens: 16000, messages: [{ role: 'user', content: 'Hi' }] }).withResponse()
    expect(data.choices[0].message.content).toBe('Hello')
    expect(anthropic.requests.at(-1)!.body).toMatchObject({ model: HAIKU, max_tokens: 8192 })
    expect(response.headers.get('x-gateway-warning')).toContain(`${HAIKU} writes at most 8192 output tokens; sent 8192 instead of 16000`)

    // Streamed, and as max_completion_tokens.
    const stream = await client.chat.completions.create({ model: 'haiku', max_completion_tokens: 20000, stream: true, messages: [{ role: 'user', content: 'Hi' }] })
    let said = ''
    for await (const chunk of stream) said += chunk.choices[0]?.delta.content ?? ''
    expect(said).toBe('Hello')
    expect(anthropic.requests.at(-1)!.body).toMatchObject({ max_tokens: 8192, stream: true })

    // Within the cap: as sent, no warning.
    const within = await client.chat.completions.create({ model: 'haiku', max_tokens: 1000, messages: [{ role: 'user', content: 'Hi' }] }).withResponse()
    expect(anthropic.requests.at(-1)!.body.max_tokens).toBe(1000)
    expect(within.response.headers.get('x-gateway-warning')).toBeNull()
  })

  it('refuses it on a strict route, naming the cap, before Anthropic is called', async () => {
    const sent = anthropic.requests.length
    const err = await client.chat.completions.create({ model: 'strict-haiku', max_tokens: 16000, messages: [{ role: 'user', content: 'Hi' }] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.BadRequestError)
    expect((err as Error).message).toContain('at most 8192')
    expect(anthropic.requests.length).toBe(sent)
  })

  it('sends claude-3-5-haiku its cap when Claude Code asks for 32000 on /v1/messages, passed through, and says so', async () => {
    const { data, response } = await claude.messages.create({ model: 'haiku', max_tokens: 32000, messages: [{ role: 'user', content: 'Hi' }] }).withResponse()
    expect(data.content).toMatchObject([{ type: 'text', text: 'Hello' }])
    expect(anthropic.requests.at(-1)!.body).toMatchObject({ model: HAIKU, max_tokens: 8192 })
    expect(response.headers.get('x-gateway-warning')).toContain(`${HAIKU} writes at most 8192 output tokens; sent 8192 instead of 32000`)

    // Streamed.
    const stream = claude.messages.stream({ model: 'haiku', max_tokens: 32000, messages: [{ role: 'user', content: 'Hi' }] })
    expect((await stream.finalMessage()).content).toMatchObject([{ type: 'text', text: 'Hello' }])
    expect(anthropic.requests.at(-1)!.body).toMatchObject({ max_tokens: 8192, stream: true })

    // Within the cap: as sent, no warning.
    const within = await claude.messages.create({ model: 'haiku', max_tokens: 1000, messages: [{ role: 'user', content: 'Hi' }] }).withResponse()
    expect(anthropic.requests.at(-1)!.body.max_tokens).toBe(1000)
    expect(within.response.headers.get('x-gateway-warning')).toBeNull()

    // A strict route refuses it, naming the cap, before Anthropic is called.
    const sent = anthropic.requests.length
    const err = await claude.messages.create({ model: 'strict-haiku', max_tokens: 32000, messages: [{ role: 'user', content: 'Hi' }] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(Anthropic.BadRequestError)
    expect((err as Error).message).toContain('at most 8192')
    expect(anthropic.requests.length).toBe(sent)
  })

  it('lowers a configured default_max_tokens above the model\'s cap to it, without a warning, when the client sets no bound', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'haiku-big-default', messages: [{ role: 'user', content: 'Hi' }] }).withResponse()
    expect(data.choices[0].message.content).toBe('Hello')
    expect(anthropic.requests.at(-1)!.body).toMatchObject({ model: HAIKU, max_tokens: 8192 })
    expect(response.headers.get('x-gateway-warning')).toBeNull()
  })

  it('sends gemini-2.0-flash its cap as maxOutputTokens, per model (2.5 takes more), and refuses on a strict route', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'flash', max_tokens: 32000, messages: [{ role: 'user', content: 'Hi' }] }).withResponse()
    expect(data.choices[0].message.content).toBe('Hallo')
    expect(gemini.requests.at(-1)!.body.generationConfig).toEqual({ maxOutputTokens: 8192 })
    expect(response.headers.get('x-gateway-warning')).toContain('gemini-2.0-flash writes at most 8192 output tokens; sent 8192 instead of 32000')

    await client.chat.completions.create({ model: 'flash-25', max_tokens: 32000, messages: [{ role: 'user', content: 'Hi' }] })
    expect(gemini.requests.at(-1)!.body.generationConfig).toEqual({ maxOutputTokens: 32000 })

    const sent = gemini.requests.length
    await expect(client.chat.completions.create({ model: 'strict-flash', max_completion_tokens: 32000, messages: [{ role: 'user', content: 'Hi' }] })).rejects.toMatchObject({ status: 400 })
    expect(gemini.requests.length).toBe(sent)
  })

  it('sends a Mistral model its cap, the catalog\'s or a `pricing:` entry\'s', async () => {
    const { response } = await client.chat.completions.create({ model: 'mistral', max_tokens: 40000, messages: [{ role: 'user', content: 'Hi' }] }).withResponse()
    expect(mistral.requests.at(-1)!.body).toMatchObject({ model: 'mistral-small-latest', max_tokens: 32768 })
    expect(response.headers.get('x-gateway-warning')).toContain('mistral-small-latest writes at most 32768 output tokens')
    await client.chat.completions.create({ model: 'my-mistral', max_tokens: 8000, messages: [{ role: 'user', content: 'Hi' }] })
    expect(mistral.requests.at(-1)!.body).toMatchObject({ model: 'my-mistral', max_tokens: 4096 })
  })
})
