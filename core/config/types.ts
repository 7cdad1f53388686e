/** The shape of a validated gateway.yaml (mirrors schemas/gateway.schema.json). */

export interface PluginBlock {
  plugin: string
  [key: string]: unknown
}

export interface TargetConfig {
  provider: string
  model?: string
  weight?: number
}

export interface RouteConfig {
  model: string
  description?: string
  strategy?: 'single' | 'fallback'
  targets: TargetConfig[]
  timeout_ms?: number
  strict?: boolean
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
}
