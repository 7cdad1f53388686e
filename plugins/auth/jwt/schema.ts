/** auth.jwt: its block in gateway.yaml. */
import { CLAIM_MAPPING_SCHEMA, type ClaimMappingConfig } from '../../contracts/claims.ts'

export interface EntraConfig {
  tenant_id: string
  client_id: string
  authority: string
}

export interface JwtConfig extends ClaimMappingConfig {
  issuer?: string | string[]
  audience?: string | string[]
  jwks_uri?: string
  entra?: EntraConfig
  algorithms?: string[]
  clock_tolerance_s: number
  max_token_age_s?: number
  jwks_cooldown_s: number
  jwks_cache_max_age_s: number
  jwks_stale_if_error_s: number
  jwks_timeout_ms: number
  cache_ttl_s: number
  cache_size: number
}

/**
 * Signature algorithms a JWKS can verify. `none` and the HMAC family (HS256...) are not offered:
 * with a public JWKS, accepting HS* would let anyone who has the public key sign tokens.
 */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const

const stringOrList = (description: string) => ({
  anyOf: [{ type: 'string', minLength: 1 }, { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } }],
  description,
})

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    issuer: stringOrList('Expected `iss` (one, or a list). Required unless `entra` is set.'),
    audience: stringOrList('Expected `aud` (one, or a list): the API this gateway is. Required unless `entra` is set.'),
    jwks_uri: { type: 'string', format: 'uri', pattern: '^https?://', description: 'The issuer\'s JSON Web Key Set. Required unless `entra` is set.' },
    entra: {
      type: 'object',
      additionalProperties: false,
      required: ['tenant_id', 'client_id'],
      description: 'Microsoft Entra ID (v2.0 tokens): sets issuer, jwks_uri, audience, RS256 and Entra\'s claims (oid, roles, groups).',
      properties: {
        tenant_id: { type: 'string', minLength: 1, description: 'The directory (tenant) id.' },
        client_id: { type: 'string', minLength: 1, description: 'The application (client) id of the API registration: v2.0 tokens carry it as `aud`.' },
        authority: { type: 'string', format: 'uri', default: 'https://login.microsoftonline.com', description: 'The cloud\'s login host (e.g. https://login.microsoftonline.us).' },
      },
    },
    algorithms: {
      type: 'array', minItems: 1, uniqueItems: true,
      items: { enum: [...ASYMMETRIC_ALGORITHMS] },
      description: 'Accepted signature algorithms (none and HS* are never accepted). Default: all listed here; RS256 with entra.',
    },
    clock_tolerance_s: { type: 'integer', minimum: 0, maximum: 600, default: 60, description: 'Clock skew allowed on exp and nbf.' },
    max_token_age_s: { type: 'integer', minimum: 1, description: 'Refuse tokens issued (iat) longer ago than this.' },
    jwks_cooldown_s: { type: 'number', minimum: 0, default: 30, description: 'A token signed by an unknown key refetches the JWKS (key rotation), at most once per this many seconds.' },
    jwks_cache_max_age_s: { type: 'number', exclusiveMinimum: 0, default: 600, description: 'How long the JWKS is trusted. From 80% of it the keys are fetched again in the background, still in use; past it a token waits for the fetch (503 if it fails).' },
    jwks_stale_if_error_s: {
      type: 'number', minimum: 0, default: 0,
      description: 'How much longer than jwks_cache_max_age_s the keys fetched last stay in use while the issuer cannot be reached. Default 0: a key the issuer withdrew is trusted no longer than jwks_cache_max_age_s.',
    },
    jwks_timeout_ms: { type: 'integer', minimum: 1, default: 5000 },
    ...CLAIM_MAPPING_SCHEMA,
    cache_ttl_s: { type: 'integer', minimum: 0, maximum: 3600, default: 60, description: 'How long a verified token (never past its exp) and a recorded user are reused. 0: verify every request.' },
    cache_size: { type: 'integer', minimum: 1, default: 10000 },
  },
} as const
