/** service.conversations' block in gateway.yaml: how turns fit history into a window, and their limits. */
import type { JsonSchema } from '../../../plugin-api/index.ts'

export interface ConversationsConfig {
  context_window_tokens: number
  answer_reserve_tokens: number
  max_history_items: number
  max_message_chars: number
  default_route?: string
  title_route?: string
  summary_route?: string
  summary_max_tokens: number
  background_timeout_ms: number
  background_heartbeat_ms: number
}

export const conversationsConfigSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    context_window_tokens: {
      type: 'integer', minimum: 256, default: 128000,
      description: 'The context window of a model the catalog (config/models.json, `pricing:`) gives none, in tokens. A turn fits its history into its route\'s first target\'s window, or an assistant\'s lower `context_policy.max_context_tokens`. The oldest turns go first; the instructions never.',
    },
    answer_reserve_tokens: { type: 'integer', minimum: 1, default: 4096, description: 'Tokens kept free for the answer when the request sets no max_output_tokens.' },
    max_history_items: {
      type: 'integer', minimum: 1, maximum: 10000, default: 200,
      description: 'At most this many of a thread\'s newest items are read for a turn: a turn costs the same in a thread of 10 items or of 100,000.',
    },
    max_message_chars: { type: 'integer', minimum: 1, default: 200000, description: 'The largest message a turn accepts, in characters (a larger one is a 400 `message_too_long`).' },
    default_route: { type: 'string', minLength: 1, description: 'The model of a thread message that names none and whose thread has no assistant.' },
    title_route: { type: 'string', minLength: 1, description: 'A (cheap) route that names a thread after its first exchange; off when absent.' },
    summary_route: {
      type: 'string', minLength: 1,
      description: 'A (cheap) route that summarises the turns dropped from a thread whose assistant\'s context policy is `summarize`; default: the turn\'s own route.',
    },
    summary_max_tokens: { type: 'integer', minimum: 32, maximum: 8192, default: 512, description: 'The longest summary of dropped turns, in tokens.' },
    background_timeout_ms: {
      type: 'integer', minimum: 1000, maximum: 86400000, default: 1800000,
      description: 'How long a background response (/v1/responses with `background: true`) may run before it fails with `background_timeout`.',
    },
    background_heartbeat_ms: {
      type: 'integer', minimum: 100, maximum: 600000, default: 10000,
      description: 'How often the gateway running a background response (or a turn holding its conversation) says so in the store; one whose gateway stopped beating for three of these (it died) reads as failed, and its followers stop (a conversation it held is free again).',
    },
  },
}
