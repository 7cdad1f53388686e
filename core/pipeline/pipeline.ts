/**
 * The request pipeline, declared once: authenticate → authorize → decode → request → route → access → call → response → encode → account.
 * Two stage phases run inside others: `targets` orders the route's targets in `call` (call-targets.ts), `http` wraps every served request (http/routes.ts).
 */
import type Koa from 'koa'
import { isChatStream, type ChatResponse, type ChatResult, type ChatStream, type EmbeddingResponse } from '../../plugin-api/unified.ts'
import { GatewayError, toGatewayError } from '../../plugin-api/errors.ts'
import type { ModelEndpoint, RouteRequest, StreamEncoder } from '../../plugin-api/types.ts'
import { childSpan, failSpan, type Span } from '../tracing.ts'
import { authenticate, authorize } from './identity.ts'
import { decode, writeJson, writeJsonBytes, writeStream } from './wire.ts'
import { resolveRoute } from './route.ts'
import { callTargets, isNative } from './call-targets.ts'
import { account } from './account.ts'
import type { Exchange } from './exchange.ts'
import type { RequestScope } from './scope.ts'
import type { Role } from '../runtime/access.ts'

/** One step: its name (span and metric label), what it does, and when it has nothing to do. */
export interface Step {
  readonly name: string
  run(x: Exchange): void | Promise<void>
  skip?(x: Exchange): boolean
}

/** The steps of a model call after `decode`: shared by HTTP surfaces and calls services make. */
export const MODEL_STEPS: readonly Step[] = [
  { name: 'request', run: requestPhase, skip: (x) => !x.snapshot.requestStages(x.operation).length },
  { name: 'route', run: resolveRoute },
  { name: 'access', run: accessPhase },
  { name: 'call', run: callUnlessAnswered },
  { name: 'response', run: responsePhase },
]

/** Run `fn` as the step `name` of `x`: a span and a duration sample. */
export function inStep<T>(x: RequestScope, name: string, fn: () => T | Promise<T>): T | Promise<T> {
  const started = performance.now()
  const parent = x.activeSpan ?? x.span
  const span = parent.isRecording() ? childSpan(parent, `gateway.${name}`) : undefined
  if (span) x.activeSpan = span
  let result: T | Promise<T>
  try {
    result = fn()
  } catch (err) {
    endStep(x, name, started, parent, span, err)
    throw err
  }
  // A step that finished synchronously costs no promise (and no closure).
  if (!(result instanceof Promise)) {
    endStep(x, name, started, parent, span)
    return result
  }
  return result.then(
    (value) => { endStep(x, name, started, parent, span); return value },
    (err: unknown) => { endStep(x, name, started, parent, span, err); throw err },
  )
}

function endStep(x: RequestScope, name: string, started: number, parent: Span, span: Span | undefined, err?: unknown): void {
  if (span) {
    if (err !== undefined) failSpan(span, err)
    span.end()
    x.activeSpan = parent === x.span ? undefined : parent
  }
  x.snapshot.shared.metrics.stageDuration(name, performance.now() - started)
}

export async function runSteps(x: Exchange, steps: readonly Step[]): Promise<void> {
  for (const step of steps) if (!step.skip?.(x)) await inStep(x, step.name, () => step.run(x))
}

/** An HTTP request on a surface's model endpoint: the whole pipeline, the answer written to the client (a JSON body or a stream), then `account`. */
export async function serveModel(ctx: Koa.Context, x: Exchange, endpoint: ModelEndpoint, read: (role: Role) => Promise<RouteRequest>): Promise<void> {
  try {
    await inStep(x, 'authenticate', () => authenticate(x))
    const role = await inStep(x, 'authorize', () => authorize(x, endpoint.permission ?? 'chat'))
    const request = await inStep(x, 'decode', async () => {
      const request = await read(role)
      await decode(ctx, x, endpoint, request)
      return request
    })
    await runSteps(x, MODEL_STEPS)
    await inStep(x, 'encode', () => encode(ctx, x, endpoint, request))
  } catch (err) {
    x.error = toGatewayError(err)
    // A failed request says what happened too: which route, which provider, how many attempts.
    if (x.compiledRoute) setGatewayHeaders(ctx, x)
    throw x.error
  } finally {
    // The answer (or the error, written by the app's error mapping) is on its way: account now.
    await inStep(x, 'account', () => account(x))
  }
}

// ---------------------------------------------------------------------------------------------
// the phases that run stage plugins

/** Stages that rewrite the request before it is routed (only those that apply to every route). */
async function requestPhase(x: Exchange): Promise<void> {
  for (const { name, stage } of x.snapshot.requestStages(x.operation)) await inStep(x, `stage.${name}`, () => stage.request!(x))
}

async function accessPhase(x: Exchange): Promise<void> {
  for (const { name, stage } of x.stages) {
    if (!stage.access) continue
    const answer = await inStep(x, `stage.${name}`, () => stage.access!(x))
    if (answer) {
      // A stage answered (a cache hit): later stages of this phase and the targets are skipped.
      x.result = answer
      return
    }
  }
}

async function callUnlessAnswered(x: Exchange): Promise<void> {
  if (x.result === undefined) x.result = await callTargets(x)
}

async function responsePhase(x: Exchange): Promise<void> {
  let result = x.result
  // An answer passed through in the surface's own wire is not in the unified shape stages read.
  if (result === undefined || isNative(result)) return
  for (const { name, stage } of x.stages) {
    if (!stage.response) continue
    const current: ChatResult | EmbeddingResponse = result
    const replaced: ChatResult | void = await inStep(x, `stage.${name}`, () => stage.response!(x, current))
    if (replaced) result = replaced
  }
  x.result = result
}

/** The answer in the surface's wire format, written to the client. */
async function encode(ctx: Koa.Context, x: Exchange, endpoint: ModelEndpoint, req: RouteRequest): Promise<void> {
  setGatewayHeaders(ctx, x)
  const result = x.result
  if (result === undefined) throw new GatewayError('No answer was produced.', { status: 500, code: 'internal_error' })
  if (isNative(result)) {
    const encoder = result.events ? endpoint.streamEncoder?.(req, x) : undefined
    if (result.events) await writeStream(ctx, { frames: result.events, errorFrame: encoder && ((error) => encoder.error(error)) }, x)
    else if (result.bytes) writeJsonBytes(ctx, x, result.bytes)
    else writeJson(ctx, x, result.body)
    return
  }
  if (x.operation === 'chat' && isChatStream(result as ChatResult)) {
    const encoder: StreamEncoder | undefined = endpoint.streamEncoder?.(req, x)
    if (!encoder) throw new GatewayError('This endpoint cannot stream.', { status: 400, code: 'stream_unsupported', param: 'stream' })
    await writeStream(ctx, { stream: result as ChatStream, encoder, x }, x)
    return
  }
  writeJson(ctx, x, await endpoint.encode(result as ChatResponse | EmbeddingResponse, req, x))
}

/** Tell the client what happened: which route, provider and model answered, after how many attempts. */
function setGatewayHeaders(ctx: Koa.Context, x: Exchange): void {
  // Straight on the response: koa's ctx.set makes three arrays per header.
  const res = ctx.res
  if (res.headersSent) return
  if (x.compiledRoute) res.setHeader('x-gateway-route', x.compiledRoute.name)
  if (x.provider) res.setHeader('x-gateway-provider', x.provider)
  if (x.upstreamModel) res.setHeader('x-gateway-model', x.upstreamModel)
  res.setHeader('x-gateway-attempts', String(x.attempts))
  if (x.warnings.length) res.setHeader('x-gateway-warning', x.warnings.join('; '))
}
