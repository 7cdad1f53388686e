/** The `account` step, after the answer has gone: token counts, cost, metrics, span attributes, and the stages' `log` phase; the client never waits for it. */
import { isChatStream } from '../../plugin-api/unified.ts'
import type { ExchangeOutcome } from '../../plugin-api/types.ts'
import { failSpan } from '../tracing.ts'
import { isNative } from './call-targets.ts'
import type { Exchange } from './exchange.ts'

export function account(x: Exchange): ExchangeOutcome | Promise<ExchangeOutcome> {
  const result = x.result
  if (result && isNative(result)) {
    x.usage ??= result.usage()
    x.upstreamModel ??= result.model()
  }
  const error = x.error
  const status = error ? error.status : x.aborted ? 499 : x.status
  const done = { status, errorType: error?.code ?? (status === 499 ? 'client_closed_request' : status >= 400 ? 'error' : null) }
  // A stream that started but ended without usage (cut, a provider that sends none) or that the client left (its usage so far, e.g. Anthropic's output_tokens: 1 at message_start) was still billed upstream for what it generated: count it with a real tokenizer (bounded, off the event loop).
  const streamedWithoutUsage = (!x.usage || x.aborted) && x.ttftMs !== undefined && !x.cacheHit && x.operation === 'chat' && (result === undefined || isChatStream(result as never) || isNative(result))
  if (!streamedWithoutUsage) return settle(x, done, x.usage?.prompt_tokens ?? 0, x.usage?.completion_tokens ?? 0)
  const text = x.completionParts.join('') || (result && isNative(result) ? result.text?.() ?? '' : '')
  return x.countUsage(text).then((counted) => settle(x, done, x.usage?.prompt_tokens ?? counted.prompt_tokens, Math.max(x.usage?.completion_tokens ?? 0, counted.completion_tokens)))
}

/** The outcome, as it stood when the answer went, with the tokens counted: cost, metrics, the span, and the stages' `log` phase. */
function settle(x: Exchange, { status, errorType }: Pick<ExchangeOutcome, 'status' | 'errorType'>, prompt: number, completion: number): ExchangeOutcome {
  const error = x.error
  const { cached_tokens: cached = 0, cache_write_tokens: cacheWrite, cache_write_1h_tokens: cacheWrite1h } = x.usage?.prompt_tokens_details ?? {}
  const costUsd = x.cacheHit ? 0 : x.snapshot.prices.cost(x.upstreamModel, { prompt, completion, cached, cacheWrite, cacheWrite1h }, x.batch)
  const latencyMs = performance.now() - x.startedAt
  const outcome: ExchangeOutcome = {
    status, errorType, latencyMs, promptTokens: prompt, completionTokens: completion, cachedTokens: cached, cacheWriteTokens: cacheWrite ?? 0, reasoningTokens: x.usage?.completion_tokens_details?.reasoning_tokens ?? 0, costUsd,
    cacheHit: x.cacheHit, provider: x.provider ?? null, model: x.upstreamModel ?? null, attempts: x.attempts,
    ttftMs: x.ttftMs === undefined ? null : Math.round(x.ttftMs), streamed: x.streaming,
  }

  const route = x.compiledRoute?.name ?? ''
  const provider = x.provider ?? ''
  x.snapshot.shared.metrics.exchange(route, outcome, x.streaming ? x.ttftMs : undefined)

  if (x.span.isRecording()) {
    x.span.setAttributes({
      'gen_ai.operation.name': x.operation,
      'gen_ai.system': provider,
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
  // An exchange refused before its route (401, 400) is logged by the stages that apply everywhere.
  for (const { stage } of x.compiledRoute ? x.stages : x.snapshot.stagesFor(undefined, x.operation)) {
    try {
      stage.log?.(x, outcome)
    } catch (err) {
      // A stage's failure must not lose the others'.
      x.snapshot.logger.warn({ err: (err as Error).message }, 'a stage failed in the log phase')
    }
  }
  return outcome
}
