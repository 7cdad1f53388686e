/** The shape of a validated gateway.yaml (mirrors schemas/gateway.schema.json). */
import type { DataScope } from '../plugins/types.ts'

export interface PluginBlock { plugin: string; [key: string]: unknown }

export type RetryOn = '429' | '5xx' | 'timeout' | 'connection' | string | number

export interface RetryConfig { attempts?: number; backoff_ms?: number; max_backoff_ms?: number; on?: RetryOn[] }

export interface CircuitConfig { failures?: number; window_s?: number; cooldown_s?: number }

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
  limits?: Record<string, number>
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

export interface GatewayConfig {
  version: 1
  server?: ServerConfig
  logging?: { level?: LogLevel }
  /** The cors stage's block (plugins/stages/cors). */
  cors?: Record<string, unknown>
  plugins?: string[]
  providers?: Record<string, PluginBlock>
  routes?: RouteConfig[]
  auth?: { strategies?: PluginBlock[] }
  /** The limits stage's block (plugins/stages/limits), with the limiter backend under `backend`. */
  limits?: { backend?: PluginBlock; [key: string]: unknown }
  cache?: PluginBlock
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
