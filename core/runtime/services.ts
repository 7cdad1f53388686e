/** What a gateway keeps across snapshots: metrics, and the state plugins `keep` (stage.routing's breakers among them). */
import type { DependencyContainer } from 'tsyringe'
import type { GatewayMetrics } from '../metrics.ts'
import type { Provider } from '../../plugin-api/types.ts'

export interface GatewayServices {
  readonly metrics: GatewayMetrics
  /** The gateway's container: each snapshot's is a child of it. */
  readonly container: DependencyContainer
  /** What plugins keep across reloads (`ctx.keep`), by plugin id and key. */
  readonly kept: Map<string, object>
  /** Whether this process runs queued jobs (PluginContext.runsJobs). */
  readonly runsJobs: boolean
  /** A provider instance of the gateway's current snapshot, by its name under `providers:`. */
  readonly provider: (name: string) => Provider | undefined
  /** Build a new snapshot from the current config (PluginContext.rebuild). */
  readonly rebuild: (reason: string) => Promise<void>
  /** Settles when the first snapshot serves: what plugins call through the pipeline during the first build (a job their setup took up) waits for it. */
  readonly serving: Promise<void>
  /** The current snapshot's feature flags (undefined before the first). */
  readonly features: () => Readonly<Record<string, boolean>> | undefined
}
