/**
 * The mock's image generation, edits and variations (OpenAI's /v1/images/* shape), offline and deterministic:
 * each image is the same 1×1 PNG. GPT image models answer base64 with token usage as OpenAI
 * counts it for a square image (output tokens by quality); DALL·E models a URL (a data: URL here)
 * or base64 as `response_format` asks, and no usage. Enough to build and test an image flow, its
 * accounting and its limits without a provider key.
 */
import { estimateTextTokens, type NativeResult } from '../../../plugin-api/index.ts'

/** A 1×1 PNG. */
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII='
/** Output tokens of one 1024×1024 image by quality (OpenAI's image generation guide, GPT image models). */
const OUTPUT_TOKENS: Readonly<Record<string, number>> = { low: 272, medium: 1056, high: 4160 }
const SIZES = new Set(['1024x1024', '1024x1536', '1536x1024'])

export function mockImages(body: Record<string, unknown>): NativeResult {
  const model = typeof body.model === 'string' ? body.model : 'dall-e-2'
  // A JSON number, or a multipart upload's text field.
  const n = Number.parseInt(String(body.n ?? 1), 10) || 1
  const created = Math.floor(Date.now() / 1000)
  if (model.startsWith('dall-e')) {
    const data = Array.from({ length: n }, () => (body.response_format === 'b64_json' ? { b64_json: PNG } : { url: `data:image/png;base64,${PNG}` }))
    return { body: { created, data }, usage: () => undefined, model: () => model }
  }
  const quality = typeof body.quality === 'string' && body.quality in OUTPUT_TOKENS ? body.quality : 'medium'
  const input = estimateTextTokens(String(body.prompt ?? ''))
  const output = OUTPUT_TOKENS[quality]! * n
  const answer = {
    created,
    data: Array.from({ length: n }, () => ({ b64_json: PNG })),
    background: body.background === 'transparent' ? 'transparent' : 'opaque',
    output_format: typeof body.output_format === 'string' ? body.output_format : 'png',
    quality,
    size: typeof body.size === 'string' && SIZES.has(body.size) ? body.size : '1024x1024',
    usage: { input_tokens: input, output_tokens: output, total_tokens: input + output, input_tokens_details: { text_tokens: input, image_tokens: 0 } },
  }
  return { body: answer, usage: () => ({ prompt_tokens: input, completion_tokens: output, total_tokens: input + output }), model: () => model }
}
