/**
 * Anthropic's Messages wire format for mock upstreams: Message bodies, the SSE event sequence (with
 * `event:` lines, as the API sends them) and error bodies. Typed against the official SDK's types,
 * so a field the real API always sends cannot be forgotten here.
 */
import type http from 'node:http'
import type { ContentBlock, Message, MessageTokensCount, RawMessageStreamEvent, StopReason, Usage } from '@anthropic-ai/sdk/resources/messages'
import type { ErrorResponse, ErrorType } from '@anthropic-ai/sdk/resources/shared'
import { sendJson, sendSse } from '../../helpers/upstream.ts'

export const MODEL = 'claude-sonnet-4-6'

export function usage(partial: Partial<Usage> = {}): Usage {
  return {
    input_tokens: 12,
    output_tokens: 6,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation: { ephemeral_1h_input_tokens: 0, ephemeral_5m_input_tokens: 0 },
    inference_geo: 'us',
    output_tokens_details: null,
    server_tool_use: null,
    service_tier: 'standard',
    speed: 'standard',
    ...partial,
  }
}

export function message(content: ContentBlock[], partial: Partial<Message> = {}): Message {
  return {
    id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
    type: 'message',
    role: 'assistant',
    model: MODEL,
    content,
    stop_reason: 'end_turn',
    stop_sequence: null,
    stop_details: null,
    usage: usage(),
    container: null,
    diagnostics: null,
    ...partial,
  }
}

export const text = (value: string): ContentBlock => ({ type: 'text', text: value, citations: null })
export const toolUse = (id: string, name: string, input: unknown): ContentBlock => ({ type: 'tool_use', id, name, input, caller: { type: 'direct' } })

/** A streamed answer: text pieces, then tool calls whose arguments arrive in the given pieces. */
export function streamEvents(options: {
  text?: string[]
  tools?: Array<{ id: string; name: string; argumentPieces: string[] }>
  stopReason?: StopReason
  inputTokens?: number
  outputTokens?: number
  cacheRead?: number
}): RawMessageStreamEvent[] {
  const start = message([], { stop_reason: null, usage: usage({ input_tokens: options.inputTokens ?? 12, output_tokens: 1, cache_read_input_tokens: options.cacheRead ?? 0 }) })
  const events: RawMessageStreamEvent[] = [{ type: 'message_start', message: start }]
  let index = 0
  if (options.text) {
    events.push({ type: 'content_block_start', index, content_block: { type: 'text', text: '', citations: null } })
    for (const piece of options.text) events.push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } })
    events.push({ type: 'content_block_stop', index: index++ })
  }
  for (const tool of options.tools ?? []) {
    events.push({ type: 'content_block_start', index, content_block: { type: 'tool_use', id: tool.id, name: tool.name, input: {}, caller: { type: 'direct' } } })
    // The API opens a tool's input with an empty delta.
    for (const piece of ['', ...tool.argumentPieces]) events.push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } })
    events.push({ type: 'content_block_stop', index: index++ })
  }
  events.push({
    type: 'message_delta',
    delta: { stop_reason: options.stopReason ?? (options.tools?.length ? 'tool_use' : 'end_turn'), stop_sequence: null, stop_details: null, container: null },
    usage: { output_tokens: options.outputTokens ?? 6, input_tokens: options.inputTokens ?? 12, cache_read_input_tokens: options.cacheRead ?? 0, cache_creation_input_tokens: 0, output_tokens_details: null, server_tool_use: null },
  })
  events.push({ type: 'message_stop' })
  return events
}

/** Send events as the API does: each with its `event:` name, and a ping after message_start. */
/** A streamed answer that thinks first (the thinking in `pieces`, signed), then answers `4`; 31 of its 40 output tokens thinking. */
export function thinkingStream(pieces: readonly string[], signature: string): RawMessageStreamEvent[] {
  const start = message([], { stop_reason: null, usage: usage({ input_tokens: 12, output_tokens: 1 }) })
  return [
    { type: 'message_start', message: start },
    { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } },
    ...pieces.map((thinking): RawMessageStreamEvent => ({ type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking } })),
    { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature } },
    { type: 'content_block_stop', index: 0 },
    { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '', citations: null } },
    { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: '4' } },
    { type: 'content_block_stop', index: 1 },
    {
      type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null, stop_details: null, container: null },
      usage: { output_tokens: 40, input_tokens: 12, cache_read_input_tokens: 0, cache_creation_input_tokens: 0, output_tokens_details: { thinking_tokens: 31 }, server_tool_use: null },
    },
    { type: 'message_stop' },
  ]
}

export function sendStream(res: http.ServerResponse, events: RawMessageStreamEvent[], delayMs = 0): Promise<void> {
  const frames: Array<{ event: string; data: unknown }> = events.map((e) => ({ event: e.type, data: e }))
  frames.splice(1, 0, { event: 'ping', data: { type: 'ping' } })
  return sendSse(res, frames, { delayMs, headers: { 'request-id': 'req_stream_1' } })
}

export function sendMessage(res: http.ServerResponse, body: Message): void {
  sendJson(res, 200, body, { 'request-id': 'req_011CSHoEeqs5C35K2UUqR7Fy' })
}

export function sendError(res: http.ServerResponse, status: number, type: ErrorType, text: string, headers: Record<string, string> = {}): void {
  const body = { type: 'error', error: { type, message: text }, request_id: 'req_err_1' } as ErrorResponse
  sendJson(res, status, body, { 'request-id': 'req_err_1', ...headers })
}

/** `POST /v1/messages/count_tokens`'s answer: `{ input_tokens }`, nothing else. */
export function sendTokenCount(res: http.ServerResponse, inputTokens: number): void {
  const body: MessageTokensCount = { input_tokens: inputTokens }
  sendJson(res, 200, body, { 'request-id': 'req_count_1' })
}
