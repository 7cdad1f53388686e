/**
 * Sections cut into chunks of at most `maxTokens`, each overlapping the previous by about
 * `overlapTokens`, cut at the best break in the second half of the window: a blank line, a line
 * end, a sentence end, a space. Tokens are the gateway's tokenizer's (service.tokenizer, BPE in a
 * worker thread) when given: a section's characters per token set the window's width in
 * characters, and a chunk that still comes out over the limit is cut again narrower. Without a
 * tokenizer, 4 bytes count as a token.
 */
import type { ChunkingSettings } from '../../../contracts/rag.ts'
import type { Section } from './extract.ts'

const BYTES_PER_TOKEN = 4
const BREAKS = ['\n\n', '\n', '. ', '? ', '! ', '; ', ', ', ' ']

export interface Chunk {
  readonly text: string
  readonly page: number | null
  readonly heading: string | null
  readonly startOffset: number
  readonly endOffset: number
}

/** Tokens of a text, as the gateway's tokenizer counts them. */
export type CountTokens = (text: string) => Promise<number>

/** How many times a window over the limit is narrowed before it is kept as it is. */
const MAX_NARROWINGS = 4

export async function chunkSections(sections: readonly Section[], settings: ChunkingSettings, count?: CountTokens): Promise<Chunk[]> {
  const chunks: Chunk[] = []
  for (const section of sections) {
    const charsPerToken = count ? section.text.length / Math.max(1, await count(section.text)) : BYTES_PER_TOKEN
    for (const [start, end] of await windows(section.text, charsPerToken, settings, count)) {
      const raw = section.text.slice(start, end)
      const text = raw.trim()
      if (!text) continue
      const lead = raw.length - raw.trimStart().length
      chunks.push({
        text,
        page: section.page ?? null,
        heading: section.heading ?? null,
        startOffset: section.offset + start + lead,
        endOffset: section.offset + start + lead + text.length,
      })
    }
  }
  return chunks
}

/**
 * [start, end) windows over `text`, each about `maxTokens` wide at `charsPerToken`, starting about
 * `overlapTokens` before the last ended. A window the tokenizer finds over the limit is narrowed
 * (and the text after it is read at the narrower ratio: dense text runs on).
 */
async function windows(text: string, charsPerToken: number, settings: ChunkingSettings, count: CountTokens | undefined): Promise<[number, number][]> {
  const out: [number, number][] = []
  let ratio = charsPerToken
  let start = 0
  let narrowings = 0
  while (start < text.length) {
    const max = Math.max(1, Math.floor(settings.maxTokens * ratio))
    let end = Math.min(text.length, start + max)
    if (end < text.length) end = breakBefore(text, start + Math.floor(max / 2), end)
    const tokens = count && narrowings < MAX_NARROWINGS ? await count(text.slice(start, end)) : 0
    if (tokens > settings.maxTokens && end - start > 1) {
      ratio = (ratio * settings.maxTokens / tokens) * 0.95
      narrowings++
      continue
    }
    narrowings = 0
    out.push([start, end])
    if (end >= text.length) break
    // The next window starts `overlap` back, moved forward to a word's start; it always advances.
    const overlap = Math.min(Math.floor(settings.overlapTokens * ratio), Math.floor(max / 2))
    let next = Math.max(end - overlap, start + 1)
    if (next < end) {
      const space = text.indexOf(' ', next)
      next = space >= 0 && space < end ? space + 1 : next
    }
    start = Math.min(next, end)
  }
  return out
}

function breakBefore(text: string, from: number, end: number): number {
  for (const mark of BREAKS) {
    const at = text.lastIndexOf(mark, end - mark.length)
    if (at >= from) return at + mark.length
  }
  return end
}
