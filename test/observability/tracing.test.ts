import { afterEach, describe, expect, it } from 'vitest'
import { startTestGateway, postJson } from '../helpers/gateway.ts'
import { sendJson, startUpstream } from '../helpers/upstream.ts'
import { waitFor } from '../helpers/wait.ts'

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => { while (cleanup.length) await cleanup.pop()!() })

type OtlpSpan = { name: string; kind: number; traceId: string; parentSpanId?: string; spanId: string; attributes: { key: string; value: Record<string, unknown> }[] }
const attrs = (span: OtlpSpan) => Object.fromEntries(span.attributes.map((a) => [a.key, Object.values(a.value)[0]]))

/**
 * A gateway exporting its traces (OTLP over HTTP, JSON) to a collector that keeps every span it
 * receives; route `m` goes to the mock provider's `mock-1`; `extraRoutes` is more routes or top-level YAML, `extraProviders` more providers.
 */
async function tracedGateway(extraRoutes = '', extraProviders = '') {
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
${extraProviders}routes:
  - model: m
    targets: [ { provider: mock, model: mock-1 } ]
${extraRoutes}`)
  cleanup.push(() => gw.close())
  return { spans, collector, gw }
}

describe('OpenTelemetry traces (telemetry.otel)', () => {
  it('exports a span per request, stage and upstream call with the GenAI attributes', async () => {
    const { spans, collector, gw } = await tracedGateway()
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
    // Inside the call step.
    expect(upstream.parentSpanId).toBe(spans.find((s) => s.name === 'gateway.call')!.spanId)
    expect(attrs(upstream)).toMatchObject({ 'gen_ai.system': 'mock', 'gen_ai.request.model': 'mock-1' })
    expect(collector.requests[0].headers['content-type']).toContain('application/json')
  })

  it('joins the caller\'s trace when the request carries a W3C traceparent, and follows its sampling decision', async () => {
    const { spans, gw } = await tracedGateway()
    const traceId = '0af7651916cd43dd8448eb211c80319c'
    const callerSpan = 'b7ad6b7169203331'
    const ask = (traceparent: string) => postJson(`${gw.url}/v1/chat/completions`, { model: 'm', messages: [{ role: 'user', content: 'hi' }] }, { traceparent })
    expect((await ask(`00-${traceId}-${callerSpan}-01`)).status).toBe(200)
    await waitFor(() => spans.some((s) => s.name === 'gateway.request' && s.traceId === traceId), 5000)
    const request = spans.find((s) => s.name === 'gateway.request')!
    expect(request.parentSpanId).toBe(callerSpan)
    // Every span of the request is in the caller's trace.
    expect(spans.find((s) => s.name === 'chat mock-1')!.traceId).toBe(traceId)
    // The caller did not sample its trace: neither does the gateway (sample_ratio 1 is for traces the gateway starts).
    const unsampled = '1bf7651916cd43dd8448eb211c80319c'
    expect((await ask(`00-${unsampled}-${callerSpan}-00`)).status).toBe(200)
    expect((await ask('not a traceparent')).status).toBe(200)
    await waitFor(() => spans.filter((s) => s.name === 'gateway.request').length >= 2, 5000)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(spans.filter((s) => s.traceId === unsampled)).toEqual([])
    // A malformed header starts a trace of the gateway's own.
    expect(spans.filter((s) => s.name === 'gateway.request' && !s.parentSpanId)).toHaveLength(1)
  })

  it('sends the upstream call\'s span to the provider as its parent (W3C traceparent); a caller\'s unsampled trace goes on unsampled', async () => {
    const seen: (string | undefined)[] = []
    const upstream = await startUpstream((req, res) => {
      seen.push(req.headers.traceparent as string | undefined)
      sendJson(res, 200, { id: 'c1', object: 'chat.completion', created: 0, model: 'gpt-x', choices: [{ index: 0, message: { role: 'assistant', content: 'ok', refusal: null }, finish_reason: 'stop', logprobs: null }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } })
    })
    cleanup.push(() => upstream.close())
    const { spans, gw } = await tracedGateway(`  - model: up
    targets: [ { provider: up, model: gpt-x } ]
`, `  up: { plugin: openai, api_key: sk-test, base_url: "${upstream.url}/v1" }\n`)
    const ask = (headers: Record<string, string> = {}) => postJson(`${gw.url}/v1/chat/completions`, { model: 'up', messages: [{ role: 'user', content: 'hi' }] }, headers)
    expect((await ask()).status).toBe(200)
    await waitFor(() => spans.some((s) => s.name === 'chat gpt-x'), 5000)
    const call = spans.find((s) => s.name === 'chat gpt-x')!
    expect(seen[0]).toBe(`00-${call.traceId}-${call.spanId}-01`)

    const unsampled = '1bf7651916cd43dd8448eb211c80319c'
    expect((await ask({ traceparent: `00-${unsampled}-b7ad6b7169203331-00` })).status).toBe(200)
    // The same trace, not sampled (the gateway's own span id: it took part without recording).
    expect(seen[1]).toMatch(new RegExp(`^00-${unsampled}-[0-9a-f]{16}-00$`))
  })

  it('exports one span per pipeline step and per stage plugin, in the declared order, under the request span', async () => {
    const { spans, gw } = await tracedGateway(`limits:
  backend: { plugin: memory }
  policies: [ { scope: user, requests_per_minute: 100 } ]
cache: { plugin: memory }
`)
    expect((await postJson(`${gw.url}/v1/chat/completions`, { model: 'm', temperature: 0, messages: [{ role: 'user', content: 'hi' }] })).status).toBe(200)
    await waitFor(() => spans.some((s) => s.name === 'gateway.account'), 5000)
    const request = spans.find((s) => s.name === 'gateway.request')!
    const steps = ['authenticate', 'authorize', 'decode', 'route', 'access', 'call', 'response', 'encode', 'account']
    const byName = (name: string) => spans.filter((s) => s.traceId === request.traceId && s.name === name)
    for (const step of steps) {
      expect(byName(`gateway.${step}`), step).toHaveLength(1)
      expect(byName(`gateway.${step}`)[0].parentSpanId, step).toBe(request.spanId)
    }
    // The stage plugins of a phase run inside it, highest priority first.
    const access = byName('gateway.access')[0]
    const inAccess = spans.filter((s) => s.parentSpanId === access.spanId).map((s) => s.name)
    expect(inAccess).toEqual(['gateway.stage.limits', 'gateway.stage.cache'])
    const started = (s: OtlpSpan) => BigInt((s as unknown as { startTimeUnixNano: string }).startTimeUnixNano)
    const order = steps.map((step) => started(byName(`gateway.${step}`)[0]))
    expect([...order].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(order)
  })

  it('costs nothing when off: no provider registered, spans are not recording', async () => {
    const { tracer } = await import('../../core/tracing.ts')
    const span = tracer().startSpan('x')
    expect(span.isRecording()).toBe(false)
    span.end()
  })
})
