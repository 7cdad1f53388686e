/** The plugin contract, what a third-party author reads first (through `ai-gateway/plugin`). */
import type { Logger } from 'pino'
import type Koa from 'koa'
import type {
  ChatChunk, ChatRequest, ChatResponse, ChatResult, EmbeddingRequest, EmbeddingResponse, ModelInfo, Usage,
} from './unified.ts'
import type { GatewayError } from './errors.ts'

export type PluginKind = 'provider' | 'surface' | 'stage' | 'auth' | 'limiter' | 'cache' | 'store' | 'queue' | 'service' | 'telemetry'

/** A JSON Schema object (draft 2020-12, as ajv understands it). */
export type JsonSchema = Record<string, unknown>

/** A typed capability token: `ctx.get(Store)` returns a `Store`. */
export interface Token<T> {
  readonly key: symbol
  readonly description: string
  /** Phantom field: carries T for type inference, never set. */
  readonly __type?: T
}
export function token<T>(description: string): Token<T> {
  return { key: Symbol.for(`gateway:${description}`), description }
}

/** What every instance may implement. */
export interface Lifecycle {
  /** Release what setup took (connections, timers). Called once, when no snapshot uses it any more. */
  dispose?(): Promise<void> | void
  /** Throw when the backend does not answer; used by `GET /ready`. */
  ready?(): Promise<void> | void
  /** Refuse a config once its routes are compiled: throw an Error saying what to change (`path`: the key of this plugin's block at fault). */
  check?(routes: RouteLookup): void
}

/** The routes of a config, for `check`. */
export interface RouteLookup {
  /** The route that answers `model` for a caller with no department or conditions, if any. */
  resolve(model: string): RouteInfo | undefined
}

/** What a plugin's setup receives. */
export interface PluginContext {
  /** The plugin id, e.g. `provider.openai`. */
  readonly id: string
  /** The instance name in gateway.yaml (e.g. the key under `providers:`), or the plugin name. */
  readonly name: string
  /** A child logger tagged with the plugin id. Values under the keys api_key, apiKey, key, token, secret, client_secret, password and authorization (at the top of a logged object or one level down) are logged as `[redacted]`: name a secret setting so, or never log it (redaction is by key name, not by value). */
  readonly logger: Logger
  /** The directory of the config file, to resolve relative paths against. */
  readonly configDir: string
  /** Feature flags (`features:`): of the config being built during setup, of the current config after (read them when working: they follow reloads). */
  readonly features: Readonly<Record<string, boolean>>
  /** Whether this process runs queued jobs: start queue consumers only when it does (`gateway worker`, or `gateway start` unless told not to). */
  readonly runsJobs: boolean
  /** A capability set up before this plugin (list it in the manifest's `uses`); throws if absent. */
  get<T>(capability: Token<T>): T
  /** Like get, but undefined when the capability is not configured. */
  tryGet<T>(capability: Token<T>): T | undefined
  /** The pipeline as `principal`, for work outside any request (a queued job): authorized (its role needs `chat`), routed, limited and accounted as if that principal called over HTTP. */
  callsAs(principal: Principal): GatewayCalls
  /** Resolves once the gateway serves its first config: work started in setup (a queue consumer, a sweep) that reads routes waits for it; callsAs's model calls wait for it themselves. */
  readonly serving: Promise<void>
  /** Offer a capability to the plugins set up after this one (list it in the manifest's `provides`). */
  provide<T>(capability: Token<T>, value: T): void
  /** A provider of the current config by its name under `providers:` (for its optional capabilities, e.g. `fineTune`); ask when working, not in setup. */
  provider(name: string): Provider | undefined
  /**
   * Build a new snapshot from the same config, in this process (what a `RouteOverlay` offers
   * changed). Resolves once requests are served by it (or the build failed, which is logged and
   * leaves the previous snapshot serving); never rejects.
   */
  rebuild(reason: string): Promise<void>
  /** Every HTTP route the current config serves, with the schemas they declared (what an OpenAPI document is made from). */
  routes(): readonly PublishedRoute[]
  /** Prometheus metrics on the gateway's /metrics: made once per gateway by name, shared across reloads. */
  readonly metrics: Metrics
  /** State kept across reloads until the gateway stops: one value per gateway and `key`, made by `create` the first time. */
  keep<T extends object>(key: string, create: () => T): T
}

export type MetricLabels = Readonly<Record<string, string | number>>

/** Metrics a plugin adds to /metrics (prom-client underneath). Label values must come from config, not requests. */
export interface Metrics {
  counter(name: string, help: string, labelNames?: readonly string[]): { inc(labels?: MetricLabels, value?: number): void }
  gauge(name: string, help: string, labelNames?: readonly string[]): { set(value: number, labels?: MetricLabels): void; reset(): void }
  histogram(name: string, help: string, labelNames?: readonly string[], buckets?: readonly number[]): { observe(value: number, labels?: MetricLabels): void }
}

export interface PluginManifest<Config = Record<string, unknown>, Instance = unknown> {
  /** `<kind>.<name>`, unique; `name` is what gateway.yaml writes after `plugin:`. */
  readonly id: string
  readonly kind: PluginKind
  /** One sentence for `gateway schema` and the docs. */
  readonly description?: string
  /** JSON Schema of this plugin's block (without the `plugin` key, which the kernel owns). */
  readonly configSchema: JsonSchema
  /** Capabilities this plugin may ask for: whoever provides them is set up first (and a change to them rebuilds this one). */
  readonly uses?: readonly Token<unknown>[]
  /** Capabilities it cannot run without (set up first, as `uses`): a config where nothing provides one is refused at load, `gateway validate` too. */
  readonly needs?: readonly Token<unknown>[]
  /** Capabilities this plugin offers through `ctx.provide`. */
  readonly provides?: readonly Token<unknown>[]
  /** A plugin every gateway has without naming it, unless its config turns it off (`surfaces: { <name>: { enabled: false } }`) or names its block: `true` when it takes no config. */
  readonly enabledByDefault?: boolean | DefaultSlot
  /** What is wrong for this plugin in the whole config, beyond what its schema says (so `gateway validate` reports it): paths from the config's root. */
  checkConfig?(config: Readonly<Record<string, unknown>>, at: ConfigCheckContext): readonly ConfigCheckIssue[]
  setup(ctx: PluginContext, config: Config): Promise<Instance> | Instance
}

/** Where a plugin every gateway has finds its settings, and when a config wants it: data, so a build's plugin index holds it and no plugin code runs before a config needs it. */
export interface DefaultSlot {
  /** Where its block is in gateway.yaml (checked against configSchema there, issues named there); absent: none. */
  readonly at?: readonly string[]
  /** Keys of that block that are another plugin's (`limits.backend` is the limiter's). */
  readonly omit?: readonly string[]
  /** More of the config added to its block, by key: `{ departments: ['departments'] }`. */
  readonly include?: Readonly<Record<string, readonly string[]>>
  /** Wanted only when the config has a value at this path (e.g. `['store']`); default: always. */
  readonly requires?: readonly string[]
  /** Its settings at `at` are read once, at start (state it keeps across reloads): a reload that changes them reports them as needing a restart. */
  readonly readOnce?: boolean
}

/** What `checkConfig` is told besides the whole config. */
export interface ConfigCheckContext {
  /** Where this plugin's block is, from the config's root (`['auth', 'strategies', 0]`). */
  readonly path: readonly (string | number)[]
  /** The block without the kernel's keys, schema defaults filled in; not yet known to be valid (read it defensively). */
  readonly block: Readonly<Record<string, unknown>>
  /** The roles the config defines (built in and under `roles:`): a role the plugin hands out must be one, or its requests would be a 403. */
  readonly roles: ReadonlySet<string>
}
export interface ConfigCheckIssue { readonly path: readonly (string | number)[]; readonly message: string }

/** Identity for typing a manifest; the kernel checks the id/kind shape at registration. */
export function definePlugin<Config = Record<string, unknown>, Instance = unknown>(
  manifest: PluginManifest<Config, Instance>,
): PluginManifest<Config, Instance> {
  return manifest
}

// ---------------------------------------------------------------------------------------------
// who is calling

/** Who is calling. Every stage after authentication sees this. */
export interface Principal {
  /**
   * Who the caller is. With a store, a UUID names a user it records (the jwt strategy and console
   * sign-in record theirs): work that outlives the request (batches, background responses, RAG
   * ingests) follows that user's role and department and stops once they are deleted. A strategy
   * whose users the store does not record should not use UUIDs here, or prefix them (`ext:<id>`).
   */
  readonly userId: string
  readonly role: string
  readonly department?: string
  /** The credential: a UUID names a virtual key in the store (work it started stops once it is revoked); another string (`config:<name>`) one the store does not keep. */
  readonly keyId?: string
  readonly name?: string
  readonly email?: string
  /** Extra per-key restrictions (allowed models/routes), when the credential carries them. */
  readonly allowedModels?: readonly string[]
  /** Per-credential limits and budget (a virtual key's `limits`), e.g. `{ requests_per_minute: 60 }`. */
  readonly limits?: Readonly<Record<string, number>>
  /** The strategy that authenticated the request, e.g. `auth.api-key`. */
  readonly strategy: string
}

/** Over which records a role's permissions reach. */
export type DataScope = 'own_data' | 'department_data' | 'all_data'

/** Whose a record is, for a data-scope check. */
export interface Owner { readonly userId: string | null; readonly department: string | null }

/** The caller of a route, with its role's reach. */
export interface Caller {
  readonly principal: Principal
  readonly role: { readonly name: string; readonly scope: DataScope; readonly permissions: readonly string[]; can(permission: string): boolean }
  /** The role's scope, narrowed to own_data for a department-scoped caller without a department. */
  readonly scope: DataScope
  /** Whether a record owned by `owner` is within the caller's data scope. */
  reaches(owner: Owner): boolean
  /** 403 `out_of_scope` unless the record is within reach; the message says nothing about the record. */
  requireReach(owner: Owner, what: string): void
  /** Whether the caller may give `role` (a name) to a user or a key: defined, and no more than its own role. */
  mayGrant(role: string): boolean
}

/** The parts of a request an auth strategy may look at. Header names are lower-case. */
export interface AuthRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly method: string
  readonly path: string
}

export interface AuthStrategy extends Lifecycle {
  /**
   * The principal; `null` declines (not this strategy's kind of credential: the next is tried); a bad credential of its kind throws a 401,
   * and the later strategies are still asked (one of two jwt strategies refuses the other's issuer): the first 401 is the answer if none accepts.
   */
  authenticate(req: AuthRequest): Promise<Principal | null>
}

// ---------------------------------------------------------------------------------------------
// provider

/** Per-call context the kernel hands a provider. */
export interface ProviderCall {
  /** Aborted when the client goes away or the attempt times out: pass it to the SDK. Made when first read. */
  readonly signal: AbortSignal
  /** Whether the call aborted, without making `signal`. The kernel's calls have it; hand-made ones (tests) may not. */
  readonly aborted?: boolean
  /** `listener` called once when the call aborts, without making `signal` (kit/abort.ts: `onAbort(call, listener)` takes either); returns what removes it. */
  onAbort?(listener: (reason: unknown) => void): () => void
  readonly requestId: string
  /** Extra upstream headers for this call (route/target overrides). */
  readonly headers?: Readonly<Record<string, string>>
  /** The client's headers that are part of the provider's wire (`Decoded.wireHeaders`: an API version, beta flags), for it to forward: a native (same-wire) call's, or a translated call's `CallOptions.wireHeaders`. */
  readonly wireHeaders?: Readonly<Record<string, string>>
  /** Report a request parameter this provider cannot honour: a 400 on a `strict` route, else dropped with an `x-gateway-warning`. */
  unsupported(param: string, message?: string): void
  /** The gateway's own count of this call's usage (its prompt, and `completion`'s text), as it accounts it: for a stream whose upstream reported none. */
  countUsage?(completion: string): Promise<Usage>
}

/** An answer in the wire format of the surface the request came in on, from a provider that speaks that wire natively (same-wire passthrough). */
export interface NativeResult {
  /** A whole response body, in the surface's wire format. */
  readonly body?: unknown
  /** Or the whole body as the upstream sent it (JSON), written to the client byte for byte. */
  readonly bytes?: Uint8Array
  /** The media type of `bytes` when it is not JSON (a transcript as text or subtitles). */
  readonly contentType?: string
  /** Or a stream of server-sent events, in the surface's wire format. */
  readonly events?: AsyncIterable<SseFrame>
  /** The usage, once the body or the stream has been read (for accounting). */
  usage(): Usage | undefined
  /** The text a stream carried, to count its tokens when it ended without usage (read only then). */
  text?(): string
  /** The upstream model that answered, when the wire says. */
  model(): string | undefined
}

/** A provider: throw `upstreamError` (retried, counted by the breaker) or `requestNotSent` (the caller's 400); escape `req.model` in URLs (`pathSegment`). */
export interface Provider extends Lifecycle {
  /** Chat completion; resolves to an async iterable of chunks when `req.stream` is true. */
  chat(req: ChatRequest, call: ProviderCall): Promise<ChatResult>
  /** Embeddings, for providers that have them. */
  embed?(req: EmbeddingRequest, call: ProviderCall): Promise<EmbeddingResponse>
  /** The upstream's model list, for discovery. */
  listModels?(signal?: AbortSignal): Promise<ModelInfo[]>
  /** Wire formats this provider speaks natively, by a surface's wire name: such requests pass through untranslated, every field kept. */
  readonly native?: Readonly<Record<string, (body: Record<string, unknown>, call: ProviderCall) => Promise<NativeResult>>>
  /** What it offers other plugins beyond chat and embeddings, by the token of that family's contract (the kernel never calls it): `{ [FineTuning.key]: tuner }`. */
  readonly capabilities?: Readonly<Record<symbol, unknown>>
}

/** What `provider` offers for `capability` (its `capabilities`), if anything. */
export function capabilityOf<T>(provider: Provider | undefined, capability: Token<T>): T | undefined {
  return provider?.capabilities?.[capability.key] as T | undefined
}


// ---------------------------------------------------------------------------------------------
// the pipeline, as stages and services see it

/**
 * What a pipeline run calls upstream. `native`: a provider's own wire call that generates nothing
 * (GatewayCalls.native, e.g. a token count), which stages opt in to; `media`: a provider's own wire
 * call that generates billed content (GatewayCalls.native with `metered`, e.g. images): a usage
 * event, under limits and budgets, as chat is.
 */
export type Operation = 'chat' | 'embeddings' | 'native' | 'media'

export interface TargetInfo {
  /** The provider instance name (key under `providers:`). */
  readonly provider: string
  /** The upstream model; undefined means "the model the client asked for". */
  readonly model: string | undefined
  /** Whether its provider makes embeddings. */
  readonly embeddings: boolean
}

export interface RouteInfo {
  readonly name: string
  readonly targets: readonly TargetInfo[]
  /** A hash of the route's targets and parameters: changes when what answers changes. */
  readonly signature: string
  /** The route's block in gateway.yaml: a stage reads its per-route settings here (`cache: true`, `stages: { name: {...} }`). */
  readonly settings: Readonly<Record<string, unknown>>
}

/** A cheap token estimate made before the call: prompt bytes / 4, plus the most the answer may use. */
export interface TokenEstimate {
  readonly prompt: number
  /** max_tokens × n; 0 when the client set no bound. A metered native call: what its caller estimated (NativeOptions.estimate). */
  readonly completion: number
}

/** How an exchange ended, for the `log` phase. */
export interface ExchangeOutcome {
  readonly status: number
  readonly errorType: string | null
  readonly latencyMs: number
  readonly promptTokens: number
  readonly completionTokens: number
  readonly cachedTokens: number
  /** Of the prompt tokens, those written to the provider's prompt cache (prompt_tokens_details.cache_write_tokens). */
  readonly cacheWriteTokens?: number
  /** Of the completion tokens, those spent reasoning (completion_tokens_details.reasoning_tokens). */
  readonly reasoningTokens?: number
  readonly costUsd: number
  readonly cacheHit: boolean
  /** The target that answered. */
  readonly provider: string | null
  readonly model: string | null
  readonly attempts: number
  readonly ttftMs: number | null
  readonly streamed: boolean
}

/** The target that produced an answer: its provider instance name and model. */
export interface AnswerOrigin {
  readonly provider: string
  readonly model: string
}

/** One model call moving through the pipeline, as stages see it. */
export interface StageExchange {
  readonly requestId: string
  readonly operation: Operation
  readonly principal: Principal | undefined
  /** The principal with its role's reach over records (for a stage that reads records as the caller); undefined before authentication. */
  readonly caller: Caller | undefined
  /** The route answering it: always set in the access and response phases; undefined in `log` for a request refused before routing. */
  readonly route: RouteInfo | undefined
  /** The name the client asked for (after department overrides); '' before routing. */
  readonly requestedModel: string
  readonly streaming: boolean
  /** Lower-case request headers ({} for calls a service makes). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  /** The chat thread the request belongs to (x-thread-id, metadata.thread_id, or the service's thread). */
  readonly thread: string | undefined
  /** Set for calls the gateway makes on behalf of another request (a cache's embeddings): its request id. */
  readonly parentId: string | undefined
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal
  /** The answer must be in the unified shape (no same-wire passthrough): a stage that reads or keeps answers calls this in `access`. */
  requireTranslation(): void
  /** The unified request; `replace` it to transform it (a stage after sees the new one). */
  readonly request: ChatRequest | EmbeddingRequest
  replace(request: ChatRequest | EmbeddingRequest): void
  /** Cheap and bounded: never a tokenizer on the event loop. */
  readonly estimate: TokenEstimate
  /** A line of a batch (CallOptions.batch): priced at the batch rate, and recorded as one. */
  readonly batch: boolean
  /** USD for these token counts at `model`'s price (the catalog and gateway.yaml `pricing:`; its batch rate for a batch line); 0 when unpriced. */
  cost(model: string | undefined, tokens: { prompt: number; completion: number; cached?: number }): number
  /** The most output tokens `model` may produce (the catalog's or gateway.yaml `pricing:` max_output_tokens), when known. */
  maxOutputTokens(model: string | undefined): number | undefined
  /** Tell the client what was dropped or changed (`x-gateway-warning`). */
  warn(message: string): void
  /** A response header for the client (x-ratelimit-*, x-gateway-cache). */
  setHeader(name: string, value: string): void
  /** The provider instance (key under `providers:`) and model that answered: set once a target answered, and by markCacheHit. */
  readonly provider: string | undefined
  readonly upstreamModel: string | undefined
  /** Mark the answer as served from a cache: no provider cost, and `x-gateway-cache: hit`; `origin` is the target that produced it (recorded as the provider and model). */
  markCacheHit(answer: ChatResponse, origin?: AnswerOrigin): void
  /** See each chunk of a streamed answer as it passes (cheap; called in the stream's one loop). */
  observe(onChunk: (chunk: ChatChunk) => void, onEnd?: (complete: boolean) => void): void
  /** Calls through this gateway's pipeline on behalf of this exchange (accounted as child requests). */
  readonly gateway: GatewayCalls
}

/** A route's target as the `targets` phase sees it. */
export interface RoutingTarget {
  /** The provider instance name (key under `providers:`). */
  readonly provider: string
  /** The upstream model; undefined means "the model the client asked for". */
  readonly model: string | undefined
  /** The target's `weight` (default 1). */
  readonly weight: number
  /** Its block under the route's `targets:` as written (e.g. `circuit:`), for stages to read their own keys. */
  readonly settings: Readonly<Record<string, unknown>>
}

/** The order to try a route's targets in. The kernel retries a target as its `retry:` says, and asks `outcomes` (if any) which it may try. */
export interface TargetPlan<T extends RoutingTarget> {
  readonly targets: readonly T[]
  /** Whether a failed target's turn passes to the next (false: one target is tried, the first `outcomes` admits). */
  readonly fallback: boolean
  /** What the planning stage learns of each try (stage.routing: circuit breakers and latency); absent: every target is tried. */
  readonly outcomes?: TargetOutcomes<T>
}

/** The call step reports each try of a plan's targets here: a stage keeps breakers and measures latency with them. Cheap and synchronous. */
export interface TargetOutcomes<T extends RoutingTarget> {
  /** May `target` be tried now (before each try, retries included)? false skips it (an open circuit). */
  admit(target: T): boolean
  /** It answered (a stream: its first chunk) after `latencyMs`. */
  success(target: T, latencyMs: number): void
  /** It failed in a way that says something about the upstream (retryable: 429, 5xx, timeout, connection). */
  failure(target: T): void
  /** The try ended without saying anything about the upstream (client gone, a 4xx): undo what `admit` took. */
  release(target: T): void
  /** `admit` refused every target: milliseconds until it would admit one (the 503's retry-after). */
  retryInMs(targets: readonly T[]): number
}

/** Koa middleware: the kernel's HTTP server is Koa. */
export type HttpMiddleware = Koa.Middleware

/**
 * A request stage, in phases (as Kong's plugins), higher `priority` first: `http` (every HTTP request), `request` (before routing; global stages only),
 * `access` (refuse, transform with `x.replace`, or answer instead of the targets), `targets` (the order to try the route's targets in), `response`
 * (inspect, replace, observe a stream), `log` (after the response has ended).
 */
export interface Stage extends Lifecycle {
  /** Higher runs first; built-ins: limits 1000, cache 100, usage 0, routing -1000. Default 500. */
  readonly priority?: number
  /** The operations it applies to (default: chat only). */
  readonly operations?: readonly Operation[]
  /** Every HTTP request the config serves (surfaces, services, pages; not /health, /ready, /metrics), around its route: CORS, security headers. Global stages only. Once `next()` returns, `ctx.state.route` names the route that took the request as mounted (`/api/v1/keys/:id`; unset when none did). */
  readonly http?: HttpMiddleware
  /** `x.route` is undefined here. */
  request?(x: StageExchange): void | Promise<void>
  access?(x: StageExchange): void | ChatResult | Promise<void | ChatResult>
  /** Once per call, when no stage answered: the first stage that returns a plan with a target decides (none: the targets as listed, falling back); synchronous and cheap. */
  targets?<T extends RoutingTarget>(x: StageExchange, targets: readonly T[]): TargetPlan<T> | undefined
  response?(x: StageExchange, result: ChatResult | EmbeddingResponse): void | ChatResult | Promise<void | ChatResult>
  /** Must not throw; the response has gone. */
  log?(x: StageExchange, outcome: ExchangeOutcome): void
}

/** Options for a pipeline call a service makes. */
export interface CallOptions {
  /** Aborts the call (the client of the service went away). */
  readonly signal?: AbortSignal
  /** The chat thread the call belongs to (the `thread` limit scope). */
  readonly thread?: string
  /** The request headers routes' `when: { headers }` read (a surface's client's); default none. */
  readonly headers?: Readonly<Record<string, string | string[] | undefined>>
  /** The metadata routes' `when: { metadata }` read, for a request whose own is not sent on (a Responses turn's); default the request's `metadata`. */
  readonly metadata?: RoutingFacts['metadata']
  /** The call's request id (its logs, trace and usage event), for a caller that reports it back (a batch line's `request_id`); default a new one. */
  readonly requestId?: string
  /**
   * The call is a line of a batch (services.batches' worker): priced at the model's batch rate (`Pricing.cost`'s `batch`) and marked so in
   * usage. Only code in the gateway sets it: no surface reads it from a client's request, so a client cannot buy the batch rate interactively.
   */
  readonly batch?: boolean
  /**
   * The client's headers that are part of a provider's wire (an API version, beta flags), for the provider to forward
   * (ProviderCall.wireHeaders): a native call's body is written to them; a translated chat passes them where its provider
   * honours them (a message batch's `anthropic-beta`, kept with the batch, to an Anthropic target).
   */
  readonly wireHeaders?: Readonly<Record<string, string>>
}

/** What routes' `when: { headers, metadata }` read of a call: its client's headers (lower-case names) and its body's `metadata`. */
export interface RoutingFacts {
  readonly headers?: Readonly<Record<string, string | string[] | undefined>>
  readonly metadata?: Readonly<Record<string, unknown>> | null
}

/** Options for `GatewayCalls.native`. */
export interface NativeOptions extends CallOptions {
  /** Answers for a target whose provider does not speak the wire (e.g. the surface's estimate); without it such targets are skipped. */
  readonly otherwise?: (target: RoutingTarget) => NativeResult | Promise<NativeResult>
  /** The call generates billed content (images): it runs as operation `media`, so usage, limits and budgets count it (its NativeResult's usage, priced by the catalog). */
  readonly metered?: boolean
  /**
   * A metered call's admission estimate, which only its caller can read from the wire body: its prompt's tokens and the most its
   * answer may use (an image request's output tokens × n). Token limits take it and budgets reserve it (priced at each target's
   * model) before the call; the actual usage replaces it after. Without it the call is estimated at 0 tokens and reserves nothing.
   */
  readonly estimate?: TokenEstimate
}

/** A pipeline call in flight: the result, and the outcome once the response has ended and been accounted. */
export interface Call<T> {
  readonly result: T
  /** Settles when the answer has been consumed (a stream to its end) and accounted. */
  readonly done: Promise<ExchangeOutcome>
  /** Which route, provider and model answered. */
  readonly route: string
  readonly provider: string | undefined
  readonly model: string | undefined
  /** What was dropped or changed on the way, as a request's `x-gateway-warning` says (a stream's, once it has ended). */
  readonly warnings: readonly string[]
}

/** The gateway's own pipeline, as a caller: route, stages, targets, accounting. */
export interface GatewayCalls {
  chat(request: ChatRequest, options?: CallOptions): Promise<Call<ChatResult>>
  embed(request: EmbeddingRequest, options?: CallOptions): Promise<Call<EmbeddingResponse>>
  /** Route names and aliases the caller may ask for; what a glob route answers is not among them (globRoutes). */
  models(): string[]
  /**
   * The routes a glob names (`claude-*`), for every caller: the names they answer are not in models(). A surface that lists
   * models asks their targets' providers (`Provider.listModels`) and keeps the names routes() answers for the caller.
   */
  globRoutes(): readonly RouteInfo[]
  /**
   * Whether a route answers `model` for the caller (after its department's overrides), without calling it.
   * `facts`: what a route's `when: { headers, metadata }` reads, as a call with them would be routed (default none).
   */
  routes(model: string, facts?: RoutingFacts): RouteInfo | undefined
  /** A provider's own wire call that generates nothing (`Provider.native[wire]`, e.g. a token count; `model` set per target), routed and tried as `chat`
   * is (timeouts, retries, breakers, fallback, errors mapped and redacted); in metrics and traces, not a usage event (stages opt in by `operations`) unless `metered`. */
  native(wire: string, model: string, body: Record<string, unknown>, options?: NativeOptions): Promise<Call<NativeResult>>
}

// ---------------------------------------------------------------------------------------------
// HTTP routes: surfaces and services

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/** One server-sent event. */
export interface SseFrame { readonly data: string; readonly event?: string }

/** An uploaded file of a multipart request. */
export interface UploadedFile { readonly field: string; readonly filename: string; readonly contentType: string; readonly data: Buffer }

/** What a route handler gets: the authenticated caller and validated input. */
export interface RouteRequest<Body = unknown, Query = Record<string, unknown>, Params = Record<string, string>> {
  readonly caller: Caller
  readonly body: Body
  readonly query: Query
  readonly params: Params
  /** Multipart routes: the uploaded files (the other fields are in `body`). */
  readonly files: readonly UploadedFile[]
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly requestId: string
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal
  /** The pipeline, as this caller. */
  readonly gateway: GatewayCalls
  /** Roles and departments of this config. */
  readonly access: AccessView
}

export interface RoleView { readonly name: string; readonly scope: DataScope; readonly permissions: readonly string[] }

export interface AccessView {
  /** Whether `name` may be given to a user or a key: any name while no departments are listed. */
  isDepartment(name: string): boolean
  roleNames(): string[]
  /** Every role with its scope and permissions (`*`: all), in gateway.yaml's order after the built-in ones. */
  roles(): readonly RoleView[]
  /** The departments gateway.yaml lists; empty when it lists none (then any name is a department). */
  departmentNames(): string[]
  hasRole(name: string): boolean
  /** Whether a holder of role `holder` may hold everything `other` grants (both defined); false otherwise. */
  roleCovers(holder: string, other: string): boolean
  /** Whether `name` matches one of `patterns` (model names and `*`/`?` globs). */
  matchesModel(patterns: readonly string[], name: string): boolean
}

/** Response headers of a reply; a list gives a header several times (`set-cookie`). */
export type ReplyHeaders = Readonly<Record<string, string | readonly string[]>>

/** A reply other than plain JSON data; make one with `reply`, `sse` or `raw`. */
export type Reply = JsonReply | SseReply | RawReply

const REPLY = Symbol.for('ai-gateway.reply')

export interface JsonReply {
  readonly [REPLY]: 'json'
  readonly data: unknown
  readonly status?: number
  readonly headers?: ReplyHeaders
  /** Envelope routes: `message` and extra `meta`. */
  readonly message?: string
  readonly meta?: Readonly<Record<string, unknown>>
}
export interface SseReply {
  readonly [REPLY]: 'sse'
  readonly frames: AsyncIterable<SseFrame>
  /** The frame that reports an error after the stream started. */
  readonly errorFrame: (error: GatewayError) => SseFrame
  readonly headers?: ReplyHeaders
}
export interface RawReply {
  readonly [REPLY]: 'raw'
  readonly body: Buffer | string | AsyncIterable<Uint8Array>
  readonly contentType: string
  readonly status?: number
  readonly headers?: ReplyHeaders
}

export function reply(data: unknown, options: Omit<JsonReply, typeof REPLY | 'data'> = {}): JsonReply {
  return { [REPLY]: 'json', data, ...options }
}
export function sse(frames: AsyncIterable<SseFrame>, errorFrame: (error: GatewayError) => SseFrame, headers?: ReplyHeaders): SseReply {
  return { [REPLY]: 'sse', frames, errorFrame, headers }
}
export function raw(body: RawReply['body'], contentType: string, options: { status?: number; headers?: ReplyHeaders } = {}): RawReply {
  return { [REPLY]: 'raw', body, contentType, ...options }
}
export function isReply(value: unknown): value is Reply {
  return typeof value === 'object' && value !== null && REPLY in value
}
/** Which kind of reply a handler's answer is; undefined for plain data. */
export function replyKind(value: unknown): Reply[typeof REPLY] | undefined {
  return isReply(value) ? value[REPLY] : undefined
}

/**
 * An HTTP route: the kernel authenticates, checks `permission` and validates the input (400 naming the field); the handler returns data or a Reply.
 * Untyped, its body is `unknown`; its query stays `any` (built-ins pass typed query interfaces, which a `Record` default would refuse).
 */
export interface RouteSpec<Body = unknown, Query = any, Params = Record<string, string>> {
  readonly method: HttpMethod
  /** koa-router syntax (`/threads/:id`): absolute under /v1 for a surface, relative to /api/v1/<name> for a service. */
  readonly path: string
  /** One line for the OpenAPI document. */
  readonly summary: string
  /** The permission the caller's role needs; `null`: any authenticated caller. */
  readonly permission: string | null
  /** JSON Schema of the JSON body, or `multipart` for uploads (fields in `body`, files in `files`). */
  readonly body?: JsonSchema | 'multipart'
  readonly query?: JsonSchema
  readonly params?: JsonSchema
  /** JSON Schema of the data answered, for the OpenAPI document. */
  readonly response?: JsonSchema
  /** What the /api/v1 envelope's `meta` holds, for the OpenAPI document (a list's pagination is implied). */
  readonly meta?: JsonSchema
  /** A route that answers bytes (a `raw` reply, e.g. a download) instead of JSON: their media type, for the OpenAPI document. */
  readonly produces?: string
  /** Status of a successful answer (default 200). */
  readonly status?: number
  /** Served without authentication (pages, docs, a sign-in callback): `caller` is the anonymous principal, and `permission` must be null. */
  readonly public?: boolean
  /** A surface route's header for the request id besides `x-request-id`, on every answer, the kernel's refusals included (default: its surface's `requestIdHeader`). */
  readonly requestIdHeader?: string
  handle(req: RouteRequest<Body, Query, Params>): unknown | Promise<unknown>
}

/** A route as served: its full path (koa-router syntax), who declared it, and its declaration. */
export interface PublishedRoute {
  readonly path: string
  /** `surface` routes answer as they are (/v1); `service` routes in the /api/v1 envelope. */
  readonly area: 'surface' | 'service'
  /** The plugin instance's name in gateway.yaml. */
  readonly owner: string
  readonly route: RouteSpec | ModelEndpoint
}

/** A management-API feature mounted under `/api/v1/<name>`; answers in the envelope. */
export interface Service extends Lifecycle {
  readonly routes?: readonly RouteSpec[]
  /** Routes at absolute paths outside /api/v1 (a web console at `/`, documentation at `/docs`), answered as they are (no envelope). */
  readonly pages?: readonly RouteSpec[]
}

/** A decoded model request. */
export interface Decoded<T extends ChatRequest | EmbeddingRequest = ChatRequest | EmbeddingRequest> {
  readonly request: T
  /** What translating it to the unified API dropped, for `x-gateway-warning` (none when a target takes the wire as it came). */
  readonly warnings?: readonly string[]
  /** Why it cannot be translated (a server tool only the wire's own provider runs): fails unless a target takes the wire as it came. */
  readonly untranslatable?: GatewayError
  /** The thread the request belongs to (the `thread` limit scope). */
  readonly thread?: string
  /** Request headers that belong to the wire (an API version, beta flags): passed to a target that takes the wire as it came (`ProviderCall.wireHeaders`). */
  readonly wireHeaders?: Readonly<Record<string, string>>
}

/** Turns a streamed answer into the surface's frames, chunk by chunk (one loop, no generators). */
export interface StreamEncoder {
  chunk(chunk: ChatChunk): readonly SseFrame[]
  /** After the last chunk (complete or not): the closing frames. */
  end(complete: boolean): readonly SseFrame[] | Promise<readonly SseFrame[]>
  error(error: GatewayError): SseFrame
}

/** An endpoint that calls a model: the kernel runs the pipeline between `decode` and `encode`. */
export interface ModelEndpoint<Wire = unknown> {
  readonly method: 'POST'
  readonly path: string
  readonly summary: string
  readonly operation: Operation
  /** Default `chat`. */
  readonly permission?: string
  /** The wire format, for same-wire passthrough to providers that speak it (`Provider.native`). */
  readonly wire?: string
  decode(body: Wire, req: RouteRequest<Wire>): Decoded | Promise<Decoded>
  /** Once the route is known, what the wire checks against its settings (`x.route.settings`), e.g. fields a `strict` route refuses. */
  routed?(x: StageExchange): void
  /** A whole answer as the wire's body. */
  encode(result: ChatResponse | EmbeddingResponse, req: RouteRequest<Wire>, x: StageExchange): unknown
  /** A streamed answer. */
  streamEncoder?(req: RouteRequest<Wire>, x: StageExchange): StreamEncoder
}

/** What an error writer may read of the request it answers. */
export interface ErrorRequest {
  readonly path: string
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
}

/** A wire format clients speak (a chat API, a messages API, Responses...): its routes under /v1. */
export interface Surface extends Lifecycle {
  readonly endpoints: readonly (ModelEndpoint | RouteSpec)[]
  /**
   * An error as this wire writes it (default: OpenAI's `{ error: { message, type, code, param } }`).
   * `request`, when there is one, is the refused request's path and headers: for a path two wires
   * share (`GET /v1/models`, which Anthropic's SDKs call too), the wire its caller speaks.
   */
  errorBody?(error: GatewayError, requestId: string, request?: ErrorRequest): unknown
  /** A header this wire's clients read the request id from (some SDKs read `request-id`), set on its answers besides `x-request-id`. */
  readonly requestIdHeader?: string
}

// ---------------------------------------------------------------------------------------------
// store, queue, telemetry

/** SQL in PostgreSQL's dialect; both store plugins speak it. */
export interface SqlClient {
  /** One statement; values go in `params` ($1, $2...), never into the text. */
  query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[], options?: QueryOptions): Promise<{ rows: Row[]; rowCount: number }>
  /** Several statements without parameters (a migration file). */
  exec(script: string): Promise<void>
  /**
   * Append rows with `COPY table (columns) FROM STDIN`, all or none, and resolve with how many:
   * `text` is COPY's text format (`copyText` in the store kit). Much cheaper for the database than
   * an INSERT of the same rows, but it cannot skip a row already there: a duplicate fails the whole
   * COPY (SQLSTATE 23505). Both store plugins have it; another backend may not: use INSERT then.
   */
  copyFrom?(table: string, columns: readonly string[], text: string): Promise<number>
}

/** How one statement is run. */
export interface QueryOptions {
  /**
   * A name to prepare the statement under, once per connection, for a hot statement whose text
   * never changes: PostgreSQL then skips parsing and planning it at each call. One name, one text.
   * A backend may ignore it (the embedded store does).
   */
  readonly prepare?: string
}

/** A plugin's migrations: a folder of NNNN_name.sql files, applied in order. */
export interface MigrationSet {
  /** Who owns the tables (recorded with each migration): `usage`, `identity`, `rag`... */
  readonly owner: string
  /** A folder of `NNNN_lower_case_name.sql` files. */
  readonly dir: string
}

export interface MigrationReport {
  readonly applied: readonly string[]
  /** Migrations left for later because their extension is missing. */
  readonly pending: readonly { readonly id: string; readonly extension: string; readonly reason: string }[]
}

export interface Store extends Lifecycle {
  /** `postgres` or `embedded`. */
  readonly backend: string
  readonly sql: SqlClient
  /** Run `fn` in one transaction on one connection: commit when it resolves, roll back when it throws. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>
  /** Bring a plugin's tables up to date (safe when several gateways start at once). */
  migrate(migrations: MigrationSet): Promise<MigrationReport>
  /** Whether the database offers (or has) this extension, e.g. `vector`. */
  hasExtension(name: string): Promise<boolean>
}

/** The instance interface for each kind (a limiter's, a cache's and a queue's are their families' contracts, in plugins/contracts). */
export interface InstanceByKind {
  provider: Provider
  surface: Surface
  stage: Stage
  auth: AuthStrategy
  limiter: Lifecycle
  cache: Lifecycle
  store: Store
  queue: Lifecycle
  service: Service
  telemetry: Lifecycle
}

/** The capability token, named like its interface so a plugin writes `ctx.get(Store)`. */
export const Store: Token<Store> = token<Store>('Store')

/** Routes a plugin adds after gateway.yaml's (deployed fine-tuned models; the config wins a shared name), read at each build: call `ctx.rebuild` after a change. */
export interface RouteOverlay {
  routes(): readonly OverlayRoute[]
}
export interface OverlayRoute {
  readonly model: string
  readonly targets: readonly { readonly provider: string; readonly model?: string }[]
  /** Who added it, e.g. `deployed` */
  readonly source: string
  /** Only these users may call it (a route's `when: { users }`); default everyone the config lets route. */
  readonly when?: { readonly users: readonly string[] }
}
export const RouteOverlay: Token<RouteOverlay> = token<RouteOverlay>('RouteOverlay')

/** The running gateway, as the admin service sees it (the kernel provides it). */
export interface GatewayControl {
  /** The current config's version and model routes with their targets (their circuits are stage.routing's: `Circuits`). */
  routes(): { readonly version: string; readonly routes: readonly RouteState[] }
  /** Reload the config now (every worker's, with --workers): this process's outcome. */
  reload(reason: string): Promise<{ status: 'reloaded' | 'unchanged'; version: string } | { status: 'failed'; message: string; issues: readonly unknown[] }>
}
export interface RouteState {
  readonly info: RouteInfo
  /** Defined when it has `when` conditions. */
  readonly when: unknown
  readonly targets: readonly {
    readonly provider: string
    readonly model: string | undefined
    readonly weight: number
    readonly timeoutMs: number | undefined
    readonly retry: { readonly attempts: number; readonly backoffMs: number; readonly maxBackoffMs: number }
  }[]
}
export const GatewayControl: Token<GatewayControl> = token<GatewayControl>('GatewayControl')

/** Counts tokens with a real tokenizer, bounded and off the event loop (service.tokenizer provides it). */
export interface Tokenizer {
  count(text: string): Promise<number>
  /** A chat request's prompt: its messages' text, names and tool calls, its tools, and the format's overhead. */
  countChat(request: ChatRequest): Promise<number>
}
export const Tokenizer: Token<Tokenizer> = token<Tokenizer>('Tokenizer')

/** Model prices (service.pricing provides them): what the kernel charges each model call; `batch`: a batch line's, at the model's batch rate. */
export interface Pricing {
  /** USD for these token counts at `model`'s price; 0 when unpriced. `cached` (read from a prompt cache) and `cacheWrite` (written to it) are of the prompt tokens, `cacheWrite1h` of `cacheWrite` (to a 1-hour cache). */
  cost(model: string | undefined, tokens: { prompt: number; completion: number; cached?: number; cacheWrite?: number; cacheWrite1h?: number }, batch?: boolean): number
  /** Whether `model` has a price: its cost of 0 is then a fact, not a missing figure (analytics says which). Optional for pricing plugins written before it: without it every model counts as priced. */
  priced?(model: string | undefined): boolean
  /** The most output tokens `model` may produce, when known. */
  maxOutputTokens(model: string | undefined): number | undefined
  /** Input and output tokens `model` holds at once, when known (what a conversation's history is fitted into). */
  contextWindow(model: string | undefined): number | undefined
}
export const Pricing: Token<Pricing> = token<Pricing>('Pricing')
