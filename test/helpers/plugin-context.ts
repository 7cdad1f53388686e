/** A plugin context outside a gateway, for tests that set one plugin up on its own. */
import { GatewayMetrics } from '../../core/metrics.ts'
import { createLogger, type Logger } from '../../core/logger.ts'
import type { PluginContext, Token } from '../../plugin-api/index.ts'

export function testPluginContext(options: { id: string; name?: string; logger?: Logger; capabilities?: Map<symbol, unknown> }): PluginContext {
  const capabilities = options.capabilities ?? new Map<symbol, unknown>()
  const kept = new Map<string, object>()
  return {
    id: options.id,
    name: options.name ?? options.id.split('.')[1],
    logger: options.logger ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    configDir: process.cwd(),
    features: {},
    runsJobs: true,
    // Outside a gateway there are no providers.
    provider: () => undefined,
    rebuild: async () => undefined,
    routes: () => [],
    metrics: new GatewayMetrics(),
    get<T>(capability: Token<T>): T {
      if (!capabilities.has(capability.key)) throw new Error(`needs ${capability.description}`)
      return capabilities.get(capability.key) as T
    },
    tryGet<T>(capability: Token<T>): T | undefined {
      return capabilities.get(capability.key) as T | undefined
    },
    provide<T>(capability: Token<T>, value: T): void {
      capabilities.set(capability.key, value)
    },
    callsAs(): never {
      throw new Error('a plugin set up outside a gateway has no pipeline to call')
    },
    // Outside a gateway nothing waits to be served.
    serving: Promise.resolve(),
    keep<T extends object>(key: string, create: () => T): T {
      let value = kept.get(key) as T | undefined
      if (!value) kept.set(key, (value = create()))
      return value
    },
  }
}
