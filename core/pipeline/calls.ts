/** The pipeline as a caller: what services and stages get as `gateway` (GatewayCalls). */
import { isChatStream, type ChatRequest, type ChatResult, type EmbeddingRequest, type EmbeddingResponse } from '../../plugin-api/unified.ts'
import { toGatewayError } from '../../plugin-api/errors.ts'
import type { Call, CallOptions, ExchangeOutcome, GatewayCalls, NativeResult, Operation, Principal, RouteInfo, RoutingFacts } from '../../plugin-api/types.ts'
import type { Snapshot } from '../runtime/snapshot.ts'
import { childSpan, SpanKind, tracer, type Span } from '../tracing.ts'
import { account } from './account.ts'
import { Exchange } from './exchange.ts'
import { authorize } from './identity.ts'
import { inStep, MODEL_STEPS, runSteps } from './pipeline.ts'
import { ObservedStream } from './wire.ts'
import { LazyAbort } from '../../plugin-api/kit/abort.ts'
import { randomUuid } from '../../plugin-api/kit/ids.ts'

export interface CallerDefaults {
  readonly parentId?: string
  /** The span the calls' spans belong under (the request that makes them). */
  readonly parentSpan?: Span
  readonly signal?: AbortSignal | LazyAbort
  readonly thread?: string
  /** Where the calls' response headers go (rate limits, budget left): the response of the handler that makes them. */
  readonly setHeader?: (name: string, value: string) => void
  /** Told of each call as it starts (the access log names what a handler's request became). */
  readonly started?: (x: Exchange) => void
}

export function gatewayCalls(snapshot: Snapshot, principal: Principal | undefined, defaults: CallerDefaults = {}): GatewayCalls {
  const start = (operation: Operation, request: ChatRequest | EmbeddingRequest, options: CallOptions): Exchange => {
    // The caller's LazyAbort is passed on as it is; only joined with a call's own signal is its AbortSignal made.
    const { signal } = options, inherited = defaults.signal
    const x = new Exchange({
      snapshot,
      requestId: options.requestId ?? randomUuid(),
      operation,
      signal: !signal ? inherited ?? new LazyAbort() : !inherited ? signal : AbortSignal.any([signal, inherited instanceof LazyAbort ? inherited.signal : inherited]),
      span: defaults.parentSpan?.isRecording() ? childSpan(defaults.parentSpan, 'gateway.call') : tracer().startSpan('gateway.call', { kind: SpanKind.INTERNAL }),
      principal,
      headers: options.headers, metadata: options.metadata,
      parentId: defaults.parentId,
      thread: options.thread ?? defaults.thread,
      setHeader: defaults.setHeader,
      calls: childCalls,
    })
    x.setRequest(request)
    Object.assign(x, { batch: options.batch === true, wireHeaders: options.wireHeaders })
    defaults.started?.(x)
    if (operation === 'chat') x.streaming = (request as ChatRequest).stream === true
    return x
  }
  return {
    chat: (request, options = {}) => run<ChatResult>(start('chat', request, options)),
    embed: (request, options = {}) => run<EmbeddingResponse>(start('embeddings', request, options)),
    native(wire, model, body, options = {}) {
      // Its unified request names only the model; the body goes as the wire's (x.wire).
      const x = start(options.metered ? 'media' : 'native', { model, messages: [] }, options)
      x.wire = { name: wire, body, headers: options.wireHeaders, otherwise: options.otherwise, estimate: options.estimate }
      return run<NativeResult>(x)
    },
    models: () => snapshot.visibleModels(principal, {}),
    globRoutes: () => snapshot.routes.globRoutes(),
    routes(model: string, facts: RoutingFacts = {}): RouteInfo | undefined {
      const routed = snapshot.access.routeFor(principal, model)
      const resolved = snapshot.routes.resolve(routed, { principal, headers: facts.headers ?? {}, metadata: facts.metadata })
      if (!resolved || snapshot.access.modelDenial(principal, model, resolved.route.name, routed)) return undefined
      return resolved.route.info
    },
  }
}

/** Calls made outside any request (a queued job) as `principal`, once the gateway serves: each pins the current snapshot until accounted, so a reload never disposes a provider under it. */
export function backgroundCalls(current: () => Snapshot, principal: Principal, serving: Promise<void>): GatewayCalls {
  const pinned = async <T>(make: (calls: GatewayCalls) => Promise<Call<T>>): Promise<Call<T>> => {
    await serving
    const snapshot = current()
    // Work outside a request needs `chat` for a model call, as a request does, by its role in the current config.
    authorize(snapshot.access, principal, 'chat')
    snapshot.enter()
    try {
      const call = await make(gatewayCalls(snapshot, principal))
      void call.done.finally(() => snapshot.leave())
      return call
    } catch (err) {
      snapshot.leave()
      throw err
    }
  }
  return {
    chat: (request, options) => pinned((calls) => calls.chat(request, options)),
    embed: (request, options) => pinned((calls) => calls.embed(request, options)),
    native: (wire, model, body, options) => pinned((calls) => calls.native(wire, model, body, options)),
    models: () => gatewayCalls(current(), principal).models(),
    globRoutes: () => current().routes.globRoutes(),
    routes: (model, facts) => gatewayCalls(current(), principal).routes(model, facts),
  }
}

/** What a stage of `x` calls through: calls on behalf of `x`, as its caller. */
export function childCalls(x: Exchange): GatewayCalls {
  return gatewayCalls(x.snapshot, x.principal, { parentId: x.requestId, parentSpan: x.span, signal: x.signal, thread: x.thread })
}

async function run<T extends ChatResult | EmbeddingResponse | NativeResult>(x: Exchange): Promise<Call<T>> {
  let settle!: (outcome: ExchangeOutcome) => void
  const done = new Promise<ExchangeOutcome>((resolve) => { settle = resolve })
  const finish = (): void => {
    void Promise.resolve(inStep(x, 'account', () => account(x))).then(settle, () => settle(failedOutcome(x))).finally(() => x.span.end())
  }
  try {
    await runSteps(x, MODEL_STEPS)
  } catch (err) {
    x.error = toGatewayError(err)
    finish()
    throw x.error
  }
  let result = x.result as T
  if (isChatStream(result as ChatResult)) {
    result = new ObservedStream(x, result as AsyncIterable<never>, finish) as unknown as T
  } else {
    finish()
  }
  return { result, done, route: x.compiledRoute!.name, provider: x.provider, model: x.upstreamModel, warnings: x.warnings }
}

function failedOutcome(x: Exchange): ExchangeOutcome {
  return {
    status: x.error?.status ?? 500, errorType: x.error?.code ?? 'error', latencyMs: performance.now() - x.startedAt, promptTokens: 0, completionTokens: 0,
    cachedTokens: 0, costUsd: 0, cacheHit: false, provider: x.provider ?? null, model: x.upstreamModel ?? null, attempts: x.attempts, ttftMs: null, streamed: x.streaming,
  }
}
