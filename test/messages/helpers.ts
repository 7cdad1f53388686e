/** What the /v1/messages tests share: a tool to call, and an SSE body read as Anthropic's events. */
import { expect } from 'vitest'
import type { RawMessageStreamEvent, Tool } from '@anthropic-ai/sdk/resources/messages'

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
