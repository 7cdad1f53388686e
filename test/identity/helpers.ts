/**
 * Identity test fixtures: a local OIDC issuer (a JWKS server with jose-made keys that can rotate),
 * gateway configs with the identity plugins, and small request helpers.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose'
import type { RunningGateway } from '../helpers/gateway.ts'

export const ADMIN_KEY = 'test-admin-key-0123456789abcdef'
export const ADMIN = { authorization: `Bearer ${ADMIN_KEY}` }
export const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` })

/** The embedded store, in memory and without pgvector: the quickest real store. */
export const MEMORY_STORE = 'store: { plugin: embedded, memory: true, vector: false }\n'

/** Providers and routes most identity tests use: three mock routes and a glob. */
export const ROUTES = `providers:
  mock: { plugin: mock }
routes:
  - { model: mock-a, targets: [ { provider: mock } ] }
  - { model: mock-b, aliases: [ b-alias ], targets: [ { provider: mock } ] }
  - { model: mock-c, targets: [ { provider: mock } ] }
  - { model: 'claude-*', targets: [ { provider: mock } ] }
`

/** A config: version, the routes, a store unless `store: ''`, and whatever else the test adds. */
export function config(parts: { auth: string; store?: string; extra?: string; routes?: string }): string {
  return `version: 1\n${parts.store ?? MEMORY_STORE}${parts.routes ?? ROUTES}auth:\n  strategies:\n${parts.auth}${parts.extra ?? ''}`
}

/** An api-key strategy with the admin bootstrap key, and more config keys if given. */
export function apiKeyStrategy(more = '', options = ''): string {
  return `    - plugin: api-key\n${options}      keys:\n        - { key: "${ADMIN_KEY}", user: admin, role: admin }\n${more}`
}

export interface Answer {
  status: number
  headers: Headers
  body: any
}

export async function call(gw: RunningGateway, method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers: { ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  })
  const text = await res.text()
  let body: unknown = text
  try { body = JSON.parse(text) } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, body }
}

export const chat = (gw: RunningGateway, headers: Record<string, string>, model = 'mock-a'): Promise<Answer> =>
  call(gw, 'POST', '/v1/chat/completions', { headers, body: { model, messages: [{ role: 'user', content: 'hello' }] } })

export async function modelIds(gw: RunningGateway, headers: Record<string, string>): Promise<string[]> {
  const res = await call(gw, 'GET', '/v1/models', { headers })
  if (res.status !== 200) throw new Error(`GET /v1/models: ${res.status} ${JSON.stringify(res.body)}`)
  return (res.body as { data: { id: string }[] }).data.map((m) => m.id)
}

/** Create a virtual key as `headers` (the admin by default); returns the secret and the record. */
export async function createKey(gw: RunningGateway, body: Record<string, unknown> = {}, headers: Record<string, string> = ADMIN): Promise<{ key: string; id: string; record: any }> {
  const res = await call(gw, 'POST', '/api/v1/keys', { headers, body })
  if (res.status !== 201) throw new Error(`POST /api/v1/keys: ${res.status} ${JSON.stringify(res.body)}`)
  return { key: res.body.data.key, id: res.body.data.id, record: res.body.data }
}

// ---------------------------------------------------------------------------------------------
// a local OIDC issuer

export interface SigningKey {
  readonly kid: string
  readonly alg: string
  readonly privateKey: CryptoKey
  readonly jwk: JWK
}

export async function signingKey(kid: string, alg = 'RS256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }
  return { kid, alg, privateKey, jwk }
}

export interface Issuer {
  readonly url: string
  readonly issuer: string
  readonly jwksUri: string
  /** How many times the JWKS was fetched. */
  readonly fetches: number
  /** Publish these keys from now on (rotation). */
  publish(keys: readonly SigningKey[]): void
  /** While true, the JWKS is answered 503 (the issuer is down). */
  down: boolean
  /** How long each JWKS answer takes. */
  delayMs: number
  close(): Promise<void>
}

/** An HTTP server that serves a JWKS at /keys, like an identity provider's jwks_uri. */
export async function startIssuer(keys: readonly SigningKey[]): Promise<Issuer> {
  let published = keys
  let fetches = 0
  const state = { down: false, delayMs: 0 }
  const server = http.createServer(async (req, res) => {
    if (req.url !== '/keys') {
      res.writeHead(404).end()
      return
    }
    fetches++
    if (state.delayMs) await new Promise((resolve) => setTimeout(resolve, state.delayMs))
    if (state.down) {
      res.writeHead(503).end()
      return
    }
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ keys: published.map((k) => k.jwk) }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    issuer: `${url}/issuer`,
    jwksUri: `${url}/keys`,
    get fetches() { return fetches },
    publish(next) { published = next },
    get down() { return state.down },
    set down(value) { state.down = value },
    get delayMs() { return state.delayMs },
    set delayMs(value) { state.delayMs = value },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

export interface TokenOptions {
  issuer?: string
  audience?: string
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number
  /** Seconds from now for nbf. */
  notBefore?: number
  /** Override the header's kid (or omit it with null). */
  kid?: string | null
}

/** A signed JWT with the usual claims; `claims` adds or overrides. */
export async function sign(key: SigningKey, claims: JWTPayload, options: TokenOptions & { issuer: string; audience: string }): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  const jwt = new SignJWT({ ...claims })
    .setProtectedHeader({ alg: key.alg, typ: 'JWT', ...(options.kid === null ? {} : { kid: options.kid ?? key.kid }) })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresIn ?? 300))
  if (options.notBefore !== undefined) jwt.setNotBefore(now + options.notBefore)
  return jwt.sign(key.privateKey)
}

/** An unsecured JWT (`alg: none`), as an attacker would send it. */
export function unsignedToken(claims: JWTPayload): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`
}

/** The store's user id of each person, as their key's first call records them (GET /api/v1/users/me). */
export async function recordedUserIds<P extends string>(gw: RunningGateway, people: readonly P[], as: (who: P) => Record<string, string>): Promise<Record<P, string>> {
  const ids = {} as Record<P, string>
  for (const who of people) {
    const me = await call(gw, 'GET', '/api/v1/users/me', { headers: as(who) })
    if (me.status !== 200) throw new Error(`GET /api/v1/users/me as ${who}: ${me.status}`)
    ids[who] = (me.body as { data: { user_id: string } }).data.user_id
  }
  return ids
}
