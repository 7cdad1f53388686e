/**
 * Anthropic's extended thinking on a translated route: to an OpenAI reasoning model (o-series,
 * gpt-5) the budget becomes `reasoning_effort` (under 4,096 tokens low, under 16,384 medium, else
 * high); to a model that takes no reasoning effort it is dropped, and `x-gateway-warning` says so.
 * Per target: a fallback from gpt-4o to o3 sends o3 the effort and gpt-4o none. The budget is part of
 * the response cache's key: an answer cached at one budget is not served at another.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Anthropic from '@anthropic-ai/sdk'
import type { RunningGateway } from '../helpers/gateway.ts'
import { sendJson, sendSse, startUpstream, type MockUpstream } from '../helpers/upstream.ts'
import { gatewayWithDownUpstream, openAIChunks, openAICompletion } from './helpers.ts'

describe('/v1/messages thinking to OpenAI-wire targets', () => {
  let openai: MockUpstream
  let down: MockUpstream
  let gateway: RunningGateway
  let client: Anthropic
  beforeAll(async () => {
    // As OpenAI answers: a non-reasoning model refuses reasoning_effort.
    openai = await startUpstream(async (req, res) => {
      if (req.body.reasoning_effort != null && !/^o\d/.test(String(req.body.model))) {
        return sendJson(res, 400, { error: { message: 'Unrecognized request argument supplied: reasoning_effort', type: 'invalid_request_error', param: 'reasoning_effort', code: null } })
      }
      if (req.body.stream) return sendSse(res, openAIChunks([{ content: 'Thought it through.' }], 'stop'))
      sendJson(res, 200, openAICompletion({ message: { content: 'Thought it through.' }, finish_reason: 'stop' }))
    })
    ;({ gateway, down } = await gatewayWithDownUpstream(openai.url, `routes:
  - model: o3
    targets: [ { provider: gpt, model: o3 } ]
  - model: gpt-4o
    targets: [ { provider: gpt, model: gpt-4o } ]
  - model: fallback
    strategy: fallback
    targets: [ { provider: down, model: gpt-4o }, { provider: gpt, model: o3 } ]
  - model: o3-cached
    cache: true
    targets: [ { provider: gpt, model: o3 } ]
cache: { plugin: memory }
`))
    client = new Anthropic({ baseURL: gateway.url, apiKey: 'unused', maxRetries: 0 })
  })
  afterAll(async () => {
    await gateway.close()
    await openai.close()
    await down.close()
  })

  const ask = (model: string, thinking: Anthropic.ThinkingConfigParam, extra: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}) =>
    client.messages.create({ model, max_tokens: 20000, thinking, messages: [{ role: 'user', content: 'Prove it.' }], ...extra }).withResponse()

  it('sends an o-series model the budget as reasoning_effort, without a warning', async () => {
    const { data, response } = await ask('o3', { type: 'enabled', budget_tokens: 16384 })
    expect(data.content).toEqual([{ type: 'text', text: 'Thought it through.', citations: null }])
    expect(openai.requests.at(-1)!.body.reasoning_effort).toBe('high')
    expect(response.headers.get('x-gateway-warning')).toBeNull()
  })

  it('maps budgets under 4096 to low and under 16384 to medium', async () => {
    await ask('o3', { type: 'enabled', budget_tokens: 1024 })
    expect(openai.requests.at(-1)!.body.reasoning_effort).toBe('low')
    await ask('o3', { type: 'enabled', budget_tokens: 16383 })
    expect(openai.requests.at(-1)!.body.reasoning_effort).toBe('medium')
  })

  it('does so for a stream, as Claude Code sends it', async () => {
    const stream = client.messages.stream({ model: 'o3', max_tokens: 32000, thinking: { type: 'enabled', budget_tokens: 31999 }, messages: [{ role: 'user', content: 'Prove it.' }] })
    expect((await stream.finalMessage()).content).toEqual([{ type: 'text', text: 'Thought it through.', citations: null }])
    expect(openai.requests.at(-1)!.body.reasoning_effort).toBe('high')
  })

  it('sends no effort for disabled thinking', async () => {
    const { response } = await ask('o3', { type: 'disabled' })
    expect(openai.requests.at(-1)!.body).not.toHaveProperty('reasoning_effort')
    expect(response.headers.get('x-gateway-warning')).toBeNull()
  })

  it('lets output_config.effort win over the budget', async () => {
    await ask('o3', { type: 'enabled', budget_tokens: 31999 }, { output_config: { effort: 'low' } })
    expect(openai.requests.at(-1)!.body.reasoning_effort).toBe('low')
  })

  it('sends adaptive thinking (Claude 4.6 and later) as its effort: output_config.effort, else Anthropic\'s default, high', async () => {
    const { response } = await ask('o3', { type: 'adaptive' })
    expect(openai.requests.at(-1)!.body.reasoning_effort).toBe('high')
    expect(response.headers.get('x-gateway-warning')).toBeNull()
    await ask('o3', { type: 'adaptive' }, { output_config: { effort: 'low' } })
    expect(openai.requests.at(-1)!.body.reasoning_effort).toBe('low')
  })

  it('drops it for a model without reasoning effort, and says so', async () => {
    const { data, response } = await ask('gpt-4o', { type: 'enabled', budget_tokens: 8000 })
    expect(data.content).toEqual([{ type: 'text', text: 'Thought it through.', citations: null }])
    expect(openai.requests.at(-1)!.body).not.toHaveProperty('reasoning_effort')
    expect(response.headers.get('x-gateway-warning')).toContain("dropped 'thinking'")
  })

  it('settles it per target: a fallback to o3 gets the effort that gpt-4o did not', async () => {
    const before = down.requests.length
    await ask('fallback', { type: 'enabled', budget_tokens: 8000 })
    expect(down.requests.slice(before).every((r) => r.body.reasoning_effort === undefined)).toBe(true)
    expect(down.requests.length).toBeGreaterThan(before)
    expect(openai.requests.at(-1)!.body).toMatchObject({ model: 'o3', reasoning_effort: 'medium' })
  })

  it('keeps answers cached at different efforts apart (a cache: true route), and serves one again at the same effort', async () => {
    /** The effort the upstream was asked at for `thinking` (undefined: not asked, answered from the cache; null: none sent). */
    const cached = async (thinking: Anthropic.ThinkingConfigParam): Promise<string | null | undefined> => {
      const before = openai.requests.length
      const { data } = await ask('o3-cached', thinking, { messages: [{ role: 'user', content: 'Prove it, cached.' }] })
      expect(data.content).toEqual([{ type: 'text', text: 'Thought it through.', citations: null }])
      const sent = openai.requests.slice(before)
      expect(sent.length).toBeLessThanOrEqual(1)
      return sent.length ? (sent[0].body.reasoning_effort ?? null) : undefined
    }
    expect(await cached({ type: 'enabled', budget_tokens: 1024 })).toBe('low')
    // Another budget is another effort: not the low answer from the cache; nor is thinking disabled.
    expect(await cached({ type: 'enabled', budget_tokens: 31999 })).toBe('high')
    expect(await cached({ type: 'disabled' })).toBeNull()
    // Adaptive thinking is neither: asked at its effort, not served the disabled answer.
    expect(await cached({ type: 'adaptive' })).toBe('high')
    // The same budget again: from the cache, the upstream not called.
    expect(await cached({ type: 'enabled', budget_tokens: 1024 })).toBeUndefined()
    // Another budget of the same effort is another key (a Gemini 2.5 or Claude target is sent the budget itself).
    expect(await cached({ type: 'enabled', budget_tokens: 2048 })).toBe('low')
    expect(await cached({ type: 'enabled', budget_tokens: 2048 })).toBeUndefined()
    expect(await cached({ type: 'enabled', budget_tokens: 31999 })).toBeUndefined()
    expect(await cached({ type: 'disabled' })).toBeUndefined()
  })
})
