/** service.auth: its block in gateway.yaml (`services: { auth: {...} }`). */
import { CLAIM_MAPPING_SCHEMA, type ClaimMappingConfig } from '../../contracts/claims.ts'

export interface OidcConfig extends ClaimMappingConfig {
  issuer?: string
  entra?: { tenant_id: string; authority: string }
  client_id: string
  client_secret?: string
  redirect_uri?: string
  scopes: string[]
  label?: string
  sign_out_of_issuer: boolean
  allow_http: boolean
}

export interface AuthConfig {
  oidc?: OidcConfig
  api_key_sign_in: boolean
  public_url?: string
  session_ttl_s: number
  idle_timeout_s: number
  cookie_secure: 'auto' | 'always' | 'never'
  same_site: 'lax' | 'strict'
  cache_ttl_s: number
}

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    oidc: {
      type: 'object',
      additionalProperties: false,
      required: ['client_id'],
      description: 'Sign-in with an OpenID Connect issuer (authorization code flow with PKCE). Absent: API-key sign-in only.',
      properties: {
        issuer: { type: 'string', format: 'uri', pattern: '^https?://', description: 'The issuer URL; its /.well-known/openid-configuration is read. Required unless `entra` is set.' },
        entra: {
          type: 'object',
          additionalProperties: false,
          required: ['tenant_id'],
          description: 'Microsoft Entra ID: sets the issuer to <authority>/<tenant_id>/v2.0 and Entra\'s claims (oid, preferred_username, groups).',
          properties: {
            tenant_id: { type: 'string', minLength: 1, description: 'The directory (tenant) id.' },
            authority: { type: 'string', format: 'uri', default: 'https://login.microsoftonline.com', description: 'The cloud\'s login host.' },
          },
        },
        client_id: { type: 'string', minLength: 1, description: 'The application (client) id registered at the issuer.' },
        client_secret: { type: 'string', minLength: 1, description: 'The client secret (from the environment). Absent: a public client (PKCE only).' },
        redirect_uri: { type: 'string', format: 'uri', pattern: '^https?://', description: 'Where the issuer sends people back: <public_url>/api/v1/auth/callback (default: from public_url, else from the request).' },
        scopes: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, default: ['openid', 'profile', 'email'], description: 'Scopes asked for; must include openid.' },
        label: { type: 'string', minLength: 1, maxLength: 40, description: 'The sign-in button says "Sign in with <label>" (default: Microsoft with entra, else the issuer\'s host).' },
        sign_out_of_issuer: { type: 'boolean', default: false, description: 'Sign-out also ends the session at the issuer (its end_session_endpoint), which signs the person out of every app there.' },
        allow_http: { type: 'boolean', default: false, description: 'Accept an http:// issuer (a local test issuer only; never in production).' },
        ...CLAIM_MAPPING_SCHEMA,
      },
    },
    api_key_sign_in: { type: 'boolean', default: true, description: 'Whether an API key (a config key or a virtual key) may be traded for a console session.' },
    public_url: { type: 'string', format: 'uri', pattern: '^https?://', description: 'The URL people open the console at (e.g. https://ai.example.com, or https://host/gateway behind a reverse proxy that strips that prefix): the redirect URI, the redirects into the console, the console\'s own paths and Secure cookies follow from it.' },
    session_ttl_s: { type: 'integer', minimum: 60, maximum: 30 * 24 * 3600, default: 8 * 3600, description: 'A session ends this long after sign-in, whatever happens.' },
    idle_timeout_s: { type: 'integer', minimum: 60, maximum: 30 * 24 * 3600, default: 3600, description: 'A session ends after this long without a request.' },
    cookie_secure: { enum: ['auto', 'always', 'never'], default: 'auto', description: 'Secure cookies: auto = when public_url is https, or the request came over TLS (X-Forwarded-Proto: https).' },
    same_site: { enum: ['lax', 'strict'], default: 'lax', description: 'The session cookie\'s SameSite. Every state-changing request also needs the session\'s CSRF token.' },
    cache_ttl_s: { type: 'integer', minimum: 0, maximum: 60, default: 5, description: 'How long a resolved session is reused in this process before the store is asked again (sign-out in another process takes effect within it).' },
  },
} as const
