/** The `mistral` provider block in gateway.yaml: its JSON Schema and its TypeScript shape. */
import type { JsonSchema } from '../../../plugin-api/index.ts'
import { MAX_ANSWER_PROPERTY } from '../kit/answer-limit.ts'

export interface MistralConfig {
  api_key: string
  /** The API root (default https://api.mistral.ai); the gateway appends `/v1/...`. */
  base_url?: string
  timeout_ms: number
  max_answer_mb?: number
  headers?: Record<string, string>
  /** Ask Mistral to prepend its safety prompt to every request (a request's own `safe_prompt` wins). */
  safe_prompt: boolean
}

export const DEFAULT_TIMEOUT_MS = 600_000

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['api_key'],
  properties: {
    api_key: {
      type: 'string', minLength: 1,
      description: 'The Mistral API key. Write ${MISTRAL_API_KEY}: secrets live in the environment, not in the file.',
    },
    base_url: {
      type: 'string', format: 'uri',
      description: 'The API root (default https://api.mistral.ai; a trailing /v1 is accepted); tests point it at a mock upstream.',
    },
    timeout_ms: {
      type: 'integer', minimum: 1, default: DEFAULT_TIMEOUT_MS,
      description: 'How long to wait for the upstream to answer (for a stream, until it starts). A route\'s timeout_ms bounds the whole attempt.',
    },
    max_answer_mb: MAX_ANSWER_PROPERTY,
    headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'Extra headers sent with every upstream request.' },
    safe_prompt: { type: 'boolean', default: false, description: 'Have Mistral inject its safety prompt (a request may set `safe_prompt` itself).' },
  },
}
