/** The `anthropic` provider's block in gateway.yaml. */
import type { JsonSchema } from '../../../plugin-api/index.ts'
import { MAX_ANSWER_PROPERTY } from '../kit/answer-limit.ts'

export interface AnthropicConfig {
  api_key: string
  base_url: string
  timeout_ms: number
  max_answer_mb?: number
  headers?: Record<string, string>
  /**
   * The `anthropic-version` header. Unset means ANTHROPIC_VERSION, the SDK's own (2026-10-21), which rejects
   * `temperature` and `top_p`; `2023-06-01` accepts them, so the plugin forwards them only then.
   */
  anthropic_version?: string
  /** Beta features, sent as one `anthropic-beta` header. */
  betas?: string[]
  /** Overrides the per-model default for `max_tokens`, which Anthropic requires. */
  default_max_tokens?: number
}

/**
 * The `anthropic-version` sent when the config names none: the one the official SDK sends (a test
 * holds the two together, so an SDK upgrade that moves it shows).
 */
export const ANTHROPIC_VERSION = '2026-10-21'

export const DEFAULT_BASE_URL = 'https://api.anthropic.com'

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['api_key'],
  properties: {
    api_key: { type: 'string', minLength: 1, description: 'Anthropic API key; write ${ANTHROPIC_API_KEY}, never the key itself.' },
    base_url: { type: 'string', format: 'uri', default: DEFAULT_BASE_URL, description: 'API origin, without /v1 (the gateway adds /v1/messages).' },
    timeout_ms: { type: 'integer', minimum: 1, default: 600000, description: 'How long to wait for the upstream to answer (its headers; a whole answer\'s body between bytes); the route timeout still applies.' },
    max_answer_mb: MAX_ANSWER_PROPERTY,
    headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'Extra headers sent with every request.' },
    anthropic_version: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'The anthropic-version header; default 2026-10-21, the official SDK\'s. 2023-06-01 re-enables temperature/top_p.' },
    betas: { type: 'array', items: { type: 'string', minLength: 1 }, description: 'anthropic-beta feature names.' },
    default_max_tokens: { type: 'integer', minimum: 1, description: 'max_tokens when the client sends none (Anthropic requires one); default per model.' },
  },
}
