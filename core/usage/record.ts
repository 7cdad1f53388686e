/**
 * The end of an API exchange: final token counts (the provider's, or a tokenizer's count when a
 * stream ended without usage), cost, metrics, one usage event, and the exchange's end hooks.
 * Runs after the response has gone, so the client never waits for it.
 */
import { randomUUID } from 'node:crypto'
import type { Exchange, ExchangeOutcome } from '../pipeline/exchange.ts'
import type { GatewayError } from '../errors.ts'
import { countPromptTokens, countText } from './tokens.ts'
import { failSpan } from '../tracing.ts'

export async function finishExchange(x: Exchange): Promise<void> {
  const { ctx, snapshot } = x
  // A stream that failed after its first byte was sent as 200; what counts is how it ended.
  const error = (ctx.state.streamError ?? ctx.state.error) as GatewayError | undefined
  const status = ctx.state.streamError ? error!.status : ctx.res.writableFinished ? ctx.res.statusCode : 499
  const errorType = error?.code ?? (status === 499 ? 'client_closed_request' : status >= 400 ? 'error' : null)

  let prompt = x.usage?.prompt_tokens ?? 0
  let completion = x.usage?.completion_tokens ?? 0
  const cached = x.usage?.prompt_tokens_details?.cached_tokens ?? 0
  // A stream that started but ended without usage (aborted, cut, or a provider that sends none)
  // was still billed upstream: count it with a real tokenizer (bounded, in the token worker; an
  // estimate if the worker cannot answer).
  if (!x.usage && x.ttftMs !== undefined && x.request && !x.cacheHit) {
    ;[prompt, completion] = await Promise.all([countPromptTokens(x.request), countText(x.completionParts.join(''))])
  }
  const costUsd = x.cacheHit ? 0 : snapshot.prices.cost(x.upstreamModel, { prompt, completion, cached })
  const latencyMs = performance.now() - x.startedAt
  const outcome: ExchangeOutcome = { status, errorType, latencyMs, promptTokens: prompt, completionTokens: completion, cachedTokens: cached, costUsd }

  const { metrics, usage } = snapshot.services
  const route = x.route?.name ?? ''
  const provider = x.provider ?? ''
  metrics.requests.inc({ route, provider, status })
  metrics.latency.observe({ route, provider }, latencyMs / 1000)
  if (x.streaming && x.ttftMs !== undefined) metrics.ttft.observe({ route, provider }, x.ttftMs / 1000)
  if (prompt) metrics.tokens.inc({ route, provider, kind: 'prompt' }, prompt)
  if (completion) metrics.tokens.inc({ route, provider, kind: 'completion' }, completion)
  if (cached) metrics.tokens.inc({ route, provider, kind: 'cached' }, cached)
  if (costUsd) metrics.cost.inc({ route, provider }, costUsd)
  if (x.cacheHit) metrics.cacheHits.inc({ route })

  const principal = x.principal
  usage.record({
    // The event's identity: the client's x-request-id may be reused, so it is only metadata.
    eventId: randomUUID(),
    time: new Date(Date.now() - latencyMs),
    requestId: x.requestId,
    userId: principal?.userId ?? null,
    keyId: principal?.keyId ?? null,
    department: principal?.department ?? null,
    route: x.requestedModel ?? null,
    provider: x.provider ?? null,
    model: x.upstreamModel ?? null,
    status,
    errorType,
    attempts: x.attempts,
    cacheHit: x.cacheHit,
    promptTokens: prompt,
    completionTokens: completion,
    cachedTokens: cached,
    costUsd,
    latencyMs: Math.round(latencyMs),
    ttftMs: x.ttftMs === undefined ? null : Math.round(x.ttftMs),
    streamed: x.streaming,
  })
  if (x.span.isRecording()) {
    x.span.setAttributes({
      'gen_ai.operation.name': x.kind === 'embeddings' ? 'embeddings' : 'chat',
      'gen_ai.system': x.provider ?? '',
      'gen_ai.response.model': x.upstreamModel ?? '',
      'gen_ai.usage.input_tokens': prompt,
      'gen_ai.usage.output_tokens': completion,
      'http.response.status_code': status,
      'gateway.attempts': x.attempts,
      'gateway.cache_hit': x.cacheHit,
      'gateway.cost_usd': costUsd,
    })
    if (status >= 400) failSpan(x.span, error ?? { message: `status ${status}`, code: errorType ?? undefined })
  }
  x.span.end()
  for (const hook of x.onEnd) {
    try {
      hook(x, outcome)
    } catch {
      // A hook's failure must not lose the others.
    }
  }
}
