/** What the gateway knows about each upstream target's health: a circuit breaker and a moving average of its latency. */
import type { CircuitConfig } from '../config/types.ts'

export type CircuitState = 'closed' | 'open' | 'half-open'

export interface CircuitSettings {
  readonly failures: number
  readonly windowMs: number
  readonly cooldownMs: number
}

export const DEFAULT_CIRCUIT: CircuitSettings = { failures: 5, windowMs: 30_000, cooldownMs: 30_000 }

export function circuitSettings(config: CircuitConfig | undefined, fallback: CircuitSettings = DEFAULT_CIRCUIT): CircuitSettings {
  return {
    failures: config?.failures ?? fallback.failures,
    windowMs: config?.window_s !== undefined ? config.window_s * 1000 : fallback.windowMs,
    cooldownMs: config?.cooldown_s !== undefined ? config.cooldown_s * 1000 : fallback.cooldownMs,
  }
}

/** Weight of the newest sample in the latency average. */
const EWMA_ALPHA = 0.3

export class TargetHealth {
  readonly key: string
  settings: CircuitSettings
  #state: CircuitState = 'closed'
  #failures: number[] = []
  #openedAt = 0
  #probing = false
  #latencyMs: number | undefined
  #onChange: (health: TargetHealth) => void

  constructor(key: string, settings: CircuitSettings, onChange: (health: TargetHealth) => void) {
    this.key = key
    this.settings = settings
    this.#onChange = onChange
  }

  get state(): CircuitState {
    return this.#state
  }

  /** Moving average latency (time to answer, or to the first chunk of a stream), if any was seen. */
  get latencyMs(): number | undefined {
    return this.#latencyMs
  }

  /** Milliseconds until an open circuit lets a probe through. */
  retryInMs(now = Date.now()): number {
    return this.#state === 'open' ? Math.max(0, this.#openedAt + this.settings.cooldownMs - now) : 0
  }

  /** May a request go to this target now? An open circuit past its cooldown lets exactly one probe through (half-open). */
  tryAcquire(now = Date.now()): boolean {
    if (this.#state === 'closed') return true
    if (this.#state === 'open') {
      if (now - this.#openedAt < this.settings.cooldownMs) return false
      this.#set('half-open')
    }
    if (this.#probing) return false
    this.#probing = true
    return true
  }

  success(latencyMs: number): void {
    this.#latencyMs = this.#latencyMs === undefined ? latencyMs : this.#latencyMs + EWMA_ALPHA * (latencyMs - this.#latencyMs)
    this.#probing = false
    if (this.#state !== 'closed') {
      this.#failures = []
      this.#set('closed')
    }
  }

  /** A failure that says something about the upstream (retryable: 429, 5xx, timeout, connection). */
  failure(now = Date.now()): void {
    this.#probing = false
    // A failing target also looks slow to least-latency, so traffic moves off it.
    if (this.#latencyMs !== undefined) this.#latencyMs *= 1.5
    if (this.#state === 'half-open') {
      this.#open(now)
      return
    }
    const since = now - this.settings.windowMs
    this.#failures = this.#failures.filter((t) => t > since)
    this.#failures.push(now)
    if (this.#state === 'closed' && this.#failures.length >= this.settings.failures) this.#open(now)
  }

  /** An attempt ended without telling anything about the upstream (client gone, 4xx): free the probe. */
  release(): void {
    this.#probing = false
  }

  describe(now = Date.now()): { state: CircuitState; recent_failures: number; retry_in_ms: number; latency_ms: number | null } {
    const since = now - this.settings.windowMs
    return {
      state: this.#state,
      recent_failures: this.#failures.filter((t) => t > since).length,
      retry_in_ms: this.retryInMs(now),
      latency_ms: this.#latencyMs === undefined ? null : Math.round(this.#latencyMs * 10) / 10,
    }
  }

  #open(now: number): void {
    this.#openedAt = now
    this.#failures = []
    this.#set('open')
  }

  #set(state: CircuitState): void {
    if (this.#state === state) return
    this.#state = state
    this.#onChange(this)
  }
}

/** All targets' health, shared by every snapshot of one gateway. */
export class HealthRegistry {
  readonly #byKey = new Map<string, TargetHealth>()
  readonly #listeners: ((health: TargetHealth) => void)[] = []

  /** The health of `provider`/`model`, created on first use; its breaker settings follow the latest config. */
  get(provider: string, model: string | undefined, settings: CircuitSettings): TargetHealth {
    const key = `${provider}/${model ?? '*'}`
    let health = this.#byKey.get(key)
    if (!health) {
      health = new TargetHealth(key, settings, (h) => { for (const l of this.#listeners) l(h) })
      this.#byKey.set(key, health)
    } else {
      health.settings = settings
    }
    return health
  }

  onStateChange(listener: (health: TargetHealth) => void): void {
    this.#listeners.push(listener)
  }

  all(): TargetHealth[] {
    return [...this.#byKey.values()]
  }
}
