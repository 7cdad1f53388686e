/**
 * OpenAI renamed chat's `max_tokens` to `max_completion_tokens`: the old name is deprecated, and
 * its reasoning models (o1, o3, o4-mini, gpt-5) refuse it with a 400 ("Use 'max_completion_tokens'
 * instead"), while every chat model takes the new one. Clients written for older APIs, LiteLLM-style
 * callers, a route's `params` and the gateway's own calls (training evaluations) still send
 * `max_tokens`; sent to OpenAI it is renamed, so a route works whichever OpenAI model it names.
 * Only here: OpenAI-compatible servers (vLLM, Ollama, Azure's older API versions) may know only the old name.
 */

/** `body` with `max_tokens` renamed `max_completion_tokens`, unless that is set too (then as it is); a copy only when renamed. */
export function withMaxCompletionTokens<T extends object>(body: T): T {
  const fields = body as Record<string, unknown>
  // On the hot path: most requests set neither, and are not copied.
  if (fields.max_tokens == null || fields.max_completion_tokens != null) return body
  const { max_tokens: limit, ...rest } = fields
  return { ...rest, max_completion_tokens: limit } as T
}
