/** OpenTelemetry spans through @opentelemetry/api: no-ops costing close to nothing until a tracer provider is registered (telemetry.otel). */
import { context, isSpanContextValid, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type Tracer, type TracerProvider } from '@opentelemetry/api'

let provider: TracerProvider | undefined
let cached: Tracer | undefined

/** The gateway's tracer, from the provider registered now (telemetry.otel re-registers one on reload). */
export function tracer(): Tracer {
  const current = trace.getTracerProvider()
  if (current !== provider) {
    provider = current
    cached = current.getTracer('ai-gateway')
  }
  return cached!
}

export { SpanKind, context, propagation, type Span }

/** A child span of `parent`. */
export function childSpan(parent: Span, name: string, kind: SpanKind = SpanKind.INTERNAL, attributes?: Attributes): Span {
  return tracer().startSpan(name, { kind, attributes }, trace.setSpan(context.active(), parent))
}

/** `headers` and the W3C traceparent of `span` (the registered propagator's), so an upstream joins the trace: a caller's unsampled one goes on as it came; no trace, no copy. */
export function tracedHeaders(span: Span, headers: Readonly<Record<string, string>> | undefined): Readonly<Record<string, string>> | undefined {
  if (!isSpanContextValid(span.spanContext())) return headers
  const carrier = { ...headers }
  propagation.inject(trace.setSpan(context.active(), span), carrier)
  return carrier
}

export function failSpan(span: Span, err: unknown): void {
  if (!span.isRecording()) return
  const e = err as { message?: string; code?: string }
  span.setStatus({ code: SpanStatusCode.ERROR, message: e?.message })
  if (e?.code) span.setAttribute('error.type', e.code)
}
