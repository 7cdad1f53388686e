/**
 * stage.usage: one usage event per model call of an authenticated caller (who, route, provider,
 * model, status, attempts, tokens, cost, latency, time to first token), recorded in the log phase and written in batches
 * off the request path to the store's usage_events table, which this plugin owns. It provides the
 * UsageLog capability (spend for budgets, aggregates for analytics). Implied whenever a store is
 * configured; tuned under `usage:` in gateway.yaml.
 *
 * The writer is one per gateway and outlives reloads (a reload that changes the store points it
 * at the new one): its memory buffer and its journal (events a store outage could not take,
 * written back oldest first once it answers) are never lost to a config change. At shutdown it
 * writes what is left within the time it is given and journals the rest for the next start.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Pricing, Store, definePlugin, timeOrderedUuid, type Stage } from '../../../plugin-api/index.ts'
import { UsageLog, type UsageEvent } from '../../contracts/capabilities.ts'
import { usageRepository, type UsageEventRepository } from './repository.ts'
import { UsageWriter, usageMetrics } from './writer.ts'

export interface UsageConfig {
  batch_size: number
  catch_up_batch_size: number
  flush_interval_ms: number
  buffer_events: number
  max_backoff_ms: number
  journal_dir: string
  journal_max_mb: number
}

const MIGRATIONS = fileURLToPath(new URL('./migrations/', import.meta.url))

/** The writer and where it writes now; kept per gateway. */
interface WriterState {
  repository: UsageEventRepository | undefined
  readonly writer: UsageWriter
  started: boolean
  /** Called by the kernel at shutdown with the time left: write what can be, journal the rest. */
  dispose(timeoutMs?: number): Promise<void>
}

export default definePlugin<UsageConfig, Stage>({
  id: 'stage.usage',
  kind: 'stage',
  description: 'Usage events for every model call, batched into the store (journaled on disk while it is down); the usage log budgets and analytics read.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      batch_size: { type: 'integer', minimum: 1, maximum: 10_000, default: 500, description: 'Events per write (one COPY or INSERT).' },
      catch_up_batch_size: { type: 'integer', minimum: 1, maximum: 50_000, default: 5000, description: 'Events per write while catching up after an outage.' },
      flush_interval_ms: { type: 'integer', minimum: 10, default: 1000, description: 'How often queued events are written.' },
      buffer_events: { type: 'integer', minimum: 1, default: 50_000, description: 'Events held in memory before they spill to the journal (about 1.3 kB each).' },
      max_backoff_ms: { type: 'integer', minimum: 10, default: 2000, description: 'The longest wait between two writes while the store fails.' },
      journal_dir: { type: 'string', minLength: 1, default: './data/usage-journal', description: 'Where events wait on disk while the store is down (relative to gateway.yaml). Needs a restart to change.' },
      journal_max_mb: { type: 'integer', minimum: 1, default: 1024, description: 'The journal\'s largest size; beyond it events are dropped (logged and counted).' },
    },
  },
  // Pricing: set up first, so each event can say whether its cost of 0 is a price or the want of one.
  uses: [Store, Pricing],
  provides: [UsageLog],
  // The writer and its journal are made once per gateway, from the settings at start.
  enabledByDefault: { at: ['usage'], requires: ['store'], readOnce: true },
  async setup(ctx, config) {
    const store = ctx.get(Store)
    await store.migrate({ owner: 'usage', dir: MIGRATIONS })
    const repository = usageRepository(store.sql)
    ctx.provide(UsageLog, repository)
    const state = ctx.keep<WriterState>('writer', () => {
      const held: WriterState = {
        repository: undefined,
        writer: new UsageWriter({
          store: () => held.repository,
          logger: ctx.logger,
          metrics: usageMetrics(ctx.metrics),
          batchSize: config.batch_size,
          catchUpBatchSize: config.catch_up_batch_size,
          flushIntervalMs: config.flush_interval_ms,
          maxBackoffMs: config.max_backoff_ms,
        }),
        started: false,
        dispose: (timeoutMs) => held.writer.close(timeoutMs),
      }
      return held
    })
    state.repository = repository
    if (!state.started) {
      state.started = true
      // A journal left by the previous run is taken over and written now that the store answers.
      await state.writer.start({
        journal: { dir: path.resolve(ctx.configDir, config.journal_dir), maxBytes: config.journal_max_mb * 1024 * 1024 },
        bufferEvents: config.buffer_events,
      })
      if (!state.writer.journaling) ctx.logger.error({ dir: config.journal_dir }, 'the usage journal cannot be written: during a long store outage, usage events beyond the memory buffer will be lost (set usage.journal_dir to a writable directory)')
    }
    const { writer } = state
    const pricing = ctx.tryGet(Pricing)
    // No Pricing at all: the kernel charges 0 for everything. A pricing plugin without `priced` is taken at its word.
    const priced = (model: string | null): boolean => (pricing ? pricing.priced?.(model ?? undefined) ?? true : false)
    return {
      priority: 0,
      operations: ['chat', 'embeddings', 'media'],
      log(x, outcome) {
        const principal = x.principal
        // Refused at authentication (401): no one's usage, and anyone on the internet can send them,
        // so a row each would let them write to the store at their rate, kept for good. They are
        // counted in gateway_requests_total{status="401"} and the access log instead.
        if (!principal) return
        const now = Date.now()
        const event: UsageEvent = {
          // Time-ordered (UUID v7): each goes into the unique index (event_id, occurred_at) at its right
          // edge, as every other index of the table is written; random (v4) ids land anywhere in it,
          // each insert touching another page: PostgreSQL's CPU per event 12.8 -> 11.2 µs in 500-row
          // batches, the v4 figure growing with the table (bench/RESULTS.md).
          eventId: timeOrderedUuid(now),
          time: new Date(now - outcome.latencyMs),
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
          cacheWriteTokens: outcome.cacheWriteTokens ?? 0,
          reasoningTokens: outcome.reasoningTokens ?? 0,
          costUsd: outcome.costUsd,
          // Tokens spent upstream (not a cache hit) at a model without a price: the 0 is unknown, not free.
          unpriced: !outcome.cacheHit && outcome.promptTokens + outcome.completionTokens > 0 && !priced(outcome.model),
          batch: x.batch,
          latencyMs: Math.round(outcome.latencyMs),
          ttftMs: outcome.ttftMs,
          streamed: outcome.streamed,
        }
        writer.record(event)
      },
    }
  },
})
