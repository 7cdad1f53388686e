/**
 * Prometheus metrics (prom-client), one registry per gateway (so gateways in one process, as in
 * tests, do not mix). Label values come from the config (route and provider names), so
 * cardinality stays bounded.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { LimiterState } from './runtime/limiter-health.ts'

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]

export class GatewayMetrics {
  readonly registry = new Registry()
  readonly requests = new Counter({ name: 'gateway_requests_total', help: 'API requests by route, provider and status.', labelNames: ['route', 'provider', 'status'], registers: [this.registry] })
  readonly latency = new Histogram({ name: 'gateway_request_duration_seconds', help: 'Request latency, to the end of the response.', labelNames: ['route', 'provider'], buckets: LATENCY_BUCKETS, registers: [this.registry] })
  readonly ttft = new Histogram({ name: 'gateway_time_to_first_token_seconds', help: 'Streams: time to the first chunk.', labelNames: ['route', 'provider'], buckets: LATENCY_BUCKETS, registers: [this.registry] })
  readonly tokens = new Counter({ name: 'gateway_tokens_total', help: 'Tokens by route, provider and kind (prompt, completion, cached).', labelNames: ['route', 'provider', 'kind'], registers: [this.registry] })
  readonly cost = new Counter({ name: 'gateway_cost_usd_total', help: 'Provider cost in USD.', labelNames: ['route', 'provider'], registers: [this.registry] })
  readonly cacheHits = new Counter({ name: 'gateway_cache_hits_total', help: 'Responses served from the cache.', labelNames: ['route'], registers: [this.registry] })
  readonly limiterRejections = new Counter({ name: 'gateway_limiter_rejections_total', help: 'Requests refused by a rate limit or budget.', labelNames: ['scope', 'kind'], registers: [this.registry] })
  readonly limiterBackendFailures = new Counter({ name: 'gateway_limiter_backend_failures_total', help: 'Limit checks the limiter backend did not answer, by what the policy did (open: admitted, closed: refused).', labelNames: ['outcome'], registers: [this.registry] })
  /** The configured limiter backend and whether it answers (set by the reload controller); undefined: none configured. */
  limiterBackend: () => { backend: string; state: LimiterState } | undefined = () => undefined
  readonly limiterBackendUp = new Gauge({
    name: 'gateway_limiter_backend_up',
    help: '1 while the limiter backend answers, 0 after a failed check until one succeeds; absent when no limiter is configured.',
    labelNames: ['backend'],
    registers: [this.registry],
    collect: () => {
      this.limiterBackendUp.reset()
      const limiter = this.limiterBackend()
      if (limiter) this.limiterBackendUp.set({ backend: limiter.backend }, limiter.state === 'down' ? 0 : 1)
    },
  })
  readonly budgetAlerts = new Counter({ name: 'gateway_budget_alerts_total', help: 'Budget thresholds crossed, by scope, period and threshold.', labelNames: ['scope', 'period', 'threshold'], registers: [this.registry] })
  readonly cacheLookups = new Counter({ name: 'gateway_cache_lookups_total', help: 'Chat requests by cache result: hit, miss, or bypass (not cacheable or the client said no-cache).', labelNames: ['route', 'result'], registers: [this.registry] })
  readonly cacheErrors = new Counter({ name: 'gateway_cache_errors_total', help: 'Cache operations that failed or timed out (a failed lookup is served as a miss).', labelNames: ['op'], registers: [this.registry] })
  readonly circuit = new Gauge({ name: 'gateway_circuit_state', help: 'Circuit breaker per target: 0 closed, 1 half-open, 2 open.', labelNames: ['target'], registers: [this.registry] })
  readonly reloads = new Counter({ name: 'gateway_config_reloads_total', help: 'Config reloads by result.', labelNames: ['result'], registers: [this.registry] })
  readonly usageBuffer = new Gauge({ name: 'gateway_usage_buffer_depth', help: 'Usage events waiting in memory to be written.', registers: [this.registry] })
  readonly usageDropped = new Counter({ name: 'gateway_usage_events_dropped_total', help: 'Usage events lost: the buffer was full with no journal, or the journal was full or could not be written. Should stay 0.', registers: [this.registry] })
  readonly usageSpilled = new Counter({ name: 'gateway_usage_events_spilled_total', help: 'Usage events moved from the full memory buffer (or at shutdown) to the journal on disk.', registers: [this.registry] })
  readonly usageReplayed = new Counter({ name: 'gateway_usage_events_replayed_total', help: 'Usage events written to the store from the journal.', registers: [this.registry] })
  readonly usageJournalEvents = new Gauge({ name: 'gateway_usage_journal_events', help: 'Usage events in the journal on disk, waiting to be written.', registers: [this.registry] })
  readonly usageJournalBytes = new Gauge({ name: 'gateway_usage_journal_bytes', help: 'Size of the usage journal on disk.', registers: [this.registry] })
  readonly usageWriteFailures = new Counter({ name: 'gateway_usage_write_failures_total', help: 'Failed usage batch writes (retried).', registers: [this.registry] })

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'gateway_process_' })
  }
}
