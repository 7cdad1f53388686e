/**
 * The sign-in routes, under /api/v1/auth:
 *
 *   GET  /options    (public) how one may sign in here: the OIDC issuer's label, API keys
 *   GET  /login      (public) start an OIDC sign-in: a redirect to the issuer
 *   GET  /callback   (public) the issuer's answer: a session cookie and a redirect into the console
 *   POST /session    trade the API key of this request for a session cookie
 *   GET  /me         who the caller is, what their role may do, and the session's CSRF token
 *   POST /logout     end the session (in the store: no process accepts it again)
 *
 * A redirect never leaves the gateway: `return_to` is kept only when it is a path on this origin,
 * it travels in the login cookie and is checked again when it comes back, and the callback reads
 * no target from its URL. The public routes write nothing to the store: a login under way lives in
 * the browser's login cookie (login-cookie.ts), not in a table anyone could fill.
 */
import { publicBase } from '../../contracts/public-url.ts'
import { badRequest, notFound, raw, reply, type RouteRequest, type RouteSpec, type Service } from '../../../plugin-api/index.ts'
import { EMPTY_BODY_SCHEMA } from '../kit/schema.ts'
import type { Logger } from '../../../plugin-api/index.ts'
import type { Identity } from '../../contracts/capabilities.ts'
import { identityOf, recordUser, type ClaimMapping } from '../../contracts/claims.ts'
import { userPrincipal } from '../../contracts/principals.ts'
import { LOGIN_COOKIE, LOGIN_TTL_S, SESSION_COOKIE, clearCookie, isSecure, readCookie, setCookie } from './cookies.ts'
import { decodeLogin, encodeLogin, sameState } from './login-cookie.ts'
import type { OidcClient } from './oidc.ts'
import type { AuthConfig } from './schema.ts'
import type { SessionStore } from './sessions.ts'
import { ME_SCHEMA, OPTIONS_SCHEMA, SIGNED_OUT_SCHEMA, meView } from './views.ts'

export interface AuthDeps {
  readonly config: AuthConfig
  readonly sessions: SessionStore
  readonly identity: Identity
  readonly oidc: OidcClient | undefined
  readonly mapping: ClaimMapping | undefined
  readonly logger: Logger
}

/** The path prefix the console lives under (public_url's path, e.g. `/gateway`), or '' at the root. */
export function basePathOf(publicUrl: string | undefined): string {
  return publicUrl ? new URL(publicUrl).pathname.replace(/\/+$/, '') : ''
}
/** Errors an issuer may send back that are worth telling the person apart. */
const ISSUER_ERRORS = new Set(['access_denied', 'consent_required', 'login_required', 'interaction_required'])

/** A path on this origin to go to after sign-in; anything else (another origin, `//host`, `/\host`) is `/`. */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || /[\\\u0000-\u001f\u007f]/.test(value)) return '/'
  const base = 'http://gateway.invalid'
  const url = new URL(value, base)
  if (url.origin !== base) return '/'
  return `${url.pathname}${url.search}${url.hash}` || '/'
}

type Headers = RouteRequest['headers']
const header = (headers: Headers, name: string): string | undefined => {
  const value = headers[name]
  return typeof value === 'string' ? value : undefined
}

/** The console's origin: public_url, else what the request says (behind a proxy: X-Forwarded-Proto and Host). */
const originOf = (config: AuthConfig, headers: Headers): string => publicBase(config.public_url, headers)

/**
 * Where the issuer sends people back: the configured redirect_uri, else the callback on this
 * origin. Worked out the same way at /login and at /callback (the browser comes back through the
 * same host and proxy), never read from a cookie; a different one would not match at the issuer.
 */
function redirectUriOf(config: AuthConfig, headers: Headers): string {
  return config.oidc?.redirect_uri ?? `${originOf(config, headers)}/api/v1/auth/callback`
}

function redirect(location: string, cookies: readonly string[] = []) {
  return raw('', 'text/plain; charset=utf-8', { status: 302, headers: { location, 'cache-control': 'no-store', ...(cookies.length ? { 'set-cookie': cookies } : {}) } })
}

export function authRoutes(deps: AuthDeps): Service {
  const { config, sessions, oidc, mapping, logger } = deps
  // Behind a reverse proxy at https://host/gateway/, every redirect into the console goes through the prefix.
  const base = basePathOf(config.public_url)
  const signInPage = `${base}/sign-in`
  const cookieOptions = (headers: Headers, maxAge: number) => ({ secure: isSecure(config, headers), sameSite: config.same_site, maxAge })
  const signInError = (code: string) => `${signInPage}?error=${encodeURIComponent(code)}`

  const options: RouteSpec = {
    method: 'GET', path: '/options', summary: 'How one may sign in to the console here.', permission: null, public: true, response: OPTIONS_SCHEMA,
    handle: () => ({ oidc: oidc ? { label: oidc.label } : null, api_key: config.api_key_sign_in }),
  }

  const login: RouteSpec<unknown, { return_to?: string }> = {
    method: 'GET', path: '/login', summary: 'Start an OpenID Connect sign-in (a redirect to the issuer).', permission: null, public: true, status: 302,
    query: { type: 'object', properties: { return_to: { type: 'string', maxLength: 2000 } } },
    async handle({ query, headers }) {
      if (!oidc) throw notFound('No OpenID Connect issuer is configured here: sign in with an API key.', 'oidc_not_configured')
      const redirectUri = redirectUriOf(config, headers)
      const started = await oidc.start(redirectUri)
      const value = encodeLogin({ state: started.state, nonce: started.nonce, codeVerifier: started.codeVerifier, returnTo: safeReturnTo(query.return_to), startedAt: Date.now() })
      // Lax: the issuer's redirect back is a cross-site navigation. Over plain http it is sent to the callback only.
      return redirect(started.url.href, [setCookie(LOGIN_COOKIE, value, { ...cookieOptions(headers, LOGIN_TTL_S), sameSite: 'lax', path: new URL(redirectUri).pathname })])
    },
  }

  const callback: RouteSpec<unknown, Record<string, string>> = {
    method: 'GET', path: '/callback', summary: 'The issuer\'s answer to a sign-in: sets the session cookie.', permission: null, public: true, status: 302,
    async handle({ query, headers }) {
      const secure = isSecure(config, headers)
      const redirectUri = redirectUriOf(config, headers)
      // The login is used once: whatever happens next, the browser forgets it.
      const clearLogin = clearCookie(LOGIN_COOKIE, secure, new URL(redirectUri).pathname)
      if (!oidc || !mapping) throw notFound('No OpenID Connect issuer is configured here.', 'oidc_not_configured')
      // Over TLS only the __Host- cookie counts: one a sibling site set under the plain name is not this browser's login.
      const pending = decodeLogin(readCookie(headers, LOGIN_COOKIE, secure), Date.now(), LOGIN_TTL_S)
      // No login of this browser's (none, expired, or another login's state: a forged callback): start again.
      if (!pending || !sameState(query.state, pending)) return redirect(signInError('login_expired'), clearLogin)
      if (typeof query.error === 'string') {
        logger.info({ error: query.error }, 'the issuer refused a sign-in')
        return redirect(signInError(ISSUER_ERRORS.has(query.error) ? 'access_denied' : 'login_failed'), clearLogin)
      }
      try {
        const url = new URL(redirectUri)
        for (const [key, value] of Object.entries(query)) if (typeof value === 'string') url.searchParams.set(key, value)
        // The issuer redeems a code once, and only with this login's PKCE verifier; the ID token must carry its nonce.
        const claims = await oidc.finish(url, pending)
        const identity = identityOf(claims, mapping)
        if (!identity) throw new Error(`the ID token has no subject (${mapping.subject.join(' or ')} claim)`)
        const user = await recordUser(deps.identity.users, identity)
        // A session the browser already had (someone else's, or planted) ends here: sign-in always makes a new one.
        const previous = readCookie(headers, SESSION_COOKIE)
        if (previous) await sessions.revoke(previous)
        const { token } = await sessions.create({ method: 'oidc', principal: userPrincipal(user, 'auth.session'), userAgent: header(headers, 'user-agent') })
        logger.info({ userId: user.id }, 'signed in')
        return redirect(`${base}${safeReturnTo(pending.returnTo)}`, [setCookie(SESSION_COOKIE, token, cookieOptions(headers, config.session_ttl_s)), ...clearLogin])
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'a sign-in failed')
        return redirect(signInError('login_failed'), clearLogin)
      }
    },
  }

  const session: RouteSpec = {
    method: 'POST', path: '/session', summary: 'Trade the API key this request is made with for a console session.', permission: null, status: 201, body: EMPTY_BODY_SCHEMA, response: ME_SCHEMA,
    async handle({ caller, headers }) {
      if (!config.api_key_sign_in) throw badRequest('Signing in with an API key is turned off here.', null, 'api_key_sign_in_disabled')
      const { principal } = caller
      if (principal.strategy === 'none') throw badRequest('This gateway has no auth configured: everyone is already the anonymous admin.', null, 'auth_not_configured')
      if (principal.strategy === 'auth.session') throw badRequest('Send the API key as Authorization: Bearer <key>.', null, 'credential_required')
      // A bearer token's person signs in through the issuer (GET /login), whose session follows their user.
      if (principal.keyId === undefined) throw badRequest('Only an API key can be traded for a session; sign in through the identity provider instead.', null, 'api_key_required')
      const key = principal.keyId && deps.identity ? await deps.identity.apiKeys.get(principal.keyId).catch(() => undefined) : undefined
      const previous = readCookie(headers, SESSION_COOKIE)
      if (previous) await sessions.revoke(previous)
      const created = await sessions.create({ method: 'api_key', principal, userAgent: header(headers, 'user-agent'), notAfter: key?.expiresAt ?? undefined })
      return reply(meView({ ...caller, principal: created.session.principal }, created.session), {
        status: 201,
        message: 'signed in',
        headers: { 'set-cookie': setCookie(SESSION_COOKIE, created.token, cookieOptions(headers, config.session_ttl_s)), 'cache-control': 'no-store' },
      })
    },
  }

  const me: RouteSpec = {
    method: 'GET', path: '/me', summary: 'Who the caller is, what their role may do, and their session\'s CSRF token.', permission: null, response: ME_SCHEMA,
    async handle({ caller, headers }) {
      const token = caller.principal.strategy === 'auth.session' ? readCookie(headers, SESSION_COOKIE) : undefined
      const live = token ? await sessions.resolve(token) : undefined
      return reply(meView(caller, live), { headers: { 'cache-control': 'no-store' } })
    },
  }

  const logout: RouteSpec = {
    method: 'POST', path: '/logout', summary: 'End the session: its cookie is no good anywhere from now on.', permission: null, body: EMPTY_BODY_SCHEMA, response: SIGNED_OUT_SCHEMA,
    async handle({ caller, headers }) {
      const token = readCookie(headers, SESSION_COOKIE)
      const live = token && caller.principal.strategy === 'auth.session' ? await sessions.resolve(token) : undefined
      if (token) await sessions.revoke(token)
      const after = live?.method === 'oidc' && oidc ? await oidc.signOutUrl(`${originOf(config, headers)}/`).catch(() => undefined) : undefined
      return reply({ redirect: after ?? signInPage }, { message: 'signed out', headers: { 'set-cookie': clearCookie(SESSION_COOKIE, isSecure(config, headers)), 'cache-control': 'no-store' } })
    },
  }

  return { routes: [options, login, callback, session, me, logout] }
}
