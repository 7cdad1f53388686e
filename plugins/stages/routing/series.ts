/**
 * gateway_circuit_state's series, and the glob models' totals. A configured target has a series once
 * its breaker first changes state (the config bounds them). A glob target keeps a breaker per model
 * its clients name (up to 4,096), so a model has a series only while its breaker is open or
 * half-open, and at most MODEL_SERIES_MAX models at once: a closed breaker's series would say only
 * what a missing one says (0, closed), and 4,096 of them would swamp a Prometheus. Past the cap,
 * nothing is hidden: gateway_circuit_glob_models{state} counts every glob model not closed, with a
 * series or not, gateway_circuit_glob_models_without_series those past the cap, and a model waiting
 * takes the series a closed one frees (the longest waiting first). A model whose breaker closes, or
 * that is forgotten, loses its series; the admin service lists every glob model not closed.
 */
import type { CircuitState } from '../../contracts/circuits.ts'

export const MODEL_SERIES_MAX = 64

const STATE: Readonly<Record<CircuitState, number>> = { closed: 0, 'half-open': 1, open: 2 }

interface Gauge {
  set(value: number, labels?: Record<string, string>): void
  reset(): void
}

/** The gauges the series are kept in: per target, and the glob models' totals (by state, and those without a series). */
export interface CircuitGauges {
  readonly state: Gauge
  readonly globModels: Gauge
  readonly withoutSeries: Gauge
}

interface Health {
  readonly key: string
  readonly state: CircuitState
}

export class CircuitSeries {
  readonly #gauges: CircuitGauges
  readonly #targets = new Map<string, CircuitState>()
  /** Glob models not closed with a series of their own (at most MODEL_SERIES_MAX). */
  readonly #models = new Map<string, CircuitState>()
  /** Glob models not closed past the cap, in the order they came: the first takes the next series freed. */
  readonly #waiting = new Map<string, CircuitState>()

  constructor(gauges: CircuitGauges) {
    this.#gauges = gauges
    this.#totals()
  }

  /** A configured target's breaker changed state. */
  target(health: Health): void {
    this.#targets.set(health.key, health.state)
    this.#gauges.state.set(STATE[health.state], { target: health.key })
  }

  /** A glob target's model's breaker changed state. */
  model(health: Health): void {
    if (health.state === 'closed') return this.forget(health.key)
    if (this.#models.has(health.key) || this.#models.size < MODEL_SERIES_MAX) {
      this.#models.set(health.key, health.state)
      this.#gauges.state.set(STATE[health.state], { target: health.key })
    } else {
      this.#waiting.set(health.key, health.state)
    }
    this.#totals()
  }

  /** A model's breaker is closed, or forgotten: its series goes (prom-client drops series only all at once, so the rest are set again), to the model waiting longest. */
  forget(key: string): void {
    if (this.#waiting.delete(key)) return this.#totals()
    if (!this.#models.delete(key)) return
    const [next] = this.#waiting
    if (next) {
      this.#waiting.delete(next[0])
      this.#models.set(...next)
    }
    this.#gauges.state.reset()
    for (const [target, state] of [...this.#targets, ...this.#models]) this.#gauges.state.set(STATE[state], { target })
    this.#totals()
  }

  #totals(): void {
    const count = { open: 0, 'half-open': 0 }
    for (const state of [...this.#models.values(), ...this.#waiting.values()]) if (state !== 'closed') count[state]++
    for (const [state, n] of Object.entries(count)) this.#gauges.globModels.set(n, { state })
    this.#gauges.withoutSeries.set(this.#waiting.size)
  }
}
