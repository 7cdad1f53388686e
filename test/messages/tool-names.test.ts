/**
 * Tool names longer than OpenAI's 64 characters (Anthropic takes 128; Claude Code names MCP tools
 * `mcp__<plugin>_<server>__<tool>`) on a route to an OpenAI-wire target: the official SDK's tool
 * round trip, whole and streamed, against an upstream that refuses a longer name as OpenAI does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Anthropic from '@anthropic-ai/sdk'
import type { Tool } from '@anthropic-ai/sdk/resources/messages'
import type { RunningGateway } from '../helpers/gateway.ts'
import { sendJson, sendSse, startUpstream, type MockUpstream } from '../helpers/upstream.ts'
import { claudeClientOnGpt, openAIChunks, openAICompletion, WEATHER_TOOL } from './helpers.ts'

const LONG_NAME = 'mcp__plugin_atlassian-cloud_atlassian__getJiraProjectIssueTypesMetadataForProject'
const LONG_TOOL: Tool = { name: LONG_NAME, description: 'Issue types of a Jira project.', input_schema: { type: 'object', properties: { project: { type: 'string' } } } }

/** Every function name the request carries, as OpenAI checks them. */
function namesIn(body: any): string[] {
  return [
    ...(body.tools ?? []).map((t: any) => t.function.name),
    ...(typeof body.tool_choice === 'object' ? [body.tool_choice.function.name] : []),
    ...(body.messages ?? []).flatMap((m: any) => (m.tool_calls ?? []).map((c: any) => c.function.name)),
  ]
}

describe('a tool name over 64 characters, through an OpenAI-wire target', () => {
  let openai: MockUpstream
  let gateway: RunningGateway
  let client: Anthropic
  beforeAll(async () => {
    openai = await startUpstream((req, res) => {
      const tooLong = namesIn(req.body).find((name) => name.length > 64)
      if (tooLong) {
        return sendJson(res, 400, { error: { message: `Invalid 'tools[0].function.name': string too long. Expected a string with maximum length 64, but got a string with length ${tooLong.length} instead.`, type: 'invalid_request_error', param: 'tools[0].function.name', code: 'string_above_max_length' } })
      }
      // The model calls the tool by the name it was given.
      const call = { id: 'call_jira', type: 'function', function: { name: req.body.tools[0].function.name, arguments: '{"project":"OPS"}' } }
      if (!req.body.stream) return sendJson(res, 200, openAICompletion({ message: { tool_calls: [call] }, finish_reason: 'tool_calls' }))
      return sendSse(res, openAIChunks([{ tool_calls: [{ index: 0, ...call }] }], 'tool_calls'))
    })
    ;({ gateway, client } = await claudeClientOnGpt(openai.url))
  })
  afterAll(async () => {
    await gateway.close()
    await openai.close()
  })

  const ask = { model: 'gpt', max_tokens: 100, tools: [LONG_TOOL, WEATHER_TOOL], messages: [{ role: 'user' as const, content: 'Issue types of OPS?' }] }

  it('reaches the upstream within 64 characters, and the tool_use comes back under the client\'s name', async () => {
    const res = await client.messages.create({ ...ask, tool_choice: { type: 'tool', name: LONG_NAME } })
    expect(res.content).toEqual([{ type: 'tool_use', id: 'call_jira', name: LONG_NAME, input: { project: 'OPS' }, caller: { type: 'direct' } }])
    expect(res.stop_reason).toBe('tool_use')
    const sent = openai.requests.at(-1)!.body
    const [short, weather] = sent.tools.map((t: any) => t.function.name)
    expect(short.length).toBeLessThanOrEqual(64)
    expect(short.startsWith('mcp__plugin_atlassian-cloud_atlassian__')).toBe(true)
    expect(weather).toBe('get_weather')
    expect(sent.tool_choice).toEqual({ type: 'function', function: { name: short } })
  })

  it('streams the tool_use under the client\'s name, which the SDK\'s stream helper assembles', async () => {
    const final = await client.messages.stream(ask).finalMessage()
    expect(final.content).toEqual([{ type: 'tool_use', id: 'call_jira', name: LONG_NAME, input: { project: 'OPS' }, caller: { type: 'direct' } }])
  })

  it('sends the history\'s tool call under the same short name as the tool, so the result finds its call', async () => {
    const first = await client.messages.create(ask)
    await client.messages.create({
      ...ask,
      messages: [
        ...ask.messages,
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_jira', content: 'Bug, Task, Story' }] },
      ],
    })
    const sent = openai.requests.at(-1)!.body
    expect(sent.messages[1].tool_calls[0].function.name).toBe(sent.tools[0].function.name)
  })
})
