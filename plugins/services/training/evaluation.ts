/**
 * What the evaluation after training found (a job's `evaluation`; see evaluate.ts), written once:
 * the JSON Schema the management API documents it with, and the TypeScript type derived from it,
 * so the record the evaluator writes and what the API says it answers cannot drift apart.
 */
import type { FromSchema } from 'json-schema-to-ts'

// Literal (`as const`) rather than built with objectSchema(), whose JsonSchema result would lose
// the field types FromSchema reads; the shape is the same closed object.
const COUNT = { type: 'integer', minimum: 0 } as const
const NULLABLE_NUMBER = { type: ['number', 'null'] } as const

export const EVALUATION_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: { enum: ['completed', 'skipped', 'failed'] },
    reason: { type: 'string', description: 'Why it was skipped or failed.' },
    source: { enum: ['validation_file', 'training_sample'], description: 'Examples of the validation file, or of the training file when there is none.' },
    examples: { ...COUNT, description: 'Examples scored.' },
    errors: { ...COUNT, description: 'Examples whose call failed (not scored).' },
    exact_match: { ...NULLABLE_NUMBER, description: 'The share of answers equal to the example\'s, 0 to 1.' },
    similarity: { ...NULLABLE_NUMBER, description: 'Mean token F1 of the answers against the examples\', 0 to 1.' },
    // The provider's last reported losses.
    train_loss: NULLABLE_NUMBER, valid_loss: NULLABLE_NUMBER, full_valid_loss: NULLABLE_NUMBER,
    route: { type: 'string', description: 'The route the evaluation called through.' },
  },
  required: ['status'],
} as const

export type Evaluation = Readonly<FromSchema<typeof EVALUATION_SCHEMA>>
