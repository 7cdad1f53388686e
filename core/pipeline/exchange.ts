/** The state of one API request as it moves through the pipeline's stages. */
import type Koa from 'koa'
import type { ChatRequest, Usage } from '../api/types.ts'
import type { Principal } from '../plugins/types.ts'
import type { Snapshot } from '../runtime/snapshot.ts'
import type { CompiledRoute } from '../runtime/routes.ts'
import { finishExchange } from '../usage/record.ts'
import { SpanKind, tracer, type Span } from '../tracing.ts'

/** Which API endpoint an exchange serves; exchanges with a kind yield a usage event. */
export type ExchangeKind = 'chat' | 'embeddings'

/** How an exchange ended, for the hooks that run then. */
export interface ExchangeOutcome {
  readonly status: number
  readonly errorType: string | null
  readonly latencyMs: number
  readonly promptTokens: number
  readonly completionTokens: number
  readonly cachedTokens: number
  readonly costUsd: number
}

export interface Exchange {
  readonly requestId: string
  /** The snapshot this request pinned on arrival; used to the end. */
  readonly snapshot: Snapshot
  readonly ctx: Koa.Context
  /** Aborted when the client goes away: passed through to the upstream call. */
  readonly signal: AbortSignal
  readonly startedAt: number
  kind: ExchangeKind | undefined
  principal: Principal | undefined
  route: CompiledRoute | undefined
  /** The model name the client asked for (passed upstream when a target names no model). */
  requestedModel: string | undefined
  /** Whether the client asked for a stream. */
  streaming: boolean
  /** Whether the client asked for the final usage chunk (the gateway always asks upstream). */
  clientWantsUsage: boolean
  /** Upstream attempts made so far. */
  attempts: number
  /** The target that answered (provider instance name and upstream model). */
  provider: string | undefined
  upstreamModel: string | undefined
  /** Parameters dropped because the target cannot honour them (sent as x-gateway-warning). */
  readonly warnings: string[]
  /** The chat request, kept to count prompt tokens if the provider reports none. */
  request: ChatRequest | undefined
  /** Usage as the provider reported it. */
  usage: Usage | undefined
  /** Streamed text, to count completion tokens if a stream ends without usage. */
  readonly completionParts: string[]
  /** Milliseconds to the first chunk (streams) or the whole answer. */
  ttftMs: number | undefined
  /** Answered from the gateway's cache (no provider cost). */
  cacheHit: boolean
  /** Run once when the response has ended and usage is final (token-limit corrections, budgets). */
  readonly onEnd: ((x: Exchange, outcome: ExchangeOutcome) => void)[]
  /** The request's trace span (a no-op unless a tracer provider is registered). */
  readonly span: Span
}

export function newExchange(ctx: Koa.Context): Exchange {
  const controller = new AbortController()
  const x: Exchange = {
    requestId: ctx.state.requestId as string,
    snapshot: ctx.state.snapshot as Snapshot,
    ctx,
    signal: controller.signal,
    startedAt: performance.now(),
    kind: undefined,
    principal: undefined,
    route: undefined,
    requestedModel: undefined,
    streaming: false,
    clientWantsUsage: false,
    attempts: 0,
    provider: undefined,
    upstreamModel: undefined,
    warnings: [],
    request: undefined,
    usage: undefined,
    completionParts: [],
    ttftMs: undefined,
    cacheHit: false,
    onEnd: [],
    span: tracer().startSpan('gateway.request', { kind: SpanKind.SERVER }),
  }
  if (x.span.isRecording()) x.span.setAttributes({ 'http.request.method': ctx.method, 'url.path': ctx.path, 'gateway.request_id': x.requestId })
  ctx.res.once('close', () => {
    // 'close' before the response finished means the client went away: stop the upstream work.
    if (!ctx.res.writableFinished) controller.abort(new Error('client closed the connection'))
    if (x.kind) void finishExchange(x)
    else x.span.end()
  })
  return x
}
