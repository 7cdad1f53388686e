/** Prometheus metrics (prom-client), one registry per gateway (so gateways in one process, as in tests, do not mix). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { ExchangeOutcome, MetricLabels, Metrics } from '../plugin-api/types.ts'

/** gateway_tokens_total's kinds, in ExchangeTotals.tokens' order. */
const TOKEN_KINDS = ['prompt', 'completion', 'cached', 'cache_write', 'reasoning'] as const

/** One route and provider's exchanges since start (the gateway's run): what the counters are set from, the histograms' children. */
interface ExchangeTotals {
  readonly labels: { route: string; provider: string }
  readonly latency: Histogram.Internal<string>
  readonly ttft: Histogram.Internal<string>
  readonly statuses: Map<number, number>
  readonly tokens: [number, number, number, number, number]
  cost: number
  cacheHits: number
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600]

export class GatewayMetrics implements Metrics {
  readonly registry = new Registry()
  /** Per route, per provider: the exchanges' counters, added up on the hot path and set at scrape time by the counters below (prom-client hashed a label object per update); the fields keep /metrics' order. */
  readonly #exchanges = new Map<string, Map<string, ExchangeTotals>>()
  readonly #requests = this.#exchangeCounter('gateway_requests_total', 'API requests by route, provider and status.', ['route', 'provider', 'status'], (t, add) => {
    for (const [status, n] of t.statuses) add({ ...t.labels, status }, n)
  })
  readonly #latency = new Histogram({ name: 'gateway_request_duration_seconds', help: 'Request latency, to the end of the response.', labelNames: ['route', 'provider'], buckets: LATENCY_BUCKETS, registers: [this.registry] })
  readonly #ttft = new Histogram({ name: 'gateway_time_to_first_token_seconds', help: 'Streams: time to the first chunk.', labelNames: ['route', 'provider'], buckets: LATENCY_BUCKETS, registers: [this.registry] })
  readonly #tokens = this.#exchangeCounter('gateway_tokens_total', 'Tokens by route, provider and kind (prompt, completion; of the prompt: cached, cache_write; of the completion: reasoning).', ['route', 'provider', 'kind'], (t, add) => {
    TOKEN_KINDS.forEach((kind, i) => add({ ...t.labels, kind }, t.tokens[i]))
  })
  readonly #cost = this.#exchangeCounter('gateway_cost_usd_total', 'Provider cost in USD.', ['route', 'provider'], (t, add) => add(t.labels, t.cost))
  readonly #cacheHits = this.#exchangeCounter('gateway_cache_hits_total', 'Responses served from the cache.', ['route'], (t, add) => add({ route: t.labels.route }, t.cacheHits))
  readonly reloads = new Counter({ name: 'gateway_config_reloads_total', help: 'Config reloads by result.', labelNames: ['result'], registers: [this.registry] })
  /** Per step: [milliseconds, calls], added up on the hot path and read at scrape time. */
  readonly #stages = new Map<string, [number, number]>()
  readonly #stageSeconds: Counter = new Counter({
    name: 'gateway_stage_seconds_total', help: 'Time spent in each pipeline step and stage plugin (divide by gateway_stage_calls_total for the mean).', labelNames: ['stage'], registers: [this.registry],
    collect: () => this.#collectStages(this.#stageSeconds, 0, 1000),
  })
  readonly #stageCalls: Counter = new Counter({
    name: 'gateway_stage_calls_total', help: 'Runs of each pipeline step and stage plugin.', labelNames: ['stage'], registers: [this.registry],
    collect: () => this.#collectStages(this.#stageCalls, 1, 1),
  })
  readonly #made = new Map<string, Counter | Gauge | Histogram>()

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'gateway_process_' })
  }

  /** One exchange, as the account step closes it: its counters and latencies; `ttftMs` (unrounded) for a stream's first chunk. */
  exchange(route: string, outcome: ExchangeOutcome, ttftMs: number | undefined): void {
    const provider = outcome.provider ?? ''
    let byProvider = this.#exchanges.get(route)
    if (!byProvider) this.#exchanges.set(route, (byProvider = new Map()))
    let t = byProvider.get(provider)
    if (!t) byProvider.set(provider, (t = { labels: { route, provider }, latency: this.#latency.labels({ route, provider }), ttft: this.#ttft.labels({ route, provider }), statuses: new Map(), tokens: [0, 0, 0, 0, 0], cost: 0, cacheHits: 0 }))
    t.statuses.set(outcome.status, (t.statuses.get(outcome.status) ?? 0) + 1)
    t.latency.observe(outcome.latencyMs / 1000)
    if (ttftMs !== undefined) t.ttft.observe(ttftMs / 1000)
    t.tokens[0] += outcome.promptTokens
    t.tokens[1] += outcome.completionTokens
    t.tokens[2] += outcome.cachedTokens; t.tokens[3] += outcome.cacheWriteTokens ?? 0; t.tokens[4] += outcome.reasoningTokens ?? 0
    t.cost += outcome.costUsd
    if (outcome.cacheHit) t.cacheHits++
  }

  /** A counter set at scrape time from the exchanges' totals: `each` adds one route and provider's series (a zero adds none). */
  #exchangeCounter(name: string, help: string, labelNames: string[], each: (t: ExchangeTotals, add: (labels: MetricLabels, value: number) => void) => void): Counter {
    const counter: Counter = new Counter({
      name, help, labelNames, registers: [this.registry],
      collect: () => {
        counter.reset()
        for (const byProvider of this.#exchanges.values()) for (const t of byProvider.values()) each(t, (labels, value) => { if (value) counter.inc(labels, value) })
      },
    })
    return counter
  }

  /** One run of a step and its duration: two additions (a histogram per step cost more than some steps). */
  stageDuration(stage: string, ms: number): void {
    const totals = this.#stages.get(stage)
    if (totals) {
      totals[0] += ms
      totals[1]++
    } else this.#stages.set(stage, [ms, 1])
  }

  /** Set `counter` from the running totals at scrape time: field 0 (ms) or 1 (calls), divided by `unit`. */
  #collectStages(counter: Counter, field: 0 | 1, unit: number): void {
    counter.reset()
    for (const [stage, totals] of this.#stages) counter.inc({ stage }, totals[field] / unit)
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): { inc(labels?: MetricLabels, value?: number): void } {
    const metric = this.#make(name, () => new Counter({ name, help, labelNames: [...labelNames], registers: [this.registry] })) as Counter
    return { inc: (labels, value = 1) => (labels ? metric.inc(labels, value) : metric.inc(value)) }
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): { set(value: number, labels?: MetricLabels): void; reset(): void } {
    const metric = this.#make(name, () => new Gauge({ name, help, labelNames: [...labelNames], registers: [this.registry] })) as Gauge
    return { set: (value, labels) => (labels ? metric.set(labels, value) : metric.set(value)), reset: () => metric.reset() }
  }

  histogram(name: string, help: string, labelNames: readonly string[] = [], buckets: readonly number[] = LATENCY_BUCKETS): { observe(value: number, labels?: MetricLabels): void } {
    const metric = this.#make(name, () => new Histogram({ name, help, labelNames: [...labelNames], buckets: [...buckets], registers: [this.registry] })) as Histogram
    return { observe: (value, labels) => (labels ? metric.observe(labels, value) : metric.observe(value)) }
  }

  #make(name: string, create: () => Counter | Gauge | Histogram): Counter | Gauge | Histogram {
    let metric = this.#made.get(name)
    if (!metric) this.#made.set(name, (metric = create()))
    return metric
  }
}
