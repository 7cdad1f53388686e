/**
 * A conversation that moves from Claude to an OpenAI-wire model: the client sends Claude's answer back
 * as the official SDKs and LiteLLM's clients do, `reasoning_content` and `thinking_blocks` on the
 * assistant message. OpenAI refuses a message property it does not know (400 invalid_request_error
 * naming it; DeepSeek likewise refuses `reasoning_content` in input), so the gateway leaves them out
 * for an OpenAI-wire target (passthrough and translated alike, and a fallback), while a Claude target
 * still gets its signed thinking back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { startTestGateway, type RunningGateway } from '../../helpers/gateway.ts'
import { sendJson, sendSse, startUpstream, type MockUpstream } from '../../helpers/upstream.ts'
import { message, sendError, sendMessage, text, usage } from '../anthropic/anthropic-upstream.ts'

const THOUGHT = 'The user wants 2+2. That is 4.'
const SIGNATURE = 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds'

/** The properties OpenAI's chat completions API knows on a message, by role. */
const MESSAGE_FIELDS: Record<string, readonly string[]> = {
  system: ['role', 'content', 'name'],
  developer: ['role', 'content', 'name'],
  user: ['role', 'content', 'name'],
  assistant: ['role', 'content', 'name', 'refusal', 'tool_calls', 'function_call', 'audio'],
  tool: ['role', 'content', 'tool_call_id'],
}

/** An OpenAI upstream that refuses an unknown message property as OpenAI does, and answers otherwise. */
async function strictOpenAI(): Promise<MockUpstream> {
  return startUpstream(async (req, res) => {
    const messages = (req.body.messages ?? []) as Record<string, unknown>[]
    for (const [i, m] of messages.entries()) {
      const unknown = Object.keys(m).find((key) => !(MESSAGE_FIELDS[m.role as string] ?? []).includes(key))
      if (unknown) {
        return sendJson(res, 400, { error: { message: `Additional properties are not allowed ('${unknown}' was unexpected) - 'messages.${i}'`, type: 'invalid_request_error', param: `messages.[${i}]`, code: null } })
      }
    }
    const common = { id: 'chatcmpl-1', created: 1_700_000_000, model: req.body.model, system_fingerprint: 'fp_test' }
    const usageOf = { prompt_tokens: 20, completion_tokens: 2, total_tokens: 22 }
    if (req.body.stream) {
      const chunk = (delta: object, finish: string | null) => ({ ...common, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] })
      return sendSse(res, [{ data: chunk({ role: 'assistant', content: '5' }, null) }, { data: chunk({}, 'stop') }, { data: { ...common, object: 'chat.completion.chunk', choices: [], usage: usageOf } }, { data: '[DONE]' }])
    }
    sendJson(res, 200, { ...common, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: '5', refusal: null }, finish_reason: 'stop', logprobs: null }], usage: usageOf })
  })
}

describe('thinking sent back to an OpenAI-wire target', () => {
  let claude: MockUpstream
  let claudeDown: MockUpstream
  let openai: MockUpstream
  let gateway: RunningGateway
  let client: OpenAI
  beforeAll(async () => {
    claude = await startUpstream(async (req, res) => {
      const content = req.body.thinking ? [{ type: 'thinking' as const, thinking: THOUGHT, signature: SIGNATURE }, text('4')] : [text('4')]
      sendMessage(res, message(content, { model: req.body.model, usage: usage({ output_tokens: 40 }) }))
    })
    claudeDown = await startUpstream(async (_req, res) => sendError(res, 529, 'overloaded_error', 'Overloaded'))
    openai = await strictOpenAI()
    gateway = await startTestGateway(`
version: 1
providers:
  claude: { plugin: anthropic, api_key: sk-ant-test, base_url: '${claude.url}' }
  claude-down: { plugin: anthropic, api_key: sk-ant-test, base_url: '${claudeDown.url}' }
  gpt: { plugin: openai, api_key: sk-test, base_url: '${openai.url}' }
routes:
  - model: sonnet
    targets: [ { provider: claude, model: claude-sonnet-4-5 } ]
  - model: gpt
    targets: [ { provider: gpt, model: gpt-4.1 } ]
  - model: gpt-cached
    cache: true
    targets: [ { provider: gpt, model: gpt-4.1 } ]
  - model: sonnet-else-gpt
    targets: [ { provider: claude-down, model: claude-sonnet-4-5 }, { provider: gpt, model: gpt-4.1 } ]
cache: { plugin: memory }
`)
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 })
  })
  afterAll(async () => {
    await gateway?.close()
    await Promise.all([claude, claudeDown, openai].map((u) => u?.close()))
  })

  /** Claude's answer to the first turn, as the SDK hands it, and the messages of the next turn carrying it. */
  async function secondTurn(): Promise<OpenAI.ChatCompletionMessageParam[]> {
    const first: OpenAI.ChatCompletionMessageParam = { role: 'user', content: 'What is 2+2?' }
    const answer = await client.chat.completions.create({ model: 'sonnet', reasoning_effort: 'low', messages: [first] })
    const said = answer.choices[0].message as OpenAI.ChatCompletionMessage & { reasoning_content?: string; thinking_blocks?: unknown[] }
    expect(said.reasoning_content).toBe(THOUGHT)
    expect(said.thinking_blocks).toHaveLength(1)
    return [first, said as OpenAI.ChatCompletionMessageParam, { role: 'user', content: 'And plus one?' }]
  }

  const sentAssistant = () => (openai.requests.at(-1)!.body.messages as Record<string, unknown>[])[1]

  it('leaves the thinking out of the next turn to an OpenAI model (passthrough), the rest of the message kept', async () => {
    const messages = await secondTurn()
    const next = await client.chat.completions.create({ model: 'gpt', messages })
    expect(next.choices[0].message.content).toBe('5')
    expect(sentAssistant()).toEqual({ role: 'assistant', content: '4', refusal: null })
  })

  it('leaves it out of a streamed turn and a turn the cache sees (the translated path)', async () => {
    const messages = await secondTurn()
    const stream = await client.chat.completions.create({ model: 'gpt', messages, stream: true })
    let content = ''
    for await (const chunk of stream) content += chunk.choices[0]?.delta.content ?? ''
    expect(content).toBe('5')
    expect(sentAssistant()).not.toHaveProperty('reasoning_content')
    const cached = await client.chat.completions.create({ model: 'gpt-cached', messages })
    expect(cached.choices[0].message.content).toBe('5')
    expect(sentAssistant()).toEqual({ role: 'assistant', content: '4', refusal: null })
  })

  it('per target: a Claude target that fails falls back to the OpenAI model, which gets no thinking, while Claude got it', async () => {
    const messages = await secondTurn()
    const next = await client.chat.completions.create({ model: 'sonnet-else-gpt', reasoning_effort: 'low', messages })
    expect(next.choices[0].message.content).toBe('5')
    const toClaude = claudeDown.requests.at(-1)!.body.messages as { content: { type: string }[] }[]
    expect(toClaude[1].content[0]).toMatchObject({ type: 'thinking', thinking: THOUGHT, signature: SIGNATURE })
    expect(sentAssistant()).not.toHaveProperty('thinking_blocks')
    expect(sentAssistant()).not.toHaveProperty('reasoning_content')
  })
})
