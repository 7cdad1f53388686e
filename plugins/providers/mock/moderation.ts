/**
 * The mock's moderation (OpenAI's /v1/moderations shape), offline and deterministic: a text is
 * flagged for violence when it says kill/attack/shoot, for harassment when it says idiot/stupid,
 * for hate when it says hate. Enough to build and test a moderation flow without a provider key;
 * no judgement of real content.
 */
import type { NativeResult } from '../../../plugin-api/index.ts'

const CATEGORIES = [
  'hate', 'hate/threatening', 'harassment', 'harassment/threatening', 'illicit', 'illicit/violent', 'self-harm', 'self-harm/intent',
  'self-harm/instructions', 'sexual', 'sexual/minors', 'violence', 'violence/graphic',
] as const

const WORDS: Readonly<Record<string, RegExp>> = { violence: /\b(kill|attack|shoot)\b/i, harassment: /\b(idiot|stupid)\b/i, hate: /\bhate\b/i }

/** The texts (and image parts) of a moderation request's `input`. */
function inputsOf(input: unknown): { text: string; image: boolean }[][] {
  if (typeof input === 'string') return [[{ text: input, image: false }]]
  if (!Array.isArray(input)) return [[{ text: '', image: false }]]
  if (input.every((i) => typeof i === 'string')) return input.map((text: string) => [{ text, image: false }])
  // Multi-modal: one result for all the parts together.
  return [input.map((p: { type?: string; text?: string }) => ({ text: p.type === 'text' ? String(p.text ?? '') : '', image: p.type === 'image_url' }))]
}

export function mockModeration(body: Record<string, unknown>, requestId: string): NativeResult {
  const model = typeof body.model === 'string' ? body.model : 'omni-moderation-latest'
  const results = inputsOf(body.input).map((parts) => {
    const text = parts.map((p) => p.text).join('\n')
    const categories: Record<string, boolean> = {}
    const scores: Record<string, number> = {}
    const applied: Record<string, string[]> = {}
    for (const c of CATEGORIES) {
      const hit = WORDS[c]?.test(text) ?? false
      categories[c] = hit
      scores[c] = hit ? 0.97 : 0.0001
      applied[c] = ['text', ...(parts.some((p) => p.image) && (c === 'violence' || c === 'sexual' || c.startsWith('self-harm') || c === 'violence/graphic') ? ['image'] : [])]
    }
    return { flagged: Object.values(categories).some(Boolean), categories, category_scores: scores, category_applied_input_types: applied }
  })
  return { body: { id: `modr-mock-${requestId}`, model, results }, usage: () => undefined, model: () => model }
}
