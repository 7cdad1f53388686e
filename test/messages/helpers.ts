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
