/**
 * The issuer's signing keys are fetched again in the background before they are due, so a new
 * token does not wait for the issuer. Keys older than `jwks_cache_max_age_s` are not trusted (a
 * token waits for the fetch, a 503 if it fails), however the keys were first fetched, unless
 * `jwks_stale_if_error_s` keeps them longer while the issuer cannot be reached.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { GatewayError } from '../../plugin-api/index.ts'
import { issuerSettings, tokenVerifier } from '../../plugins/auth/jwt/verify.ts'
import type { JwtConfig } from '../../plugins/auth/jwt/schema.ts'
import { testLogger } from '../helpers/gateway.ts'
import { waitFor } from '../helpers/wait.ts'
import { sign, signingKey, startIssuer, type Issuer, type SigningKey } from './helpers.ts'

const AUDIENCE = 'gateway'
const MAX_AGE_S = 100

describe('jwt: the JWKS kept fresh without making a token wait', () => {
  let key: SigningKey
  let issuer: Issuer
  beforeAll(async () => {
    key = await signingKey('k1')
    issuer = await startIssuer([key])
  })
  afterAll(() => issuer.close())
  afterEach(() => {
    vi.useRealTimers()
    issuer.down = false
    issuer.delayMs = 0
  })

  /** A verifier on a clock the test moves (Date only: sockets and timeouts keep real time). */
  const setup = (staleIfErrorS = 0) => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2026-12-06T12:00:00Z'))
    const config = { issuer: issuer.issuer, audience: AUDIENCE, jwks_uri: issuer.jwksUri, jwks_cooldown_s: 0, jwks_cache_max_age_s: MAX_AGE_S, jwks_stale_if_error_s: staleIfErrorS, jwks_timeout_ms: 2000, clock_tolerance_s: 0, cache_ttl_s: 0, cache_size: 10 } as unknown as JwtConfig
    const verifier = tokenVerifier(config, issuerSettings(config), testLogger())
    let n = 0
    /** Verify a new token now (signed with `kid`, the published key's by default); resolves to how long it took (ms, real time). */
    const verifyNew = async (kid?: string): Promise<number> => {
      const token = await sign(key, { sub: `user-${++n}` }, { issuer: issuer.issuer, audience: AUDIENCE, expiresIn: 3600, ...(kid ? { kid } : {}) })
      const started = performance.now()
      await verifier.verify(token)
      return performance.now() - started
    }
    const advance = (seconds: number) => vi.setSystemTime(Date.now() + seconds * 1000)
    return { verifyNew, advance }
  }

  it('from 80% of the max age the keys are fetched beside the token, which does not wait for the issuer', async () => {
    const { verifyNew, advance } = setup()
    const before = issuer.fetches
    await verifyNew()
    expect(issuer.fetches).toBe(before + 1)
    advance(70)
    await verifyNew()
    expect(issuer.fetches).toBe(before + 1)
    // Due soon, and the issuer slow: the token is verified with the keys in hand.
    advance(15)
    issuer.delayMs = 1500
    expect(await verifyNew()).toBeLessThan(1000)
    await waitFor(() => issuer.fetches === before + 2, 5000)
    // Fetched again: past the old keys' max age, nothing is fetched nor waited for.
    issuer.delayMs = 0
    await new Promise((resolve) => setTimeout(resolve, 1600))
    advance(30)
    await verifyNew()
    expect(issuer.fetches).toBe(before + 2)
  })

  it('keys past the max age are not trusted while the issuer cannot be reached: a new token is a 503', async () => {
    const { verifyNew, advance } = setup()
    await verifyNew()
    issuer.down = true
    advance(85)
    const fetches = issuer.fetches
    await verifyNew()
    await waitFor(() => issuer.fetches === fetches + 1, 5000)
    advance(16)
    const failure = await verifyNew().then(() => undefined, (err: unknown) => err)
    expect(failure).toBeInstanceOf(GatewayError)
    expect((failure as GatewayError).status).toBe(503)
    issuer.down = false
    await verifyNew()
  })

  it('the keys\' age counts from their fetch, even when the first token named a key the issuer does not publish', async () => {
    const { verifyNew, advance } = setup()
    const refused = await verifyNew('not-published').then(() => undefined, (err: unknown) => err)
    expect((refused as GatewayError).status).toBe(401)
    issuer.down = true
    advance(MAX_AGE_S * 3)
    const failure = await verifyNew().then(() => undefined, (err: unknown) => err)
    expect((failure as GatewayError).status).toBe(503)
  })

  it('with jwks_stale_if_error_s, the last keys stay in use that much longer while the issuer cannot be reached', async () => {
    const { verifyNew, advance } = setup(MAX_AGE_S)
    await verifyNew()
    issuer.down = true
    advance(85)
    await verifyNew()
    // Past the max age, within the grace: new tokens still verify.
    advance(50)
    await verifyNew()
    // Past both: a token waits for the issuer, which fails it.
    advance(70)
    const failure = await verifyNew().then(() => undefined, (err: unknown) => err)
    expect(failure).toBeInstanceOf(GatewayError)
    expect((failure as GatewayError).status).toBe(503)
    issuer.down = false
    await verifyNew()
  })
})
