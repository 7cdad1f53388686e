/** The unified API's handlers: each runs the pipeline's stages in order for one endpoint. */
import type Koa from 'koa'
import { isChatStream, type ChatChunk, type ChatRequest, type ChatStream, type EmbeddingRequest } from '../api/types.ts'
import { badRequest, notFound, type GatewayError } from '../errors.ts'
import { readJson } from '../http/body.ts'
import { openAIErrorBody, toGatewayError } from '../http/errors.ts'
import { SSE_HEADERS, writeEvent } from '../http/sse.ts'
import { newExchange, type Exchange } from './exchange.ts'
import { authenticate, callTargets, resolveRoute } from './stages.ts'

export async function chatCompletions(ctx: Koa.Context): Promise<void> {
  const x = newExchange(ctx)
  await authenticate(x)
  const body = requireObject<ChatRequest>(await readJson(ctx, x.snapshot.bodyLimit))
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw badRequest('`messages` must be a non-empty array.', 'messages', 'invalid_messages')
  const route = resolveRoute(x, body.model)
  const result = await callTargets(x, async (target, call) => {
    const request = target.model ? { ...body, model: target.model } : body
    const result = await target.instance.chat(request, call)
    // Read the first chunk inside the attempt, so a stream that fails before its first byte
    // reaches the client still counts as a failed attempt (and can fall back).
    return isChatStream(result) ? await primeStream(result) : result
  })
  setGatewayHeaders(x, route.name)
  if (isChatStream(result)) await streamChunks(x, result)
  else ctx.body = result
}

export async function embeddings(ctx: Koa.Context): Promise<void> {
  const x = newExchange(ctx)
  await authenticate(x)
  const body = requireObject<EmbeddingRequest>(await readJson(ctx, x.snapshot.bodyLimit))
  if (body.input === undefined || body.input === null) throw badRequest('`input` is required.', 'input', 'missing_input')
  const route = resolveRoute(x, body.model)
  ctx.body = await callTargets(x, (target, call) => {
    if (!target.instance.embed) throw badRequest(`Route '${route.name}' goes to ${target.provider}, which has no embeddings.`, 'model', 'embeddings_unsupported')
    return target.instance.embed(target.model ? { ...body, model: target.model } : body, call)
  })
  setGatewayHeaders(x, route.name)
}

const MODEL_CREATED = Math.floor(Date.now() / 1000)

export async function listModels(ctx: Koa.Context): Promise<void> {
  const x = newExchange(ctx)
  await authenticate(x)
  ctx.body = { object: 'list', data: x.snapshot.routes.names().map(modelEntry) }
}

export async function getModel(ctx: Koa.Context): Promise<void> {
  const x = newExchange(ctx)
  await authenticate(x)
  const id = String(ctx.params.id)
  if (!x.snapshot.routes.resolve(id)) throw notFound(`The model '${id}' does not exist or you do not have access to it.`, 'model_not_found', 'model')
  ctx.body = modelEntry(id)
}

function modelEntry(id: string): { id: string; object: 'model'; created: number; owned_by: string } {
  return { id, object: 'model', created: MODEL_CREATED, owned_by: 'gateway' }
}

/** The parsed body as the endpoint's request type, once it is known to be a JSON object. */
function requireObject<T>(body: unknown): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('The request body must be a JSON object.', null, 'invalid_body')
  return body as T
}

function setGatewayHeaders(x: Exchange, route: string): void {
  const { ctx } = x
  ctx.set('x-gateway-route', route)
  if (x.provider) ctx.set('x-gateway-provider', x.provider)
  if (x.upstreamModel) ctx.set('x-gateway-model', x.upstreamModel)
  ctx.set('x-gateway-attempts', String(x.attempts))
  if (x.warnings.length) ctx.set('x-gateway-warning', x.warnings.join('; '))
}

/** A stream whose first chunk has already been read (or which ended before any). */
interface PrimedStream extends ChatStream {
  readonly primed: true
}

async function primeStream(stream: ChatStream): Promise<PrimedStream> {
  const iterator = stream[Symbol.asyncIterator]()
  const first = await iterator.next()
  return {
    primed: true,
    async *[Symbol.asyncIterator]() {
      if (first.done) return
      yield first.value
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value
    },
  }
}

/**
 * Forward chunks as SSE as they arrive. After the first byte the status is sent, so a failure
 * mid-stream is reported as an `error` event (which OpenAI's SDKs raise), then the stream ends.
 */
async function streamChunks(x: Exchange, stream: ChatStream): Promise<void> {
  const { ctx } = x
  const res = ctx.res
  ctx.respond = false
  res.writeHead(200, { ...(ctx.response.headers as Record<string, string>), ...SSE_HEADERS })
  try {
    for await (const chunk of stream as AsyncIterable<ChatChunk>) {
      if (res.destroyed) break
      await writeEvent(res, JSON.stringify(chunk))
    }
    if (!res.destroyed) res.write('data: [DONE]\n\n')
  } catch (err) {
    const error: GatewayError = toGatewayError(err)
    ctx.state.streamError = error
    if (!res.destroyed) await writeEvent(res, JSON.stringify(openAIErrorBody(error)))
  } finally {
    res.end()
  }
}
