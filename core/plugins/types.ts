/**
 * The plugin contract. A third-party author reads this file first.
 *
 * A plugin is a manifest (`definePlugin`) with a dotted id `<kind>.<name>`, a JSON Schema for its
 * block in gateway.yaml, and `setup(ctx, config)` returning an instance of its kind's interface.
 * `dispose()` is called when the last runtime snapshot using the instance is retired.
 */
import type { DependencyContainer } from 'tsyringe'
import type { Logger } from 'pino'
import type Router from '@koa/router'
import type { ChatRequest, ChatResponse, ChatResult, EmbeddingRequest, EmbeddingResponse, ModelInfo } from '../api/types.ts'
import type { Repositories } from '../data/types.ts'

export type PluginKind = 'provider' | 'auth' | 'limiter' | 'cache' | 'store' | 'queue' | 'service' | 'telemetry'

/** A JSON Schema object (draft 2020-12 subset that ajv understands). */
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
}

/** What a plugin's setup receives. */
export interface PluginContext {
  /** The plugin id, e.g. `provider.openai`. */
  readonly id: string
  /** The instance name in gateway.yaml (e.g. the key under `providers:`), or the plugin name. */
  readonly name: string
  /** A child logger tagged with the plugin id; secrets are redacted by the kernel. */
  readonly logger: Logger
  /** The snapshot's child container (tsyringe). Register by explicit tokens, never by reflected types. */
  readonly container: DependencyContainer
  /** The directory of the config file, to resolve relative paths against. */
  readonly configDir: string
  /** A capability set up before this plugin (Store, Queue, Limiter, Cache); throws if absent. */
  get<T>(capability: Token<T>): T
  /** Like get, but undefined when the capability is not configured. */
  tryGet<T>(capability: Token<T>): T | undefined
}

export interface PluginManifest<Config = Record<string, unknown>, Instance = unknown> {
  /** `<kind>.<name>`, unique; `name` is what gateway.yaml writes after `plugin:`. */
  readonly id: string
  readonly kind: PluginKind
  /** One sentence for `gateway schema` and the docs. */
  readonly description?: string
  /** JSON Schema of this plugin's block (without the `plugin` key, which the kernel owns). */
  readonly configSchema: JsonSchema
  setup(ctx: PluginContext, config: Config): Promise<Instance> | Instance
}

/** Identity for typing a manifest; the kernel checks the id/kind shape at registration. */
export function definePlugin<Config = Record<string, unknown>, Instance = unknown>(
  manifest: PluginManifest<Config, Instance>,
): PluginManifest<Config, Instance> {
  return manifest
}

// ---------------------------------------------------------------------------------------------
// provider

/** Per-call context the kernel hands a provider. */
export interface ProviderCall {
  /** Aborted when the client goes away or the attempt times out: pass it to the SDK. */
  readonly signal: AbortSignal
  readonly requestId: string
  /** Extra upstream headers for this call (route/target overrides). */
  readonly headers?: Readonly<Record<string, string>>
  /**
   * Report a request parameter this provider cannot honour. In a `strict` route this throws a
   * 400 naming the parameter; otherwise the parameter is dropped and the client sees an
   * `x-gateway-warning` header. Never mistranslate silently.
   */
  unsupported(param: string, message?: string): void
}

/**
 * A provider's failures decide what the kernel does next: an upstream failure (`upstreamError` in
 * core/errors.ts) may be retried and counts toward the target's circuit breaker; a request that
 * never reached the upstream (it failed to serialise, the SDK refused it: `requestNotSent`) is the
 * caller's 400 and counts toward nothing. `req.model` may be a client's name passed through by a
 * glob route: escape it (`pathSegment` in core/api/model-names.ts) wherever it goes into a URL.
 */
export interface Provider extends Lifecycle {
  /** Chat completion; resolves to an async iterable of chunks when `req.stream` is true. */
  chat(req: ChatRequest, call: ProviderCall): Promise<ChatResult>
  /** Embeddings, for providers that have them. */
  embed?(req: EmbeddingRequest, call: ProviderCall): Promise<EmbeddingResponse>
  /** The upstream's model list, for discovery and `gateway models`. */
  listModels?(signal?: AbortSignal): Promise<ModelInfo[]>
}

// ---------------------------------------------------------------------------------------------
// auth

/** Who is calling. Every stage after authentication sees this. */
export interface Principal {
  readonly userId: string
  readonly role: string
  readonly department?: string
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

/** The parts of a request an auth strategy may look at. Header names are lower-case. */
export interface AuthRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly method: string
  readonly path: string
}

export interface AuthStrategy extends Lifecycle {
  /**
   * Return the principal, or `null` to decline (the credential is not this strategy's kind, so
   * the next strategy is tried). Throw a 401 GatewayError for a credential of this kind that is bad.
   */
  authenticate(req: AuthRequest): Promise<Principal | null>
}

// ---------------------------------------------------------------------------------------------
// limiter, cache, store, queue

/**
 * One rate-limit bucket: `cost` units drawn from `limit` units per `windowMs`, kept under `key`.
 * Buckets follow GCRA: a whole window's worth may be used at once, then units come back evenly
 * (one every `windowMs / limit`), so a bucket is one number per key and needs no window resets.
 */
export interface LimitBucket {
  readonly key: string
  readonly limit: number
  readonly windowMs: number
  readonly cost: number
}

export interface LimitDecision {
  readonly allowed: boolean
  readonly limit: number
  /** Units left after this take (or, when refused, before it). */
  readonly remaining: number
  /** Milliseconds until the bucket is full again. */
  readonly resetMs: number
  /** When refused, milliseconds until the same cost would be admitted; 0 when allowed. */
  readonly retryAfterMs: number
}

/** A rate limiter backend (`limits.backend`): counts, nothing else; the kernel decides what to count. */
export interface Limiter extends Lifecycle {
  /**
   * Take each bucket's cost atomically, all or none: if one bucket refuses, nothing is taken. A
   * shared backend does this in one round trip. Returns one decision per bucket, in order.
   */
  take(buckets: readonly LimitBucket[]): Promise<LimitDecision[]>
  /**
   * Correct buckets after the fact (an estimate against the actual usage): a positive cost is
   * taken even past the limit (it was already spent), a negative one is given back.
   */
  adjust(buckets: readonly LimitBucket[]): Promise<void>
}

/** What a cache is asked about: one chat request, canonicalised by the kernel. */
export interface CacheKey {
  /**
   * The request's exact identity: a hash of its canonical form (tenant, route and its targets,
   * messages, tools, every parameter that changes the answer), never of the raw body bytes.
   */
  readonly fingerprint: string
  /**
   * The same without the messages: a semantic cache compares prompts only between requests with
   * the same context (so answers never cross tenants, routes, tools or parameters).
   */
  readonly context: string
  /** The request, for caches that look at its content. */
  readonly request: ChatRequest
  /** The conversation as one text, as it is embedded. */
  readonly prompt: string
  /** The prompt's embedding through the cache's `embeddingRoute`; computed once per request. */
  embedding(): Promise<readonly number[]>
}

/** A response cache (`cache:`). Its config block also holds the kernel's options (CACHE_OPTIONS_SCHEMA). */
export interface Cache extends Lifecycle {
  /** A route of this gateway that embeds text, for caches that compare embeddings; the kernel checks it at load. */
  readonly embeddingRoute?: string
  /** A stored answer for this request, or undefined. A backend that fails should throw (the kernel counts it a miss). */
  get(key: CacheKey): Promise<ChatResponse | undefined>
  set(key: CacheKey, answer: ChatResponse, ttlSeconds: number): Promise<void>
}

/**
 * The `cache:` options the kernel reads (how long, whose answers, how long to wait); every cache
 * plugin's configSchema spreads these into its `properties` so one block holds both.
 */
export const CACHE_OPTIONS_SCHEMA: Readonly<Record<string, JsonSchema>> = Object.freeze({
  ttl_s: { type: 'integer', minimum: 1, default: 600, description: 'How long an answer is kept, in seconds (a route\'s `cache: { ttl_s }` overrides it).' },
  scope: {
    enum: ['department', 'user', 'key', 'global'], default: 'department',
    description: 'Whose answers a request may get: its department\'s (callers without one: their own), its user\'s, its key\'s, or everyone\'s.',
  },
  lookup_timeout_ms: { type: 'integer', minimum: 1, default: 1000, description: 'A lookup slower than this counts as a miss (the request goes upstream).' },
})

/** SQL in PostgreSQL's dialect; both store plugins speak it. */
export interface SqlClient {
  /** One statement; values go in `params` ($1, $2...), never into the text. */
  query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<{ rows: Row[]; rowCount: number }>
  /** Several statements without parameters (a migration file). */
  exec(script: string): Promise<void>
}

/** The typed repositories (core/data/types.ts) and raw SQL, on the store's pool or in one transaction. */
export interface StoreSession extends Repositories {
  readonly sql: SqlClient
}

export interface Store extends Lifecycle, StoreSession {
  /** `postgres` or `embedded`. */
  readonly backend: string
  /** Whether pgvector is installed and rag_chunks has its `embedding` column. */
  readonly vector: boolean
  /**
   * Run `fn` in one transaction on one connection: commit when it resolves, roll back when it throws.
   * Inside `fn` use `tx` only: the embedded store has a single connection, so the store itself waits.
   */
  transaction<T>(fn: (tx: StoreSession) => Promise<T>): Promise<T>
}

export interface QueueMessage<T = unknown> {
  readonly topic: string
  readonly body: T
  readonly attempts: number
}
export interface Queue extends Lifecycle {
  publish<T>(topic: string, body: T): Promise<void>
  /** Start consuming; the handler's rejection requeues (bounded). Returns a function that stops it. */
  consume<T>(topic: string, handler: (msg: QueueMessage<T>) => Promise<void>): Promise<() => Promise<void>>
}

// ---------------------------------------------------------------------------------------------
// service, telemetry

/** A management-API feature mounted under `/api/v1/<name>`. */
export interface Service extends Lifecycle {
  /** Add routes to a router already prefixed with `/api/v1/<name>`. */
  mount?(router: Router): void
}

export interface Telemetry extends Lifecycle {}

/** The instance interface for each kind. */
export interface InstanceByKind {
  provider: Provider
  auth: AuthStrategy
  limiter: Limiter
  cache: Cache
  store: Store
  queue: Queue
  service: Service
  telemetry: Telemetry
}

/**
 * Capability tokens, named like their interfaces so a plugin writes `ctx.get(Store)`.
 * (A TypeScript value and a type may share a name; the value is the token.)
 */
export const Store: Token<Store> = token<Store>('Store')
export const Queue: Token<Queue> = token<Queue>('Queue')
export const Limiter: Token<Limiter> = token<Limiter>('Limiter')
export const Cache: Token<Cache> = token<Cache>('Cache')
