/**
 * The usage writer: events are queued in memory and written in batches (by size or time), off the
 * request path. The buffer is bounded; when it is full new events are dropped and counted (a
 * metric and a log line), so a long store outage costs memory up to the bound and no more. A
 * failed write keeps its batch and retries with backoff, without blocking requests. close()
 * flushes what is left.
 */
import type { Logger, Metrics } from '../../../core/plugins/api.ts'
import type { UsageEvent } from '../../contracts/capabilities.ts'
import type { UsageEventRepository } from './repository.ts'

export interface UsageWriterOptions {
  /** Where events are written. */
  repository: UsageEventRepository
  logger: Logger
  metrics: UsageMetrics
  batchSize?: number
  flushIntervalMs?: number
  maxBuffer?: number
}

const MAX_RETRY_DELAY_MS = 30_000

export interface UsageMetrics {
  readonly usageBuffer: { set(value: number): void }
  readonly usageDropped: { inc(): void }
  readonly usageWriteFailures: { inc(): void }
}

export function usageMetrics(metrics: Metrics): UsageMetrics {
  return {
    usageBuffer: metrics.gauge('gateway_usage_buffer_depth', 'Usage events waiting to be written.'),
    usageDropped: metrics.counter('gateway_usage_events_dropped_total', 'Usage events dropped because the buffer was full.'),
    usageWriteFailures: metrics.counter('gateway_usage_write_failures_total', 'Failed usage batch writes (retried).'),
  }
}

export class UsageWriter {
  readonly #options: Required<Omit<UsageWriterOptions, 'repository' | 'logger' | 'metrics'>> & Pick<UsageWriterOptions, 'repository' | 'logger' | 'metrics'>
  #buffer: UsageEvent[] = []
  #timer: NodeJS.Timeout | undefined
  #flushing: Promise<void> | undefined
  #failures = 0
  #retryAt = 0
  #closed = false
  #warnedFull = false

  constructor(options: UsageWriterOptions) {
    this.#options = { batchSize: 500, flushIntervalMs: 1000, maxBuffer: 50_000, ...options }
    this.#timer = setInterval(() => void this.flush(), this.#options.flushIntervalMs).unref()
  }

  /** Queue one event; never blocks and never throws. */
  record(event: UsageEvent): void {
    if (this.#buffer.length >= this.#options.maxBuffer) {
      this.#options.metrics.usageDropped.inc()
      if (!this.#warnedFull) this.#options.logger.warn({ max: this.#options.maxBuffer }, 'usage buffer full: dropping events until the store catches up')
      this.#warnedFull = true
      return
    }
    this.#buffer.push(event)
    this.#options.metrics.usageBuffer.set(this.#buffer.length)
    if (this.#buffer.length >= this.#options.batchSize && Date.now() >= this.#retryAt) void this.flush()
  }

  get pending(): number {
    return this.#buffer.length
  }

  /** Write what is queued, batch by batch; concurrent calls share one run. */
  flush(): Promise<void> {
    this.#flushing ??= this.#drain().finally(() => { this.#flushing = undefined })
    return this.#flushing
  }

  async #drain(): Promise<void> {
    while (this.#buffer.length > 0 && (this.#closed || Date.now() >= this.#retryAt)) {
      const batch = this.#buffer.slice(0, this.#options.batchSize)
      try {
        await this.#options.repository.insertBatch(batch)
        this.#buffer.splice(0, batch.length)
        this.#warnedFull = false
        this.#failures = 0
        this.#retryAt = 0
      } catch (err) {
        this.#failures++
        this.#options.metrics.usageWriteFailures.inc()
        const delay = Math.min(MAX_RETRY_DELAY_MS, 250 * 2 ** Math.min(this.#failures, 10))
        this.#retryAt = Date.now() + delay
        this.#options.logger.warn({ err: (err as Error).message, pending: this.#buffer.length, retry_in_ms: delay }, 'usage write failed; will retry')
        if (this.#closed) break
      } finally {
        this.#options.metrics.usageBuffer.set(this.#buffer.length)
      }
    }
  }

  /** Stop the timer and write everything left (one attempt per batch). */
  async close(): Promise<void> {
    this.#closed = true
    clearInterval(this.#timer)
    await this.#flushing
    await this.flush()
    if (this.#buffer.length) this.#options.logger.error({ lost: this.#buffer.length }, 'usage events could not be written at shutdown')
  }
}
