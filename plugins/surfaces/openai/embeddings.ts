/**
 * `POST /v1/embeddings`, checked as OpenAI checks it (CreateEmbeddingRequest in its OpenAPI
 * document) before it is routed: `input` a non-empty text, up to 2,048 non-empty texts, one text as
 * token ids or up to 2,048 of them; `dimensions` an integer from 1; `encoding_format` float or
 * base64. A wrong one is a 400 naming it, never sent to a provider (`input: 5` reached the mock,
 * which answered usage of null tokens).
 */
import { badRequest, type EmbeddingRequest, type ModelEndpoint } from '../../../plugin-api/index.ts'
import { checkTextsOrTokens, requestCheck, type RequestSchema } from './request-check.ts'
import { requireObject } from './wire.ts'

/** Most inputs of one request, as OpenAI takes. */
const MAX_INPUTS = 2048

export const EMBEDDING_REQUEST: RequestSchema = {
  schema: {
    type: 'object',
    properties: {
      model: { type: 'string' },
      dimensions: { type: 'integer', minimum: 1 },
      encoding_format: { enum: ['float', 'base64'] },
      user: { type: 'string' },
    },
  },
  validator: 'embedding-request.validator.cjs',
}

const checkFields = requestCheck(EMBEDDING_REQUEST)

export const embeddings: ModelEndpoint<EmbeddingRequest> = {
  method: 'POST',
  path: '/v1/embeddings',
  summary: 'Create embeddings.',
  operation: 'embeddings',
  wire: 'openai-embeddings',
  decode(body) {
    const request = requireObject<EmbeddingRequest>(body)
    if (request.input === undefined || request.input === null) throw badRequest('`input` is required.', 'input', 'missing_input')
    checkTextsOrTokens(request.input, 'input', { minItems: 1, maxItems: MAX_INPUTS, nonEmptyText: true })
    checkFields(request)
    return { request }
  },
  encode: (result) => result,
}
