/**
 * One model is one row in analytics whichever API the client spoke. Anthropic answers a request
 * for `claude-sonnet-4-5` as `claude-sonnet-4-5-20250929`; a request passed through from
 * /v1/messages (Claude Code) was recorded under that dated name while the same target called from
 * /v1/chat/completions was recorded under the route's `claude-sonnet-4-5`, so `group_by=model`
 * split one model's cost in two. Every call is now recorded under the model its target names.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { startUpstream, type MockUpstream } from '../helpers/upstream.ts'
import { message, sendMessage, sendStream, streamEvents, text } from '../providers/anthropic/anthropic-upstream.ts'
import type { RunningGateway } from '../helpers/gateway.ts'
import { anthropicUsageGateway, storedEvents, user } from './helpers.ts'

const DATED = 'claude-sonnet-4-5-20250929'

describe('a model is recorded under one name whichever surface called it', () => {
  let up: MockUpstream
  let gw: RunningGateway
  let cleanup: () => Promise<void>
  beforeAll(async () => {
    up = await startUpstream((req, res) => req.body.stream
      ? sendStream(res, streamEvents({ text: ['hi'] }).map((e) => (e.type === 'message_start' ? { ...e, message: { ...e.message, model: DATED } } : e)))
      : sendMessage(res, message([text('hi')], { model: DATED })))
    ;({ gw, cleanup } = await anthropicUsageGateway(up.url))
  }, 30_000)
  afterAll(async () => { await cleanup(); await up.close() })

  it('/v1/messages (passed through) and /v1/chat/completions (translated), streamed and not, are one row of group_by=model', async () => {
    const who = user('root', 'admin')
    const claude = new Anthropic({ baseURL: gw.url, apiKey: 'x', maxRetries: 0, defaultHeaders: who })
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'x', maxRetries: 0, defaultHeaders: who })
    const messages = [{ role: 'user' as const, content: 'hi' }]
    await claude.messages.create({ model: 'claude', max_tokens: 100, messages })
    for await (const _ of await claude.messages.create({ model: 'claude', max_tokens: 100, messages, stream: true })) { /* drain */ }
    await openai.chat.completions.create({ model: 'claude', max_tokens: 100, messages })
    for await (const _ of await openai.chat.completions.create({ model: 'claude', max_tokens: 100, messages, stream: true })) { /* drain */ }
    await storedEvents(gw, 4)
    const rows = (await (await fetch(`${gw.url}/api/v1/analytics/usage?group_by=model`, { headers: who })).json()).data
    expect(rows.map((r: { group: string; requests: number }) => [r.group, r.requests])).toEqual([['claude-sonnet-4-5', 4]])
  })
})
