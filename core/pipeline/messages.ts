/**
 * `POST /v1/messages`: the Anthropic-compatible endpoint. It runs the same stages as
 * chatCompletions (authenticate → read body → resolve route → call targets → respond) on the
 * request translated to the unified API, and answers in Anthropic's shapes: a Message, the
 * Messages event stream (with `event:` lines), or `{ type: "error", error: { type, message } }`
 * (errors thrown here are put in that shape by core/http/errors.ts, which knows this path).
 */
import type Koa from 'koa'
import { anthropicErrorBody, fromAnthropicRequest, toAnthropicEvents, toAnthropicMessage, type AnthropicMessagesRequest } from '../api/anthropic-inbound.ts'
import { isChatStream, type ChatStream } from '../api/types.ts'
import { readJson } from '../http/body.ts'
import { newExchange } from './exchange.ts'
import { requireObject, runChat, streamSse, type SseFrame } from './handlers.ts'
import { authenticate, setGatewayHeaders } from './stages.ts'
import { requirePermission } from './authorize.ts'
import { Permission } from '../runtime/access.ts'

export async function anthropicMessages(ctx: Koa.Context): Promise<void> {
  const x = newExchange(ctx)
  x.kind = 'chat'
  await authenticate(x)
  requirePermission(x, Permission.chat)
  const { request, warnings } = fromAnthropicRequest(requireObject<AnthropicMessagesRequest>(await readJson(ctx, x.snapshot.bodyLimit)))
  x.warnings.push(...warnings)
  const result = await runChat(x, request)
  setGatewayHeaders(x)
  if (isChatStream(result)) await streamSse(x, anthropicFrames(result), (error) => ({ event: 'error', data: JSON.stringify(anthropicErrorBody(error, x.requestId)) }))
  else ctx.body = toAnthropicMessage(result)
}

/** Anthropic's stream framing: each event with its `event:` line. */
async function* anthropicFrames(stream: ChatStream): AsyncIterable<SseFrame> {
  for await (const event of toAnthropicEvents(stream)) yield { event: event.type, data: JSON.stringify(event) }
}
