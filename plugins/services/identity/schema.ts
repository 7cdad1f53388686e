/** service.keys and service.users: their blocks under services: in gateway.yaml. */

export interface KeysConfig {
  key_prefix: string
  max_expiry_days?: number
}

export const keysConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    key_prefix: {
      type: 'string', pattern: '^[a-z][a-z0-9]{0,11}$', default: 'gw',
      description: 'New keys look like `<key_prefix>-<32 random characters>`; the prefix plus 8 characters is shown in lists.',
    },
    max_expiry_days: {
      type: 'integer', minimum: 1, maximum: 3650,
      description: 'Every new key expires within this many days (and by default after them). Absent: keys may never expire.',
    },
  },
} as const

export type UsersConfig = Record<string, never>

export const usersConfigSchema = { type: 'object', additionalProperties: false, properties: {} } as const
