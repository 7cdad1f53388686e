/** One model call moving through the pipeline: what the steps fill in, and what stages see of it (StageExchange). */
import type { ChatChunk, ChatRequest, ChatResponse, ChatResult, EmbeddingRequest, EmbeddingResponse, Usage } from '../../plugin-api/unified.ts'
import type { AnswerOrigin, Caller, GatewayCalls, NativeOptions, NativeResult, Operation, Principal, RouteInfo, RoutingFacts, Stage, StageExchange, TokenEstimate } from '../../plugin-api/types.ts'
import type { CompiledRoute } from '../runtime/routes.ts'
import type { Snapshot } from '../runtime/snapshot.ts'
import { estimatePromptTokens, estimateTextTokens, estimateTokens } from '../../plugin-api/kit/tokens.ts'
import type { Span } from '../tracing.ts'
import { onAbort, type LazyAbort } from '../../plugin-api/kit/abort.ts'
import type { GatewayError } from '../../plugin-api/errors.ts'
import { callerOf } from './identity.ts'
import type { RequestScope } from './scope.ts'

type Headers = Readonly<Record<string, string | string[] | undefined>>
type ChunkObserver = readonly [onChunk: (chunk: ChatChunk) => void, onEnd: ((complete: boolean) => void) | undefined]

export interface ExchangeInit {
  readonly snapshot: Snapshot
  readonly requestId: string
  readonly operation: Operation
  readonly signal: AbortSignal | LazyAbort
  readonly span: Span
  readonly headers?: Headers
  readonly metadata?: RoutingFacts['metadata']
  readonly method?: string
  readonly path?: string
  readonly principal?: Principal
  readonly parentId?: string
  readonly thread?: string
  /** Where response headers go (an HTTP response); calls services make have none. */
  readonly setHeader?: (name: string, value: string) => void
  /** Makes the `gateway` a stage calls through (child calls of this exchange). */
  readonly calls: (x: Exchange) => GatewayCalls
}

export class Exchange implements StageExchange, RequestScope {
  readonly snapshot: Snapshot
  readonly requestId: string
  readonly method: string
  readonly path: string
  readonly operation: Operation
  readonly #signal: AbortSignal | LazyAbort
  readonly span: Span
  activeSpan: Span | undefined
  readonly headers: Headers
  readonly metadata: RoutingFacts['metadata'] // what routes' `when: { metadata }` read if not the request's own (CallOptions.metadata)
  readonly parentId: string | undefined
  batch = false // a batch line (CallOptions.batch, set by its caller, never from a request): priced at the batch rate
  wireHeaders: Readonly<Record<string, string>> | undefined // a translated call's CallOptions.wireHeaders (a native call's are its x.wire's)
  readonly startedAt = performance.now()
  readonly #setHeader: ((name: string, value: string) => void) | undefined
  readonly #makeCalls: (x: Exchange) => GatewayCalls

  principal: Principal | undefined
  thread: string | undefined
  /** Set by the route step. */
  compiledRoute: CompiledRoute | undefined
  requestedModel = ''
  #request: ChatRequest | EmbeddingRequest | undefined
  #estimate: TokenEstimate | undefined
  /** A stage replaced the request: the surface's original body no longer says what is sent. */
  replaced = false
  /** A stage needs the answer in the unified shape: no same-wire passthrough. */
  translationRequired = false
  /** What translating the surface's request to the unified one lost (see Decoded): applied when a target gets it translated. */
  translation: { readonly warnings: readonly string[]; readonly error: GatewayError | undefined } | undefined
  /** The surface's wire body, wire name and wire headers, for same-wire passthrough; a `native` call's stand-in for targets without the wire, and its caller's admission estimate. */
  wire: { readonly name: string; readonly body: Record<string, unknown>; readonly headers?: Readonly<Record<string, string>> } & Pick<NativeOptions, 'otherwise' | 'estimate'> | undefined
  /** The surface's check once routed (ModelEndpoint.routed). */
  routed: ((x: Exchange) => void) | undefined
  streaming = false
  /** Whether the client asked for the final usage chunk (the gateway always asks upstream). */
  clientWantsUsage = false
  /** The stages that apply to this exchange, by phase, in priority order (set by the route step). */
  stages: readonly { readonly name: string; readonly stage: Stage }[] = []

  attempts = 0
  provider: string | undefined
  upstreamModel: string | undefined
  readonly warnings: string[] = []
  /** What the call step (or a stage) answered. */
  result: ChatResult | EmbeddingResponse | NativeResult | undefined
  usage: Usage | undefined
  /** Streamed text, to count completion tokens if a stream ends without usage. */
  readonly completionParts: string[] = []
  ttftMs: number | undefined
  cacheHit = false
  /** How it failed, if it did (a stream may fail after its first byte). */
  error: GatewayError | undefined
  /** HTTP status of the answer; 499 when the client went away first. */
  status = 200
  #observers: ChunkObserver[] = []
  #gateway: GatewayCalls | undefined

  constructor(init: ExchangeInit) {
    this.snapshot = init.snapshot
    this.requestId = init.requestId
    this.operation = init.operation
    this.#signal = init.signal
    this.span = init.span
    this.headers = init.headers ?? {}
    this.metadata = init.metadata
    this.method = init.method ?? 'POST'
    this.path = init.path ?? ''
    this.principal = init.principal
    this.parentId = init.parentId
    this.thread = init.thread
    this.#setHeader = init.setHeader
    this.#makeCalls = init.calls
  }

  get signal(): AbortSignal {
    const signal = this.#signal
    return signal instanceof AbortSignal ? signal : signal.signal
  }

  /** Whether the client went away (or the caller aborted), without making a signal to say so. */
  get aborted(): boolean {
    return this.#signal.aborted
  }

  /** `listener` once the client goes away (or the caller aborts), without making a signal; returns what removes it. */
  onAbort(listener: (reason: unknown) => void): () => void {
    return onAbort(this.#signal, listener)
  }

  get route(): RouteInfo | undefined {
    return this.compiledRoute?.info
  }

  get caller(): Caller | undefined {
    const role = this.snapshot.access.roleOf(this.principal)
    return role ? callerOf(this, role) : undefined
  }

  get request(): ChatRequest | EmbeddingRequest {
    if (!this.#request) throw new Error('the request is not decoded yet')
    return this.#request
  }

  /** The request as a chat request (the operation says it is one). */
  get chatRequest(): ChatRequest {
    return this.request as ChatRequest
  }

  /** Set by the decode step (or a service's call). */
  setRequest(request: ChatRequest | EmbeddingRequest): void {
    this.#request = request
    this.#estimate = undefined
  }

  replace(request: ChatRequest | EmbeddingRequest): void {
    this.setRequest(request)
    this.replaced = true
  }

  requireTranslation(): void {
    this.translationRequired = true
  }

  /** The call goes out translated: fail if the request cannot be, else say what translation dropped. */
  translated(): void {
    const translation = this.translation
    if (!translation) return
    this.translation = undefined
    if (translation.error) throw translation.error
    this.warnings.push(...translation.warnings)
  }

  get estimate(): TokenEstimate {
    return (this.#estimate ??= this.wire?.estimate ?? estimateTokens(this.operation, this.request))
  }

  /** The gateway's own count of this chat, for an answer whose provider reported no usage: the prompt and `completion` by the Tokenizer, else bytes / 4. */
  async countUsage(completion: string): Promise<Usage> {
    const { chatRequest: request, snapshot: { tokenizer } } = this
    const [prompt, output] = tokenizer ? await Promise.all([tokenizer.countChat(request), tokenizer.count(completion)]) : [estimatePromptTokens(request), estimateTextTokens(completion)]
    return { prompt_tokens: prompt, completion_tokens: output, total_tokens: prompt + output }
  }

  cost(model: string | undefined, tokens: { prompt: number; completion: number; cached?: number }): number {
    return this.snapshot.prices.cost(model, tokens, this.batch)
  }

  maxOutputTokens(model: string | undefined): number | undefined {
    return this.snapshot.prices.maxOutputTokens(model)
  }

  warn(message: string): void {
    this.warnings.push(message)
  }

  setHeader(name: string, value: string): void {
    this.#setHeader?.(name, value)
  }

  markCacheHit(answer: ChatResponse, origin?: AnswerOrigin): void {
    this.cacheHit = true
    this.usage = answer.usage
    this.provider = origin?.provider
    this.upstreamModel = origin?.model ?? answer.model
    this.ttftMs = performance.now() - this.startedAt
  }

  observe(onChunk: (chunk: ChatChunk) => void, onEnd?: (complete: boolean) => void): void {
    this.#observers.push([onChunk, onEnd])
  }

  get observers(): readonly ChunkObserver[] {
    return this.#observers
  }

  get gateway(): GatewayCalls {
    return (this.#gateway ??= this.#makeCalls(this))
  }
}
