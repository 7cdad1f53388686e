/**
 * Console test fixtures: a gateway with the console, sign-in (service.auth, auth.session) and a
 * test OIDC issuer, and a cookie-keeping HTTP client that follows a sign-in's redirects between
 * the gateway and the issuer the way a browser does.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as oidc from 'openid-client'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { startTestIssuer, type TestIssuer } from '../helpers/oidc-issuer.ts'

export const ADMIN_KEY = 'console-test-admin-key-0123456789'

export interface SignInSetup {
  readonly gw: RunningGateway
  readonly issuer: TestIssuer
  close(): Promise<void>
}

/** The gateway's config: sessions first, then API keys; the issuer's roles and groups mapped like Entra's. */
export interface ConfigParts {
  /** YAML lines under providers: (indented two spaces). */
  readonly providers?: string
  /** YAML lines under routes:. */
  readonly routes?: string
  /** More YAML lines under services:. */
  readonly services?: string
  /** More YAML lines under services.auth.oidc (indented six spaces). */
  readonly oidc?: string
  /** More YAML lines under services.auth (indented four spaces). */
  readonly auth?: string
  /** The store line (default: the embedded store in memory, without pgvector). */
  readonly store?: string
}

export function signInConfig(issuer: { url: string; clientId: string; clientSecret: string }, parts: ConfigParts = {}): string {
  return `version: 1
${parts.store ?? 'store: { plugin: embedded, memory: true, vector: false }'}
providers:
  mock: { plugin: mock }
${parts.providers ?? ''}
routes:
  - { model: mock, targets: [ { provider: mock } ] }
${parts.routes ?? ''}
auth:
  strategies:
    - plugin: session
    - plugin: jwt
      issuer: ${issuer.url}
      audience: ${issuer.clientId}
      jwks_uri: ${issuer.url}/jwks
      role_map: { Gateway.Admin: admin, Gateway.User: user }
      claims: { department: groups }
    - plugin: api-key
      keys: [ { key: "${ADMIN_KEY}", user: admin, role: admin } ]
services:
  keys: {}
  users: {}
  analytics: {}
  auth:
    cache_ttl_s: 0
    oidc:
      issuer: ${issuer.url}
      client_id: ${issuer.clientId}
      client_secret: ${issuer.clientSecret}
      allow_http: true
      label: Test IdP
      role_map: { Gateway.Admin: admin, Gateway.User: user }
      claims: { department: groups }
${parts.oidc ?? ''}
${parts.auth ?? ''}
${parts.services ?? ''}`
}

/** An issuer and a gateway that trust each other (the issuer accepts the gateway's callback, and a test's own). */
export async function startSignIn(parts: ConfigParts = {}, more: { redirectUris?: readonly string[]; postLogoutRedirectUris?: readonly string[] } = {}): Promise<SignInSetup> {
  let gatewayUrl = ''
  // The https one is the gateway behind a TLS-terminating proxy (X-Forwarded-Proto: https).
  const issuer = await startTestIssuer({
    redirectUris: () => [`${gatewayUrl}/api/v1/auth/callback`, `${gatewayUrl.replace('http:', 'https:')}/api/v1/auth/callback`, TEST_REDIRECT, ...(more.redirectUris ?? [])],
    postLogoutRedirectUris: () => [`${gatewayUrl}/`, ...(more.postLogoutRedirectUris ?? [])],
  })
  const gw = await startTestGateway(signInConfig(issuer, parts))
  gatewayUrl = gw.url
  return { gw, issuer, close: async () => { await gw.close(); await issuer.close() } }
}

/** A redirect URI the test itself catches, to get the issuer's tokens without the gateway. */
export const TEST_REDIRECT = 'http://127.0.0.1:9/test-callback'

export interface Reply {
  readonly status: number
  readonly headers: Headers
  readonly body: any
  readonly url: string
}

/** A cookie jar per host, as a browser keeps one, and requests that send and collect cookies. */
export class CookieClient {
  readonly jar = new Map<string, Map<string, string>>()
  /** Every Set-Cookie header seen, as sent. */
  readonly setCookies: string[] = []

  cookie(url: string, name: string): string | undefined {
    return this.jar.get(new URL(url).host)?.get(name)
  }

  setCookie(url: string, name: string, value: string): void {
    const host = new URL(url).host
    if (!this.jar.has(host)) this.jar.set(host, new Map())
    this.jar.get(host)!.set(name, value)
  }

  async request(url: string, init: { method?: string; headers?: Record<string, string>; body?: unknown; form?: Record<string, string> } = {}): Promise<Reply> {
    const host = new URL(url).host
    const cookies = [...(this.jar.get(host) ?? new Map()).entries()].map(([k, v]) => `${k}=${v}`).join('; ')
    const res = await fetch(url, {
      method: init.method ?? 'GET',
      redirect: 'manual',
      headers: { ...(cookies ? { cookie: cookies } : {}), ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
      body: init.form ? new URLSearchParams(init.form) : init.body === undefined ? undefined : JSON.stringify(init.body),
    })
    for (const line of res.headers.getSetCookie()) {
      this.setCookies.push(line)
      const [pair, ...attrs] = line.split(';')
      const at = pair!.indexOf('=')
      const name = pair!.slice(0, at).trim()
      const value = pair!.slice(at + 1).trim()
      const gone = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === ''
      if (!this.jar.has(host)) this.jar.set(host, new Map())
      if (gone) this.jar.get(host)!.delete(name)
      else this.jar.get(host)!.set(name, value)
    }
    const text = await res.text()
    let body: unknown = text
    try { body = JSON.parse(text) } catch { /* not JSON */ }
    return { status: res.status, headers: res.headers, body, url }
  }

  /** Follow redirects from `url` until one leaves for `stopAt` (not requested) or a page answers; returns the last answer and the stop URL if reached. */
  async follow(url: string, options: { stopAt?: string; headers?: Record<string, string> } = {}): Promise<{ last: Reply; stoppedAt?: string; hops: string[] }> {
    const hops: string[] = []
    let next = url
    for (let i = 0; i < 20; i++) {
      if (options.stopAt && next.startsWith(options.stopAt)) return { last: { status: 0, headers: new Headers(), body: null, url: next }, stoppedAt: next, hops }
      hops.push(next)
      const reply = await this.request(next, { headers: options.headers })
      const location = reply.headers.get('location')
      if (reply.status < 300 || reply.status >= 400 || !location) return { last: reply, hops }
      next = new URL(location, next).href
    }
    throw new Error(`too many redirects: ${hops.join(' → ')}`)
  }
}

/** Sign in through the issuer as `issuer.account`; returns the client holding the session, and where the gateway sent it. */
export async function signIn(setup: SignInSetup, returnTo = '/', client = new CookieClient(), headers: Record<string, string> = {}): Promise<{ client: CookieClient; landedAt: string; hops: string[] }> {
  const { hops } = await client.follow(`${setup.gw.url}/api/v1/auth/login?return_to=${encodeURIComponent(returnTo)}`, { headers })
  return { client, landedAt: hops[hops.length - 1]!, hops }
}

/** An ID token for `issuer.account`, got by a client of the test's own (not the gateway) from the same issuer. */
export async function idTokenFor(setup: SignInSetup): Promise<string> {
  const config = await oidc.discovery(new URL(setup.issuer.url), setup.issuer.clientId, setup.issuer.clientSecret, undefined, { execute: [oidc.allowInsecureRequests] })
  const verifier = oidc.randomPKCECodeVerifier()
  const url = oidc.buildAuthorizationUrl(config, { redirect_uri: TEST_REDIRECT, scope: 'openid profile email', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 's1' })
  const { stoppedAt } = await new CookieClient().follow(url.href, { stopAt: TEST_REDIRECT })
  const tokens = await oidc.authorizationCodeGrant(config, new URL(stoppedAt!), { pkceCodeVerifier: verifier, expectedState: 's1' })
  return tokens.id_token!
}

export interface PrefixProxy {
  /** The proxy's origin; the gateway is at `${url}${prefix}/`. */
  readonly url: string
  /** Where requests go (set once the gateway runs). */
  target: string
  close(): Promise<void>
}

/**
 * A reverse proxy that serves the gateway under a path prefix, as nginx's `location /gateway/ {
 * proxy_pass http://gateway/; }` does: it strips the prefix, passes the rest on with X-Forwarded-*
 * headers, streams the answer back, and rewrites nothing (the gateway must know its prefix).
 */
export async function startPrefixProxy(prefix: string): Promise<PrefixProxy> {
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/'
    if (url === prefix) return void res.writeHead(301, { location: `${prefix}/` }).end()
    if (!url.startsWith(`${prefix}/`)) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not behind the prefix')
    const target = new URL(proxy.target)
    const upstream = http.request({
      host: target.hostname, port: target.port, method: req.method, path: url.slice(prefix.length),
      headers: { ...req.headers, host: target.host, 'x-forwarded-host': req.headers.host ?? '', 'x-forwarded-proto': 'http', 'x-forwarded-prefix': prefix },
    }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    upstream.on('error', () => res.headersSent ? res.destroy() : res.writeHead(502).end())
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const proxy: PrefixProxy = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    target: '',
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
  return proxy
}

/**
 * A console whose one admin signs in with `key` (no issuer), on the mock provider and the embedded
 * store in memory: `services` beside auth and console (a name, or `name: { settings }`), `routes` more route lines, `top` more
 * top-level YAML (e.g. `pricing:`); `vector` loads pgvector (service.rag needs it; it slows the start);
 * `otherKeys` more config keys, each a YAML flow mapping (`{ key: "…", user: sam, role: user }`).
 */
export function keyAdminConfig(key: string, parts: { services: readonly string[]; routes?: string; top?: string; vector?: boolean; otherKeys?: readonly string[] }): string {
  return `version: 1
store: { plugin: embedded, memory: true, vector: ${parts.vector ?? false} }
${parts.top ?? ''}providers:
  mock: { plugin: mock }
routes:
  - { model: mock, targets: [ { provider: mock } ] }
${parts.routes ?? ''}auth:
  strategies:
    - plugin: session
    - plugin: api-key
      keys: [ { key: "${key}", user: admin, role: admin }${(parts.otherKeys ?? []).map((k) => `, ${k}`).join('')} ]
services:
${['auth', 'console', ...parts.services].map((s) => `  ${s.includes(':') ? s : `${s}: {}`}\n`).join('')}`
}
