/**
 * An answer bound above what the target model can write: Claude Code asks every model for
 * `max_tokens: 32000`, and OpenAI refuses more than a model's output cap with a 400 ("max_tokens is
 * too large ... supports at most 16384 completion tokens"). Where the model's cap is known (the
 * catalog's or gateway.yaml `pricing:` max_output_tokens) the cap is sent instead, as LiteLLM's
 * `modify_params` does, and the client is told in `x-gateway-warning` (a `strict` route refuses it).
 * Per target, as its request is built (OpenAI-wire providers, Anthropic, Gemini and Mistral before
 * translating, and Anthropic's /v1/messages passed through): a fallback to a model with a larger cap
 * gets the larger value.
 */
import { Pricing, type PluginContext, type ProviderCall } from '../../../plugin-api/index.ts'

/** The most output tokens a model may produce, when known. */
export type OutputCap = (model: string) => number | undefined

/** The fields that bound a chat answer on OpenAI's wire (the old name and the new). */
const BOUNDS = ['max_tokens', 'max_completion_tokens'] as const
/** The one field that bounds an answer on Anthropic's Messages wire. */
export const ANTHROPIC_BOUNDS = ['max_tokens'] as const

/** The output caps the gateway's Pricing knows (list `Pricing` in the plugin's `uses`); undefined without one. */
export function outputCapOf(ctx: Pick<PluginContext, 'tryGet'>): OutputCap | undefined {
  const pricing = ctx.tryGet(Pricing)
  return pricing && ((model) => pricing.maxOutputTokens(model))
}

/** `body` with each answer bound above `model`'s cap lowered to it, each change reported; a copy only when one changes. */
export function withinOutputCap<T extends object>(body: T, cap: OutputCap | undefined, call: ProviderCall, bounds: readonly string[] = BOUNDS): T {
  const fields = body as Record<string, unknown>
  // On the hot path: most requests set no bound, and are not looked up.
  if (!cap || (fields.max_tokens == null && fields.max_completion_tokens == null) || typeof fields.model !== 'string') return body
  const most = cap(fields.model)
  if (most === undefined) return body
  let copy: Record<string, unknown> | undefined
  for (const field of bounds) {
    const asked = fields[field]
    if (typeof asked !== 'number' || asked <= most) continue
    call.unsupported(field, `${fields.model} writes at most ${most} output tokens; sent ${most} instead of ${asked}`)
    ;(copy ??= { ...fields })[field] = most
  }
  return (copy ?? body) as T
}
