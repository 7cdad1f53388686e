/**
 * Whether each limiter backend answers, and a breaker in front of it. A backend that failed a
 * check (an error, or no answer in time) is not asked again for a cool-down: every request in
 * that time gets its policies' on_backend_failure at once, instead of each waiting for the
 * backend's timeout while it hangs. After the cool-down one request probes it; its answer closes
 * the breaker, its failure starts another cool-down. Kept outside snapshots, keyed by the limiter
 * instance (which a reload carries over when its config does not change).
 */
import type { Limiter } from '../plugins/types.ts'

export type LimiterState = 'unknown' | 'up' | 'down'

export class LimiterHealth {
  #state: LimiterState = 'unknown'
  #retryAt = 0
  #probing = false

  get state(): LimiterState {
    return this.#state
  }

  /** May a check go to the backend now? While it is down, only one probe after each cool-down. */
  tryAcquire(now = Date.now()): boolean {
    if (this.#state !== 'down') return true
    if (this.#probing || now < this.#retryAt) return false
    this.#probing = true
    return true
  }

  /** The backend answered a check; true when it was down (it is back). */
  answered(): boolean {
    const wasDown = this.#state === 'down'
    this.#state = 'up'
    this.#probing = false
    return wasDown
  }

  /** The backend failed a check: wait `cooldownMs` before the next probe; true when it was not down yet. */
  failed(cooldownMs: number, now = Date.now()): boolean {
    const wasDown = this.#state === 'down'
    this.#state = 'down'
    this.#probing = false
    this.#retryAt = now + cooldownMs
    return !wasDown
  }
}

/** Every limiter's health, shared by the snapshots of one gateway. */
export class LimiterHealthRegistry {
  readonly #byLimiter = new WeakMap<Limiter, LimiterHealth>()

  get(limiter: Limiter): LimiterHealth {
    let health = this.#byLimiter.get(limiter)
    if (!health) {
      health = new LimiterHealth()
      this.#byLimiter.set(limiter, health)
    }
    return health
  }
}
