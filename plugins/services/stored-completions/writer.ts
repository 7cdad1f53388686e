/**
 * Writes kept completions after their answers have gone: each write starts on the next turn of the
 * event loop (the response is written first) and is tracked, so a read in this process waits for
 * the writes before it (a list right after a create sees it) and a clean shutdown waits for them
 * all (the kernel disposes what plugins keep while the store is still open). One per gateway
 * (`ctx.keep`): a reload points it at the store its new config has.
 */
import { within, type Logger } from '../../../plugin-api/index.ts'
import type { CompletionToKeep } from '../../contracts/stored-completions.ts'
import type { CompletionRepository } from './repository.ts'

export class CompletionWriter {
  #repository: CompletionRepository | undefined
  #logger: Logger | undefined
  readonly #pending = new Set<Promise<void>>()
  /** The last write queued: each waits for the one before, so the list's order (`seq`) is the order the answers were given (concurrent inserts on a pool commit in any order). */
  #last: Promise<void> = Promise.resolve()

  /** Where writes go from now on (each setup of the service). */
  pointAt(repository: CompletionRepository, logger: Logger): void {
    this.#repository = repository
    this.#logger = logger
  }

  add(completion: CompletionToKeep): void {
    const write = Promise.all([this.#last, new Promise<void>((resolve) => setImmediate(resolve))])
      .then(() => this.#repository?.insert(completion))
      .catch((err: unknown) => this.#logger?.warn({ err: (err as Error)?.message, id: completion.completion.id }, 'stored chat completion not written'))
    this.#last = write
    this.#pending.add(write)
    void write.finally(() => this.#pending.delete(write))
  }

  /** Once every write queued so far has ended (at once when none is). */
  settled(): Promise<void> | undefined {
    return this.#pending.size ? Promise.all([...this.#pending]).then(() => undefined) : undefined
  }

  /** At shutdown: the writes still going, within the time left. */
  async dispose(timeoutMs: number): Promise<void> {
    const settled = this.settled()
    if (settled) await within(settled, timeoutMs)
  }
}
