/** The shape of a validated gateway.yaml (mirrors schemas/gateway.schema.json). */

export interface PluginBlock {
  plugin: string
  [key: string]: unknown
}

export type RetryOn = '429' | '5xx' | 'timeout' | 'connection' | string | number

export interface RetryConfig {
  attempts?: number
  backoff_ms?: number
  max_backoff_ms?: number
  on?: RetryOn[]
}

export interface CircuitConfig {
  failures?: number
  window_s?: number
  cooldown_s?: number
}

export type Matchable = string | string[]

export interface WhenConfig {
  departments?: string[]
  roles?: string[]
  users?: string[]
  headers?: Record<string, Matchable>
  metadata?: Record<string, Matchable>
  feature?: string
}

export interface TargetConfig {
  provider: string
  model?: string
  weight?: number
  timeout_ms?: number
  first_token_timeout_ms?: number
  retry?: RetryConfig
  circuit?: CircuitConfig
  params?: Record<string, unknown>
  headers?: Record<string, string>
}

export interface RouteConfig {
  model: string
  aliases?: string[]
  description?: string
  strategy?: 'single' | 'fallback' | 'loadbalance' | 'least-latency'
  targets: TargetConfig[]
  timeout_ms?: number
  first_token_timeout_ms?: number
  retry?: RetryConfig
  circuit?: CircuitConfig
  when?: WhenConfig
  strict?: boolean
  /** Request fields outside OpenAI's chat API that reach the provider: a list, or true for any. */
  extra_params?: boolean | string[]
  /** Response caching for this route: true caches every request (not only temperature 0), false none. */
  cache?: boolean | { ttl_s?: number }
  /** Per-route stage settings: `false` turns a stage off on this route; an object is the stage's own setting. */
  stages?: Record<string, false | Record<string, unknown>>
}

/** Over which records a role's permissions reach: the caller's own, their department's, or all. */
export type DataScope = 'own_data' | 'department_data' | 'all_data'

export interface RoleConfig {
  description?: string
  /** Permission names (`chat`, `manage_keys`, ...); `*` grants every permission. */
  permissions: string[]
  scope: DataScope
}

export interface DepartmentConfig {
  description?: string
  /** Models/routes the department may use (globs); absent means every route. */
  models?: string[]
  /** A model name the department's members ask for → the route they get instead. */
  route_overrides?: Record<string, string>
  /** Enforced by the limits stage, per department. */
  limits?: RateLimits
  budget?: { usd_per_day?: number; usd_per_month?: number }
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

export interface ServerConfig {
  port?: number
  host?: string
  body_limit?: string | number
  shutdown_timeout_ms?: number
  /** How long a client may take to send a request's headers. */
  headers_timeout_ms?: number
  /** How long a client may take to send a whole request, headers and body. */
  request_timeout_ms?: number
  /** The largest request head (request line and headers) accepted, in bytes. */
  max_header_bytes?: number
}

/** Cross-origin requests from browsers to /v1 and /api/v1. */
export interface CorsConfig {
  origins: string[]
  headers?: string[]
  credentials?: boolean
  max_age_s?: number
}

export interface GatewayConfig {
  version: 1
  server?: ServerConfig
  logging?: { level?: LogLevel }
  cors?: CorsConfig
  plugins?: string[]
  providers?: Record<string, PluginBlock>
  routes?: RouteConfig[]
  auth?: { strategies?: PluginBlock[] }
  limits?: LimitsConfig
  cache?: CacheConfig
  store?: PluginBlock
  queue?: PluginBlock
  services?: Record<string, Partial<PluginBlock>>
  stages?: Record<string, Partial<PluginBlock> & { routes?: string[]; priority?: number; enabled?: boolean }>
  surfaces?: Record<string, Partial<PluginBlock> & { enabled?: boolean }>
  /** The usage stage's block (plugins/stages/usage); its journal is opened once, at start. */
  usage?: Record<string, unknown>
  telemetry?: Record<string, Partial<PluginBlock>>
  features?: Record<string, boolean>
  /** USD per 1M tokens by model, on top of config/models.json. */
  pricing?: Record<string, { input: number; output: number; cached_input?: number; max_output_tokens?: number; context_window?: number }>
  /** RBAC: merged over the built-in user, department_admin and admin roles. */
  roles?: Record<string, RoleConfig>
  departments?: Record<string, DepartmentConfig>
}

// ---------------------------------------------------------------------------------------------
// limits, budgets, cache (core/runtime/policies.ts compiles them)

/** Whose bucket a limit counts in. */
export type LimitScope = 'key' | 'user' | 'department' | 'thread' | 'organization' | 'route'
export type BudgetScope = 'key' | 'user' | 'department' | 'organization'
export type BackendFailure = 'open' | 'closed'

/** To whom a policy or budget applies; all given conditions must hold (globs for routes). */
export interface LimitWhen {
  departments?: string[]
  roles?: string[]
  users?: string[]
  keys?: string[]
  routes?: string[]
}

export interface RateLimits {
  requests_per_second?: number
  requests_per_minute?: number
  requests_per_hour?: number
  requests_per_day?: number
  tokens_per_minute?: number
  tokens_per_day?: number
}

export interface LimitPolicyConfig extends RateLimits {
  scope: LimitScope
  when?: LimitWhen
  on_backend_failure?: BackendFailure
}

export interface BudgetConfig {
  scope: BudgetScope
  when?: LimitWhen
  usd_per_day?: number
  usd_per_month?: number
  /** Fractions of the budget at which an alert is logged and counted (default: limits.budget_alerts). */
  alert_at?: number[]
}

export interface LimitsConfig {
  backend?: PluginBlock
  /** What a policy does when the backend does not answer: admit (open) or refuse with 503 (closed). */
  on_backend_failure?: BackendFailure
  /** After a failed check, how long the backend is not asked (every request gets on_backend_failure at once). */
  backend_cooldown_ms?: number
  policies?: LimitPolicyConfig[]
  budgets?: BudgetConfig[]
  /** The status a request over budget gets: 402 (default) or 429. */
  budget_status?: 402 | 429
  budget_alerts?: number[]
  /** How long spend read from the store is trusted before it is read again. */
  budget_refresh_s?: number
  /** The output tokens a budget reserves for a request without max_tokens, when the catalog knows no cap for its model. */
  budget_default_max_tokens?: number
  /** How long a reservation is held at most (a gateway that died with requests in flight). */
  budget_reservation_ttl_s?: number
}

export interface CacheConfig extends PluginBlock {
  ttl_s?: number
  scope?: 'department' | 'user' | 'key' | 'global'
  lookup_timeout_ms?: number
}
