/** Embedding requests and answers between the unified (OpenAI) shape and Mistral's /v1/embeddings. */
import type { EmbeddingRequest, EmbeddingResponse } from '../../../plugin-api/index.ts'
import { encodeEmbedding } from '../kit/provider-kit.ts'
import type { WireEmbeddings } from './wire.ts'

export function toEmbeddingResponse(response: WireEmbeddings, req: EmbeddingRequest): EmbeddingResponse {
  return {
    object: 'list',
    data: response.data.map((item, position) => ({
      object: 'embedding' as const,
      index: item.index ?? position,
      // `embedding` is typed number[] in the openai SDK's types, though OpenAI sends a string for base64.
      embedding: encodeEmbedding((item.embedding ?? []) as number[], req.encoding_format) as number[],
    })),
    model: response.model,
    usage: { prompt_tokens: response.usage?.prompt_tokens ?? 0, total_tokens: response.usage?.total_tokens ?? 0 },
  }
}
