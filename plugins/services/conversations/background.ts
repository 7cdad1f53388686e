/**
 * Background responses (`background: true`) this process runs: each detached from the request that
 * made it, with a signal of its own that `cancel`, its deadline or the gateway's shutdown aborts.
 * Kept across reloads (`ctx.keep`): a reload must not forget a run, nor stop it.
 */
import { GatewayError, within, type Logger } from '../../../plugin-api/index.ts'
import type { JsonObject } from '../../contracts/capabilities.ts'
import type { ResponseRecord, TurnEvent } from '../../contracts/conversations.ts'
import type { ResponseStore } from './data/responses.ts'

/** How long after its deadline a run still unfinished in the store is taken for lost (its process stopped): the time its own end takes to be written. */
export const LOST_AFTER_MS = 60_000
/** A run whose process has not beaten for this many heartbeats is taken for lost (its process died without failing it). */
export const LOST_AFTER_BEATS = 3

interface Run {
  readonly controller: AbortController
  readonly done: Promise<unknown>
}

export class BackgroundRuns {
  readonly #runs = new Map<string, Run>()
  /** Followers in this process waiting for a response's next events. */
  readonly #waiting = new Map<string, Set<() => void>>()
  #heartbeat: { beat: (ids: readonly string[]) => Promise<void>; everyMs: number; logger: Logger } | undefined
  /** Beats while runs go on here, none while there are none. */
  #beating: NodeJS.Timeout | undefined

  /**
   * Who says, every `everyMs`, that this process's runs are still going (set at each setup: the
   * runs outlive a reload, the store the config has now writes). Other processes read a run that
   * stopped beating as lost: its process died without failing it.
   */
  heartbeat(beat: (ids: readonly string[]) => Promise<void>, everyMs: number, logger: Logger): void {
    const changed = this.#heartbeat?.everyMs !== everyMs
    this.#heartbeat = { beat, everyMs, logger }
    if (changed && this.#beating) {
      this.#stopBeating()
      this.#startBeating()
    }
  }

  #startBeating(): void {
    const heartbeat = this.#heartbeat
    if (this.#beating || !heartbeat) return
    this.#beating = setInterval(() => {
      const { beat, logger } = this.#heartbeat!
      beat([...this.#runs.keys()]).catch((err: unknown) => logger.warn({ err: (err as Error)?.message }, 'background responses: heartbeat not written'))
    }, heartbeat.everyMs)
    this.#beating.unref()
  }

  #stopBeating(): void {
    clearInterval(this.#beating)
    this.#beating = undefined
  }

  /** New events of `id` are in the store: wake its followers here. */
  notify(id: string): void {
    const waiting = this.#waiting.get(id)
    this.#waiting.delete(id)
    for (const wake of waiting ?? []) wake()
  }

  /** Until `notify(id)` or `ms` (a run in another process notifies no one here). */
  next(id: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const waiting = this.#waiting.get(id) ?? new Set()
      this.#waiting.set(id, waiting)
      const wake = (): void => { clearTimeout(timer); waiting.delete(wake); resolve() }
      const timer = setTimeout(wake, ms)
      waiting.add(wake)
    })
  }

  /**
   * Run `work` for response `id` until it ends or `timeoutMs` passes; if it throws, `failed(error)`
   * is what the response becomes (written by `record`, which keeps a cancelled one cancelled).
   */
  start(id: string, timeoutMs: number, logger: Logger, work: (signal: AbortSignal) => Promise<unknown>, failed: (error: GatewayError) => Promise<unknown>): Promise<unknown> {
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(new GatewayError(`The background response did not finish within ${timeoutMs} ms.`, { status: 504, code: 'background_timeout' })), timeoutMs)
    timer.unref()
    const done = work(controller.signal)
      .catch((err: unknown) => {
        // Aborted by its deadline or the shutdown: that is why it failed, not the call it stopped.
        const reason: unknown = controller.signal.aborted ? controller.signal.reason : err
        return failed(reason instanceof GatewayError ? reason : new GatewayError((reason as Error)?.message ?? String(reason), { status: 500, code: 'server_error' }))
      })
      .catch((err: unknown) => logger.error({ response: id, err: (err as Error)?.message }, 'background response: its end could not be kept'))
      .finally(() => {
        clearTimeout(timer)
        this.#runs.delete(id)
        if (this.#runs.size === 0) this.#stopBeating()
      })
    this.#runs.set(id, { controller, done })
    this.#startBeating()
    return done
  }

  /** Stop the run of `id` if this process runs it (it was cancelled or deleted). */
  stop(id: string): void {
    this.#runs.get(id)?.controller.abort(new GatewayError('The background response was cancelled.', { status: 499, code: 'cancelled' }))
  }

  has(id: string): boolean {
    return this.#runs.has(id)
  }

  /** At shutdown: every run still going fails, saying why, within `timeoutMs`. */
  async dispose(timeoutMs: number): Promise<void> {
    const runs = [...this.#runs.values()]
    for (const run of runs) run.controller.abort(new GatewayError('The gateway stopped before the background response finished.', { status: 503, code: 'server_shutdown' }))
    await within(Promise.all(runs.map((r) => r.done)), timeoutMs)
    this.#stopBeating()
  }
}

/** Whether a stored background response is still queued or in progress. */
export function isRunning(body: JsonObject): boolean {
  return body.background === true && (body.status === 'queued' || body.status === 'in_progress')
}

/** The first event row of a streamed background response, and its last. */
const START = { type: 'start' }
const END = 'end'
/** How often a follower looks for events a run in another process wrote. */
const POLL_MS = 150
/** How long a follower still looks for a run's last events once its response has ended: they are written just after its end. */
const END_GRACE_MS = 3000
const PAGE = 500

/**
 * A streamed background response's events, written in order as they come: each write takes all
 * that came while the last was being written, and wakes the followers in this process.
 */
export class EventLog {
  #seq = 0
  #pending: JsonObject[] = []
  #writing: Promise<void> = Promise.resolve()
  readonly #id: string
  readonly #store: Pick<ResponseStore, 'appendEvents'>
  readonly #runs: BackgroundRuns
  readonly #logger: Logger

  constructor(id: string, store: Pick<ResponseStore, 'appendEvents'>, runs: BackgroundRuns, logger: Logger) {
    this.#id = id
    this.#store = store
    this.#runs = runs
    this.#logger = logger
  }

  /** The marker that says the response streams (number 0), written before it is answered. */
  open(): Promise<void> {
    return this.#store.appendEvents(this.#id, 0, [START])
  }

  push(event: TurnEvent): void {
    this.#pending.push(event as unknown as JsonObject)
    this.#writing = this.#writing.then(async () => {
      const batch = this.#pending.splice(0)
      if (batch.length === 0) return
      const from = this.#seq + 1
      this.#seq += batch.length
      await this.#store.appendEvents(this.#id, from, batch)
      this.#runs.notify(this.#id)
    }).catch((err: unknown) => this.#logger.error({ response: this.#id, err: (err as Error)?.message }, 'background response: its events could not be kept'))
  }

  /** After the response's end is stored: followers stop here. */
  async close(): Promise<void> {
    this.push({ type: END } as unknown as TurnEvent)
    await this.#writing
  }
}

export interface FollowDeps {
  readonly store: Pick<ResponseStore, 'events'>
  readonly runs: BackgroundRuns
  /** The record as polling sees it (a lost run reads as failed: its follower stops soon after). */
  readonly get: (id: string) => Promise<ResponseRecord | undefined>
  /** After this long from its creation no run can still be writing (its deadline and LOST_AFTER_MS). */
  readonly horizonMs: number
}

/** Whether `id` was created streaming in the background (its events are kept). */
export async function streams(store: Pick<ResponseStore, 'events'>, id: string): Promise<boolean> {
  return (await store.events(id, -1, 1))[0]?.seq === 0
}

/** A streamed background response's events from the first, live until its end marker (or it is deleted, or past any run's horizon). */
export async function* followEvents(id: string, deps: FollowDeps): AsyncGenerator<TurnEvent> {
  let seq = 0
  let endedAt: number | undefined
  for (;;) {
    const rows = await deps.store.events(id, seq, PAGE)
    for (const row of rows) {
      seq = row.seq
      if (row.event.type === END) return
      yield row.event as unknown as TurnEvent
    }
    if (rows.length === PAGE) continue
    const record = await deps.get(id)
    if (!record || Date.now() - record.createdAt.getTime() > deps.horizonMs) return
    if (!isRunning(record.body)) {
      // Ended (or lost) without its end marker read yet: its last events may still be on their way, not for long.
      endedAt ??= Date.now()
      if (Date.now() - endedAt > END_GRACE_MS) return
    }
    await deps.runs.next(id, POLL_MS)
  }
}
