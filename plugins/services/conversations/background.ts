/**
 * Background responses (`background: true`) this process runs: each detached from the request that
 * made it, with a signal of its own that `cancel`, its deadline or the gateway's shutdown aborts.
 * Kept across reloads (`ctx.keep`): a reload must not forget a run, nor stop it.
 */
import { GatewayError, within, type Logger } from '../../../core/plugins/api.ts'
import type { JsonObject } from '../../contracts/capabilities.ts'

/** How long after its deadline a run still unfinished in the store is taken for lost (its process stopped): the time its own end takes to be written. */
export const LOST_AFTER_MS = 60_000

interface Run {
  readonly controller: AbortController
  readonly done: Promise<unknown>
}

export class BackgroundRuns {
  readonly #runs = new Map<string, Run>()

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
      })
    this.#runs.set(id, { controller, done })
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
  }
}

/** Whether a stored background response is still queued or in progress. */
export function isRunning(body: JsonObject): boolean {
  return body.background === true && (body.status === 'queued' || body.status === 'in_progress')
}
