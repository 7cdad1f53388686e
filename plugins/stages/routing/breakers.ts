/**
 * What stage.routing knows of each upstream target: a circuit breaker and a moving average of its
 * latency, per `provider/model`, kept per gateway across reloads (ctx.keep). The call step reports
 * each try through the plan's outcomes; the admin service reads them through `Circuits`.
 */
import { LRUCache } from 'lru-cache'
import { isGlob, type RoutingTarget, type StageExchange, type TargetOutcomes, type TargetPlan } from '../../../plugin-api/index.ts'
import type { CircuitState, CircuitView, Circuits } from '../../contracts/circuits.ts'
import type { CircuitSeries } from './series.ts'

export interface CircuitSettings {
  readonly failures: number
  readonly windowMs: number
  readonly cooldownMs: number
}

/** gateway.yaml's `circuit:` on a route or a target. */
interface CircuitConfig { failures?: number; window_s?: number; cooldown_s?: number }

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

  describe(now = Date.now()): CircuitView {
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

const key = (provider: string, model: string | undefined): string => `${provider}/${model ?? '*'}`

/**
 * How many models of glob targets keep a health of their own. A `gpt-*` target sends each client's
 * model name upstream, and gpt-4o being rate limited says nothing of gpt-4o-mini: each name is a
 * target of its own (one breaker for all let one model's 429s close every model of the route). The
 * names are the client's to choose, so they are bounded; an evicted model starts closed again.
 */
const GLOB_MODELS_MAX = 4096

/** Every target's health in one gateway, shared by its snapshots (and so by each reload's stage instance). */
export class Breakers implements Circuits {
  readonly #byKey = new Map<string, TargetHealth>()
  /** A snapshot's target → its health: found once per target object (each reload brings new ones), not by its key on every call. */
  readonly #byTarget = new WeakMap<RoutingTarget, TargetHealth>()
  readonly #series: CircuitSeries
  /** A glob target's health per model sent (`provider/model`), and the outcomes of a plan for each model asked for. */
  readonly #byModel: LRUCache<string, TargetHealth>
  readonly #outcomesByModel = new LRUCache<string, TargetOutcomes<RoutingTarget>>({ max: GLOB_MODELS_MAX })

  constructor(series: CircuitSeries) {
    this.#series = series
    this.#byModel = new LRUCache<string, TargetHealth>({ max: GLOB_MODELS_MAX, dispose: (_, k) => series.forget(k) })
  }

  plan<T extends RoutingTarget>(x: StageExchange, targets: readonly T[], fallback: boolean): TargetPlan<T> {
    // A target without a model of its own sends the client's model name: on a glob route, one of many.
    let perModel = false
    for (const target of targets) {
      if (!this.#byTarget.has(target)) this.#register(target, x.route?.settings.circuit as CircuitConfig | undefined)
      if (target.model === undefined) perModel = true
    }
    perModel &&= x.route !== undefined && isGlob(x.route.name)
    const outcomes = perModel ? this.#outcomesFor(x.requestedModel) : this.#outcomes
    return { targets, fallback, outcomes: outcomes as TargetOutcomes<T> }
  }

  latencyMs(target: RoutingTarget): number | undefined {
    // A reload's new target objects are not registered until planned: their key's health, then.
    return (this.#byTarget.get(target) ?? this.#byKey.get(key(target.provider, target.model)))?.latencyMs
  }

  describe(provider: string, model: string | undefined, now = Date.now()): CircuitView {
    const k = key(provider, model)
    return (this.#byKey.get(k) ?? this.#byModel.peek(k))?.describe(now) ?? { state: 'closed', recent_failures: 0, retry_in_ms: 0, latency_ms: null }
  }

  openModels(provider: string, now = Date.now()): (CircuitView & { model: string })[] {
    const prefix = key(provider, '')
    const open: (CircuitView & { model: string })[] = []
    // Provider names are identifiers (no `/`): what follows the first is the model, slashes and all.
    for (const [k, health] of this.#byModel.entries()) {
      if (health.state !== 'closed' && k.startsWith(prefix)) open.push({ model: k.slice(prefix.length), ...health.describe(now) })
    }
    return open.sort((a, b) => a.model.localeCompare(b.model))
  }

  /** The target's health under its `circuit:` over its route's; the settings follow the latest config (a reload's new target objects come here again). */
  #register(target: RoutingTarget, routeCircuit: CircuitConfig | undefined): void {
    const settings = circuitSettings(target.settings.circuit as CircuitConfig | undefined, circuitSettings(routeCircuit))
    const k = key(target.provider, target.model)
    let health = this.#byKey.get(k)
    if (health) health.settings = settings
    else this.#byKey.set(k, (health = new TargetHealth(k, settings, (h) => this.#series.target(h))))
    this.#byTarget.set(target, health)
  }

  /** The call step reports only targets of a plan, which `plan` registered. */
  #of(target: RoutingTarget): TargetHealth {
    return this.#byTarget.get(target)!
  }

  /** Outcomes that count a glob target's tries under the model sent (its own latency feeds the target's too, for least-latency). */
  #outcomesFor(model: string): TargetOutcomes<RoutingTarget> {
    let outcomes = this.#outcomesByModel.get(model)
    if (outcomes) return outcomes
    const of = (t: RoutingTarget): TargetHealth => (t.model === undefined ? this.#modelHealth(t, model) : this.#of(t))
    outcomes = {
      admit: (t) => of(t).tryAcquire(),
      success: (t, latencyMs) => {
        of(t).success(latencyMs)
        if (t.model === undefined) this.#of(t).success(latencyMs)
      },
      failure: (t) => of(t).failure(),
      release: (t) => of(t).release(),
      retryInMs: (targets) => Math.min(...targets.map((t) => of(t).retryInMs())),
    }
    this.#outcomesByModel.set(model, outcomes)
    return outcomes
  }

  /** The glob target's health for one model, with the target's settings as the latest config has them. */
  #modelHealth(target: RoutingTarget, model: string): TargetHealth {
    const settings = this.#of(target).settings
    const k = key(target.provider, model)
    let health = this.#byModel.get(k)
    if (!health) this.#byModel.set(k, (health = new TargetHealth(k, settings, (h) => this.#series.model(h))))
    else health.settings = settings
    return health
  }

  readonly #outcomes: TargetOutcomes<RoutingTarget> = {
    admit: (t) => this.#of(t).tryAcquire(),
    success: (t, latencyMs) => this.#of(t).success(latencyMs),
    failure: (t) => this.#of(t).failure(),
    release: (t) => this.#of(t).release(),
    retryInMs: (targets) => Math.min(...targets.map((t) => this.#of(t).retryInMs())),
  }
}
