/** `max_answer_mb`: how much of an upstream's answer a kit provider reads (wire-client.ts enforces it). */
import type { JsonSchema } from '../../../plugin-api/index.ts'

export const MB = 1024 * 1024

/**
 * The largest answer body read from an upstream, whole or streamed. Far above any real answer
 * (2,048 embeddings of 3,072 floats as JSON are ~125 MB; a 128k-token stream ~30 MB) and below
 * V8's largest string (~512 MB), which a whole answer is decoded into.
 */
export const DEFAULT_MAX_ANSWER_MB = 256

/** `max_answer_mb` in every kit provider's block: one definition, so one meaning. */
export const MAX_ANSWER_PROPERTY: JsonSchema = {
  type: 'integer', minimum: 1, maximum: 500, default: DEFAULT_MAX_ANSWER_MB,
  description: 'The largest answer body read from the upstream, in MiB, whole or streamed (error bodies too). Past it the gateway stops reading and answers 502 upstream_answer_too_large, so a broken upstream cannot exhaust the gateway\'s memory.',
}
