/**
 * Anthropic requires `max_tokens`; OpenAI clients usually omit it. The default comes from this
 * small table until the model catalog (issue 6) owns per-model limits.
 */

/** First matching prefix wins, so list the specific ones before the general ones. */
const DEFAULT_MAX_TOKENS_BY_PREFIX: ReadonlyArray<readonly [prefix: string, maxTokens: number]> = [
  ['claude-3-haiku', 4096],
  ['claude-3-opus', 4096],
  ['claude-3-5-', 8192],
  ['claude-3-7-', 8192],
]

/** Current Claude models write far more than this, but 8192 keeps cost and latency bounded for a client that set no limit. */
const FALLBACK_MAX_TOKENS = 8192

export function defaultMaxTokens(model: string): number {
  for (const [prefix, maxTokens] of DEFAULT_MAX_TOKENS_BY_PREFIX) if (model.startsWith(prefix)) return maxTokens
  return FALLBACK_MAX_TOKENS
}
