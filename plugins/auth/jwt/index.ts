/**
 * auth.jwt: bearer JWTs from an OpenID Connect issuer (Microsoft Entra ID, Okta, Auth0, Keycloak...),
 * verified against the issuer's JWKS. A verified token is reused until it expires or `cache_ttl_s`
 * passes, whichever is first, so a client's steady stream of requests costs one verification.
 */
import { LRUCache } from 'lru-cache'
import { definePlugin, type AuthRequest, type AuthStrategy, type Principal } from '../../../plugin-api/index.ts'
import { Identity } from '../../contracts/capabilities.ts'
import { unauthorized } from '../../../plugin-api/index.ts'
import { claimMapping, identityOf, roleMapRoles, subjectPrefixIssues } from '../../contracts/claims.ts'
import { undefinedRoles } from '../../contracts/roles.ts'
import { JwtPrincipals } from './principals.ts'
import { configSchema, type JwtConfig } from './schema.ts'
import { issuerSettings, tokenVerifier } from './verify.ts'

/** Three base64url segments, the first a JSON object (`{"` encodes as `eyJ`): anything else is not ours. */
const JWT_SHAPE = /^eyJ[\w-]*\.[\w-]*\.[\w-]*$/
const BEARER = /^bearer[ \t]+/i
/** Tokens are a kilobyte or two; this bounds the verified-token cache whatever their size. */
const VERIFIED_CACHE_BYTES = 32 * 1024 * 1024

function bearerToken(headers: AuthRequest['headers']): string | undefined {
  const authorization = headers.authorization
  if (typeof authorization !== 'string' || !BEARER.test(authorization)) return undefined
  const token = authorization.replace(BEARER, '').trim()
  return JWT_SHAPE.test(token) ? token : undefined
}

interface VerifiedToken {
  readonly principal: Principal
  /** The token's exp, ms. */
  readonly expiresAt: number
}

export default definePlugin<JwtConfig, AuthStrategy>({
  id: 'auth.jwt',
  kind: 'auth',
  description: 'Bearer JWTs from an OIDC issuer (e.g. Microsoft Entra ID), verified against its JWKS.',
  configSchema,
  uses: [Identity],
  checkConfig: (config, at) => [...undefinedRoles(roleMapRoles(at.block), at), ...subjectPrefixIssues(config, at.path)],
  setup(ctx, config) {
    const settings = issuerSettings(config)
    const verifier = tokenVerifier(config, settings, ctx.logger)
    const mapping = claimMapping(config, config.entra !== undefined)
    const identity = ctx.tryGet(Identity)
    const ttlMs = config.cache_ttl_s * 1000
    const principals = new JwtPrincipals(identity?.users, { ttlMs, max: config.cache_size })
    // Keyed by the whole token (any part alone could be forged around); bounded by total token size too.
    const verified = ttlMs > 0 ? new LRUCache<string, VerifiedToken>({ max: config.cache_size, maxSize: VERIFIED_CACHE_BYTES, sizeCalculation: (_v, token) => token.length, ttl: ttlMs, ttlResolution: 0 }) : undefined
    const unsubscribe = identity
      ? identity.events.subscribe((event) => {
        if (event.type !== 'user-changed') return
        principals.forgetUser(event.userId)
        for (const [token, entry] of verified?.entries() ?? []) if (entry.principal.userId === event.userId) verified!.delete(token)
      })
      : undefined
    ctx.logger.info({ issuer: settings.issuer, jwks_uri: settings.jwksUri, algorithms: settings.algorithms }, 'jwt strategy ready')

    return {
      async authenticate(req): Promise<Principal | null> {
        const token = bearerToken(req.headers)
        if (token === undefined) return null
        const hit = verified?.get(token)
        if (hit && Date.now() < hit.expiresAt) return hit.principal
        const payload = await verifier.verify(token)
        const identity = identityOf(payload, mapping)
        if (!identity) throw unauthorized(`The token has no subject (${mapping.subject.join(' or ')} claim).`, 'invalid_token')
        const principal = await principals.principalOf(identity)
        // exp is required by the verifier.
        verified?.set(token, { principal, expiresAt: payload.exp! * 1000 })
        return principal
      },
      dispose() {
        unsubscribe?.()
        principals.clear()
        verified?.clear()
      },
    }
  },
})
