/**
 * stage.usage: one usage event per model call (who, route, provider, model, status, attempts,
 * tokens, cost, latency, time to first token), recorded in the log phase and written in batches
 * off the request path to the store's usage_events table, which this plugin owns. It provides the
 * UsageLog capability (spend for budgets, aggregates for analytics). Implied whenever a store is
 * configured; tuned under `usage:` in gateway.yaml.
 */
import { Store, definePlugin, type Stage } from '../../../core/plugins/api.ts'
import { UsageLog, type UsageEvent } from '../../contracts/capabilities.ts'
import { fileURLToPath } from 'node:url'
import { usageRepository } from './repository.ts'
import { UsageWriter, usageMetrics } from './writer.ts'

export interface UsageConfig {
  batch_size: number
  flush_interval_ms: number
  max_buffer: number
}

const MIGRATIONS = fileURLToPath(new URL('./migrations/', import.meta.url))

export default definePlugin<UsageConfig, Stage>({
  id: 'stage.usage',
  kind: 'stage',
  description: 'Usage events for every model call, batched into the store; the usage log budgets and analytics read.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      batch_size: { type: 'integer', minimum: 1, maximum: 10_000, default: 500, description: 'Events per INSERT.' },
      flush_interval_ms: { type: 'integer', minimum: 10, default: 1000, description: 'How often queued events are written.' },
      max_buffer: { type: 'integer', minimum: 1, default: 50_000, description: 'Events held in memory while the store does not answer.' },
    },
  },
  uses: [Store],
  provides: [UsageLog],
  async setup(ctx, config) {
    const store = ctx.get(Store)
    await store.migrate({ owner: 'usage', dir: MIGRATIONS })
    const repository = usageRepository(store.sql)
    ctx.provide(UsageLog, repository)
    const writer = new UsageWriter({
      repository, logger: ctx.logger, metrics: usageMetrics(ctx.metrics),
      batchSize: config.batch_size, flushIntervalMs: config.flush_interval_ms, maxBuffer: config.max_buffer,
    })
    return {
      priority: 0,
      operations: ['chat', 'embeddings'],
      log(x, outcome) {
        const principal = x.principal
        const event: UsageEvent = {
          time: new Date(Date.now() - outcome.latencyMs),
          requestId: x.requestId,
          userId: principal?.userId ?? null,
          keyId: principal?.keyId ?? null,
          department: principal?.department ?? null,
          route: x.requestedModel || null,
          provider: outcome.provider,
          model: outcome.model,
          status: outcome.status,
          errorType: outcome.errorType,
          attempts: outcome.attempts,
          cacheHit: outcome.cacheHit,
          promptTokens: outcome.promptTokens,
          completionTokens: outcome.completionTokens,
          cachedTokens: outcome.cachedTokens,
          costUsd: outcome.costUsd,
          latencyMs: Math.round(outcome.latencyMs),
          ttftMs: outcome.ttftMs,
          streamed: outcome.streamed,
        }
        writer.record(event)
      },
      dispose: () => writer.close(),
    }
  },
})
