/** What the /v1/messages tests share: a tool to call, an SSE body read as Anthropic's events, and OpenAI-wire answers to translate. */
import { expect } from 'vitest'
import Anthropic from '@anthropic-ai/sdk'
import type { RawMessageStreamEvent, Tool } from '@anthropic-ai/sdk/resources/messages'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { sendJson, startUpstream, type MockUpstream } from '../helpers/upstream.ts'

export const WEATHER_TOOL: Tool = {
  name: 'get_weather',
  description: 'Current weather for a city.',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
}

/** Parse an SSE body into its events, checking that each `event:` name matches the data's type. */
export function parseEvents(body: string): RawMessageStreamEvent[] {
  return body.split('\n\n').filter(Boolean).map((frame) => {
    const event = /^event: (.+)$/m.exec(frame)?.[1]
    const data = JSON.parse(/^data: (.+)$/m.exec(frame)![1])
    expect(data.type).toBe(event)
    return data
  })
}

/**
 * The `providers:` entries (indented, one per line) of an OpenAI-wire `gpt` and an Anthropic `claude`
 * in front of the mock upstreams at these URLs: the pair the /v1/messages suites route to.
 */
export function upstreamProviders(urls: { readonly openai?: string; readonly anthropic?: string }): string {
  const lines: string[] = []
  if (urls.openai) lines.push(`  gpt: { plugin: openai, api_key: sk-openai-upstream-key, base_url: '${urls.openai}/v1' }`)
  if (urls.anthropic) lines.push(`  claude: { plugin: anthropic, api_key: sk-ant-upstream-key, base_url: '${urls.anthropic}' }`)
  return lines.join('\n')
}

/**
 * A gateway with providers `gpt` (the OpenAI-wire upstream at `openaiUrl`) and `down` (an OpenAI-wire
 * upstream that fails every call with a 500: the first target of a fallback route), then `rest` of
 * its config (more provider lines, `routes:`).
 */
export async function gatewayWithDownUpstream(openaiUrl: string, rest: string): Promise<{ gateway: RunningGateway; down: MockUpstream }> {
  const down = await startUpstream((_req, res) => sendJson(res, 500, { error: { message: 'upstream is down', type: 'server_error' } }))
  const gateway = await startTestGateway(`version: 1
providers:
${upstreamProviders({ openai: openaiUrl })}
  down: { plugin: openai, api_key: sk-openai-upstream-key, base_url: '${down.url}/v1' }
${rest}`)
  return { gateway, down }
}

/** A gateway whose route `gpt` goes to the OpenAI-wire upstream at `url`, and the Anthropic SDK pointed at it. */
export async function claudeClientOnGpt(url: string): Promise<{ gateway: RunningGateway; client: Anthropic }> {
  const gateway = await startTestGateway(`
version: 1
providers:
${upstreamProviders({ openai: url })}
routes:
  - model: gpt
    targets: [ { provider: gpt, model: gpt-4o-mini } ]
`)
  return { gateway, client: new Anthropic({ baseURL: gateway.url, apiKey: 'unused', maxRetries: 0 }) }
}

/** One choice of an OpenAI answer: its message (whole) and finish, and fields on the choice beyond OpenAI's (vLLM's `stop_reason`). */
export interface OpenAIChoice {
  readonly message?: Record<string, unknown>
  readonly finish_reason: string
  readonly extra?: Record<string, unknown>
}

const OPENAI_USAGE = { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 }
const OPENAI_ENVELOPE = { id: 'chatcmpl-translated', created: 1_700_000_000, model: 'gpt-4o-mini' }

/** An OpenAI chat completion with this one choice. */
export function openAICompletion({ message, finish_reason, extra }: OpenAIChoice) {
  return {
    ...OPENAI_ENVELOPE, object: 'chat.completion',
    choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: null, ...message }, finish_reason, logprobs: null, ...extra }],
    usage: OPENAI_USAGE,
  }
}

/** An answer as OpenAI streams it (`sendSse` events): the deltas given, then the finish chunk (`extra` on its choice) and the usage chunk. */
export function openAIChunks(deltas: readonly object[], finish: string, extra: Record<string, unknown> = {}) {
  const common = { ...OPENAI_ENVELOPE, object: 'chat.completion.chunk' }
  const chunk = (delta: object, finish_reason: string | null = null, more = {}) => ({ data: { ...common, choices: [{ index: 0, delta, finish_reason, logprobs: null, ...more }] } })
  return [
    chunk({ role: 'assistant', content: null }),
    ...deltas.map((delta) => chunk(delta)),
    chunk({}, finish, extra),
    { data: { ...common, choices: [], usage: OPENAI_USAGE } },
    { data: '[DONE]' },
  ]
}
