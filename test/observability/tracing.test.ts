import { afterEach, describe, expect, it } from 'vitest'
import { startTestGateway, postJson } from '../helpers/gateway.ts'
import { sendJson, startUpstream } from '../helpers/upstream.ts'
import { waitFor } from '../helpers/wait.ts'

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => { while (cleanup.length) await cleanup.pop()!() })

type OtlpSpan = { name: string; kind: number; traceId: string; parentSpanId?: string; spanId: string; attributes: { key: string; value: Record<string, unknown> }[] }
const attrs = (span: OtlpSpan) => Object.fromEntries(span.attributes.map((a) => [a.key, Object.values(a.value)[0]]))

describe('OpenTelemetry traces (telemetry.otel)', () => {
  it('exports a span per request, stage and upstream call with the GenAI attributes', async () => {
    const spans: OtlpSpan[] = []
    const collector = await startUpstream((req, res) => {
      for (const rs of req.body.resourceSpans ?? []) for (const ss of rs.scopeSpans) spans.push(...ss.spans)
      sendJson(res, 200, {})
    })
    cleanup.push(() => collector.close())
    const gw = await startTestGateway(`version: 1
telemetry:
  otel: { endpoint: "${collector.url}/v1/traces", flush_interval_ms: 50 }
providers:
  mock: { plugin: mock }
routes:
  - model: m
    targets: [ { provider: mock, model: mock-1 } ]
`)
    cleanup.push(() => gw.close())
    expect((await postJson(`${gw.url}/v1/chat/completions`, { model: 'm', messages: [{ role: 'user', content: 'one two three' }] })).status).toBe(200)
    await waitFor(() => spans.some((s) => s.name === 'gateway.request'), 5000)
    const request = spans.find((s) => s.name === 'gateway.request')!
    expect(attrs(request)).toMatchObject({
      'gen_ai.operation.name': 'chat', 'gen_ai.system': 'mock', 'gen_ai.request.model': 'm', 'gen_ai.response.model': 'mock-1',
      'gen_ai.usage.input_tokens': 3, 'gen_ai.usage.output_tokens': 4, 'http.response.status_code': 200,
    })
    const upstream = spans.find((s) => s.name === 'chat mock-1')!
    expect(upstream.kind).toBe(3) // CLIENT
    expect(upstream.traceId).toBe(request.traceId)
    expect(upstream.parentSpanId).toBe(request.spanId)
    expect(attrs(upstream)).toMatchObject({ 'gen_ai.system': 'mock', 'gen_ai.request.model': 'mock-1' })
    expect(collector.requests[0].headers['content-type']).toContain('application/json')
  })

  it('costs nothing when off: no provider registered, spans are not recording', async () => {
    const { tracer } = await import('../../core/tracing.ts')
    const span = tracer().startSpan('x')
    expect(span.isRecording()).toBe(false)
    span.end()
  })
})
