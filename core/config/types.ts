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
  /** For the limits plugins. */
  limits?: { requests_per_minute?: number; tokens_per_minute?: number; requests_per_day?: number; tokens_per_day?: number }
  budget?: { usd_per_day?: number; usd_per_month?: number }
}

export interface GatewayConfig {
  version: 1
  server?: { port?: number; host?: string; body_limit?: string | number; shutdown_timeout_ms?: number }
  logging?: { level?: string }
  plugins?: string[]
  providers?: Record<string, PluginBlock>
  routes?: RouteConfig[]
  auth?: { strategies?: PluginBlock[] }
  limits?: { backend?: PluginBlock }
  cache?: PluginBlock
  store?: PluginBlock
  queue?: PluginBlock
  services?: Record<string, Partial<PluginBlock>>
  telemetry?: Record<string, Partial<PluginBlock>>
  features?: Record<string, boolean>
  /** USD per 1M tokens by model, on top of config/models.json. */
  pricing?: Record<string, { input: number; output: number; cached_input?: number }>
  /** RBAC: merged over the built-in user, department_admin and admin roles. */
  roles?: Record<string, RoleConfig>
  departments?: Record<string, DepartmentConfig>
}
