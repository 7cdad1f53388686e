/**
 * The token worker: a worker thread that owns the tokenizer (its rank table takes ~0.4 s to load
 * and ~30 MB) and counts texts off the event loop. Messages in: `{ id, texts }`; out:
 * `{ id, tokens }` (the sum over the texts) or `{ id, error }`. Started by counter.ts.
 */
import { parentPort } from 'node:worker_threads'
import { Tiktoken } from 'js-tiktoken/lite'
import o200k from 'js-tiktoken/ranks/o200k_base'
import { countPieces } from './token-count.ts'

export interface CountJob {
  readonly id: number
  readonly texts: readonly string[]
}
export type CountResult = { readonly id: number; readonly tokens: number } | { readonly id: number; readonly error: string }

// o200k_base: the encoding of current OpenAI models.
const encoder = new Tiktoken(o200k)
const port = parentPort!

port.on('message', ({ id, texts }: CountJob) => {
  let result: CountResult
  try {
    let tokens = 0
    for (const text of texts) tokens += countPieces(encoder, text)
    result = { id, tokens }
  } catch (err) {
    result = { id, error: (err as Error).message }
  }
  port.postMessage(result)
})
