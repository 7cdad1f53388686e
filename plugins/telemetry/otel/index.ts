/**
 * telemetry.otel: exports the gateway's traces (a span per request, stage and upstream call, with
 * GenAI attributes) over OTLP/HTTP. Off unless configured; with it off, tracing costs nothing.
 *
 *   telemetry:
 *     otel: { endpoint: http://collector:4318/v1/traces, service_name: ai-gateway, sample_ratio: 1 }
 */
import { propagation, trace } from '@opentelemetry/api'
import { definePlugin, type Lifecycle } from '../../../plugin-api/index.ts'

interface OtelConfig {
  endpoint: string
  headers?: Record<string, string>
  service_name: string
  sample_ratio: number
  flush_interval_ms: number
}

const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['endpoint'],
  properties: {
    endpoint: { type: 'string', format: 'uri', description: 'OTLP/HTTP traces URL, e.g. http://127.0.0.1:4318/v1/traces.' },
    headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'Extra headers (e.g. an API key for a hosted collector).' },
    service_name: { type: 'string', default: 'ai-gateway' },
    sample_ratio: { type: 'number', minimum: 0, maximum: 1, default: 1, description: 'Share of requests traced.' },
    flush_interval_ms: { type: 'integer', minimum: 10, default: 5000, description: 'How often batched spans are sent.' },
  },
}

/** The provider this plugin registered last; the API allows one global provider at a time. */
let registered: object | undefined

export default definePlugin<OtelConfig, Lifecycle>({
  id: 'telemetry.otel',
  kind: 'telemetry',
  description: 'Export traces over OTLP/HTTP.',
  configSchema,
  async setup(ctx, config) {
    // Loaded only when configured.
    const [{ BasicTracerProvider, BatchSpanProcessor, TraceIdRatioBasedSampler, ParentBasedSampler }, { OTLPTraceExporter }, { resourceFromAttributes }, { W3CTraceContextPropagator }] = await Promise.all([
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/core'),
    ])
    const exporter = new OTLPTraceExporter({ url: config.endpoint, headers: config.headers })
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': config.service_name }),
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sample_ratio) }),
      spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: config.flush_interval_ms })],
    })
    // A reload with a changed block builds a new provider before the old one is disposed.
    trace.disable()
    trace.setGlobalTracerProvider(provider)
    // A request's W3C traceparent makes its spans part of the caller's trace (and the sampler follows the caller's decision).
    propagation.disable()
    propagation.setGlobalPropagator(new W3CTraceContextPropagator())
    registered = provider
    ctx.logger.info({ endpoint: config.endpoint }, 'exporting traces over OTLP')
    return {
      async dispose() {
        if (registered === provider) {
          trace.disable()
          propagation.disable()
          registered = undefined
        }
        await provider.shutdown()
      },
    }
  },
})
