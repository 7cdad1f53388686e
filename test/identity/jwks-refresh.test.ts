/**
 * The issuer's signing keys are fetched again in the background before they are due, so a new
 * token does not wait for the issuer; an issuer that cannot be reached then does not turn every new
 * token into a 503 while the keys fetched last are less than twice `jwks_cache_max_age_s` old; past
 * that a token waits for the fetch, and its failure is a 503 as before.
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
  const setup = () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2026-12-06T12:00:00Z'))
    const config = { issuer: issuer.issuer, audience: AUDIENCE, jwks_uri: issuer.jwksUri, jwks_cooldown_s: 0, jwks_cache_max_age_s: MAX_AGE_S, jwks_timeout_ms: 2000, clock_tolerance_s: 0, cache_ttl_s: 0, cache_size: 10 } as unknown as JwtConfig
    const verifier = tokenVerifier(config, issuerSettings(config), testLogger())
    let n = 0
    /** Verify a new token now; resolves to how long it took (ms, real time). */
    const verifyNew = async (): Promise<number> => {
      const token = await sign(key, { sub: `user-${++n}` }, { issuer: issuer.issuer, audience: AUDIENCE, expiresIn: 3600 })
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

  it('an issuer that cannot be reached: the last keys stay in use up to twice the max age, then a new token is a 503', async () => {
    const { verifyNew, advance } = setup()
    await verifyNew()
    issuer.down = true
    advance(85)
    const fetches = issuer.fetches
    await verifyNew()
    await waitFor(() => issuer.fetches === fetches + 1, 5000)
    // Past the max age, the issuer still down: new tokens still verify.
    advance(50)
    await verifyNew()
    await verifyNew()
    // Twice the max age: a token waits for the issuer, which fails it.
    advance(70)
    const failure = await verifyNew().then(() => undefined, (err: unknown) => err)
    expect(failure).toBeInstanceOf(GatewayError)
    expect((failure as GatewayError).status).toBe(503)
    // The issuer back: the next token fetches and verifies.
    issuer.down = false
    await verifyNew()
  })
})
