/**
 * Small pieces every provider plugin needs and none should write again: an SDK loaded on first
 * use, and the embeddings input and output shapes. (A provider's timeout is its pooled client's:
 * wire-client.ts.)
 */
import { badRequest, embeddingInputs, type EmbeddingRequest, type EmbeddingResponse } from '../../../plugin-api/index.ts'

/**
 * `load` run on the first call and its result shared by every later one (an SDK client, made on
 * the first model list); a load that failed is tried again on the next call, not kept failed.
 */
export function loadOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined
  return () => (loading ??= load().catch((err: unknown) => {
    loading = undefined
    throw err
  }))
}

/** The texts to embed, for providers that embed text only (not OpenAI token arrays). */
export function embeddingTexts(input: EmbeddingRequest['input'], provider: string): string[] {
  const inputs = embeddingInputs(input)
  if (inputs.length === 0) throw badRequest('`input` must not be empty.', 'input', 'invalid_input')
  // One tokenised input is `input` itself ([1, 2, 3]); one of several is input[i] ([[1, 2], [3]]).
  const param = (i: number) => (inputs[0] === input ? 'input' : `input[${i}]`)
  return inputs.map((item, i) => {
    if (typeof item !== 'string') throw badRequest(`${param(i)} is a token array; ${provider} embeds text only.`, param(i), 'unsupported_input')
    return item
  })
}

/** OpenAI's base64 encoding: the vector's float32 values, little-endian, in base64. */
export function encodeEmbedding(values: readonly number[], format: EmbeddingRequest['encoding_format']): number[] | string {
  if (format !== 'base64') return values as number[]
  const floats = Float32Array.from(values)
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64')
}

/** OpenAI's base64 encoding read back: little-endian float32 values. */
export function decodeEmbedding(base64: string): number[] {
  const bytes = Buffer.from(base64, 'base64')
  const values: number[] = new Array<number>(bytes.length >> 2)
  for (let i = 0; i < values.length; i++) values[i] = bytes.readFloatLE(i * 4)
  return values
}

/**
 * An embeddings answer in the encoding the client asked for, whatever the upstream sent. The openai
 * Node SDK asks for base64 by default and decodes every vector from it without looking: an upstream
 * that ignores `encoding_format` and answers floats (Ollama, some vLLM builds) would give the SDK an
 * empty vector for each. In place; vectors already in the asked encoding are left alone.
 */
export function conformEmbeddingEncoding(response: EmbeddingResponse, format: EmbeddingRequest['encoding_format']): EmbeddingResponse {
  const base64 = format === 'base64'
  for (const item of response.data ?? []) {
    const embedding: unknown = item.embedding
    if (base64 && Array.isArray(embedding)) item.embedding = encodeEmbedding(embedding as number[], 'base64') as unknown as number[]
    else if (!base64 && typeof embedding === 'string') item.embedding = decodeEmbedding(embedding)
  }
  return response
}
