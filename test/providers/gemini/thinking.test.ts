/**
 * Thinking to Gemini, as LiteLLM maps it: the 2.5 series take a token budget (`thinkingBudget`:
 * reasoning_effort low 1,024, medium 2,048, high 4,096; an Anthropic client's budget as it is, within
 * the model's most), Gemini 3 a level; both with `includeThoughts`, so the thought summaries come back
 * as `reasoning_content` (OpenAI clients) or thinking blocks (Anthropic clients), streamed or not, and
 * `thoughtsTokenCount` as reasoning tokens. Gemini 2.0 cannot think: a warning.
 * The mock upstream answers as generateContent does: thoughts only when asked (`includeThoughts`), and a
 * 400 for a thinking level on 2.5 or a budget out of its range.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import Anthropic from '@anthropic-ai/sdk'
import { startTestGateway, type RunningGateway } from '../../helpers/gateway.ts'
import { sendJson, type RecordedRequest } from '../../helpers/upstream.ts'
import type http from 'node:http'
import { API_KEY, generatePath, generateResponse, googleError, sendGeminiStream, startGeminiUpstream, streamPath, type GeminiPart } from './gemini-upstream.ts'
import type { RoutedUpstream } from '../../helpers/upstream.ts'

const THOUGHT = '**Adding numbers** Two and two make four.'
const TEXT_SIGNATURE = 'CiQB0e2Kb7gemini3textsignature0000000000'
const USAGE = { promptTokenCount: 9, candidatesTokenCount: 1, thoughtsTokenCount: 25, totalTokenCount: 35 }

/** What generateContent refuses of a thinking config, as its 400 says it. */
function refusal(model: string, thinking: Record<string, unknown> | undefined): string | undefined {
  if (!thinking) return undefined
  if (model.startsWith('gemini-2.0')) return 'Thinking is not enabled for models/gemini-2.0-flash'
  if (model.startsWith('gemini-2.5') && thinking.thinkingLevel !== undefined) return 'Thinking level is not supported for this model.'
  const budget = thinking.thinkingBudget as number | undefined
  if ((model.startsWith('gemini-2.5-pro') || model.startsWith('gemini-3')) && budget === 0) return 'Budget 0 is invalid. This model only works in thinking mode.'
  if (model.startsWith('gemini-3-pro') && thinking.thinkingLevel === 'MINIMAL') return 'Thinking level MINIMAL is not supported for this model.'
  if (model.startsWith('gemini-2.5-pro') && budget !== undefined && budget !== -1 && (budget < 128 || budget > 32_768)) return 'The thinking budget is invalid. Please set it within 128 to 32768.'
  if (model.startsWith('gemini-2.5-flash') && budget !== undefined && budget > 24_576) return 'The thinking budget is invalid. Please set it within 0 to 24576.'
  return undefined
}

function answer(model: string, stream: boolean) {
  return async (req: RecordedRequest, res: http.ServerResponse) => {
    const thinking = (req.body.generationConfig as { thinkingConfig?: Record<string, unknown> }).thinkingConfig
    const refused = refusal(model, thinking)
    if (refused) return sendJson(res, 400, googleError(400, 'INVALID_ARGUMENT', refused))
    const thoughts: GeminiPart[] = thinking?.includeThoughts ? [{ text: '**Adding numbers** ', thought: true }, { text: 'Two and two make four.', thought: true }] : []
    // Asked to, it signs its answer's text as Gemini 3 does (streamed: in a last, empty part).
    const signed = JSON.stringify(req.body.contents).includes('Sign') ? { thoughtSignature: TEXT_SIGNATURE } : {}
    if (!stream) return sendJson(res, 200, generateResponse([...thoughts, { text: '4', ...signed }], { usage: USAGE, modelVersion: model }))
    await sendGeminiStream(res, [
      ...thoughts.map((part) => ({ candidates: [{ content: { role: 'model', parts: [part] }, index: 0 }], modelVersion: model })),
      generateResponse([{ text: '4' }, ...('thoughtSignature' in signed ? [{ text: '', ...signed }] : [])], { usage: USAGE, modelVersion: model }),
    ])
  }
}

describe('gemini: thinking asked for, and its thoughts back', () => {
  let upstream: RoutedUpstream
  let gateway: RunningGateway
  let openai: OpenAI
  let anthropic: Anthropic
  const config = () => (upstream.requests.at(-1)!.body.generationConfig as { thinkingConfig?: unknown }).thinkingConfig
  beforeAll(async () => {
    const models = ['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-3-pro-preview', 'gemini-3-flash-preview', 'gemini-2.0-flash']
    upstream = await startGeminiUpstream(Object.fromEntries(models.flatMap((m) => [[generatePath(m), answer(m, false)], [streamPath(m), answer(m, true)]])))
    gateway = await startTestGateway(`
version: 1
providers:
  gemini: { plugin: gemini, api_key: ${API_KEY}, base_url: '${upstream.url}' }
routes:
${models.map((m) => `  - model: ${m}\n    targets: [ { provider: gemini, model: ${m} } ]`).join('\n')}
`)
    openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 })
    anthropic = new Anthropic({ baseURL: gateway.url, apiKey: 'unused', maxRetries: 0 })
  })
  afterAll(async () => {
    await gateway.close()
    await upstream.close()
  })

  const ask = (model: string, extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}) =>
    openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'What is 2+2?' }], ...extra }).withResponse()

  it.each([['low', 1024], ['medium', 2048], ['high', 4096]] as const)('sends Gemini 2.5 reasoning_effort %s as a budget of %d tokens, and answers with reasoning_content', async (effort, budget) => {
    const { data, response } = await ask('gemini-2.5-flash', { reasoning_effort: effort })
    expect(config()).toEqual({ thinkingBudget: budget, includeThoughts: true })
    const message = data.choices[0].message as OpenAI.ChatCompletionMessage & { reasoning_content?: string }
    expect(message.content).toBe('4')
    expect(message.reasoning_content).toBe(THOUGHT)
    expect(data.usage?.completion_tokens_details?.reasoning_tokens).toBe(25)
    expect(response.headers.get('x-gateway-warning')).toBeNull()
  })

  it('turns Gemini 2.5 Flash thinking off for reasoning_effort none, and gives 2.5 Pro (which cannot) its least budget, with a warning', async () => {
    const { response: flash } = await ask('gemini-2.5-flash', { reasoning_effort: 'none' })
    expect(config()).toEqual({ thinkingBudget: 0 })
    expect(flash.headers.get('x-gateway-warning')).toBeNull()
    const { data, response } = await ask('gemini-2.5-pro', { reasoning_effort: 'none' })
    expect(config()).toEqual({ thinkingBudget: 128 })
    expect(data.choices[0].message.content).toBe('4')
    expect(response.headers.get('x-gateway-warning')).toContain("'reasoning_effort'")
    expect(response.headers.get('x-gateway-warning')).toContain('128')
  })

  it('gives Gemini 3 (which cannot stop thinking) its least level for reasoning_effort none: low on Pro, minimal on Flash, with a warning', async () => {
    const { data, response } = await ask('gemini-3-pro-preview', { reasoning_effort: 'none' })
    expect(config()).toEqual({ thinkingLevel: 'LOW' })
    expect(data.choices[0].message.content).toBe('4')
    expect(response.headers.get('x-gateway-warning')).toContain("'reasoning_effort'")
    const { data: flash } = await ask('gemini-3-flash-preview', { reasoning_effort: 'none' })
    expect(config()).toEqual({ thinkingLevel: 'MINIMAL' })
    expect(flash.choices[0].message.content).toBe('4')
  })

  it('sends Gemini 3 reasoning_effort as a level, with its thoughts', async () => {
    const { data } = await ask('gemini-3-pro-preview', { reasoning_effort: 'high' })
    expect(config()).toEqual({ thinkingLevel: 'HIGH', includeThoughts: true })
    expect((data.choices[0].message as { reasoning_content?: string }).reasoning_content).toBe(THOUGHT)
  })

  it('reports reasoning_effort dropped for Gemini 2.0, which cannot think', async () => {
    const { data, response } = await ask('gemini-2.0-flash', { reasoning_effort: 'low' })
    expect(config()).toBeUndefined()
    expect(data.choices[0].message.content).toBe('4')
    expect(response.headers.get('x-gateway-warning')).toContain("dropped 'reasoning_effort'")
  })

  it('streams the thoughts as reasoning_content deltas before the answer', async () => {
    const stream = await openai.chat.completions.create({ model: 'gemini-2.5-flash', reasoning_effort: 'medium', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'What is 2+2?' }] })
    let reasoning = ''
    let content = ''
    let reasoningTokens: number | undefined
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as { reasoning_content?: string; content?: string | null } | undefined
      if (delta?.reasoning_content) expect(content).toBe('')
      reasoning += delta?.reasoning_content ?? ''
      content += delta?.content ?? ''
      reasoningTokens ??= chunk.usage?.completion_tokens_details?.reasoning_tokens
    }
    expect(config()).toEqual({ thinkingBudget: 2048, includeThoughts: true })
    expect(reasoning).toBe(THOUGHT)
    expect(content).toBe('4')
    expect(reasoningTokens).toBe(25)
  })

  it('gives the thought signature of Gemini 3\'s answer text as a thinking block marked Gemini\'s, and sends it back on that text', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Sign: what is 2+2?' }]
    const { data } = await ask('gemini-3-flash-preview', { reasoning_effort: 'low', messages })
    const message = data.choices[0].message as OpenAI.ChatCompletionMessage & { thinking_blocks?: unknown[] }
    expect(message.thinking_blocks).toEqual([{ type: 'thinking', thinking: '', signature: TEXT_SIGNATURE, origin: 'gemini' }])
    await ask('gemini-3-flash-preview', { messages: [...messages, message as OpenAI.ChatCompletionMessageParam, { role: 'user', content: 'And 3+3?' }] })
    expect((upstream.requests.at(-1)!.body.contents as { parts: GeminiPart[] }[])[1]!.parts).toEqual([{ text: '4', thoughtSignature: TEXT_SIGNATURE }])

    // Streamed: on the last delta, after the text.
    const blocks: unknown[] = []
    for await (const chunk of await openai.chat.completions.create({ model: 'gemini-3-flash-preview', reasoning_effort: 'low', stream: true, messages })) {
      blocks.push(...((chunk.choices[0]?.delta as { thinking_blocks?: unknown[] } | undefined)?.thinking_blocks ?? []))
    }
    expect(blocks).toEqual([{ type: 'thinking', thinking: '', signature: TEXT_SIGNATURE, origin: 'gemini' }])

    // An Anthropic client is not given it as a thinking block: sent back to Claude, Anthropic would refuse it.
    const answer = await anthropic.messages.create({ model: 'gemini-3-flash-preview', max_tokens: 4000, thinking: { type: 'adaptive' }, messages: [{ role: 'user', content: 'Sign: what is 2+2?' }] })
    expect(answer.content).toEqual([{ type: 'thinking', thinking: THOUGHT, signature: '' }, { type: 'text', text: '4', citations: null }])
    const streamed = await anthropic.messages.stream({ model: 'gemini-3-flash-preview', max_tokens: 4000, thinking: { type: 'adaptive' }, messages: [{ role: 'user', content: 'Sign: what is 2+2?' }] }).finalMessage()
    expect(streamed.content).toEqual([{ type: 'thinking', thinking: THOUGHT, signature: '' }, { type: 'text', text: '4', citations: null }])
  })

  it('sends an Anthropic client\'s thinking budget as it is, and answers with a thinking block and thinking tokens', async () => {
    const { data, response } = await anthropic.messages.create({
      model: 'gemini-2.5-pro', max_tokens: 16000, thinking: { type: 'enabled', budget_tokens: 10000 }, messages: [{ role: 'user', content: 'What is 2+2?' }],
    }).withResponse()
    expect(config()).toEqual({ thinkingBudget: 10000, includeThoughts: true })
    expect(data.content).toEqual([{ type: 'thinking', thinking: THOUGHT, signature: '' }, { type: 'text', text: '4', citations: null }])
    expect(data.usage.output_tokens_details).toEqual({ thinking_tokens: 25 })
    expect(response.headers.get('x-gateway-warning')).toBeNull()
  })

  it('keeps Claude Code\'s largest budget within what Gemini 2.5 Flash takes, and streams the thinking block', async () => {
    const stream = anthropic.messages.stream({ model: 'gemini-2.5-flash', max_tokens: 32000, thinking: { type: 'enabled', budget_tokens: 31999 }, messages: [{ role: 'user', content: 'What is 2+2?' }] })
    const final = await stream.finalMessage()
    expect(config()).toEqual({ thinkingBudget: 24576, includeThoughts: true })
    expect(final.content).toEqual([{ type: 'thinking', thinking: THOUGHT, signature: '' }, { type: 'text', text: '4', citations: null }])
  })

  it('sends an Anthropic client\'s adaptive thinking to Gemini 2.5 as its dynamic budget, to Gemini 3 as its effort\'s level, with thoughts back', async () => {
    const data = await anthropic.messages.create({ model: 'gemini-2.5-flash', max_tokens: 4000, thinking: { type: 'adaptive' }, messages: [{ role: 'user', content: 'What is 2+2?' }] })
    expect(config()).toEqual({ thinkingBudget: -1, includeThoughts: true })
    expect(data.content[0]).toEqual({ type: 'thinking', thinking: THOUGHT, signature: '' })
    await anthropic.messages.create({ model: 'gemini-3-pro-preview', max_tokens: 4000, thinking: { type: 'adaptive' }, output_config: { effort: 'low' }, messages: [{ role: 'user', content: 'What is 2+2?' }] })
    expect(config()).toEqual({ thinkingLevel: 'LOW', includeThoughts: true })
  })
})
