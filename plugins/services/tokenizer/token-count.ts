/**
 * A BPE token count whose cost is linear in the text. js-tiktoken merges each piece of its
 * pre-tokenizer in time quadratic in the piece's length, and a run without spaces is one piece:
 * 10k "a" took 6.7 s, 20k 28.8 s. Every run of whitespace or non-whitespace longer than MAX_RUN
 * is cut into pieces of that length first, which costs at most one token per cut (counting base64
 * in 32-character pieces is 0.8 % above counting it whole). Runs in the token worker
 * (plugins/services/tokenizer/worker.ts), never on the event loop.
 */
import type { Tiktoken } from 'js-tiktoken/lite'

/** The longest piece encoded at once. Then the worst text (random CJK) costs ~14 ms per 1,000 characters, base64 ~1 ms. */
export const MAX_RUN = 32

// A run too long to encode at once: non-whitespace, or whitespace.
const LONG_RUN = new RegExp(`\\S{${MAX_RUN + 1},}|\\s{${MAX_RUN + 1},}`, 'g')

/** Tokens of `text`, its long runs counted in pieces of at most MAX_RUN characters. */
export function countPieces(encoder: Tiktoken, text: string): number {
  let tokens = 0
  let last = 0
  for (const run of text.matchAll(LONG_RUN)) {
    const start = run.index
    const end = start + run[0].length
    tokens += encode(encoder, text.slice(last, start))
    for (let i = start; i < end; ) {
      let cut = Math.min(i + MAX_RUN, end)
      // Never between the halves of a surrogate pair: each half alone would count as U+FFFD.
      if (cut < end && isHighSurrogate(text.charCodeAt(cut - 1))) cut++
      tokens += encode(encoder, text.slice(i, cut))
      i = cut
    }
    last = end
  }
  return tokens + encode(encoder, text.slice(last))
}

/** Special-token text (`<|endoftext|>`) in a prompt is counted as the plain text it is, not refused. */
const encode = (encoder: Tiktoken, text: string): number => (text ? encoder.encode(text, [], []).length : 0)

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff
