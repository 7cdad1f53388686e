/**
 * The cookies of a sign-in: the session cookie and the short-lived login cookie that carries an
 * OpenID Connect round trip's state, nonce and verifier (login-cookie.ts). Over TLS they carry the
 * `__Host-` prefix (the browser then insists on Secure, Path=/ and no Domain, so a sibling
 * subdomain cannot plant one); both are HttpOnly, so the console's own JavaScript never sees them.
 */
import { parse, serialize } from 'cookie'
import type { AuthRequest } from '../../../plugin-api/index.ts'
import type { AuthConfig } from './schema.ts'

export const SESSION_COOKIE = 'gw_session'
export const LOGIN_COOKIE = 'gw_login'
const SECURE_PREFIX = '__Host-'
/** How long a person has at the identity provider before the login must start again. */
export const LOGIN_TTL_S = 600

/** The names a cookie may come in under, the Secure one first. */
export const cookieNames = (name: string): readonly string[] => [`${SECURE_PREFIX}${name}`, name]

/** The cookie's value; with `prefixedOnly`, only under its `__Host-` name (one no other site could have set). */
export function readCookie(headers: AuthRequest['headers'], name: string, prefixedOnly = false): string | undefined {
  const header = headers.cookie
  if (typeof header !== 'string' || header === '') return undefined
  const cookies = parse(header)
  for (const candidate of prefixedOnly ? cookieNames(name).slice(0, 1) : cookieNames(name)) {
    const value = cookies[candidate]
    if (value) return value
  }
  return undefined
}

/** Whether this request's cookies should be Secure: TLS at the gateway's edge, or as configured. */
export function isSecure(config: AuthConfig, headers: AuthRequest['headers']): boolean {
  if (config.cookie_secure !== 'auto') return config.cookie_secure === 'always'
  if (config.public_url) return config.public_url.startsWith('https:')
  const proto = headers['x-forwarded-proto']
  return typeof proto === 'string' && proto.split(',')[0]!.trim().toLowerCase() === 'https'
}

export interface CookieOptions {
  readonly secure: boolean
  readonly sameSite: 'lax' | 'strict'
  /** Seconds; 0 deletes the cookie. */
  readonly maxAge: number
  /** Where the browser sends it back (default `/`). A Secure cookie's `__Host-` prefix requires `/`: it is kept. */
  readonly path?: string
}

export function setCookie(name: string, value: string, options: CookieOptions): string {
  return serialize(options.secure ? `${SECURE_PREFIX}${name}` : name, value, {
    httpOnly: true,
    secure: options.secure,
    sameSite: options.sameSite,
    path: options.secure ? '/' : options.path ?? '/',
    maxAge: options.maxAge,
  })
}

/** Delete the cookie under both of its names (a TLS change between sign-in and sign-out leaves either); `path` as it was set. */
export function clearCookie(name: string, secure: boolean, path = '/'): string[] {
  const gone = { sameSite: 'lax' as const, maxAge: 0, path }
  return secure ? [setCookie(name, '', { ...gone, secure: true }), serialize(name, '', { path, maxAge: 0, httpOnly: true })] : [setCookie(name, '', { ...gone, secure: false })]
}
