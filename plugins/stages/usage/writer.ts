/**
 * The usage writer: events are queued in memory and written in batches (by size or time), off the
 * request path; recording never blocks and never throws.
 *
 * No event is lost to a store outage. The memory buffer is bounded; when it fills, the whole
 * buffer spills to the journal on local disk (journal.ts) and memory starts again. Events are
 * written oldest first: the journal's segments (oldest first), then memory. A failed write keeps
 * its batch and retries with a capped backoff, so the writer catches up soon after the store
 * returns. A batch that may or may not have reached the store (a timeout) is simply written
 * again: each event has its own id and the store skips one it already has.
 *
 * close() writes what is left, bounded by a deadline; what the store did not take by then goes to
 * the journal and is replayed at the next start. Events are dropped (counted, logged) only when
 * there is no journal or the journal itself is full or cannot be written.
 */
import { within, type Logger, type Metrics } from '../../../plugin-api/index.ts'
import type { UsageEvent } from '../../contracts/capabilities.ts'
import { JournalFullError, UsageJournal, type JournalSegment } from './journal.ts'
import type { UsageEventRepository } from './repository.ts'

export interface UsageWriterOptions extends UsageWriterTuning {
  /** Where to write: the current config's usage table, looked up at each flush (a reload may change the store). */
  store: () => UsageEventRepository | undefined
  logger: Logger
  metrics: UsageMetrics
}

export interface UsageWriterTuning {
  /** Events per batch; a flush starts as soon as this many wait. */
  batchSize?: number
  /**
   * Events per batch while catching up (replaying the journal, or memory holding several
   * batches): under load the gateway's event loop adds a delay to every batch, so fewer, larger
   * batches are what lets the writer overtake the incoming rate.
   */
  catchUpBatchSize?: number
  flushIntervalMs?: number
  /** Events held in memory before they spill to the journal. */
  maxBuffer?: number
  /** The longest wait between two attempts while the store fails. */
  maxBackoffMs?: number
}

/** What gateway.yaml's `usage:` block sets, read once at start. */
export interface UsageSettings {
  readonly journal: { readonly dir: string; readonly maxBytes: number }
  /** Events held in memory before they spill (unless the writer was built with maxBuffer). */
  readonly bufferEvents?: number
}

/** The writer's metrics on /metrics. */
export interface UsageMetrics {
  readonly usageBuffer: { set(value: number): void }
  readonly usageDropped: { inc(labels?: undefined, value?: number): void }
  readonly usageSpilled: { inc(labels?: undefined, value?: number): void }
  readonly usageReplayed: { inc(labels?: undefined, value?: number): void }
  readonly usageJournalEvents: { set(value: number): void }
  readonly usageJournalBytes: { set(value: number): void }
  readonly usageWriteFailures: { inc(): void }
  readonly usageRejected: { inc(): void }
}

export function usageMetrics(metrics: Metrics): UsageMetrics {
  return {
    usageBuffer: metrics.gauge('gateway_usage_buffer_depth', 'Usage events waiting in memory to be written.'),
    usageDropped: metrics.counter('gateway_usage_events_dropped_total', 'Usage events lost: the buffer was full with no journal, or the journal was full or could not be written. Should stay 0.'),
    usageSpilled: metrics.counter('gateway_usage_events_spilled_total', 'Usage events moved from the full memory buffer (or at shutdown) to the journal on disk.'),
    usageReplayed: metrics.counter('gateway_usage_events_replayed_total', 'Usage events written to the store from the journal.'),
    usageJournalEvents: metrics.gauge('gateway_usage_journal_events', 'Usage events in the journal on disk, waiting to be written.'),
    usageJournalBytes: metrics.gauge('gateway_usage_journal_bytes', 'Size of the usage journal on disk.'),
    usageWriteFailures: metrics.counter('gateway_usage_write_failures_total', 'Failed usage batch writes (retried).'),
    usageRejected: metrics.counter('gateway_usage_events_rejected_total', 'Usage events the store refused for what they hold (set aside, logged, not retried). Should stay 0.'),
  }
}

/**
 * The store refused the events themselves: a 400 of the repository's own checks, or PostgreSQL's
 * data exceptions (class 22: bad value, out of range, invalid text) and integrity violations (23).
 * Anything else (a connection, a timeout) says the store is down, and the batch is retried whole.
 */
function refusesEvents(err: unknown): boolean {
  const { status, code } = (err ?? {}) as { status?: unknown; code?: unknown }
  return status === 400 || (typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code))
}

const FIRST_RETRY_DELAY_MS = 250
const DEFAULT_CLOSE_TIMEOUT_MS = 10_000

/** One batch on its way to the store, and what to do once the store has it. */
interface Batch {
  readonly events: UsageEvent[]
  acknowledge(): Promise<void>
}

export class UsageWriter {
  readonly #options: Required<Omit<UsageWriterOptions, 'store' | 'logger' | 'metrics'>> & Pick<UsageWriterOptions, 'store' | 'logger' | 'metrics'>
  readonly #maxBufferGiven: boolean
  #buffer: UsageEvent[] = []
  #journal: UsageJournal | undefined
  /** Spills run one after another, in order; `#spilling` events are on their way to disk. */
  #spills: Promise<void> = Promise.resolve()
  #spilling = 0
  /** The journal segment being replayed. */
  #replay: { segment: JournalSegment; events: UsageEvent[]; offset: number } | undefined
  #timer: NodeJS.Timeout | undefined
  #flushing: Promise<void> | undefined
  #failures = 0
  #retryAt = 0
  #closing = false
  /** Set when close() gives up on the store: a write still in flight must not touch the state. */
  #stopped = false
  #warnedNoStore = false
  #warnedFull = false

  constructor(options: UsageWriterOptions) {
    this.#options = { batchSize: 500, catchUpBatchSize: 5000, flushIntervalMs: 1000, maxBuffer: 50_000, maxBackoffMs: 2000, ...options }
    this.#maxBufferGiven = options.maxBuffer !== undefined
    this.#timer = setInterval(() => void this.flush(), this.#options.flushIntervalMs).unref()
  }

  /**
   * Apply gateway.yaml's settings and open the journal: spill to (and replay from)
   * `settings.journal.dir`. Segments left by a run that is gone are taken over and written once
   * the store answers.
   */
  async start(settings: UsageSettings): Promise<void> {
    if (settings.bufferEvents !== undefined && !this.#maxBufferGiven) this.#options.maxBuffer = settings.bufferEvents
    if (this.#journal) return
    try {
      this.#journal = await UsageJournal.open({ ...settings.journal, logger: this.#options.logger })
    } catch (err) {
      // The gateway still serves; only a long outage at full load would cost events.
      this.#options.logger.error({ dir: settings.journal.dir, err: (err as Error).message }, 'usage journal cannot be opened: usage events beyond the memory buffer are dropped during a store outage')
    }
    this.#updateGauges()
  }

  /** Queue one event; never blocks and never throws. */
  record(event: UsageEvent): void {
    if (this.#buffer.length >= this.#options.maxBuffer) {
      if (this.#journal) this.#spill('buffer full')
      else {
        this.#drop(1, 'usage buffer full and no journal: dropping events until the store catches up')
        return
      }
    }
    this.#buffer.push(event)
    this.#options.metrics.usageBuffer.set(this.#buffer.length)
    if (this.#buffer.length >= this.#options.batchSize && Date.now() >= this.#retryAt) void this.flush()
  }

  /** Events not yet in the store: in memory, on their way to the journal, and in the journal. */
  get pending(): number {
    return this.#buffer.length + this.#spilling + (this.#journal?.events ?? 0)
  }

  /** Whether events can spill to disk: a journal is open and its directory can be written. */
  get journaling(): boolean {
    return this.#journal?.writable ?? false
  }

  /** Events in memory only. */
  get buffered(): number {
    return this.#buffer.length
  }

  /** Write what is queued, batch by batch; concurrent calls share one run. */
  flush(): Promise<void> {
    this.#flushing ??= this.#drain().finally(() => { this.#flushing = undefined })
    return this.#flushing
  }

  async #drain(): Promise<void> {
    while (!this.#stopped && (this.#closing || Date.now() >= this.#retryAt)) {
      const store = this.#options.store()
      if (!store) {
        // Nothing to write to: keep counting in metrics, but do not hold events forever. The
        // journal is kept: it belongs to the store a later config may name again.
        if (this.#buffer.length && !this.#warnedNoStore) this.#options.logger.warn('no store configured: usage events are not persisted')
        this.#warnedNoStore = true
        this.#buffer = []
        break
      }
      try {
        const batch = await this.#nextBatch()
        if (!batch) break
        await this.#insert(store, batch.events)
        if (this.#stopped) break
        await batch.acknowledge()
        if (this.#failures) this.#options.logger.info({ failures: this.#failures, pending: this.pending }, 'usage writes resumed; catching up')
        this.#failures = 0
        this.#retryAt = 0
        this.#warnedFull = false
      } catch (err) {
        if (this.#stopped) break
        this.#failures++
        this.#options.metrics.usageWriteFailures.inc()
        // Capped, so the writer catches up soon after the store returns; jittered, so replicas do not retry in step.
        const delay = Math.min(this.#options.maxBackoffMs, FIRST_RETRY_DELAY_MS * 2 ** (this.#failures - 1)) * (0.75 + Math.random() / 4)
        this.#retryAt = Date.now() + delay
        this.#options.logger.warn({ err: (err as Error).message, pending: this.pending, retry_in_ms: Math.round(delay) }, 'usage write failed; will retry')
        break
      } finally {
        this.#updateGauges()
      }
    }
  }

  /**
   * Write the events. A batch the store refuses for what it holds (not for being down) is written
   * again in halves, down to the event it will not take, which is set aside (logged, counted) and
   * never tried again: one bad event held every event behind it, across restarts too (journaled).
   */
  async #insert(store: UsageEventRepository, events: readonly UsageEvent[]): Promise<void> {
    try {
      await store.insertBatch(events)
    } catch (err) {
      if (!refusesEvents(err)) throw err
      if (events.length === 1) {
        this.#options.metrics.usageRejected.inc()
        this.#options.logger.error({ err: (err as Error).message, event: events[0] }, 'the store refused a usage event; it is set aside and not written')
        return
      }
      const half = Math.ceil(events.length / 2)
      await this.#insert(store, events.slice(0, half))
      await this.#insert(store, events.slice(half))
    }
  }

  /** The oldest events not yet stored: the journal's, then (once no spill is still being written) memory's. */
  async #nextBatch(): Promise<Batch | undefined> {
    const journal = this.#journal
    if (journal && (this.#replay || journal.segments.length)) {
      if (!this.#replay) {
        const segment = journal.segments[0]
        this.#replay = { segment, events: await journal.read(segment), offset: 0 }
      }
      const replay = this.#replay
      const events = replay.events.slice(replay.offset, replay.offset + this.#options.catchUpBatchSize)
      return {
        events,
        acknowledge: async () => {
          replay.offset += events.length
          this.#options.metrics.usageReplayed.inc(undefined, events.length)
          if (replay.offset < replay.events.length) return
          await journal.remove(replay.segment)
          this.#replay = undefined
        },
      }
    }
    if (this.#spilling) {
      // Older events are on their way to the journal: they go first.
      await this.#spills
      return this.#nextBatch()
    }
    if (this.#buffer.length === 0) return undefined
    const taken = this.#buffer
    const size = taken.length > 2 * this.#options.batchSize ? this.#options.catchUpBatchSize : this.#options.batchSize
    const events = taken.slice(0, size)
    return {
      events,
      // If the buffer spilled meanwhile, these events are in the journal too; replaying them is a no-op.
      acknowledge: async () => { if (this.#buffer === taken) taken.splice(0, events.length) },
    }
  }

  /** Move everything in memory to the journal (in order, after earlier spills). */
  #spill(reason: string): void {
    const events = this.#buffer
    const journal = this.#journal
    if (events.length === 0 || !journal) return
    this.#buffer = []
    this.#spilling += events.length
    this.#options.metrics.usageSpilled.inc(undefined, events.length)
    this.#spills = this.#spills.then(async () => {
      try {
        const segment = await journal.append(events)
        this.#options.logger.warn({ reason, events: events.length, journal_events: journal.events, journal_bytes: journal.bytes, file: segment.file }, 'usage events spilled to the journal')
      } catch (err) {
        const full = err instanceof JournalFullError
        this.#drop(events.length, full ? 'usage journal full: dropping usage events' : 'usage journal cannot be written: dropping usage events', (err as Error).message)
      } finally {
        this.#spilling -= events.length
        this.#updateGauges()
      }
    })
    this.#updateGauges()
  }

  #drop(count: number, message: string, reason?: string): void {
    this.#options.metrics.usageDropped.inc(undefined, count)
    if (!this.#warnedFull) this.#options.logger.error({ dropped: count, max_buffer: this.#options.maxBuffer, journal: this.#journal?.dir, reason }, message)
    this.#warnedFull = true
  }

  #updateGauges(): void {
    const { metrics } = this.#options
    metrics.usageBuffer.set(this.#buffer.length)
    metrics.usageJournalEvents.set((this.#journal?.events ?? 0) + this.#spilling)
    metrics.usageJournalBytes.set(this.#journal?.bytes ?? 0)
  }

  /**
   * Stop: write what is left (the journal first, then memory), for at most `timeoutMs`. What the
   * store has not taken by then goes to the journal, for the next start.
   */
  async close(timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    this.#closing = true
    clearInterval(this.#timer)
    // One attempt per batch (a failure ends the run), bounded: a store that accepts connections
    // and never answers must not hold the process.
    const outcome = await within((async () => {
      await this.#flushing
      await this.flush()
    })(), timeoutMs)
    if (outcome === 'timeout') this.#options.logger.warn({ timeout_ms: timeoutMs, pending: this.pending }, 'usage: the store did not take the last events in time')
    this.#stopped = true
    const left = this.#buffer.length
    if (left && this.#journal) {
      this.#spill('shutdown')
      this.#options.logger.warn({ events: left, journal: this.#journal.dir }, 'usage events journaled at shutdown; they are written at the next start')
    }
    await this.#spills
    this.#journal?.close()
    if (!this.#journal && this.#buffer.length) this.#options.logger.error({ lost: this.#buffer.length }, 'usage events could not be written at shutdown')
  }
}
