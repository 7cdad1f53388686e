/** The `call` step: the route's targets in the order the `targets` phase gives, past those its plan does not admit (open breakers), with timeouts, retries and fallback; same-wire passthrough where a target speaks the surface's wire (a `native` call: only there). */
import { setTimeout as sleep } from 'node:timers/promises'
import { completionStream, isChatStream, type ChatRequest, type ChatResult, type EmbeddingRequest, type EmbeddingResponse, type Usage } from '../../plugin-api/unified.ts'
import { GatewayError, badRequest, circuitOpen, clientClosed, fromShape, requestNotSent, retryAfterMs, upstreamError } from '../../plugin-api/errors.ts'
import type { NativeResult, ProviderCall, TargetOutcomes, TargetPlan } from '../../plugin-api/types.ts'
import type { CompiledRetry, CompiledRoute, CompiledTarget } from '../runtime/routes.ts'
import { childSpan, failSpan, SpanKind, tracedHeaders, type Span } from '../tracing.ts'
import type { Exchange } from './exchange.ts'
import { redactError, secretsOf } from '../../plugin-api/kit/secrets.ts'
import { LazyAbort } from '../../plugin-api/kit/abort.ts'

export type CallResult = ChatResult | EmbeddingResponse | NativeResult

export function isNative(result: unknown): result is NativeResult {
  return typeof result === 'object' && result !== null && typeof (result as NativeResult).usage === 'function' && typeof (result as NativeResult).model === 'function'
}

export async function callTargets(x: Exchange): Promise<CallResult> {
  const route = x.compiledRoute!
  // Usage is always asked for upstream, so every stream is accounted for; the client gets the usage chunk only if it asked (see ObservedStream).
  const chat = x.operation === 'chat' ? withUsage(x.chatRequest, x) : undefined
  let lastError: GatewayError | undefined
  let tried = false
  const plan = planTargets(x, route)
  const outcomes = plan.outcomes ?? ADMIT_ALL
  for (const target of plan.targets) {
    if (!speaksWire(x, target)) {
      // A `native` call's target without the wire: the caller's stand-in answers for it, else it is skipped.
      if (!x.wire?.otherwise) continue
      x.provider = target.provider
      x.upstreamModel = target.model ?? x.requestedModel
      return x.wire.otherwise(target)
    }
    if (!outcomes.admit(target)) continue
    tried = true
    for (let retry = 0; ; retry++) {
      x.attempts++
      x.provider = target.provider
      x.upstreamModel = target.model ?? x.requestedModel
      const attempt = new Attempt(x, target, route)
      const started = performance.now()
      try {
        const result = await invoke(x, target, attempt, chat)
        outcomes.success(target, performance.now() - started)
        if (!x.streaming) attempt.settle()
        x.ttftMs = performance.now() - x.startedAt
        return result
      } catch (err) {
        const error = attempt.classify(err)
        attempt.settle()
        if (x.aborted || !error.retryable) {
          outcomes.release(target)
          throw error
        }
        outcomes.failure(target)
        lastError = error
        const delay = retry < target.retry.attempts && target.retry.on(error) ? backoffMs(target.retry, retry, error) : undefined
        if (delay === undefined) break
        await sleep(delay, undefined, { signal: x.signal }).catch(() => undefined)
        if (x.aborted) throw clientClosed()
        if (!outcomes.admit(target)) break
      }
    }
    if (!plan.fallback) break
  }
  if (!tried) throw plan.targets.some((t) => speaksWire(x, t)) ? circuitOpen(route.name, outcomes.retryInMs(plan.targets)) : badRequest(`No target of route '${route.name}' speaks ${x.wire!.name}.`, 'model', 'wire_unsupported')
  throw lastError!
}

/** Whether `target` can take the call: a `native` call only goes to a provider that speaks its wire. */
function speaksWire(x: Exchange, target: CompiledTarget): boolean {
  return !wireOnly(x) || target.instance.native?.[x.wire!.name] !== undefined
}

/** A call that exists only in a provider's own wire (GatewayCalls.native): no unified request to translate it into. */
const wireOnly = (x: Exchange): boolean => x.operation === 'native' || x.operation === 'media'

/** One attempt on one target: natively, as a chat, or as embeddings. */
async function invoke(x: Exchange, target: CompiledTarget, attempt: Attempt, chat: ChatRequest | undefined): Promise<CallResult> {
  const { instance } = target
  const model = target.model ?? x.requestedModel
  const native = x.wire && !x.replaced && !x.translationRequired ? instance.native?.[x.wire.name] : undefined
  attempt.call.wireHeaders = native ? x.wire!.headers : x.wireHeaders
  if (native) {
    const result = await native(forTarget(x.wire!.body, target, model), attempt.call)
    if (!result.events) return result
    const events = await attempt.prime(result.events)
    return { events, usage: () => result.usage(), model: () => result.model(), text: () => result.text?.() ?? '' }
  }
  x.translated()
  if (chat) {
    const result = await instance.chat(forTarget(chat, target, model), attempt.call)
    // A whole answer to a stream request (a provider that cannot stream) reaches the client as the chunks it asked for.
    if (isChatStream(result) || chat.stream) return attempt.prime(isChatStream(result) ? result : completionStream(result))
    x.usage = result.usage
    return result
  }
  if (!instance.embed) throw badRequest(`Route '${x.compiledRoute!.name}' goes to ${target.provider}, which has no embeddings.`, 'model', 'embeddings_unsupported')
  const result = await instance.embed(forTarget(x.request as EmbeddingRequest, target, model), attempt.call)
  x.usage = { prompt_tokens: result.usage?.prompt_tokens ?? 0, completion_tokens: 0, total_tokens: result.usage?.total_tokens ?? 0 }
  return result
}

function withUsage(body: ChatRequest, x: Exchange): ChatRequest {
  if (!x.streaming || x.clientWantsUsage) return body
  return { ...body, stream_options: { ...body.stream_options, include_usage: true } } as ChatRequest
}

/** The request as a target gets it: its model, and its default parameters where the client set none. */
function forTarget<T extends object>(body: T, target: CompiledTarget, model: string): T {
  if (!target.params) return (body as { model?: string }).model === model ? body : { ...body, model }
  return { ...target.params, ...body, model } as T
}

/** The first stage whose `targets` phase gives a plan with a target decides the order (stage.routing: the route's `strategy:`); without one, as listed. */
function planTargets(x: Exchange, route: CompiledRoute): TargetPlan<CompiledTarget> {
  for (const { stage } of x.stages) {
    const plan = stage.targets?.(x, route.targets)
    if (plan?.targets.length) return plan
  }
  return { targets: route.targets, fallback: true }
}

/** How long to wait before retry number `retry` (0-based): exponential from backoff_ms, capped, with jitter (between half and all of it). */
export function backoffMs(policy: CompiledRetry, retry: number, error: GatewayError): number | undefined {
  const exponential = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** retry)
  const jittered = exponential / 2 + Math.random() * (exponential / 2)
  const retryAfter = retryAfterMs(error)
  if (retryAfter === undefined) return jittered
  if (retryAfter > policy.maxBackoffMs) return undefined
  return Math.max(jittered, retryAfter)
}

/** A plan without outcomes: every target is tried (no stage keeps breakers for it). */
const ADMIT_ALL: TargetOutcomes<CompiledTarget> = { admit: () => true, success() {}, failure() {}, release() {}, retryInMs: () => 0 }

/** The signal, timers, span and error classification of one try of one target. */
class Attempt {
  readonly call: TargetCall
  readonly #x: Exchange
  readonly #target: CompiledTarget
  /** Only when the attempt has a timer of its own; else the client's is the attempt's. */
  readonly #abort: LazyAbort | undefined
  #stopFollowing: (() => void) | undefined
  #timer: NodeJS.Timeout | undefined
  #firstTokenTimer: NodeJS.Timeout | undefined
  #timedOut: string | undefined
  #settled = false
  /** A stream's first chunk has arrived: the upstream has the request. */
  #answered = false
  /** The upstream call's span (GenAI conventions: `chat {model}`, kind CLIENT). */
  readonly #span: Span | undefined

  constructor(x: Exchange, target: CompiledTarget, route: CompiledRoute) {
    this.#x = x
    this.#target = target
    // The first-token clock starts with the call: a provider may read ahead before returning its stream.
    const firstToken = x.streaming ? target.firstTokenTimeoutMs : undefined
    if (target.timeoutMs || firstToken) {
      const abort = (this.#abort = new LazyAbort())
      this.#stopFollowing = x.onAbort((reason) => abort.abort(reason))
    }
    const model = target.model ?? x.requestedModel
    const parent = x.activeSpan ?? x.span
    this.#span = parent.isRecording()
      ? childSpan(parent, `${wireOnly(x) ? x.wire!.name : x.operation} ${model}`, SpanKind.CLIENT, { 'gen_ai.system': target.provider, 'gen_ai.request.model': model, 'gateway.attempt': x.attempts })
      : undefined
    if (target.timeoutMs) this.#timer = setTimeout(() => this.#timeout(`no answer within ${target.timeoutMs} ms`), target.timeoutMs)
    if (firstToken) this.#firstTokenTimer = setTimeout(() => this.#timeout(`no first token within ${firstToken} ms`), firstToken)
    this.call = new TargetCall(x, target, route, this.#abort, tracedHeaders(this.#span ?? parent, target.headers))
  }

  /** Read a stream's first item within the attempt; the rest is read by the pump, still under this attempt's timers. */
  async prime<T>(stream: AsyncIterable<T>): Promise<AsyncIterable<T>> {
    const iterator = stream[Symbol.asyncIterator]()
    const first = await iterator.next()
    this.#answered = true
    clearTimeout(this.#firstTokenTimer)
    return new PrimedStream(iterator, first, this)
  }

  settle(): void {
    if (this.#settled) return
    this.#settled = true
    this.#span?.end()
    clearTimeout(this.#timer)
    clearTimeout(this.#firstTokenTimer)
    this.#stopFollowing?.()
  }

  /** Whatever the attempt threw, as a GatewayError: the gateway's timeouts are 504, unknown failures 502. */
  classify(err: unknown): GatewayError {
    const error = redactError(this.#classify(err), secretsOf(this.#x.snapshot.config.providers?.[this.#target.provider]))
    if (this.#span) failSpan(this.#span, error)
    return error
  }

  #classify(err: unknown): GatewayError {
    if (this.#x.aborted) return clientClosed()
    if (this.#timedOut) return upstreamError(undefined, this.#timedOut, { kind: 'timeout', provider: this.#target.provider, cause: err })
    const shaped = fromShape(err)
    if (shaped) return shaped
    // A provider that let one through: a stack overflow while it built the request (an over-deep value) is not the upstream failing, and its message is an internal.
    if (err instanceof RangeError && !this.#answered) return requestNotSent(this.#target.provider, err)
    return upstreamError(undefined, (err as Error)?.message ?? String(err), { kind: 'connection', provider: this.#target.provider, cause: err })
  }

  #timeout(reason: string): void {
    this.#timedOut = reason
    this.#abort!.abort(new Error(reason))
  }
}

/** What a provider gets for one attempt. A class: its signal is made only when a provider asks (kit/abort.ts), and a getter in an object literal cost the mock route 20% (bench/ab.ts). */
class TargetCall implements ProviderCall {
  readonly requestId: string
  readonly headers: Readonly<Record<string, string>> | undefined
  wireHeaders: Readonly<Record<string, string>> | undefined
  readonly #x: Exchange
  readonly #target: CompiledTarget
  readonly #route: CompiledRoute
  readonly #abort: LazyAbort | Exchange

  constructor(x: Exchange, target: CompiledTarget, route: CompiledRoute, abort: LazyAbort | undefined, headers: Readonly<Record<string, string>> | undefined) {
    this.requestId = x.requestId
    this.headers = headers
    this.#x = x
    this.#target = target
    this.#route = route
    this.#abort = abort ?? x
  }

  get signal(): AbortSignal {
    return this.#abort.signal
  }

  get aborted(): boolean {
    return this.#abort.aborted
  }

  onAbort(listener: (reason: unknown) => void): () => void {
    return this.#abort.onAbort(listener)
  }

  unsupported(param: string, message?: string): void {
    const text = `${this.#target.provider} does not support '${param}'${message ? `: ${message}` : ''}`
    if (this.#route.strict) throw badRequest(`${text} (route '${this.#route.name}' is strict).`, param, 'unsupported_parameter')
    this.#x.warnings.push(`dropped '${param}': ${text}`)
  }

  countUsage(completion: string): Promise<Usage> {
    return this.#x.countUsage(completion)
  }
}

/** A stream whose first item was read inside its attempt (so a stream failing before its first byte can fall back); a plain iterator, nothing queued. */
class PrimedStream<T> implements AsyncIterable<T>, AsyncIterator<T> {
  #first: IteratorResult<T> | undefined
  readonly #iterator: AsyncIterator<T>
  readonly #attempt: Attempt
  #done = false

  constructor(iterator: AsyncIterator<T>, first: IteratorResult<T>, attempt: Attempt) {
    this.#iterator = iterator
    this.#first = first
    this.#attempt = attempt
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this
  }

  async next(): Promise<IteratorResult<T>> {
    if (this.#done) return { done: true, value: undefined }
    let result: IteratorResult<T>
    if (this.#first) {
      result = this.#first
      this.#first = undefined
    } else {
      try {
        result = await this.#iterator.next()
      } catch (err) {
        this.#finish()
        throw this.#attempt.classify(err)
      }
    }
    if (result.done) this.#finish()
    return result
  }

  async return(): Promise<IteratorResult<T>> {
    if (!this.#done) {
      this.#finish()
      // Stop the upstream: the reader stopped early.
      void this.#iterator.return?.()
    }
    return { done: true, value: undefined }
  }

  #finish(): void {
    this.#done = true
    this.#attempt.settle()
  }
}
