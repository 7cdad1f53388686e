/**
 * A Claude client (Claude Code pressing Esc) that leaves a /v1/messages stream mid-answer: the
 * output tokens Anthropic generated up to then are billed, so they are recorded. Anthropic's
 * message_start says `output_tokens: 1`; the real count comes only with message_delta at the end,
 * which a client that left never lets arrive. The usage event held the 1 (the answer's text
 * uncounted, its cost missing from analytics and budgets); it now holds at least the tokens of the
 * text the client was sent, as a cancelled OpenAI-wire stream does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { startUpstream, type MockUpstream } from '../helpers/upstream.ts'
import { sendStream, streamEvents } from '../providers/anthropic/anthropic-upstream.ts'
import { WorkerTokenizer } from '../../plugins/services/tokenizer/counter.ts'
import { anthropicUsageGateway, storedEvents, user } from './helpers.ts'
import type { RunningGateway } from '../helpers/gateway.ts'

const tokenizer = new WorkerTokenizer()
const WORDS = Array.from({ length: 60 }, (_, i) => ` sentence number ${i} of a long answer.`)
const INPUT_TOKENS = 25

describe('a client that leaves an Anthropic stream mid-answer is billed for what was generated', () => {
  let up: MockUpstream
  let gw: RunningGateway
  let cleanup: () => Promise<void>
  beforeAll(async () => {
    up = await startUpstream((_req, res) => sendStream(res, streamEvents({ text: WORDS, inputTokens: INPUT_TOKENS, outputTokens: 900 }), 20))
    ;({ gw, cleanup } = await anthropicUsageGateway(up.url))
  }, 30_000)
  afterAll(async () => { await cleanup(); await up.close() })

  it.each([
    ['/v1/messages (passed through to Anthropic)', 'messages'],
    ['/v1/chat/completions (translated)', 'chat'],
  ])('%s', async (_name, surface) => {
    let seen = ''
    let n = 0
    const who = user(`leaver-${surface}`, 'user', 'research')
    if (surface === 'messages') {
      const client = new Anthropic({ baseURL: gw.url, apiKey: 'x', maxRetries: 0, defaultHeaders: who })
      const stream = await client.messages.create({ model: 'claude', max_tokens: 1000, stream: true, messages: [{ role: 'user', content: 'Write a long answer.' }] })
      for await (const event of stream) {
        if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') seen += event.delta.text
        if (++n === 12) break
      }
    } else {
      const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'x', maxRetries: 0, defaultHeaders: who })
      for await (const c of await client.chat.completions.create({ model: 'claude', max_tokens: 1000, stream: true, messages: [{ role: 'user', content: 'Write a long answer.' }] })) {
        seen += c.choices[0]?.delta?.content ?? ''
        if (++n === 10) break
      }
    }
    const event = (await storedEvents(gw, surface === 'messages' ? 1 : 2)).find((e) => e.userId === `leaver-${surface}`)!
    expect(event).toMatchObject({ status: 499, errorType: 'client_closed_request', streamed: true })
    const seenTokens = await tokenizer.count(seen)
    expect(seenTokens).toBeGreaterThan(10)
    expect(event.completionTokens).toBeGreaterThanOrEqual(seenTokens)
    expect(event.completionTokens).toBeLessThan(900)
    expect(event.costUsd).toBeGreaterThanOrEqual((event.promptTokens * 3 + seenTokens * 15) / 1e6 - 1e-12)
  })
})
