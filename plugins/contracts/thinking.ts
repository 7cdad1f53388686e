/**
 * Anthropic's extended thinking (`thinking: { type: 'enabled', budget_tokens }`) on a translated
 * route. The unified (OpenAI) API has no thinking budget, only `reasoning_effort`, which OpenAI's
 * reasoning models take and its other models refuse with a 400. Which one answers is known only per
 * target, so surface.anthropic leaves the budget's effort on the unified request as a hint (a symbol
 * key: never serialised, so never sent), and each provider settles it for its model: an OpenAI-wire
 * reasoning model gets `reasoning_effort`, any other reports `thinking` dropped (`x-gateway-warning`).
 */
import type { ChatRequest, ProviderCall } from '../../plugin-api/index.ts'

export type ThinkingEffort = 'low' | 'medium' | 'high'

/** The effort a thinking budget stands for, on the hint's key. */
export const THINKING_EFFORT: unique symbol = Symbol('thinking effort')

type Hinted = { [THINKING_EFFORT]?: ThinkingEffort }

/**
 * A thinking budget as an effort: under 4,096 tokens `low`, under 16,384 `medium`, else `high`
 * (Anthropic's minimum budget is 1,024; Claude Code's largest, 31,999, is `high`).
 */
export function effortOfBudget(budgetTokens: number): ThinkingEffort {
  return budgetTokens < 4096 ? 'low' : budgetTokens < 16_384 ? 'medium' : 'high'
}

/** `request` carrying a thinking budget's effort for the target's provider to settle. */
export function withThinking(request: ChatRequest, budgetTokens: number): ChatRequest {
  return Object.assign(request, { [THINKING_EFFORT]: effortOfBudget(budgetTokens) })
}

/** The thinking effort `request` carries, if a client asked for thinking. */
export function thinkingOf(request: ChatRequest): ThinkingEffort | undefined {
  return (request as Hinted)[THINKING_EFFORT]
}

/**
 * Whether an OpenAI-wire model takes `reasoning_effort`, by its name (the catalog does not say):
 * OpenAI's o-series, gpt-5 and codex models and its open-weight gpt-oss, with or without an
 * aggregator's `openai/` prefix.
 */
export function takesReasoningEffort(model: string): boolean {
  return /^(?:openai\/)?(?:o\d|gpt-5|codex|gpt-oss)/.test(model)
}

/** A provider that cannot think on request: report a requested thinking budget as dropped. */
export function thinkingDropped(request: ChatRequest, call: ProviderCall): void {
  if (thinkingOf(request)) call.unsupported('thinking', 'it has no equivalent for this model')
}

/**
 * For an OpenAI-wire upstream: a thinking budget as `reasoning_effort` when the model takes it and
 * the client set none (Anthropic's `output_config.effort` wins), else reported dropped. A copy only
 * when it adds the effort.
 */
export function thinkingAsReasoningEffort(request: ChatRequest, call: ProviderCall): ChatRequest {
  const effort = thinkingOf(request)
  if (!effort || request.reasoning_effort != null) return request
  if (!takesReasoningEffort(request.model)) {
    call.unsupported('thinking', `${request.model} takes no reasoning_effort`)
    return request
  }
  return { ...request, reasoning_effort: effort }
}
