/**
 * /v1/messages translated for an OpenAI-compatible target that is stricter than OpenAI about the
 * shape of a message: Groq refuses a system message whose content is not a string. Claude Code, and
 * any client that marks `cache_control`, always sends `system` as blocks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Anthropic from '@anthropic-ai/sdk'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { sendJson, startUpstream, type MockUpstream } from '../helpers/upstream.ts'
import { groqDialect } from '../providers/openai/wire-fixtures.ts'

/** Groq's answer to a system message with content parts (its wording, as its API sends it). */
const GROQ_SYSTEM_REFUSAL = {
  error: { message: "'messages.0' : for 'role:system' the following must be satisfied[('messages.0.content' : value must be a string)]", type: 'invalid_request_error' },
}

describe('/v1/messages to a Groq target', () => {
  let groq: MockUpstream
  let gateway: RunningGateway
  let client: Anthropic
  beforeAll(async () => {
    groq = await startUpstream((req, res) => {
      const system = (req.body.messages as { role: string; content: unknown }[]).find((m) => m.role === 'system')
      if (system && typeof system.content !== 'string') return sendJson(res, 400, GROQ_SYSTEM_REFUSAL)
      sendJson(res, 200, groqDialect.completion(String(req.body.model), { content: 'Short answer.' }))
    })
    gateway = await startTestGateway(`
version: 1
providers:
  groq: { plugin: groq, api_key: gsk-upstream-key, base_url: '${groq.url}' }
routes:
  - model: fast
    targets: [ { provider: groq, model: llama-3.3-70b-versatile } ]
`)
    client = new Anthropic({ baseURL: gateway.url, apiKey: 'unused', maxRetries: 0 })
  })
  afterAll(async () => {
    await gateway.close()
    await groq.close()
  })

  it('sends a system prompt given as blocks with cache_control as one string, a paragraph a block', async () => {
    const res = await client.messages.create({
      model: 'fast', max_tokens: 50,
      system: [
        { type: 'text', text: 'You are a terse assistant.' },
        { type: 'text', text: 'Answer in one sentence.', cache_control: { type: 'ephemeral' } },
      ],
      messages: [{ role: 'user', content: 'What is a gateway?' }],
    })
    expect(res.content).toEqual([{ type: 'text', text: 'Short answer.', citations: null }])
    expect(groq.requests.at(-1)!.body.messages[0]).toEqual({ role: 'system', content: 'You are a terse assistant.\n\nAnswer in one sentence.' })
  })

  it('sends a system prompt given as a string unchanged', async () => {
    await client.messages.create({ model: 'fast', max_tokens: 50, system: 'Be brief.', messages: [{ role: 'user', content: 'Hi' }] })
    expect(groq.requests.at(-1)!.body.messages[0]).toEqual({ role: 'system', content: 'Be brief.' })
  })
})
