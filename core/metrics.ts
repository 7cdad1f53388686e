/** Prometheus metrics (prom-client), one registry per gateway (so gateways in one process, as in tests, do not mix). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { MetricLabels, Metrics } from './plugins/types.ts'

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]

export class GatewayMetrics implements Metrics {
  readonly registry = new Registry()
  readonly requests = new Counter({ name: 'gateway_requests_total', help: 'API requests by route, provider and status.', labelNames: ['route', 'provider', 'status'], registers: [this.registry] })
  readonly latency = new Histogram({ name: 'gateway_request_duration_seconds', help: 'Request latency, to the end of the response.', labelNames: ['route', 'provider'], buckets: LATENCY_BUCKETS, registers: [this.registry] })
  readonly ttft = new Histogram({ name: 'gateway_time_to_first_token_seconds', help: 'Streams: time to the first chunk.', labelNames: ['route', 'provider'], buckets: LATENCY_BUCKETS, registers: [this.registry] })
  readonly tokens = new Counter({ name: 'gateway_tokens_total', help: 'Tokens by route, provider and kind (prompt, completion, cached).', labelNames: ['route', 'provider', 'kind'], registers: [this.registry] })
  readonly cost = new Counter({ name: 'gateway_cost_usd_total', help: 'Provider cost in USD.', labelNames: ['route', 'provider'], registers: [this.registry] })
  readonly cacheHits = new Counter({ name: 'gateway_cache_hits_total', help: 'Responses served from the cache.', labelNames: ['route'], registers: [this.registry] })
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
