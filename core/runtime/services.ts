/** What a gateway keeps across snapshots: target and limiter health, metrics, the usage writer. */
import type { GatewayMetrics } from '../metrics.ts'
import type { UsageWriter } from '../usage/writer.ts'
import type { HealthRegistry } from './health.ts'
import type { LimiterHealthRegistry } from './limiter-health.ts'

export interface GatewayServices {
  readonly health: HealthRegistry
  readonly limiterHealth: LimiterHealthRegistry
  readonly metrics: GatewayMetrics
  readonly usage: UsageWriter
}
