/**
 * gateway_circuit_state's series. A configured target has one once its breaker first changes state
 * (the config bounds them). A glob target keeps a breaker per model its clients name (up to 4,096),
 * so a model has a series only while its breaker is open or half-open, and at most
 * MODEL_SERIES_MAX models at once: a closed breaker's series would say only what a missing one
 * says (0, closed), and 4,096 of them would swamp a Prometheus. A model whose breaker closes, or
 * that is forgotten, loses its series; the admin service still shows every breaker.
 */
import type { CircuitState } from '../../contracts/circuits.ts'

export const MODEL_SERIES_MAX = 64

const STATE: Readonly<Record<CircuitState, number>> = { closed: 0, 'half-open': 1, open: 2 }

interface Gauge {
  set(value: number, labels: { target: string }): void
  reset(): void
}

interface Health {
  readonly key: string
  readonly state: CircuitState
}

export class CircuitSeries {
  readonly #gauge: Gauge
  readonly #targets = new Map<string, CircuitState>()
  readonly #models = new Map<string, CircuitState>()

  constructor(gauge: Gauge) {
    this.#gauge = gauge
  }

  /** A configured target's breaker changed state. */
  target(health: Health): void {
    this.#targets.set(health.key, health.state)
    this.#gauge.set(STATE[health.state], { target: health.key })
  }

  /** A glob target's model's breaker changed state. */
  model(health: Health): void {
    if (health.state === 'closed') return this.forget(health.key)
    if (!this.#models.has(health.key) && this.#models.size >= MODEL_SERIES_MAX) return
    this.#models.set(health.key, health.state)
    this.#gauge.set(STATE[health.state], { target: health.key })
  }

  /** A model's breaker is closed, or forgotten: its series goes (prom-client drops series only all at once, so the rest are set again). */
  forget(key: string): void {
    if (!this.#models.delete(key)) return
    this.#gauge.reset()
    for (const [target, state] of [...this.#targets, ...this.#models]) this.#gauge.set(STATE[state], { target })
  }
}
