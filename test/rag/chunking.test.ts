/**
 * Chunk sizes are the tokenizer's tokens (js-tiktoken o200k_base, as service.tokenizer counts):
 * every chunk fits `maxTokens`, for English prose and for text far denser than 4 bytes a token
 * (Chinese, digits), and chunks are filled, not cut needlessly small.
 */
import { Tiktoken } from 'js-tiktoken/lite'
import o200k from 'js-tiktoken/ranks/o200k_base'
import { describe, expect, it } from 'vitest'
import { chunkSections } from '../../plugins/services/rag/ingest/chunk.ts'

const encoder = new Tiktoken(o200k)
const tokens = (text: string): number => encoder.encode(text).length
const count = async (text: string): Promise<number> => tokens(text)
const settings = { maxTokens: 100, overlapTokens: 10 }

const english = Array.from({ length: 60 }, (_, i) => `Sentence ${i} explains how the gateway routes a request, applies limits and records usage.`).join(' ')
const chinese = '网关将请求路由到提供商，并记录每个请求的用量和费用。'.repeat(60)
const digits = Array.from({ length: 400 }, (_, i) => String((i * 7919) % 100000)).join(',')

describe('RAG chunking in tokens', () => {
  for (const [name, text] of [['English prose', english], ['Chinese text', chinese], ['digits', digits]] as const) {
    it(`keeps every chunk of ${name} within the token limit, and fills them`, async () => {
      const chunks = await chunkSections([{ text, offset: 0 }], settings, count)
      const sizes = chunks.map((c) => tokens(c.text))
      expect(Math.max(...sizes)).toBeLessThanOrEqual(settings.maxTokens)
      // All but the last are at least half full (the cut looks for a break in the window's second half).
      expect(Math.min(...sizes.slice(0, -1))).toBeGreaterThanOrEqual(settings.maxTokens / 2 - settings.overlapTokens)
      // Offsets point into the text, and the chunks cover it.
      for (const c of chunks) expect(text.slice(c.startOffset, c.endOffset)).toBe(c.text)
      expect(chunks[0].startOffset).toBe(0)
      expect(chunks.at(-1)!.endOffset).toBe(text.trimEnd().length)
    })
  }

  it('measures 4 bytes a token without a tokenizer (the old estimate, which Chinese text overruns)', async () => {
    const chunks = await chunkSections([{ text: chinese, offset: 0 }], settings)
    expect(Math.max(...chunks.map((c) => tokens(c.text)))).toBeGreaterThan(settings.maxTokens)
  })
})
