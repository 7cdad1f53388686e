/**
 * The request pipeline, declared once: authenticate → authorize → decode → request → route → access → call → response → encode → account.
 * Two stage phases run inside others: `targets` orders the route's targets in `call` (call-targets.ts), `http` wraps every served request (http/routes.ts).
 */
import type Koa from 'koa'
import { isChatStream, type ChatResponse, type ChatResult, type ChatStream, type EmbeddingResponse } from '../../plugin-api/unified.ts'
import { GatewayError, toGatewayError } from '../../plugin-api/errors.ts'
import { headerValue } from '../../plugin-api/kit/header-value.ts'
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
  { name: 'call', run: callAndKeep, skip: (x) => x.result !== undefined },
  // An answer passed through in the surface's own wire is not in the unified shape stages read.
  { name: 'response', run: responsePhase, skip: (x) => x.result === undefined || isNative(x.result) },
]

/** Run `fn(arg)` as the step `name` of `x`: a span and a duration sample (`arg` spares a hot step a closure). */
export function inStep<T, A = undefined>(x: RequestScope, name: string, fn: (arg: A) => T | Promise<T>, arg?: A): T | Promise<T> {
  const started = performance.now()
  const parent = x.activeSpan ?? x.span
  const span = parent.isRecording() ? childSpan(parent, `gateway.${name}`) : undefined
  if (span) x.activeSpan = span
  let result: T | Promise<T>
  try {
    result = fn(arg as A)
  } catch (err) {
    endStep(x, name, started, parent, span, err)
    throw err
  }
  // A step that finished synchronously costs no promise (and no closure).
  if (!(result instanceof Promise)) {
    endStep(x, name, started, parent, span)
    return result
  }
  return settled(x, name, started, parent, span, result)
}

/** The end of a step that went asynchronous: one async function, where `then` made two closures and a promise. */
async function settled<T>(x: RequestScope, name: string, started: number, parent: Span, span: Span | undefined, result: Promise<T>): Promise<T> {
  try {
    const value = await result
    endStep(x, name, started, parent, span)
    return value
  } catch (err) {
    endStep(x, name, started, parent, span, err)
    throw err
  }
}

function endStep(x: RequestScope, name: string, started: number, parent: Span, span: Span | undefined, err?: unknown): void {
  if (span) {
    if (err !== undefined) failSpan(span, err)
    span.end()
    x.activeSpan = parent === x.span ? undefined : parent
  }
  x.snapshot.shared.metrics.stageDuration(name, performance.now() - started)
}

/** The steps in order; only a step that went asynchronous is awaited. */
export async function runSteps(x: Exchange, steps: readonly Step[]): Promise<void> {
  for (const step of steps) {
    if (step.skip?.(x)) continue
    const done = inStep(x, step.name, step.run, x)
    if (done) await done
  }
}

/** An HTTP request on a surface's model endpoint: the whole pipeline, the answer written to the client (a JSON body or a stream), then `account`. */
export async function serveModel(ctx: Koa.Context, x: Exchange, endpoint: ModelEndpoint, read: (role: Role) => Promise<RouteRequest>): Promise<void> {
  try {
    await inStep(x, 'authenticate', authenticate, x)
    const role = await inStep(x, 'authorize', () => authorize(x.snapshot.access, x.principal, endpoint.permission ?? 'chat'))
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

/** A stage's step name (`stage.<name>`), made once per name. */
const stageSteps = new Map<string, string>()
const stageStep = (name: string): string => stageSteps.get(name) ?? stageSteps.set(name, `stage.${name}`).get(name)!

/** Stages that rewrite the request before it is routed (only those that apply to every route). */
async function requestPhase(x: Exchange): Promise<void> {
  for (const { name, stage } of x.snapshot.requestStages(x.operation)) await inStep(x, stageStep(name), () => stage.request!(x))
}

/** The stages' `access` from the `from`th on, synchronous until one goes asynchronous. */
function accessPhase(x: Exchange, from = 0): void | Promise<void> {
  for (let i = from; i < x.stages.length; i++) {
    const { name, stage } = x.stages[i]
    if (!stage.access) continue
    const answer = inStep(x, stageStep(name), () => stage.access!(x))
    if (answer instanceof Promise) return answer.then((a) => (a ? void (x.result = a) : accessPhase(x, i + 1)))
    // A stage answered (a cache hit): later stages of this phase and the targets are skipped.
    if (answer) return void (x.result = answer)
  }
}

/** The route's targets, called; their answer kept for the steps after. */
async function callAndKeep(x: Exchange): Promise<void> {
  x.result = await callTargets(x)
}

async function responsePhase(x: Exchange): Promise<void> {
  let result = x.result as ChatResult | EmbeddingResponse
  for (const { name, stage } of x.stages) {
    if (!stage.response) continue
    const current = result
    const replaced: ChatResult | void = await inStep(x, stageStep(name), () => stage.response!(x, current))
    if (replaced) result = replaced
  }
  x.result = result
}

/** The answer in the surface's wire format, written to the client (synchronously, unless it streams or its encoder is async). */
function encode(ctx: Koa.Context, x: Exchange, endpoint: ModelEndpoint, req: RouteRequest): void | Promise<void> {
  setGatewayHeaders(ctx, x)
  const result = x.result
  if (result === undefined) throw new GatewayError('No answer was produced.', { status: 500, code: 'internal_error' })
  if (isNative(result)) {
    const encoder = result.events ? endpoint.streamEncoder?.(req, x) : undefined
    if (result.events) return writeStream(ctx, { frames: result.events, errorFrame: encoder && ((error) => encoder.error(error)) }, x)
    if (result.bytes) writeJsonBytes(ctx, x, result.bytes)
    else writeJson(ctx, x, result.body)
    return
  }
  if (x.operation === 'chat' && isChatStream(result as ChatResult)) {
    const encoder: StreamEncoder | undefined = endpoint.streamEncoder?.(req, x)
    if (!encoder) throw new GatewayError('This endpoint cannot stream.', { status: 400, code: 'stream_unsupported', param: 'stream' })
    return writeStream(ctx, { stream: result as ChatStream, encoder, x }, x)
  }
  const body = endpoint.encode(result as ChatResponse | EmbeddingResponse, req, x)
  if (!(body instanceof Promise)) return writeJson(ctx, x, body)
  return body.then((encoded) => writeJson(ctx, x, encoded))
}

/** Tell the client what happened: which route, provider and model answered, after how many attempts. */
function setGatewayHeaders(ctx: Koa.Context, x: Exchange): void {
  // Straight on the response: koa's ctx.set makes three arrays per header.
  const res = ctx.res
  if (res.headersSent) return
  if (x.compiledRoute) res.setHeader('x-gateway-route', x.compiledRoute.name)
  if (x.provider) res.setHeader('x-gateway-provider', x.provider)
  if (x.upstreamModel) res.setHeader('x-gateway-model', headerValue(x.upstreamModel))
  res.setHeader('x-gateway-attempts', String(x.attempts))
  if (x.warnings.length) res.setHeader('x-gateway-warning', headerValue(x.warnings.join('; ')))
}
