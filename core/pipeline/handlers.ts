/** The unified API's handlers: each runs the pipeline's stages in order for one endpoint. */
import type Koa from 'koa'
import { checkChatRequest } from '../api/chat-request.ts'
import { isChatStream, type ChatRequest, type ChatResult, type ChatStream, type EmbeddingRequest } from '../api/types.ts'
import { badRequest, notFound, type GatewayError } from '../errors.ts'
import { readJson } from '../http/body.ts'
import { openAIErrorBody, toGatewayError } from '../http/errors.ts'
import { SSE_HEADERS, writeEvent } from '../http/sse.ts'
import type { CompiledTarget } from '../runtime/routes.ts'
import { newExchange, type Exchange } from './exchange.ts'
import { callTargets } from './route-call.ts'
import { authenticate, resolveRoute, setGatewayHeaders } from './stages.ts'
import { requirePermission, visibleModels } from './authorize.ts'
import { enforceLimits, estimateChat, estimateEmbeddings } from './limits.ts'
import { keepAnswer, lookupCache, planCache } from './cache.ts'
import { Permission } from '../runtime/access.ts'

export async function chatCompletions(ctx: Koa.Context): Promise<void> {
  const x = newExchange(ctx)
  x.kind = 'chat'
  await authenticate(x)
  requirePermission(x, Permission.chat)
  const body = requireObject<ChatRequest>(await readJson(ctx, x.snapshot.bodyLimit))
  checkChatRequest(body)
  const result = await runChat(x, body)
  setGatewayHeaders(x)
  if (isChatStream(result)) await streamSse(x, openAIFrames(x, result), (error) => ({ data: JSON.stringify(openAIErrorBody(error)) }))
  else ctx.body = result
}

/**
 * Route a unified chat request and call its targets; a stream comes back with its first chunk
 * already read, inside the attempt, so a stream that fails before its first byte can fall back.
 * Shared by every chat-shaped endpoint (/v1/chat/completions, /v1/messages).
 */
export async function runChat(x: Exchange, body: ChatRequest): Promise<ChatResult> {
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw badRequest('`messages` must be a non-empty array.', 'messages', 'invalid_messages')
  resolveRoute(x, body.model, body.metadata)
  x.streaming = body.stream === true
  x.request = body
  await enforceLimits(x, estimateChat(body), body.metadata)
  // Usage is always asked for upstream, so every stream is accounted for; the client gets the
  // usage chunk only if it asked (see openAIFrames).
  const request = x.streaming ? withUsage(body, x) : body
  const cache = planCache(x, body)
  const cached = cache && (await lookupCache(x, cache))
  if (cached) return cached
  const result = await callTargets(x, async (target, attempt) => {
    const result = await target.instance.chat(forTarget(request, target, x.requestedModel!), attempt.call)
    return isChatStream(result) ? attempt.prime(result) : result
  })
  x.ttftMs = performance.now() - x.startedAt
  if (isChatStream(result)) return keepAnswer(x, cache, observe(x, result))
  x.usage = result.usage
  return keepAnswer(x, cache, result)
}

function withUsage(body: ChatRequest, x: Exchange): ChatRequest {
  x.clientWantsUsage = body.stream_options?.include_usage === true
  if (x.clientWantsUsage) return body
  return { ...body, stream_options: { ...body.stream_options, include_usage: true } } as ChatRequest
}

/** Pass a stream through, noting its usage and text (for a tokenizer count if it ends without usage). */
async function* observe(x: Exchange, stream: ChatStream): ChatStream {
  for await (const chunk of stream) {
    if (chunk.usage) x.usage = chunk.usage
    const delta = chunk.choices[0]?.delta
    if (delta?.content) x.completionParts.push(delta.content)
    if (delta?.tool_calls) for (const call of delta.tool_calls) if (call.function?.arguments) x.completionParts.push(call.function.arguments)
    yield chunk
  }
}

/** The request as a target gets it: its model, and its default parameters where the client set none. */
function forTarget<T extends { model: string }>(body: T, target: CompiledTarget, requested: string): T {
  const model = target.model ?? requested
  if (!target.params) return model === body.model ? body : { ...body, model }
  return { ...target.params, ...body, model } as T
}

export async function embeddings(ctx: Koa.Context): Promise<void> {
  const x = newExchange(ctx)
  x.kind = 'embeddings'
  await authenticate(x)
  requirePermission(x, Permission.chat)
  const body = requireObject<EmbeddingRequest>(await readJson(ctx, x.snapshot.bodyLimit))
  if (body.input === undefined || body.input === null) throw badRequest('`input` is required.', 'input', 'missing_input')
  const route = resolveRoute(x, body.model)
  await enforceLimits(x, estimateEmbeddings(body))
  const result = await callTargets(x, (target, attempt) => {
    if (!target.instance.embed) throw badRequest(`Route '${route.name}' goes to ${target.provider}, which has no embeddings.`, 'model', 'embeddings_unsupported')
    return target.instance.embed(forTarget(body, target, x.requestedModel!), attempt.call)
  })
  x.usage = { prompt_tokens: result.usage?.prompt_tokens ?? 0, completion_tokens: 0, total_tokens: result.usage?.total_tokens ?? 0 }
  ctx.body = result
  setGatewayHeaders(x)
}

const MODEL_CREATED = Math.floor(Date.now() / 1000)

export async function listModels(ctx: Koa.Context): Promise<void> {
  const x = newExchange(ctx)
  await authenticate(x)
  requirePermission(x, Permission.chat)
  ctx.body = { object: 'list', data: visibleModels(x, x.snapshot.routes.names(x.principal)).map(modelEntry) }
}

export async function getModel(ctx: Koa.Context): Promise<void> {
  const x = newExchange(ctx)
  await authenticate(x)
  requirePermission(x, Permission.chat)
  const id = String(ctx.params.id)
  if (!visibleModels(x, x.snapshot.routes.names(x.principal)).includes(id)) throw notFound(`The model '${id}' does not exist or you do not have access to it.`, 'model_not_found', 'model')
  ctx.body = modelEntry(id)
}

function modelEntry(id: string): { id: string; object: 'model'; created: number; owned_by: string } {
  return { id, object: 'model', created: MODEL_CREATED, owned_by: 'gateway' }
}

/** The parsed body as the endpoint's request type, once it is known to be a JSON object. */
export function requireObject<T>(body: unknown): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('The request body must be a JSON object.', null, 'invalid_body')
  return body as T
}

/** One server-sent event. */
export interface SseFrame {
  readonly data: string
  readonly event?: string
}

/**
 * Forward frames as SSE as they are made. After the first byte the status is sent, so a failure
 * mid-stream is reported as an error frame (which the clients' SDKs raise), then the stream ends.
 */
export async function streamSse(x: Exchange, frames: AsyncIterable<SseFrame>, errorFrame: (error: GatewayError) => SseFrame): Promise<void> {
  const { ctx } = x
  const res = ctx.res
  ctx.respond = false
  res.writeHead(200, { ...(ctx.response.headers as Record<string, string>), ...SSE_HEADERS })
  try {
    for await (const frame of frames) {
      if (res.destroyed) break
      await writeEvent(res, frame.data, frame.event)
    }
  } catch (err) {
    const error = toGatewayError(err)
    ctx.state.streamError = error
    if (!res.destroyed) {
      const frame = errorFrame(error)
      await writeEvent(res, frame.data, frame.event)
    }
  } finally {
    res.end()
  }
}

/** OpenAI's stream framing: one `data:` per chunk, then `data: [DONE]`. */
async function* openAIFrames(x: Exchange, stream: ChatStream): AsyncIterable<SseFrame> {
  for await (const chunk of stream) {
    // The usage-only final chunk goes to clients that asked for it.
    if (!x.clientWantsUsage && chunk.usage && chunk.choices.length === 0) continue
    yield { data: JSON.stringify(chunk) }
  }
  yield { data: '[DONE]' }
}
