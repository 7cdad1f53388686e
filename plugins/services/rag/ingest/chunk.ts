/**
 * Sections cut into chunks of at most `maxTokens` (estimated: 4 bytes a token, as the gateway's
 * cheap estimate), each overlapping the previous by about `overlapTokens`, cut at the best break
 * in the second half of the window: a blank line, a line end, a sentence end, a space.
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

export function chunkSections(sections: readonly Section[], settings: ChunkingSettings): Chunk[] {
  const max = settings.maxTokens * BYTES_PER_TOKEN
  const overlap = Math.min(settings.overlapTokens * BYTES_PER_TOKEN, Math.floor(max / 2))
  const chunks: Chunk[] = []
  for (const section of sections) {
    for (const [start, end] of windows(section.text, max, overlap)) {
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

/** [start, end) windows over `text`, at most `max` long, each starting about `overlap` before the last ended. */
export function windows(text: string, max: number, overlap: number): [number, number][] {
  const out: [number, number][] = []
  let start = 0
  while (start < text.length) {
    let end = Math.min(text.length, start + max)
    if (end < text.length) end = breakBefore(text, start + Math.floor(max / 2), end)
    out.push([start, end])
    if (end >= text.length) break
    // The next window starts `overlap` back, moved forward to a word's start; it always advances.
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
