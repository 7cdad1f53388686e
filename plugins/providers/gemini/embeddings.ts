/** Embedding requests and answers between the unified (OpenAI) shape and Gemini's batchEmbedContents. */
import type { EmbedContentResponse } from '@google/genai'
import type { EmbeddingRequest, EmbeddingResponse } from '../../../plugin-api/index.ts'
import { upstreamError } from '../../../plugin-api/index.ts'
import { encodeEmbedding } from '../kit/provider-kit.ts'

export function toEmbeddingResponse(response: EmbedContentResponse, req: EmbeddingRequest, expected: number, provider: string): EmbeddingResponse {
  const embeddings = response.embeddings ?? []
  if (embeddings.length !== expected) throw upstreamError(502, `answered ${embeddings.length} embeddings for ${expected} inputs`, { provider })
  return {
    object: 'list',
    // `embedding` is typed number[] in the SDK's types, though OpenAI sends a string for base64.
    data: embeddings.map((e, index) => ({ object: 'embedding' as const, index, embedding: encodeEmbedding(e.values ?? [], req.encoding_format) as number[] })),
    model: req.model,
    // The Gemini API reports no token counts for embeddings.
    usage: { prompt_tokens: 0, total_tokens: 0 },
  }
}
