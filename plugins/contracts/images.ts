/**
 * What one image from a GPT image model costs in output tokens, by size and quality, as OpenAI's
 * image generation guide documents them for gpt-image-1 (1024×1024: low 272, medium 1056, high 4160;
 * 1024×1536 and 1536×1024: low 408, medium 1584, high 6240). surface.openai reserves them from
 * budgets before an image call; the mock reports them as OpenAI would. One table, read by both.
 */

export type ImageQuality = 'low' | 'medium' | 'high'

const OUTPUT_TOKENS: Readonly<Record<string, Readonly<Record<ImageQuality, number>>>> = {
  '1024x1024': { low: 272, medium: 1056, high: 4160 },
  '1024x1536': { low: 408, medium: 1584, high: 6240 },
  '1536x1024': { low: 408, medium: 1584, high: 6240 },
}

/** The sizes the table knows, square first. */
export const IMAGE_SIZES: readonly string[] = Object.keys(OUTPUT_TOKENS)

/**
 * The output tokens of one image at `size` and `quality`. Anything else (`auto`, the default of
 * both; DALL·E's `standard`/`hd` and its sizes) counts as the dearest the model may choose: high
 * quality at the largest size.
 */
export function imageOutputTokens(size: unknown, quality: unknown): number {
  const bySize = typeof size === 'string' && Object.hasOwn(OUTPUT_TOKENS, size) ? OUTPUT_TOKENS[size] : OUTPUT_TOKENS['1536x1024']
  return typeof quality === 'string' && Object.hasOwn(bySize, quality) ? bySize[quality as ImageQuality] : bySize.high
}
