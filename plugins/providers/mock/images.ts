/**
 * The mock's image generation, edits and variations (OpenAI's /v1/images/* shape), offline and deterministic:
 * each image is the same 1×1 PNG. GPT image models answer base64 with token usage as OpenAI
 * counts it (output tokens by size and quality; `auto` a medium square image); DALL·E models a URL (a data: URL here)
 * or base64 as `response_format` asks, and no usage. Enough to build and test an image flow, its
 * accounting and its limits without a provider key.
 */
import { estimateTextTokens, type NativeResult } from '../../../plugin-api/index.ts'
import { IMAGE_SIZES, imageOutputTokens } from '../../contracts/images.ts'

/** A 1×1 PNG. */
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII='
const QUALITIES: readonly unknown[] = ['low', 'medium', 'high']

export function mockImages(body: Record<string, unknown>): NativeResult {
  const model = typeof body.model === 'string' ? body.model : 'dall-e-2'
  // A JSON number, or a multipart upload's text field.
  const n = Number.parseInt(String(body.n ?? 1), 10) || 1
  const created = Math.floor(Date.now() / 1000)
  if (model.startsWith('dall-e')) {
    const data = Array.from({ length: n }, () => (body.response_format === 'b64_json' ? { b64_json: PNG } : { url: `data:image/png;base64,${PNG}` }))
    return { body: { created, data }, usage: () => undefined, model: () => model }
  }
  // `auto` (or none) as OpenAI often picks it: a medium square image.
  const quality = QUALITIES.includes(body.quality) ? body.quality as string : 'medium'
  const size = IMAGE_SIZES.includes(body.size as string) ? body.size as string : '1024x1024'
  const input = estimateTextTokens(String(body.prompt ?? ''))
  const output = imageOutputTokens(size, quality) * n
  const answer = {
    created,
    data: Array.from({ length: n }, () => ({ b64_json: PNG })),
    background: body.background === 'transparent' ? 'transparent' : 'opaque',
    output_format: typeof body.output_format === 'string' ? body.output_format : 'png',
    quality,
    size,
    usage: { input_tokens: input, output_tokens: output, total_tokens: input + output, input_tokens_details: { text_tokens: input, image_tokens: 0 } },
  }
  return { body: answer, usage: () => ({ prompt_tokens: input, completion_tokens: output, total_tokens: input + output }), model: () => model }
}
