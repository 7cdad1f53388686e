/**
 * Small pieces every provider plugin needs and none should write again: a provider-side deadline
 * that can be told apart from the client going away, and the embeddings input/output shapes.
 */
import { badRequest, type EmbeddingRequest } from '../../../core/plugins/api.ts'

/**
 * The provider's own timeout (`timeout_ms`) joined with the kernel's per-call signal, so the SDK
 * gets one signal and the plugin can still tell a timeout (504) from a client that went away.
 * It covers the wait for an answer: `settle()` once a stream has started, so a long generation
 * is bounded by the route's timeout alone.
 */
export class Deadline {
  readonly signal: AbortSignal
  readonly #expiry = new AbortController()
  readonly #timer: NodeJS.Timeout

  constructor(callSignal: AbortSignal, timeoutMs: number) {
    this.#timer = setTimeout(() => this.#expiry.abort(new DOMException('The upstream did not answer in time.', 'TimeoutError')), timeoutMs)
    this.#timer.unref()
    this.signal = AbortSignal.any([callSignal, this.#expiry.signal])
  }

  /** Whether this deadline (not the caller) ended the call. */
  get expired(): boolean {
    return this.#expiry.signal.aborted
  }

  /** Stop the clock: the answer has started (or the call is over). */
  settle(): void {
    clearTimeout(this.#timer)
  }
}

/** The texts to embed, for providers that embed text only (not OpenAI token arrays). */
export function embeddingTexts(input: EmbeddingRequest['input'], provider: string): string[] {
  const inputs = Array.isArray(input) ? input : [input]
  if (inputs.length === 0) throw badRequest('`input` must not be empty.', 'input', 'invalid_input')
  return inputs.map((item, i) => {
    if (typeof item !== 'string') throw badRequest(`input[${i}] is a token array; ${provider} embeds text only.`, `input[${i}]`, 'unsupported_input')
    return item
  })
}

/** OpenAI's base64 encoding: the vector's float32 values, little-endian, in base64. */
export function encodeEmbedding(values: readonly number[], format: EmbeddingRequest['encoding_format']): number[] | string {
  if (format !== 'base64') return values as number[]
  const floats = Float32Array.from(values)
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64')
}
