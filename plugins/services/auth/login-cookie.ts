/**
 * An OpenID Connect login under way, kept in the browser's login cookie: its state, nonce, PKCE
 * verifier, where to go after sign-in, and when it started. GET /login is public, so whatever it
 * kept on the server would grow with the rate anyone on the internet calls it; in the cookie it
 * costs the gateway nothing, and any process behind a balancer can finish a login another began.
 *
 * The cookie is not signed: the gateway has no secret of its own to sign it with. That is no
 * weaker than a login id kept in the store: whoever can plant a cookie in a browser (a sibling
 * subdomain, over plain http) could plant the id of a login they started themselves, with their
 * own state and verifier. Over TLS the `__Host-` prefix keeps anyone else from setting it. What
 * the callback does not take from the cookie as it is: `return_to` is checked again, the redirect
 * URI comes from the config, and the cookie's age is counted from the time written inside it.
 */
import { timingSafeEqual } from 'node:crypto'

export interface PendingLogin {
  readonly state: string
  readonly nonce: string
  readonly codeVerifier: string
  /** A path on this origin, checked when the login started and again when it returns. */
  readonly returnTo: string
  /** When the login started (ms since the epoch). */
  readonly startedAt: number
}

/** A `return_to` longer than this (once normalised, e.g. percent-encoded) becomes `/`: the cookie stays under 4 KB. */
export const MAX_RETURN_TO = 2000
/** A login started this much "later" than now is from a clock that is off by more than the gateway's hosts ever are. */
const CLOCK_SKEW_MS = 60_000
/** openid-client's random values are 43 base64url characters; anything else did not come from /login. */
const RANDOM_VALUE = /^[\w-]{16,128}$/

interface Wire {
  v: 1
  s: string
  n: string
  c: string
  r: string
  /** seconds since the epoch */
  t: number
}

/** The cookie's value: the login as base64url JSON (about 2.9 KB at most). */
export function encodeLogin(login: PendingLogin): string {
  const wire: Wire = {
    v: 1, s: login.state, n: login.nonce, c: login.codeVerifier,
    r: login.returnTo.length <= MAX_RETURN_TO ? login.returnTo : '/',
    t: Math.floor(login.startedAt / 1000),
  }
  return Buffer.from(JSON.stringify(wire)).toString('base64url')
}

/**
 * The login a cookie holds, or undefined when there is none, it is not one of ours, or it
 * started `ttlS` seconds or more before `now`. `return_to` is as written: the caller checks it.
 */
export function decodeLogin(value: string | undefined, now: number, ttlS: number): PendingLogin | undefined {
  if (!value || value.length > 4096) return undefined
  let wire: Partial<Wire>
  try {
    wire = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Partial<Wire>
  } catch {
    return undefined
  }
  if (typeof wire !== 'object' || wire === null || wire.v !== 1) return undefined
  const { s, n, c, r, t } = wire
  if (![s, n, c].every((v) => typeof v === 'string' && RANDOM_VALUE.test(v))) return undefined
  if (typeof r !== 'string' || r.length > MAX_RETURN_TO || typeof t !== 'number' || !Number.isSafeInteger(t)) return undefined
  const startedAt = t * 1000
  if (now - startedAt >= ttlS * 1000 || startedAt - now > CLOCK_SKEW_MS) return undefined
  return { state: s!, nonce: n!, codeVerifier: c!, returnTo: r, startedAt }
}

/** Whether the callback's `state` is the one this browser's login was started with (compared in constant time). */
export function sameState(fromQuery: unknown, login: PendingLogin): boolean {
  if (typeof fromQuery !== 'string') return false
  const a = Buffer.from(fromQuery)
  const b = Buffer.from(login.state)
  return a.length === b.length && timingSafeEqual(a, b)
}
