/**
 * Token verification with jose: the signature against the issuer's JWKS (fetched, cached, and
 * refetched when a token names a key it does not have: rotation), then iss, aud, exp, nbf and
 * the algorithm allow-list. Each way a token can be bad becomes a 401 with its own code; a JWKS
 * that cannot be fetched is the gateway's problem, a 503.
 */
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, jwksCache, jwtVerify, type JWKSCacheInput, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions, type RemoteJWKSet } from 'jose'
import { GatewayError, unauthorized, type Logger } from '../../../plugin-api/index.ts'
import { ASYMMETRIC_ALGORITHMS, type JwtConfig } from './schema.ts'

export interface TokenVerifier {
  verify(token: string): Promise<JWTPayload>
}

/** Where tokens come from and who they are for, from the config or from `entra:`. */
export interface IssuerSettings {
  readonly issuer: string | string[]
  readonly audience: string | string[]
  readonly jwksUri: string
  readonly algorithms: readonly string[]
}

export function issuerSettings(config: JwtConfig): IssuerSettings {
  const entra = config.entra
  const authority = entra?.authority.replace(/\/+$/, '')
  const issuer = config.issuer ?? (entra ? `${authority}/${entra.tenant_id}/v2.0` : undefined)
  const audience = config.audience ?? entra?.client_id
  const jwksUri = config.jwks_uri ?? (entra ? `${authority}/${entra.tenant_id}/discovery/v2.0/keys` : undefined)
  if (issuer === undefined || audience === undefined || jwksUri === undefined) {
    throw new Error('jwt needs issuer, audience and jwks_uri (or entra: { tenant_id, client_id })')
  }
  // Entra ID signs with RS256 only.
  const algorithms = config.algorithms ?? (entra ? ['RS256'] : [...ASYMMETRIC_ALGORITHMS])
  return { issuer, audience, jwksUri, algorithms }
}

export function tokenVerifier(config: JwtConfig, settings: IssuerSettings, logger: Logger): TokenVerifier {
  // jose writes the time of every fetch it applies here (the first, a rotation's, ours): the keys' age.
  const fetched: JWKSCacheInput = {}
  // keepFresh refreshes ahead of jose's own rule (refetch, and wait, once the set is older than
  // cacheMaxAge), which stays as the bound: keys are never trusted past it, whatever keepFresh reads.
  const remote = createRemoteJWKSet(new URL(settings.jwksUri), {
    cooldownDuration: config.jwks_cooldown_s * 1000,
    cacheMaxAge: (config.jwks_cache_max_age_s + config.jwks_stale_if_error_s) * 1000,
    timeoutDuration: config.jwks_timeout_ms,
    [jwksCache]: fetched,
  })
  const jwks = keepFresh(remote, () => (fetched as { uat?: number }).uat, {
    maxAgeMs: config.jwks_cache_max_age_s * 1000,
    staleIfErrorMs: config.jwks_stale_if_error_s * 1000,
    retryMs: Math.max(MIN_RETRY_MS, config.jwks_cooldown_s * 1000),
  }, logger)
  const options: JWTVerifyOptions = {
    issuer: settings.issuer,
    audience: settings.audience,
    algorithms: [...settings.algorithms],
    clockTolerance: config.clock_tolerance_s,
    requiredClaims: ['exp'],
    ...(config.max_token_age_s !== undefined ? { maxTokenAge: config.max_token_age_s } : {}),
  }
  const issuers = new Set(typeof settings.issuer === 'string' ? [settings.issuer] : settings.issuer)
  return {
    async verify(token) {
      // Another issuer's token is refused before any key is looked up: beside a second jwt
      // strategy (whose tokens this one is asked about first), this issuer's keys being out of
      // reach must not turn the other's tokens away with a 503. jwtVerify checks iss again.
      const iss = claimedIssuer(token)
      if (iss === undefined || !issuers.has(iss)) throw unauthorized('The token was not issued by the expected issuer.', 'invalid_issuer')
      try {
        return (await jwtVerify(token, jwks, options)).payload
      } catch (err) {
        throw tokenError(err)
      }
    },
  }
}

/** From this part of jwks_cache_max_age_s on, the keys are fetched again in the background, still in use. */
const REFRESH_AHEAD_FRACTION = 0.8
/** The least time between two background fetches while the issuer fails. */
const MIN_RETRY_MS = 1000

/**
 * The issuer's keys, kept fresh without making a token wait. jose's set fetches them on first use,
 * and again when a token names a key it does not have (rotation, at most once per cooldown). Here
 * they are fetched again in the background once older than 80% of `maxAgeMs`, while they still
 * verify (retried every `retryMs` if the issuer fails): jose alone made every new token wait for
 * that fetch at `maxAgeMs`. Keys older than `maxAgeMs` are not trusted (a token waits for the
 * fetch, 503 if it fails), unless `staleIfErrorMs` allows them longer while the issuer cannot be
 * reached: opt-in, since it also keeps a key the issuer withdrew.
 */
function keepFresh(remote: RemoteJWKSet, fetchedAt: () => number | undefined, times: { maxAgeMs: number; staleIfErrorMs: number; retryMs: number }, logger: Logger): JWTVerifyGetKey {
  let nextTry = 0
  return async (header, token) => {
    const loadedAt = fetchedAt()
    if (loadedAt !== undefined) {
      const now = Date.now()
      const age = now - loadedAt
      if (age >= times.maxAgeMs + times.staleIfErrorMs) await remote.reload()
      else if (age >= REFRESH_AHEAD_FRACTION * times.maxAgeMs && !remote.reloading && now >= nextTry) {
        nextTry = now + times.retryMs
        remote.reload().catch((err: Error) => logger.warn({ err: err.message, age_s: Math.round(age / 1000) }, 'the issuer\'s signing keys could not be fetched again; the last ones stay in use while they are trusted'))
      }
    }
    return remote(header, token)
  }
}

/** The `iss` a token claims, unverified (only to tell whose it is); a token that is not a JWT is malformed_token. */
function claimedIssuer(token: string): string | undefined {
  try {
    decodeProtectedHeader(token)
    const { iss } = decodeJwt(token)
    return typeof iss === 'string' ? iss : undefined
  } catch {
    // Both throw only for a token that does not parse (decodeProtectedHeader a plain TypeError).
    throw unauthorized('The token is malformed.', 'malformed_token')
  }
}

/** A jose failure as the client should see it. Messages name what was wrong, never the token. */
export function tokenError(err: unknown): GatewayError {
  if (err instanceof errors.JWTExpired) return unauthorized('The token has expired.', 'token_expired')
  if (err instanceof errors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case 'nbf': return unauthorized('The token is not valid yet (nbf).', 'token_not_yet_valid')
      case 'iss': return unauthorized('The token was not issued by the expected issuer.', 'invalid_issuer')
      case 'aud': return unauthorized('The token is not meant for this gateway (aud).', 'invalid_audience')
      case 'iat': return unauthorized('The token is too old (iat).', 'token_too_old')
      default: return unauthorized(`The token's '${err.claim}' claim is missing or invalid.`, 'invalid_token')
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return unauthorized('The token\'s signature algorithm is not accepted.', 'algorithm_not_allowed')
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return unauthorized('The token\'s signature is invalid.', 'invalid_signature')
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return unauthorized('The token is signed with a key the issuer does not publish.', 'unknown_signing_key')
  }
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return unauthorized('The token is malformed.', 'malformed_token')
  // The JWKS could not be fetched or read (timeout, non-200, not JSON, network): not the client's fault.
  return new GatewayError('Tokens cannot be verified right now: the issuer\'s signing keys are unavailable.', { status: 503, code: 'auth_unavailable', cause: err })
}
