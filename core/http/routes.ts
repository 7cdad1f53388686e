/** The HTTP routes of a snapshot: every surface's endpoints under /v1 and every service's routes under /api/v1/<name>. */
import type { ServerResponse } from 'node:http'
import type Koa from 'koa'
import Router from '@koa/router'
import {
  replyKind,
  type AccessView, type Caller, type GatewayCalls, type JsonReply, type ModelEndpoint, type RawReply, type RouteRequest, type RouteSpec, type SseReply, type UploadedFile,
} from '../../plugin-api/types.ts'
import { GatewayError } from '../../plugin-api/errors.ts'
import type { Snapshot } from '../runtime/snapshot.ts'
import type { Role } from '../runtime/access.ts'
import { NOBODY, authenticate, authorize, callerOf } from '../pipeline/identity.ts'
import { inStep, serveModel } from '../pipeline/pipeline.ts'
import { Exchange } from '../pipeline/exchange.ts'
import { LazyAbort } from '../../plugin-api/kit/abort.ts'
import { childCalls, gatewayCalls, type CallerDefaults } from '../pipeline/calls.ts'
import type { RequestScope } from '../pipeline/scope.ts'
import { writeStream } from '../pipeline/wire.ts'
import { SpanKind, context, propagation, tracer } from '../tracing.ts'
import { readJson } from './body.ts'
import { readMultipart } from '../../plugin-api/kit/multipart.ts'
import { ENVELOPE, envelope, openAIErrorBody, type ErrorBody } from './errors.ts'
import { validator } from './validate.ts'

/** The router for a snapshot's surfaces and services. */
export function snapshotRouter(snapshot: Snapshot): Router.Middleware {
  const router = new Router()
  // `ctx.state.route`: the route as mounted (`/api/v1/keys/:id`), for the stages' `http` phase (a series per route, not per path).
  const mount = (method: string, path: string, serve: Koa.Middleware): void => void router[method.toLowerCase() as 'get'](path, (ctx, next) => { ctx.state.route = path; return serve(ctx, next) })
  for (const { surface } of snapshot.surfaces) {
    for (const endpoint of surface.endpoints) {
      const errors = surface.errorBody?.bind(surface) ?? openAIErrorBody
      const idHeader = (isModelEndpoint(endpoint) ? undefined : endpoint.requestIdHeader) ?? surface.requestIdHeader
      const serve = isModelEndpoint(endpoint) ? (ctx: Koa.Context) => serveModelEndpoint(ctx, errors, endpoint) : (ctx: Koa.Context) => serveRoute(ctx, endpoint, errors)
      mount(endpoint.method, endpoint.path, idHeader ? (ctx) => { ctx.res.setHeader(idHeader, ctx.state.requestId as string); return serve(ctx) } : serve)
    }
  }
  for (const { name, service } of snapshot.services) {
    for (const route of service.routes ?? []) {
      mount(route.method, `/api/v1/${name}${route.path === '/' ? '' : route.path}`, (ctx) => serveRoute(ctx, route, ENVELOPE))
    }
  }
  // Pages last: a surface's or a service's route wins over a page's pattern.
  for (const { service } of snapshot.services) {
    for (const page of service.pages ?? []) mount(page.method, page.path, (ctx) => serveRoute(ctx, page, openAIErrorBody, false))
  }
  // A path that exists with another method: 405 and `Allow` (the app turns it into the route's error shape).
  const allowed = router.allowedMethods()
  const routes = router.routes()
  // A path without parameters, as its route spells it, is looked up in a map: the router's dispatch
  // tests every route's pattern and builds a chain per request (openai route 0.92x CPU without it,
  // bench/ab.ts). Only where the router would pick the same handler first.
  const fixed = new Map<string, Koa.Middleware>()
  for (const layer of router.stack) {
    const path = layer.path
    if (typeof path !== 'string' || !FIXED_PATH.test(path)) continue
    for (const method of layer.methods) {
      if (router.match(path, method).pathAndMethod[0] === layer) fixed.set(`${method} ${path}`, layer.stack[0] as Koa.Middleware)
    }
  }
  const routed: Koa.Middleware = (ctx, next) => {
    const handler = fixed.get(`${ctx.method} ${ctx.path}`)
    return handler ? handler(ctx, next) : routes(ctx as never, () => allowed(ctx as never, next))
  }
  return httpPhase(snapshot, routed) as Router.Middleware
}

/** The `http` phase of the stages on every route, around `inner`: highest priority first (a stage for embeddings only after the others). */
function httpPhase(snapshot: Snapshot, inner: Koa.Middleware): Koa.Middleware {
  const hooks = [...new Set([...snapshot.stagesFor(undefined, 'chat'), ...snapshot.stagesFor(undefined, 'embeddings')].map((s) => s.stage))]
    .flatMap((stage) => (stage.http ? [stage.http] : []))
  return hooks.reduceRight<Koa.Middleware>((next, hook) => (ctx, down) => hook(ctx, () => next(ctx, down)), inner)
}

/** A route pattern that matches one path only (no parameters, wildcards, groups or optional parts). */
const FIXED_PATH = /^[\w\-./]+$/

const isModelEndpoint = (e: ModelEndpoint | RouteSpec): e is ModelEndpoint => 'operation' in e

async function serveModelEndpoint(ctx: Koa.Context, errors: ErrorBody, endpoint: ModelEndpoint): Promise<void> {
  ctx.state.errorBody = errors
  const snapshot = ctx.state.snapshot as Snapshot
  const client = clientGone(ctx.res)
  const x = new Exchange({
    snapshot,
    requestId: ctx.state.requestId as string,
    operation: endpoint.operation,
    signal: client,
    span: requestSpan(ctx),
    headers: ctx.headers,
    method: ctx.method,
    path: ctx.path,
    setHeader: headerSetter(ctx),
    calls: childCalls,
  })
  // The access log names what the request became (route, provider, attempts, tokens).
  ctx.state.exchange = x
  try {
    await serveModel(ctx, x, endpoint, async (role) => new HandlerRequest(x, role, { signal: client }, await readJson(ctx, snapshot.bodyLimit), ctx.query, (ctx.params ?? {}) as Record<string, string>, []))
  } finally {
    x.span.end()
  }
}

async function serveRoute(ctx: Koa.Context, route: RouteSpec, errors: ErrorBody, inEnvelope = errors === ENVELOPE): Promise<void> {
  ctx.state.errorBody = errors
  const snapshot = ctx.state.snapshot as Snapshot
  const scope: RequestScope = { snapshot, requestId: ctx.state.requestId as string, span: requestSpan(ctx), headers: ctx.headers, method: ctx.method, path: ctx.path, principal: undefined }
  try {
    let role: Role
    if (route.public) {
      // Nobody in particular: no credentials read, no permission held.
      scope.principal = NOBODY
      role = snapshot.access.nobody
    } else {
      await inStep(scope, 'authenticate', () => authenticate(scope))
      role = await inStep(scope, 'authorize', () => authorize(scope.snapshot.access, scope.principal, route.permission))
    }
    const req = await inStep(scope, 'validate', () => readRequest(ctx, scope, role, route))
    const out = await inStep(scope, 'handle', () => route.handle(req))
    await writeReply(ctx, scope, out, inEnvelope, route.status ?? 200)
  } finally {
    scope.span.end()
  }
}

function requestSpan(ctx: Koa.Context) {
  // Under the caller's trace when it sent one (W3C traceparent, read once telemetry.otel registers its propagator).
  const span = tracer().startSpan('gateway.request', { kind: SpanKind.SERVER }, propagation.extract(context.active(), ctx.headers))
  if (span.isRecording()) span.setAttributes({ 'http.request.method': ctx.method, 'url.path': ctx.path, 'gateway.request_id': ctx.state.requestId as string })
  return span
}

const headerSetter = (ctx: Koa.Context) => (name: string, value: string): void => { if (!ctx.headerSent) ctx.res.setHeader(name, value) }

/** Aborted when the client goes away before its response has been written (kit/abort.ts: its AbortSignal is made only if read). */
function clientGone(res: ServerResponse): LazyAbort {
  const gone = new LazyAbort()
  res.once('close', () => { if (!res.writableFinished) gone.abort(new Error('client closed the connection')) })
  return gone
}

/** What a handler gets: the caller, its input, and (made on first use) the pipeline as the caller. */
class HandlerRequest implements RouteRequest {
  readonly caller: Caller
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly requestId: string
  readonly access: AccessView
  #gateway: GatewayCalls | undefined
  /** What its calls inherit: the client's abort (its signal made only if read), and for a handler's route the response's headers. */
  readonly #calls: CallerDefaults & { readonly signal: LazyAbort }

  constructor(
    readonly scope: RequestScope,
    role: Role,
    calls: CallerDefaults & { readonly signal: LazyAbort },
    readonly body: unknown,
    readonly query: Record<string, unknown>,
    readonly params: Record<string, string>,
    readonly files: readonly UploadedFile[],
  ) {
    this.caller = callerOf(scope, role)
    this.headers = scope.headers
    this.requestId = scope.requestId
    this.access = scope.snapshot.access.view
    this.#calls = calls
  }

  get signal(): AbortSignal {
    return this.#calls.signal.signal
  }

  get gateway(): GatewayCalls {
    return (this.#gateway ??= gatewayCalls(this.scope.snapshot, this.scope.principal, { parentSpan: this.scope.span, ...this.#calls }))
  }
}

async function readRequest(ctx: Koa.Context, scope: RequestScope, role: Role, route: RouteSpec): Promise<RouteRequest> {
  const rawParams = (ctx.params ?? {}) as Record<string, string>
  const query = route.query ? validator(route.query, true).check({ ...ctx.query }, 'query') : (ctx.query as Record<string, unknown>)
  const params = route.params ? validator(route.params, true).check({ ...rawParams }, 'path') : rawParams
  // The handler's calls set its response's headers, and the access log names the first (route, model, tokens).
  const calls = { signal: clientGone(ctx.res), setHeader: headerSetter(ctx), started: (x: Exchange) => { ctx.state.exchange ??= x } }
  if (route.body === 'multipart') {
    const { fields, files } = await readMultipart(ctx.req, scope.snapshot.bodyLimit)
    return new HandlerRequest(scope, role, calls, fields, query, params, files)
  }
  const body = route.body === undefined ? undefined : validator(route.body, false).check(await readJson(ctx, scope.snapshot.bodyLimit, {}), 'body')
  return new HandlerRequest(scope, role, calls, body, query, params, [])
}

/** The handler's answer: data in the route's shape (the envelope on /api/v1), or a Reply. */
async function writeReply(ctx: Koa.Context, scope: RequestScope, out: unknown, inEnvelope: boolean, status: number): Promise<void> {
  const kind = replyKind(out)
  if (kind === 'sse') {
    const reply = out as SseReply
    if (reply.headers) ctx.set(reply.headers as Record<string, string | string[]>)
    await writeStream(ctx, { frames: reply.frames, errorFrame: reply.errorFrame }, { status: 200, error: undefined })
    return
  }
  if (kind === 'raw') {
    const reply = out as RawReply
    if (reply.headers) ctx.set(reply.headers as Record<string, string | string[]>)
    ctx.status = reply.status ?? status
    ctx.type = reply.contentType
    ctx.body = reply.body
    return
  }
  const json = kind === 'json' ? (out as JsonReply) : undefined
  const data = json ? json.data : out
  if (json?.headers) ctx.set(json.headers as Record<string, string | string[]>)
  ctx.status = json?.status ?? status
  if (ctx.status === 204) return
  if (data === undefined && !inEnvelope) throw new GatewayError('The handler returned no data.', { status: 500, code: 'internal_error' })
  ctx.body = inEnvelope ? envelope(data ?? null, scope.requestId, json?.message, json?.meta) : data
}
