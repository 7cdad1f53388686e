/** What a gateway keeps across snapshots: target health, metrics, the usage writer. */
import type { GatewayMetrics } from '../metrics.ts'
import type { UsageWriter } from '../usage/writer.ts'
import type { HealthRegistry } from './health.ts'

export interface GatewayServices {
  readonly health: HealthRegistry
  readonly metrics: GatewayMetrics
  readonly usage: UsageWriter
}
