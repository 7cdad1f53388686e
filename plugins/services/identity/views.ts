/** Records as the management API shows them: snake_case, and never a key's secret or hash. */
import type { JsonSchema } from '../../../plugin-api/index.ts'
import { NULLABLE_STRING_SCHEMA as NULLABLE_STRING, NULLABLE_TIME_SCHEMA as NULLABLE_TIME, nullable, recordSchema as required, TIME_SCHEMA as TIME } from '../kit/schema.ts'
import type { ApiKeyListed, ApiKeyRecord, KeyPerson, UserRecord } from '../../contracts/capabilities.ts'
import { keyStatus } from '../../contracts/principals.ts'

// What the routes answer (the `data` of the envelope), for the OpenAPI document; each view has its schema beside it.
const SCOPE: JsonSchema = { enum: ['own_data', 'department_data', 'all_data'] }

const KEY_FIELDS: Record<string, JsonSchema> = {
  id: { type: 'string' }, prefix: { type: 'string', description: 'The start of the secret, to recognise it.' }, name: NULLABLE_STRING,
  status: { enum: ['active', 'revoked', 'expired'] }, user_id: { ...NULLABLE_STRING, description: 'null: a service key.' }, department: NULLABLE_STRING, role: { type: 'string' },
  allowed_models: { type: ['array', 'null'], items: { type: 'string' } }, limits: { type: 'object', additionalProperties: { type: 'number' } },
  created_at: TIME, expires_at: NULLABLE_TIME, revoked_at: NULLABLE_TIME, last_used_at: NULLABLE_TIME,
  previous_secret_expires_at: { ...NULLABLE_TIME, description: 'When the secret the last rotation replaced stops (or stopped) working: the end of its grace period. null: never rotated.' },
  created_by: { ...NULLABLE_STRING, description: 'Who made the key and saw its secret (a user id). null: not known (made before makers were recorded, or by a caller with no stored user).' },
  rotated_by: { ...NULLABLE_STRING, description: 'Who made its current secret by a rotation (a user id). null: never rotated, or not known.' },
}
export const KEY_SCHEMA = required(KEY_FIELDS)
/** What a key has spent in its budget's periods (GET /keys and /keys/:id). */
const SPEND: JsonSchema = {
  ...nullable(required({
    day_usd: { type: 'number', description: 'Spent this UTC day (budget_usd_per_day\'s period).' },
    month_usd: { type: 'number', description: 'Spent this UTC calendar month (budget_usd_per_month\'s period).' },
    day_started_at: TIME, month_started_at: TIME,
  })),
  description: 'What the key has spent, from its usage events (written within about a second). null: the gateway records no usage.',
}
/** One key as GET /keys/:id shows it: with its spend in its budget's periods. */
export const KEY_WITH_SPEND_SCHEMA = required({ ...KEY_FIELDS, spend: SPEND })
const PERSON_SCHEMA: JsonSchema = required({ id: { type: 'string' }, name: NULLABLE_STRING, email: NULLABLE_STRING, external_subject: { type: 'string' } })
/** A key in a list: its owner and maker by name too, so keys of the same name are told apart. */
export const LISTED_KEY_SCHEMA = required({
  ...KEY_FIELDS,
  owner: { ...nullable(PERSON_SCHEMA), description: 'The user `user_id` names. null: a service key.' },
  creator: { ...nullable(PERSON_SCHEMA), description: 'The user `created_by` names. null: not known.' },
  spend: SPEND,
})
/** A created or rotated key: its secret, in this answer only. */
export const CREATED_KEY_SCHEMA = required({
  ...KEY_FIELDS, key: { type: 'string', description: 'The secret: shown this once.' },
  replaces: { type: 'string', description: 'A rotation: the id of the key rotated, which is its own `id` (a rotation replaces the secret in place). Kept for clients that tell a rotation by it.' },
}, ['replaces'])

export function keyView(record: ApiKeyRecord) {
  return {
    id: record.id,
    prefix: record.prefix,
    name: record.name,
    status: keyStatus(record),
    user_id: record.userId,
    department: record.department,
    role: record.role,
    allowed_models: record.allowedModels,
    limits: record.limits,
    created_at: record.createdAt,
    expires_at: record.expiresAt,
    revoked_at: record.revokedAt,
    last_used_at: record.lastUsedAt,
    previous_secret_expires_at: record.previousExpiresAt,
    created_by: record.createdBy,
    rotated_by: record.rotatedBy,
  }
}

const personView = (p: KeyPerson | null) => p && { id: p.id, name: p.name, email: p.email, external_subject: p.externalSubject }

export function listedKeyView(record: ApiKeyListed) {
  return { ...keyView(record), owner: personView(record.owner), creator: personView(record.creator) }
}

export const USER_SCHEMA = required({
  id: { type: 'string' }, external_subject: { type: 'string', description: 'Who the sign-in (or key) says they are.' }, name: NULLABLE_STRING, email: NULLABLE_STRING,
  role: { type: 'string' }, department: NULLABLE_STRING, created_at: TIME, updated_at: TIME, last_seen_at: NULLABLE_TIME,
})
export const ME_SCHEMA = required({
  user_id: { type: 'string' }, role: { type: 'string' }, department: NULLABLE_STRING, key_id: NULLABLE_STRING, strategy: { type: 'string' },
  allowed_models: { type: ['array', 'null'], items: { type: 'string' } }, permissions: { type: 'array', items: { type: 'string' } }, scope: SCOPE,
  user: { anyOf: [USER_SCHEMA, { type: 'null' }] },
})
export const ROLE_SCHEMA = required({
  name: { type: 'string' }, scope: SCOPE, permissions: { type: 'array', items: { type: 'string' } },
  grantable: { type: 'boolean', description: 'Whether the caller may give this role to a user or a key.' },
})
export const DEPARTMENT_SCHEMA = required({
  name: { type: 'string' }, assignable: { type: 'boolean', description: 'Whether the caller may move a user into it.' },
})

export function userView(record: UserRecord) {
  return {
    id: record.id,
    external_subject: record.externalSubject,
    name: record.name,
    email: record.email,
    role: record.role,
    department: record.department,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    last_seen_at: record.lastSeenAt,
  }
}
