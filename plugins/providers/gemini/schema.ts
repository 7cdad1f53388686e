/** The `gemini` provider block in gateway.yaml: its JSON Schema and its TypeScript shape. */
import type { JsonSchema } from '../../../plugin-api/index.ts'
import { MAX_ANSWER_PROPERTY } from '../kit/answer-limit.ts'

export interface GeminiConfig {
  api_key: string
  /** The API root (scheme, host, optional path prefix); the gateway appends `/<api_version>/models/...`. */
  base_url?: string
  api_version: string
  timeout_ms: number
  max_answer_mb?: number
  headers?: Record<string, string>
}

export const DEFAULT_API_VERSION = 'v1beta'
export const DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com'
export const DEFAULT_TIMEOUT_MS = 600_000

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['api_key'],
  properties: {
    api_key: {
      type: 'string', minLength: 1,
      description: 'The Gemini API key. Write ${GEMINI_API_KEY}: secrets live in the environment, not in the file.',
    },
    base_url: {
      type: 'string', format: 'uri',
      description: 'The API root, without the version (default https://generativelanguage.googleapis.com); tests point it at a mock upstream.',
    },
    api_version: { type: 'string', minLength: 1, default: DEFAULT_API_VERSION, description: 'The API version path segment.' },
    timeout_ms: {
      type: 'integer', minimum: 1, default: DEFAULT_TIMEOUT_MS,
      description: 'How long to wait for the upstream to answer (for a stream, until it starts). A route\'s timeout_ms bounds the whole attempt.',
    },
    max_answer_mb: MAX_ANSWER_PROPERTY,
    headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'Extra headers sent with every upstream request.' },
  },
}
