/** auth.api-key: its block in gateway.yaml. */

/** A key defined in gateway.yaml (a bootstrap or service key); its value comes from the environment. */
export interface ConfigKey {
  key: string
  /** Who the key acts as: a user name (recorded in the store's users as `config:<user>` when there is one). */
  user: string
  role: string
  department?: string
  /** A label for logs and usage (`config:<name>`); defaults to the user. */
  name?: string
  allowed_models?: string[]
}

export interface ApiKeyConfig {
  keys: ConfigKey[]
  /** Look keys up in the store; undefined means "when a store is configured". */
  virtual_keys?: boolean
  cache_ttl_s: number
  cache_size: number
}

/** Config keys shorter than this are refused: an unset or placeholder variable must not become a key. */
export const MIN_CONFIG_KEY_LENGTH = 16

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    keys: {
      type: 'array',
      default: [],
      description: 'Keys defined here, e.g. a bootstrap admin key: `{ key: "${ADMIN_KEY}", user: admin, role: admin }`.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['key', 'user'],
        properties: {
          key: { type: 'string', minLength: MIN_CONFIG_KEY_LENGTH, description: `The secret (at least ${MIN_CONFIG_KEY_LENGTH} characters); put it in an environment variable.` },
          user: { type: 'string', minLength: 1, maxLength: 200, description: 'The user the key acts as.' },
          role: { type: 'string', minLength: 1, default: 'user', description: 'A role from roles: (built in: user, department_admin, admin).' },
          department: { type: 'string', minLength: 1 },
          name: { type: 'string', minLength: 1, maxLength: 100, description: 'A label for logs and usage; defaults to the user.' },
          allowed_models: { type: 'array', items: { type: 'string', minLength: 1 }, description: 'Models/routes this key may use (globs); absent: whatever its role and department allow.' },
        },
      },
    },
    virtual_keys: {
      type: 'boolean',
      description: 'Accept the virtual keys kept in the store (made with /api/v1/keys). Default: on when gateway.yaml has a store.',
    },
    cache_ttl_s: {
      type: 'integer', minimum: 1, maximum: 3600, default: 30,
      description: 'How long a store lookup is trusted. A revoke applies at once in the process that made it, and within this time in the others.',
    },
    cache_size: { type: 'integer', minimum: 1, default: 10000, description: 'Most keys kept in the lookup cache.' },
  },
} as const
