/**
 * What the sign-in routes answer (the envelope's `data`), with their schemas beside them for the
 * OpenAPI document and the console's generated types.
 */
import type { Caller, JsonSchema } from '../../../plugin-api/index.ts'
import { nullable, NULLABLE_STRING_SCHEMA as NULLABLE_STRING, recordSchema, TIME_SCHEMA } from '../kit/schema.ts'

export const OPTIONS_SCHEMA: JsonSchema = recordSchema({
  oidc: { ...nullable(recordSchema({ label: { type: 'string' } })), description: 'The OpenID Connect issuer to sign in with, or null when there is none.' },
  api_key: { type: 'boolean', description: 'Whether an API key may be traded for a session.' },
})

export const ME_SCHEMA: JsonSchema = recordSchema({
  user_id: { type: 'string' }, name: NULLABLE_STRING, email: NULLABLE_STRING, role: { type: 'string' }, department: NULLABLE_STRING, key_id: NULLABLE_STRING,
  permissions: { type: 'array', items: { type: 'string' } }, scope: { enum: ['own_data', 'department_data', 'all_data'] },
  strategy: { type: 'string', description: 'How the caller is signed in: `auth.session`, an auth strategy, or `none` (a gateway without auth).' },
  anonymous: { type: 'boolean', description: 'A gateway without auth: everyone is this admin.' },
  session: {
    ...nullable(recordSchema({ expires_at: TIME_SCHEMA, csrf_token: { type: 'string', description: 'Send it as X-CSRF-Token on changes made with the session cookie.' }, method: { enum: ['oidc', 'api_key'] } })),
    description: 'The console session the caller is signed in with, or null.',
  },
})

export const SIGNED_OUT_SCHEMA: JsonSchema = recordSchema({ redirect: { type: 'string', description: 'Where the console goes next (the issuer\'s sign-out, or the sign-in page).' } })

export function meView(caller: Caller, session: { expiresAt: Date; csrfToken: string; method: string } | undefined) {
  const { principal, role } = caller
  return {
    user_id: principal.userId,
    name: principal.name ?? null,
    email: principal.email ?? null,
    role: principal.role,
    department: principal.department ?? null,
    key_id: principal.keyId ?? null,
    permissions: [...role.permissions],
    scope: caller.scope,
    strategy: principal.strategy,
    // No `auth:` at all: everyone is this admin, and the console says so.
    anonymous: principal.strategy === 'none',
    session: session ? { expires_at: session.expiresAt.toISOString(), csrf_token: session.csrfToken, method: session.method } : null,
  }
}
