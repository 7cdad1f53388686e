/**
 * The circuit breakers and measured latency of each upstream target, as stage.routing keeps them
 * (per gateway, across reloads): what the admin service shows beside each route's targets. The
 * routing stage provides it under the `Circuits` token; a third party's routing stage may use it
 * too, returning `circuits.plan(...)` from its `targets` phase so the targets it orders keep their
 * breakers (a plan without outcomes has none).
 */
import { token, type RoutingTarget, type StageExchange, type TargetPlan, type Token } from '../../plugin-api/index.ts'

export type CircuitState = 'closed' | 'open' | 'half-open'

/** A target's breaker and latency, as the admin API answers them. */
export interface CircuitView {
  readonly state: CircuitState
  readonly recent_failures: number
  /** Until an open circuit lets a probe through. */
  readonly retry_in_ms: number
  /** Moving average of the time to answer (or to a stream's first chunk); null until one was seen. */
  readonly latency_ms: number | null
}

export interface Circuits {
  /** The breaker of `provider`/`model` (undefined model: the model the client asks for); closed and unmeasured if never called. */
  describe(provider: string, model: string | undefined, now?: number): CircuitView
  /** `targets` in this order, with the outcomes through which the call step keeps their breakers (the route's and targets' `circuit:`). */
  plan<T extends RoutingTarget>(x: StageExchange, targets: readonly T[], fallback: boolean): TargetPlan<T>
  /**
   * The breakers of the models a glob route's target (`provider`, no model of its own) sends that are open or half-open, by model name:
   * each model has its own, and the target's `describe(provider, undefined)` says only its latency.
   */
  openModels(provider: string, now?: number): readonly (CircuitView & { readonly model: string })[]
  /** A planned target's moving-average latency (ms, to the answer or a stream's first chunk); undefined until one was seen. */
  latencyMs(target: RoutingTarget): number | undefined
}
export const Circuits: Token<Circuits> = token<Circuits>('Circuits')
