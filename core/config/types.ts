/** The shape of a validated gateway.yaml (mirrors schemas/gateway.schema.json). */
import type { DataScope } from '../../plugin-api/types.ts'

export interface PluginBlock { plugin: string; [key: string]: unknown }

export type RetryOn = '429' | '5xx' | 'timeout' | 'connection' | string | number

export interface RetryConfig { attempts?: number; backoff_ms?: number; max_backoff_ms?: number; on?: RetryOn[] }

export type Matchable = string | string[]

export interface WhenConfig {
  departments?: string[]
  roles?: string[]
  users?: string[]
  headers?: Record<string, Matchable>
  metadata?: Record<string, Matchable>
  feature?: string
}

/** How calls go to a target: set on a route for all its targets, or on one target. */
export interface CallConfig {
  timeout_ms?: number
  first_token_timeout_ms?: number
  retry?: RetryConfig
}

export interface TargetConfig extends CallConfig {
  provider: string
  model?: string
  weight?: number
  params?: Record<string, unknown>
  headers?: Record<string, string>
}

export interface RouteConfig extends CallConfig {
  model: string
  aliases?: string[]
  description?: string
  targets: TargetConfig[]
  when?: WhenConfig
  strict?: boolean
  /** Per-route stage settings: `false` turns a stage off on this route; an object is the stage's own setting. */
  stages?: Record<string, false | Record<string, unknown>>
  /** Settings plugins read from `RouteInfo.settings` (the schema has them): `cache` (the cache stage), `extra_params` (the OpenAI surface), `strategy` and `circuit` (stage.routing). */
  [setting: string]: unknown
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
  /** `limits` and `budget`: the limits stage's (see its limitsBlock). */
  [setting: string]: unknown
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
  keep_alive_timeout_ms?: number
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
  telemetry?: Record<string, Partial<PluginBlock>>
  features?: Record<string, boolean>
  /** RBAC: merged over the built-in user, department_admin and admin roles. */
  roles?: Record<string, RoleConfig>
  departments?: Record<string, DepartmentConfig>
  /** Blocks whose plugins read them (enabledByDefault.at): `usage:` (the usage stage), `pricing:` (service.pricing). */
  [block: string]: unknown
}
