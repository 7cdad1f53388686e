/**
 * OpenAI's reasoning_effort to Claude, as LiteLLM maps it: Claude 4.6 and later think adaptively at
 * that effort (`thinking: adaptive` + `output_config.effort`), Claude 3.7 to 4.5 on a budget (low 1,024,
 * medium 2,048, high 4,096) that max_tokens must exceed; older models cannot think (a warning). The
 * answer's thinking comes back as `reasoning_content` (and the signed `thinking_blocks`, which a client
 * sends back on its next turn), streamed as deltas; thinking tokens as reasoning tokens.
 * The mock upstream refuses what Anthropic refuses, so a wrong mapping fails as it would in production.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import type { ContentBlock } from '@anthropic-ai/sdk/resources/messages'
import { startTestGateway, type RunningGateway } from '../../helpers/gateway.ts'
import { startUpstream, type MockUpstream } from '../../helpers/upstream.ts'
import { message, sendError, sendMessage, sendStream, text, thinkingStream, toolUse, usage } from './anthropic-upstream.ts'

const THOUGHT = 'The user wants 2+2. That is 4.'
const SIGNATURE = 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds'

/** What Anthropic refuses of a thinking request, as its 400 says it. */
function refusal(body: Record<string, any>): string | undefined {
  const thinking = body.thinking
  if (!thinking) return undefined
  const adaptiveModel = /claude-(?:opus|sonnet)-4-[67]/.test(body.model)
  if (thinking.type === 'adaptive' && !adaptiveModel) return 'adaptive thinking is not supported on this model'
  // Opus 4.7 introduced xhigh; 4.6 has low, medium, high and max.
  if (body.output_config?.effort === 'xhigh' && /-4-6/.test(body.model)) return 'output_config.effort: xhigh is not supported on this model'
  if (thinking.type === 'enabled') {
    if (thinking.budget_tokens < 1024) return 'thinking.enabled.budget_tokens: Input should be greater than or equal to 1024'
    if (body.max_tokens <= thinking.budget_tokens) return '`max_tokens` must be greater than `thinking.budget_tokens`'
  }
  if (body.temperature !== undefined && body.temperature !== 1) return '`temperature` may only be set to 1 when thinking is enabled'
  if (body.top_p !== undefined && body.top_p < 0.95) return '`top_p` must be greater than or equal to 0.95 when thinking is enabled'
  if (body.tool_choice?.type === 'any' || body.tool_choice?.type === 'tool') return 'Thinking may not be enabled when tool_choice forces tool use.'
  return undefined
}

describe('anthropic: reasoning_effort as thinking, and the thinking back as reasoning_content', () => {
  let upstream: MockUpstream
  let gateway: RunningGateway
  let client: OpenAI
  const last = () => upstream.requests.at(-1)!.body as Record<string, any>
  beforeAll(async () => {
    upstream = await startUpstream(async (req, res) => {
      const body = req.body as Record<string, any>
      const refused = refusal(body)
      if (refused) return sendError(res, 400, 'invalid_request_error', refused)
      if (body.stream) return sendStream(res, thinkingStream(['The user wants 2+2. ', 'That is 4.'], SIGNATURE))
      const content: ContentBlock[] = body.thinking ? [{ type: 'thinking', thinking: THOUGHT, signature: SIGNATURE }, text('4')] : [text('4')]
      sendMessage(res, message(content, { model: body.model, usage: usage({ output_tokens: 40, output_tokens_details: body.thinking ? { thinking_tokens: 31 } : null }) }))
    })
    gateway = await startTestGateway(`
version: 1
providers:
  claude: { plugin: anthropic, api_key: sk-ant-test, base_url: '${upstream.url}' }
  claude-sampling: { plugin: anthropic, api_key: sk-ant-test, base_url: '${upstream.url}', anthropic_version: '2023-06-01' }
routes:
  - model: sonnet-4-6
    targets: [ { provider: claude, model: claude-sonnet-4-6 } ]
  - model: sonnet-4-5
    targets: [ { provider: claude, model: claude-sonnet-4-5-20250929 } ]
  - model: opus-4-7
    targets: [ { provider: claude, model: claude-opus-4-7 } ]
  - model: sonnet-4-5-sampling
    targets: [ { provider: claude-sampling, model: claude-sonnet-4-5 } ]
  - model: haiku-3-5
    targets: [ { provider: claude, model: claude-3-5-haiku-latest } ]
  - model: sonnet-4-5-cached
    cache: true
    targets: [ { provider: claude, model: claude-sonnet-4-5 } ]
cache: { plugin: memory }
`)
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 })
  })
  afterAll(async () => {
    await gateway.close()
    await upstream.close()
  })

  const ask = (model: string, extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}) =>
    client.chat.completions.create({ model, messages: [{ role: 'user', content: 'What is 2+2?' }], ...extra }).withResponse()

  it('thinks adaptively on Claude 4.6 at the effort asked, and answers with reasoning_content, thinking_blocks and reasoning tokens', async () => {
    const { data, response } = await ask('sonnet-4-6', { reasoning_effort: 'high' })
    expect(last()).toMatchObject({ model: 'claude-sonnet-4-6', thinking: { type: 'adaptive' }, output_config: { effort: 'high' } })
    const answer = data.choices[0].message as OpenAI.ChatCompletionMessage & { reasoning_content?: string; thinking_blocks?: unknown }
    expect(answer.content).toBe('4')
    expect(answer.reasoning_content).toBe(THOUGHT)
    expect(answer.thinking_blocks).toEqual([{ type: 'thinking', thinking: THOUGHT, signature: SIGNATURE }])
    expect(data.usage?.completion_tokens_details?.reasoning_tokens).toBe(31)
    expect(response.headers.get('x-gateway-warning')).toBeNull()
  })

  it('sends xhigh to a Claude that has it (Opus 4.7), and as its highest effort, max, to Claude 4.6, which has none, with a warning', async () => {
    const { response: opus } = await ask('opus-4-7', { reasoning_effort: 'xhigh' })
    expect(last()).toMatchObject({ thinking: { type: 'adaptive' }, output_config: { effort: 'xhigh' } })
    expect(opus.headers.get('x-gateway-warning')).toBeNull()
    const { data, response } = await ask('sonnet-4-6', { reasoning_effort: 'xhigh' })
    expect(last()).toMatchObject({ model: 'claude-sonnet-4-6', thinking: { type: 'adaptive' }, output_config: { effort: 'max' } })
    expect((data.choices[0].message as { reasoning_content?: string }).reasoning_content).toBe(THOUGHT)
    expect(response.headers.get('x-gateway-warning')).toContain("'reasoning_effort'")
    expect(response.headers.get('x-gateway-warning')).toContain("'max'")
  })

  it.each([['low', 1024], ['medium', 2048], ['high', 4096], ['minimal', 1024]] as const)('gives Claude 4.5 a budget for %s effort: %d tokens', async (effort, budget) => {
    const { data } = await ask('sonnet-4-5', { reasoning_effort: effort })
    expect(last().thinking).toEqual({ type: 'enabled', budget_tokens: budget })
    expect(last()).not.toHaveProperty('output_config')
    expect(last().max_tokens).toBeGreaterThan(budget)
    expect((data.choices[0].message as { reasoning_content?: string }).reasoning_content).toBe(THOUGHT)
  })

  it('raises a max_tokens the client did not set past the budget (a default of 8192 under xhigh 8192)', async () => {
    await ask('sonnet-4-5', { reasoning_effort: 'xhigh' })
    expect(last().thinking).toEqual({ type: 'enabled', budget_tokens: 8192 })
    expect(last().max_tokens).toBe(8192 + 8192)
  })

  it('lowers the budget to fit a max_tokens the client set, and says so', async () => {
    const { response } = await ask('sonnet-4-5', { reasoning_effort: 'high', max_completion_tokens: 3000 })
    expect(last()).toMatchObject({ max_tokens: 3000, thinking: { type: 'enabled', budget_tokens: 1500 } })
    expect(response.headers.get('x-gateway-warning')).toContain("'reasoning_effort'")
  })

  it('leaves thinking out when max_tokens has no room for the least budget', async () => {
    const { data, response } = await ask('sonnet-4-5', { reasoning_effort: 'low', max_tokens: 1024 })
    expect(last()).not.toHaveProperty('thinking')
    expect(last().max_tokens).toBe(1024)
    expect(data.choices[0].message.content).toBe('4')
    expect(response.headers.get('x-gateway-warning')).toContain("dropped 'reasoning_effort'")
  })

  it('drops a temperature and a top_p Anthropic refuses while thinking', async () => {
    const { response } = await ask('sonnet-4-5-sampling', { reasoning_effort: 'low', temperature: 0.2, top_p: 0.5 })
    expect(last().thinking).toEqual({ type: 'enabled', budget_tokens: 1024 })
    expect(last()).not.toHaveProperty('temperature')
    expect(last()).not.toHaveProperty('top_p')
    const warning = response.headers.get('x-gateway-warning')
    expect(warning).toContain("'temperature'")
    expect(warning).toContain("'top_p'")
  })

  it('does not think while tool_choice forces a tool, and says so', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'add', parameters: { type: 'object', properties: {} } } }]
    const { response } = await ask('sonnet-4-5', { reasoning_effort: 'low', tools, tool_choice: 'required' })
    expect(last()).not.toHaveProperty('thinking')
    expect(last().tool_choice).toEqual({ type: 'any' })
    expect(response.headers.get('x-gateway-warning')).toContain("dropped 'reasoning_effort'")
  })

  it('sends thinking_blocks back before the tool call of the turn, so a tool loop keeps thinking', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'add', parameters: { type: 'object', properties: {} } } }]
    const assistant = {
      role: 'assistant', content: null, thinking_blocks: [{ type: 'thinking', thinking: THOUGHT, signature: SIGNATURE }],
      tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'add', arguments: '{}' } }],
    } as OpenAI.ChatCompletionAssistantMessageParam
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'What is 2+2?' }, assistant, { role: 'tool', tool_call_id: 'toolu_1', content: '4' }]
    const { response } = await ask('sonnet-4-5', { reasoning_effort: 'low', tools, messages })
    expect(last().messages[1]).toEqual({ role: 'assistant', content: [{ type: 'thinking', thinking: THOUGHT, signature: SIGNATURE }, toolUse('toolu_1', 'add', {})].map(({ caller: _, ...b }: any) => b) })
    expect(last().thinking).toEqual({ type: 'enabled', budget_tokens: 1024 })
    expect(response.headers.get('x-gateway-warning')).toBeNull()
    // Without them Anthropic would refuse the turn: thinking is left out, and the client told why.
    const bare = { ...assistant } as Record<string, unknown>
    delete bare.thinking_blocks
    const { response: without } = await ask('sonnet-4-5', { reasoning_effort: 'low', tools, messages: [messages[0], bare as never, messages[2]] })
    expect(last()).not.toHaveProperty('thinking')
    expect(without.headers.get('x-gateway-warning')).toContain('thinking_blocks')
  })

  it('reports reasoning_effort dropped for a model that cannot think', async () => {
    const { data, response } = await ask('haiku-3-5', { reasoning_effort: 'high' })
    expect(last()).not.toHaveProperty('thinking')
    expect(last()).not.toHaveProperty('output_config')
    expect(data.choices[0].message.content).toBe('4')
    expect(response.headers.get('x-gateway-warning')).toContain("dropped 'reasoning_effort'")
  })

  it('sends no thinking for reasoning_effort none', async () => {
    const { response } = await ask('sonnet-4-6', { reasoning_effort: 'none' })
    expect(last()).not.toHaveProperty('thinking')
    expect(response.headers.get('x-gateway-warning')).toBeNull()
  })

  it('streams the thinking as reasoning_content deltas, then the signed block, then the answer', async () => {
    const stream = await client.chat.completions.create({ model: 'sonnet-4-5', reasoning_effort: 'medium', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'What is 2+2?' }] })
    let reasoning = ''
    let content = ''
    const blocks: unknown[] = []
    let reasoningTokens: number | undefined
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as (OpenAI.ChatCompletionChunk.Choice.Delta & { reasoning_content?: string; thinking_blocks?: unknown[] }) | undefined
      reasoning += delta?.reasoning_content ?? ''
      content += delta?.content ?? ''
      blocks.push(...(delta?.thinking_blocks ?? []))
      reasoningTokens ??= chunk.usage?.completion_tokens_details?.reasoning_tokens
    }
    expect(last().thinking).toEqual({ type: 'enabled', budget_tokens: 2048 })
    expect(reasoning).toBe(THOUGHT)
    expect(blocks).toEqual([{ type: 'thinking', thinking: THOUGHT, signature: SIGNATURE }])
    expect(content).toBe('4')
    expect(reasoningTokens).toBe(31)
  })

  it('replays a cached answer\'s thinking to a client that streams: reasoning_content and the signed block, before the text', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Cached: what is 2+2?' }]
    await client.chat.completions.create({ model: 'sonnet-4-5-cached', reasoning_effort: 'low', messages })
    const before = upstream.requests.length
    const stream = await client.chat.completions.create({ model: 'sonnet-4-5-cached', reasoning_effort: 'low', stream: true, messages })
    const deltas: Array<{ reasoning_content?: string; thinking_blocks?: unknown[]; content?: string | null }> = []
    for await (const chunk of stream) if (chunk.choices[0]) deltas.push(chunk.choices[0].delta as never)
    expect(upstream.requests.length).toBe(before)
    expect(deltas.map((d) => d.reasoning_content ?? '').join('')).toBe(THOUGHT)
    expect(deltas.flatMap((d) => d.thinking_blocks ?? [])).toEqual([{ type: 'thinking', thinking: THOUGHT, signature: SIGNATURE }])
    const firstText = deltas.findIndex((d) => d.content)
    expect(deltas.findIndex((d) => d.reasoning_content)).toBeLessThan(firstText)
    expect(deltas.map((d) => d.content ?? '').join('')).toBe('4')
  })
})
