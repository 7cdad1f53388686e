/**
 * Console sign-in (service.auth + auth.session) over HTTP, against a real OIDC issuer: the
 * authorization code flow with PKCE, the session cookie's flags, CSRF, session fixation, open
 * redirects, sign-out and expiry in the store, API-key sign-in, and the principal a session
 * resolves to (the same as the jwt strategy makes of the same person's ID token).
 */
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Store } from '../../plugin-api/index.ts'
import { capability, startTestGateway } from '../helpers/gateway.ts'
import { ADMIN_KEY, CookieClient, idTokenFor, signIn, startSignIn, type SignInSetup } from './helpers.ts'

const ADMIN = { authorization: `Bearer ${ADMIN_KEY}` }
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex')
const session = (client: CookieClient, setup: SignInSetup) => client.cookie(setup.gw.url, 'gw_session')

let setup: SignInSetup
// A generous start: the embedded store's first start compiles PGlite, slow on a loaded machine.
beforeAll(async () => { setup = await startSignIn() }, 90_000)
afterAll(async () => { await setup?.close() })

async function csrfOf(client: CookieClient): Promise<string> {
  const me = await client.request(`${setup.gw.url}/api/v1/auth/me`)
  expect(me.status).toBe(200)
  return me.body.data.session.csrf_token
}

describe('OIDC sign-in', () => {
  it('signs in through the issuer with PKCE and lands on the page it started from, with the mapped role and department', async () => {
    setup.issuer.account = { sub: 'oidc-alice', name: 'Alice', email: 'alice@example.com', roles: ['Gateway.User'], groups: ['research'] }
    const { client, landedAt, hops } = await signIn(setup, '/analytics?range=7d')
    const authorize = new URL(hops.find((h) => h.startsWith(`${setup.issuer.url}/auth`))!)
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256')
    expect(authorize.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/)
    expect(authorize.searchParams.get('state')).toBeTruthy()
    expect(authorize.searchParams.get('nonce')).toBeTruthy()
    expect(landedAt).toBe(`${setup.gw.url}/analytics?range=7d`)
    const me = await client.request(`${setup.gw.url}/api/v1/auth/me`)
    expect(me.body.data).toMatchObject({ name: 'Alice', email: 'alice@example.com', role: 'user', department: 'research', strategy: 'auth.session', anonymous: false })
    expect(me.body.data.session).toMatchObject({ method: 'oidc' })
    expect(me.headers.get('cache-control')).toBe('no-store')
  })

  it('resolves to the same principal as the jwt strategy makes of the same person\'s ID token', async () => {
    setup.issuer.account = { sub: 'oidc-bob', name: 'Bob', email: 'bob@example.com', roles: ['Gateway.Admin'], groups: ['finance'] }
    const { client } = await signIn(setup)
    const viaSession = (await client.request(`${setup.gw.url}/api/v1/auth/me`)).body.data

    // The same person's ID token, got by a client of our own from the same issuer.
    const viaToken = (await client.request(`${setup.gw.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${await idTokenFor(setup)}` } })).body.data
    expect(viaToken.strategy).toBe('auth.jwt')
    for (const field of ['user_id', 'role', 'department', 'name', 'email'] as const) expect(viaSession[field]).toBe(viaToken[field])
    expect(viaSession).toMatchObject({ role: 'admin', department: 'finance' })
  })

  it('takes an admin\'s role change at the session\'s next request', async () => {
    setup.issuer.account = { sub: 'oidc-carol', name: 'Carol', roles: ['Gateway.User'] }
    const { client } = await signIn(setup)
    const me = (await client.request(`${setup.gw.url}/api/v1/auth/me`)).body.data
    expect((await client.request(`${setup.gw.url}/api/v1/users`)).status).toBe(403)
    const patched = await client.request(`${setup.gw.url}/api/v1/users/${me.user_id}`, { method: 'PATCH', headers: ADMIN, body: { role: 'department_admin', department: 'research' } })
    expect(patched.status).toBe(200)
    expect((await client.request(`${setup.gw.url}/api/v1/auth/me`)).body.data).toMatchObject({ role: 'department_admin', department: 'research' })
  })

  it('refuses a person whose subject is in the config keys\' namespace: they never sign in as the config admin', async () => {
    const before = setup.issuer.account
    setup.issuer.account = { sub: 'config:admin', name: 'Mallory', roles: ['Gateway.User'] }
    const { client, landedAt } = await signIn(setup).finally(() => { setup.issuer.account = before })
    expect(landedAt).toBe(`${setup.gw.url}/sign-in?error=login_failed`)
    expect(session(client, setup)).toBeUndefined()
    const admin = (await client.request(`${setup.gw.url}/api/v1/users/me`, { headers: ADMIN })).body.data.user
    expect(admin).toMatchObject({ external_subject: 'config:admin', name: 'admin', role: 'admin' })
  })

  it('sends a refusal at the issuer back to the sign-in page without a session', async () => {
    setup.issuer.refuseNext = 'access_denied'
    const { client, landedAt } = await signIn(setup)
    expect(landedAt).toBe(`${setup.gw.url}/sign-in?error=access_denied`)
    expect(session(client, setup)).toBeUndefined()
  })
})

describe('session cookie', () => {
  it('is HttpOnly, SameSite=Lax, Path=/ and not Secure over plain http', async () => {
    const { client } = await signIn(setup)
    const line = client.setCookies.find((c) => c.startsWith('gw_session='))!
    expect(line).toMatch(/HttpOnly/i)
    expect(line).toMatch(/SameSite=Lax/i)
    expect(line).toMatch(/Path=\//i)
    expect(line).not.toMatch(/Secure/i)
    expect(line).toMatch(/Max-Age=28800/i)
  })

  it('is Secure with the __Host- prefix when the request came over TLS', async () => {
    // As behind a TLS-terminating proxy: the issuer sends the browser to https://…/callback, which the proxy forwards.
    const client = new CookieClient()
    const tls = { 'x-forwarded-proto': 'https' }
    const start = await client.request(`${setup.gw.url}/api/v1/auth/login`, { headers: tls })
    const httpsCallback = `${setup.gw.url.replace('http:', 'https:')}/api/v1/auth/callback`
    const { stoppedAt } = await client.follow(start.headers.get('location')!, { stopAt: httpsCallback })
    expect((await client.request(stoppedAt!.replace('https:', 'http:'), { headers: tls })).status).toBe(302)
    expect(client.setCookies.find((c) => c.startsWith('__Host-gw_login='))).toMatch(/;\s*Secure/i)
    const line = client.setCookies.find((c) => c.startsWith('__Host-gw_session='))!
    expect(line).toBeDefined()
    expect(line).toMatch(/;\s*Secure/i)
    expect(line).toMatch(/HttpOnly/i)
    expect(line).not.toMatch(/Domain=/i)
    expect(client.setCookies.some((c) => c.startsWith('gw_session='))).toBe(false)
    // And it works as a credential.
    expect((await client.request(`${setup.gw.url}/api/v1/auth/me`, { headers: { 'x-forwarded-proto': 'https' } })).status).toBe(200)
  })
})

describe('security', () => {
  it('refuses a state-changing request without the session\'s CSRF token, or with another\'s', async () => {
    setup.issuer.account = { sub: 'oidc-admin', roles: ['Gateway.Admin'] }
    const { client } = await signIn(setup)
    const other = await signIn(setup)
    const url = `${setup.gw.url}/api/v1/keys`
    const none = await client.request(url, { method: 'POST', body: { name: 'csrf' } })
    expect(none.status).toBe(403)
    expect(none.body.error).toBe('csrf_token_invalid')
    const foreign = await client.request(url, { method: 'POST', body: { name: 'csrf' }, headers: { 'x-csrf-token': await csrfOf(other.client) } })
    expect(foreign.status).toBe(403)
    const chatWithout = await client.request(`${setup.gw.url}/v1/chat/completions`, { method: 'POST', body: { model: 'mock', messages: [{ role: 'user', content: 'hi' }] } })
    expect(chatWithout.status).toBe(403)
    // Reads need no token; with the token, the same write goes through.
    expect((await client.request(url)).status).toBe(200)
    const ok = await client.request(url, { method: 'POST', body: { name: 'csrf' }, headers: { 'x-csrf-token': await csrfOf(client) } })
    expect(ok.status).toBe(201)
  })

  it('never keeps a session id the browser had before signing in (session fixation)', async () => {
    const victim = new CookieClient()
    // A value an attacker planted, and a real session of the attacker's own.
    victim.setCookie(setup.gw.url, 'gw_session', 'attacker-chosen-value')
    const attacker = await signIn(setup)
    const attackerSession = session(attacker.client, setup)!
    victim.setCookie(setup.gw.url, 'gw_session', attackerSession)
    await signIn(setup, '/', victim)
    const fresh = session(victim, setup)!
    expect(fresh).not.toBe(attackerSession)
    expect(fresh).not.toBe('attacker-chosen-value')
    expect(fresh).toMatch(/^[\w-]{43}$/)
    // The planted session is over: the attacker cannot ride on the victim's sign-in.
    expect((await attacker.client.request(`${setup.gw.url}/api/v1/auth/me`)).status).toBe(401)
  })

  it('redirects only within the gateway after sign-in (no open redirect through return_to or the callback)', async () => {
    for (const evil of ['https://evil.example/x', '//evil.example/x', '/\\evil.example/x', 'javascript:alert(1)', '/%0d%0aSet-Cookie:x=y']) {
      const { landedAt } = await signIn(setup, evil)
      expect(new URL(landedAt).origin).toBe(setup.gw.url)
    }
    // The callback reads no target of its own.
    const client = new CookieClient()
    const start = await client.request(`${setup.gw.url}/api/v1/auth/login?return_to=/keys`)
    const issued = await client.follow(start.headers.get('location')!, { stopAt: `${setup.gw.url}/api/v1/auth/callback` })
    const back = await client.request(`${issued.stoppedAt}&return_to=https://evil.example&redirect_uri=https://evil.example`)
    expect(back.status).toBe(302)
    expect(back.headers.get('location')).toBe('/keys')
  })

  it('refuses a callback the browser did not start, and a callback used twice (the issuer redeems a code once)', async () => {
    const starter = new CookieClient()
    const start = await starter.request(`${setup.gw.url}/api/v1/auth/login`)
    const issued = await starter.follow(start.headers.get('location')!, { stopAt: `${setup.gw.url}/api/v1/auth/callback` })
    // Another browser (an attacker forwarding their own code): no login cookie of its own.
    const other = new CookieClient()
    const forged = await other.request(issued.stoppedAt!)
    expect(forged.headers.get('location')).toBe('/sign-in?error=login_expired')
    expect(session(other, setup)).toBeUndefined()
    const first = await starter.request(issued.stoppedAt!)
    expect(first.headers.get('location')).toBe('/')
    // The first callback cleared the login cookie; a copy of it, replayed with the same code, signs no one in.
    expect(starter.cookie(setup.gw.url, 'gw_login')).toBeUndefined()
    const loginCookie = starter.setCookies.find((c) => c.startsWith('gw_login='))!.split(';')[0]!
    const replay = await fetch(issued.stoppedAt!, { redirect: 'manual', headers: { cookie: loginCookie } })
    expect(replay.headers.get('location')).toBe('/sign-in?error=login_failed')
    expect(replay.headers.getSetCookie().some((c) => c.startsWith('gw_session='))).toBe(false)
  })

  it('signs out in the store: the old cookie is refused afterwards, even if replayed', async () => {
    const { client } = await signIn(setup)
    const token = session(client, setup)!
    const out = await client.request(`${setup.gw.url}/api/v1/auth/logout`, { method: 'POST', headers: { 'x-csrf-token': await csrfOf(client) } })
    expect(out.status).toBe(200)
    expect(out.body.data.redirect).toBe('/sign-in')
    expect(out.headers.getSetCookie().some((c) => /^gw_session=;/.test(c) && /Max-Age=0/i.test(c))).toBe(true)
    const replayed = await fetch(`${setup.gw.url}/api/v1/auth/me`, { headers: { cookie: `gw_session=${token}` } })
    expect(replayed.status).toBe(401)
    expect((await replayed.json()).error).toBe('session_expired')
    const { rows } = await capability(setup.gw, Store).sql.query('SELECT count(*)::int AS n FROM user_sessions WHERE token_hash = $1', [sha256(token)])
    expect(rows[0]).toEqual({ n: 0 })
  })

  it('ends a session at its expiry and after its idle timeout (default 3600 s), not before', async () => {
    const sql = capability(setup.gw, Store).sql
    const me = (client: CookieClient) => client.request(`${setup.gw.url}/api/v1/auth/me`)
    const age = async (client: CookieClient, column: 'expires_at' | 'last_seen_at', seconds: number) =>
      sql.query(`UPDATE user_sessions SET ${column} = now() + make_interval(secs => $2) WHERE token_hash = $1`, [sha256(session(client, setup)!), seconds])
    const expired = (await signIn(setup)).client
    const idle = (await signIn(setup)).client
    for (const client of [expired, idle]) expect((await me(client)).status).toBe(200)

    // Just inside both limits the sessions still work...
    await age(expired, 'expires_at', 5)
    await age(idle, 'last_seen_at', -3500)
    for (const client of [expired, idle]) expect((await me(client)).status).toBe(200)

    // ...and just past them they end, and are gone from the store.
    await age(expired, 'expires_at', -1)
    await age(idle, 'last_seen_at', -3700)
    for (const client of [expired, idle]) {
      const res = await me(client)
      expect(res.status).toBe(401)
      expect(res.body.error).toBe('session_expired')
      const { rows } = await sql.query('SELECT count(*)::int AS n FROM user_sessions WHERE token_hash = $1', [sha256(session(client, setup)!)])
      expect(rows[0]).toEqual({ n: 0 })
    }
  })

  it('stores only a hash of the session id', async () => {
    const { client } = await signIn(setup)
    const token = session(client, setup)!
    const { rows } = await capability(setup.gw, Store).sql.query<{ n: number }>('SELECT count(*)::int AS n FROM user_sessions WHERE token_hash = $1', [token])
    expect(rows[0]!.n).toBe(0)
  })

  it('gives a non-admin session no admin pages: 403 from the admin and user APIs', async () => {
    setup.issuer.account = { sub: 'oidc-dave', roles: ['Gateway.User'] }
    const { client } = await signIn(setup)
    const me = (await client.request(`${setup.gw.url}/api/v1/auth/me`)).body.data
    expect(me.permissions).not.toContain('manage_gateway')
    for (const path of ['/api/v1/admin/routes', '/api/v1/users']) {
      const res = await client.request(`${setup.gw.url}${path}`)
      expect(res.status).toBe(403)
      expect(res.body.error).toBe('permission_denied')
    }
  })
})

describe('the login under way (in the browser\'s login cookie, not the store)', () => {
  const CALLBACK = '/api/v1/auth/callback'
  /** The login cookie's contents; the same, written back. */
  const open = (value: string) => JSON.parse(Buffer.from(value, 'base64url').toString('utf8'))
  const seal = (fields: object) => Buffer.from(JSON.stringify(fields)).toString('base64url')

  /** A fresh browser's login, stopped where the issuer sends it back: the callback URL (code and state) and the login cookie's contents. */
  async function atCallback(returnTo = '/') {
    const client = new CookieClient()
    const { stoppedAt } = await client.follow(`${setup.gw.url}/api/v1/auth/login?return_to=${encodeURIComponent(returnTo)}`, { stopAt: `${setup.gw.url}${CALLBACK}` })
    const login = open(client.cookie(setup.gw.url, 'gw_login')!)
    return { client, callback: stoppedAt!, login, plant: (fields: object) => client.setCookie(setup.gw.url, 'gw_login', seal({ ...login, ...fields })) }
  }

  /** Every table's row count, to see that something wrote nothing. */
  async function rowCounts(): Promise<Record<string, number>> {
    const sql = capability(setup.gw, Store).sql
    const { rows } = await sql.query<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`)
    const counts: Record<string, number> = {}
    for (const { t } of rows) counts[t] = (await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${t}"`)).rows[0]!.n
    return counts
  }

  it('writes nothing to the store for 1,000 unauthenticated GET /login calls', async () => {
    const before = await rowCounts()
    for (let i = 0; i < 1000; i++) {
      const res = await fetch(`${setup.gw.url}/api/v1/auth/login?return_to=/keys`, { redirect: 'manual' })
      expect(res.status).toBe(302)
      await res.arrayBuffer()
    }
    expect(await rowCounts()).toEqual(before)
    expect(Object.keys(before)).not.toContain('auth_logins')
  }, 120_000)

  it('is an HttpOnly, SameSite=Lax cookie sent only to the callback, for 600 s, under 4 KB with the longest return_to', async () => {
    const long = `/${'a'.repeat(1999)}`
    const res = await fetch(`${setup.gw.url}/api/v1/auth/login?return_to=${encodeURIComponent(long)}`, { redirect: 'manual' })
    const line = res.headers.getSetCookie().find((c) => c.startsWith('gw_login='))!
    expect(line).toMatch(/HttpOnly/i)
    expect(line).toMatch(/SameSite=Lax/i)
    expect(line).toMatch(new RegExp(`Path=${CALLBACK}(;|$)`, 'i'))
    expect(line).toMatch(/Max-Age=600/i)
    expect(line.length).toBeLessThan(4000)
    expect(open(line.slice('gw_login='.length).split(';')[0]!).r).toBe(long)
    // A return_to that grows past 2000 characters when percent-encoded goes to / rather than overflow the cookie.
    const wide = await fetch(`${setup.gw.url}/api/v1/auth/login?return_to=${encodeURIComponent(`/${'é'.repeat(1999)}`)}`, { redirect: 'manual' })
    const wideLine = wide.headers.getSetCookie().find((c) => c.startsWith('gw_login='))!
    expect(wideLine.length).toBeLessThan(4000)
    expect(open(wideLine.slice('gw_login='.length).split(';')[0]!).r).toBe('/')
  })

  it('refuses a callback whose state is not the one in the login cookie, and makes no session', async () => {
    const other = await atCallback()
    other.plant({ s: 'another-login-state-0123456789abcdefghijklmn' })
    const res = await other.client.request(other.callback)
    expect(res.headers.get('location')).toBe('/sign-in?error=login_expired')
    expect(session(other.client, setup)).toBeUndefined()
    expect(other.client.cookie(setup.gw.url, 'gw_login')).toBeUndefined()
    // The code of one login with the cookie of another (both this browser's, as with two tabs): refused too.
    const first = await atCallback()
    const second = await atCallback()
    first.client.setCookie(setup.gw.url, 'gw_login', seal(second.login))
    expect((await first.client.request(first.callback)).headers.get('location')).toBe('/sign-in?error=login_expired')
    expect(session(first.client, setup)).toBeUndefined()
  })

  it('refuses a login cookie 600 s old or more, counted from the time inside it, and takes one a little younger', async () => {
    const now = Math.floor(Date.now() / 1000)
    const stale = await atCallback()
    stale.plant({ t: now - 600 })
    expect((await stale.client.request(stale.callback)).headers.get('location')).toBe('/sign-in?error=login_expired')
    expect(session(stale.client, setup)).toBeUndefined()
    const fromTheFuture = await atCallback()
    fromTheFuture.plant({ t: now + 3600 })
    expect((await fromTheFuture.client.request(fromTheFuture.callback)).headers.get('location')).toBe('/sign-in?error=login_expired')
    const young = await atCallback('/keys')
    young.plant({ t: now - 590 })
    expect((await young.client.request(young.callback)).headers.get('location')).toBe('/keys')
    expect(session(young.client, setup)).toMatch(/^[\w-]{43}$/)
  })

  it('checks return_to again when the login comes back: a cookie pointing off-site lands on a path of the gateway', async () => {
    for (const evil of ['https://evil.example/x', '//evil.example/x', '/\\evil.example/x', 'javascript:alert(1)']) {
      const login = await atCallback('/keys')
      login.plant({ r: evil })
      const res = await login.client.request(login.callback)
      expect(res.status).toBe(302)
      expect(res.headers.get('location')).toBe('/')
      expect(session(login.client, setup)).toBeDefined()
    }
  })

  it('refuses a garbled login cookie', async () => {
    for (const garbage of ['not-base64-json', seal({ v: 2 }), seal([]), 'null']) {
      const login = await atCallback()
      login.client.setCookie(setup.gw.url, 'gw_login', garbage)
      expect((await login.client.request(login.callback)).headers.get('location')).toBe('/sign-in?error=login_expired')
      expect(session(login.client, setup)).toBeUndefined()
    }
  })

  it('over TLS, takes the login only from the __Host- cookie (a plain one could have been planted by a sibling site)', async () => {
    const tls = { 'x-forwarded-proto': 'https' }
    const client = new CookieClient()
    const start = await client.request(`${setup.gw.url}/api/v1/auth/login`, { headers: tls })
    const line = client.setCookies.find((c) => c.startsWith('__Host-gw_login='))!
    expect(line).toMatch(/Path=\/(;|$)/i)
    const httpsCallback = `${setup.gw.url.replace('http:', 'https:')}${CALLBACK}`
    const { stoppedAt } = await client.follow(start.headers.get('location')!, { stopAt: httpsCallback })
    const value = client.cookie(setup.gw.url, '__Host-gw_login')!
    client.jar.get(new URL(setup.gw.url).host)!.delete('__Host-gw_login')
    client.setCookie(setup.gw.url, 'gw_login', value)
    const res = await client.request(stoppedAt!.replace('https:', 'http:'), { headers: tls })
    expect(res.headers.get('location')).toBe('/sign-in?error=login_expired')
    expect(client.cookie(setup.gw.url, '__Host-gw_session')).toBeUndefined()
  })
})

describe('sign_out_of_issuer', () => {
  let withIssuerSignOut: SignInSetup
  beforeAll(async () => { withIssuerSignOut = await startSignIn({ oidc: '      sign_out_of_issuer: true' }) }, 90_000)
  afterAll(async () => { await withIssuerSignOut?.close() })

  it('ends the session at the issuer too: the next sign-in asks the person again', async () => {
    const s = withIssuerSignOut
    s.issuer.account = { sub: 'oidc-dora', name: 'Dora', roles: ['Gateway.User'] }
    const { client } = await signIn(s)
    const asked = s.issuer.interactions
    // While the issuer's session lives, signing in again goes straight through.
    await signIn(s, '/', client)
    expect(s.issuer.interactions).toBe(asked)
    const me = await client.request(`${s.gw.url}/api/v1/auth/me`)
    const token = client.cookie(s.gw.url, 'gw_session')!

    const out = await client.request(`${s.gw.url}/api/v1/auth/logout`, { method: 'POST', headers: { 'x-csrf-token': me.body.data.session.csrf_token } })
    expect(out.status).toBe(200)
    const endSession = new URL(out.body.data.redirect)
    expect(endSession.origin).toBe(s.issuer.url)
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${s.gw.url}/`)
    expect(endSession.searchParams.get('client_id')).toBe(s.issuer.clientId)
    // The gateway's session is gone at once, whatever the person does at the issuer.
    expect((await fetch(`${s.gw.url}/api/v1/auth/me`, { headers: { cookie: `gw_session=${token}` } })).status).toBe(401)

    // The browser goes to the issuer, which asks to confirm, then sends it back to the console.
    const question = await client.request(endSession.href)
    expect(question.status).toBe(200)
    const html = String(question.body)
    const action = /<form[^>]*action="([^"]+)"/.exec(html)![1]!
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!
    const confirmed = await client.request(new URL(action, s.issuer.url).href, { method: 'POST', form: { xsrf, logout: 'yes' } })
    expect(confirmed.headers.get('location')).toBe(`${s.gw.url}/`)

    // The issuer's session ended: the next sign-in shows its sign-in screen again.
    const again = await signIn(s, '/', client)
    expect(s.issuer.interactions).toBe(asked + 1)
    expect(again.landedAt).toBe(`${s.gw.url}/`)
    expect((await client.request(`${s.gw.url}/api/v1/auth/me`)).body.data.name).toBe('Dora')
  })

  it('without it, sign-out ends only the gateway\'s session', async () => {
    const { client } = await signIn(setup)
    const me = await client.request(`${setup.gw.url}/api/v1/auth/me`)
    const out = await client.request(`${setup.gw.url}/api/v1/auth/logout`, { method: 'POST', headers: { 'x-csrf-token': me.body.data.session.csrf_token } })
    expect(out.body.data.redirect).toBe('/sign-in')
    const asked = setup.issuer.interactions
    await signIn(setup, '/', client)
    expect(setup.issuer.interactions).toBe(asked)
  })
})

describe('API-key sign-in', () => {
  it('trades a virtual key for a session that acts as the key, and ends when the key is revoked', async () => {
    const created = await new CookieClient().request(`${setup.gw.url}/api/v1/keys`, { method: 'POST', headers: ADMIN, body: { name: 'console', role: 'user', user_id: null, allowed_models: ['mock'] } })
    expect(created.status).toBe(201)
    const client = new CookieClient()
    const signedIn = await client.request(`${setup.gw.url}/api/v1/auth/session`, { method: 'POST', headers: { authorization: `Bearer ${created.body.data.key}` } })
    expect(signedIn.status).toBe(201)
    expect(signedIn.body.data).toMatchObject({ role: 'user', key_id: created.body.data.id, strategy: 'auth.session', session: { method: 'api_key' } })
    const me = await client.request(`${setup.gw.url}/api/v1/auth/me`)
    expect(me.body.data).toMatchObject({ role: 'user', key_id: created.body.data.id })
    const revoked = await new CookieClient().request(`${setup.gw.url}/api/v1/keys/${created.body.data.id}`, { method: 'DELETE', headers: ADMIN })
    expect(revoked.status).toBe(200)
    expect((await client.request(`${setup.gw.url}/api/v1/auth/me`)).status).toBe(401)
  })

  it('trades a config key for a session, and refuses a bad key', async () => {
    const client = new CookieClient()
    const ok = await client.request(`${setup.gw.url}/api/v1/auth/session`, { method: 'POST', headers: ADMIN })
    expect(ok.status).toBe(201)
    expect((await client.request(`${setup.gw.url}/api/v1/admin/routes`)).status).toBe(200)
    const bad = await new CookieClient().request(`${setup.gw.url}/api/v1/auth/session`, { method: 'POST', headers: { authorization: 'Bearer not-a-key' } })
    expect(bad.status).toBe(401)
  })

  it('trades only API keys: a bearer token\'s person signs in through the issuer', async () => {
    setup.issuer.account = { sub: 'oidc-erin', roles: ['Gateway.User'] }
    const res = await new CookieClient().request(`${setup.gw.url}/api/v1/auth/session`, { method: 'POST', headers: { authorization: `Bearer ${await idTokenFor(setup)}` } })
    expect(res.status).toBe(400)
    expect(res.body.error).toBe('api_key_required')
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('leaves a request with its own credential to the other strategies, whatever cookie it holds', async () => {
    const { client } = await signIn(setup)
    const res = await client.request(`${setup.gw.url}/api/v1/auth/me`, { headers: ADMIN })
    expect(res.body.data.strategy).toBe('auth.api-key')
  })
})

describe('without auth', () => {
  it('opens as the anonymous admin and says so, and has nothing to sign in to', async () => {
    const gw = await startTestGateway('version: 1\nstore: { plugin: embedded, memory: true, vector: false }\nproviders: { mock: { plugin: mock } }\nroutes: [ { model: mock, targets: [ { provider: mock } ] } ]\nservices: { auth: {} }\n')
    try {
      const me = await (await fetch(`${gw.url}/api/v1/auth/me`)).json()
      expect(me.data).toMatchObject({ anonymous: true, role: 'admin', permissions: ['*'], session: null })
      const options = await (await fetch(`${gw.url}/api/v1/auth/options`)).json()
      expect(options.data).toEqual({ oidc: null, api_key: true })
      const login = await fetch(`${gw.url}/api/v1/auth/login`, { redirect: 'manual' })
      expect(login.status).toBe(404)
      const trade = await fetch(`${gw.url}/api/v1/auth/session`, { method: 'POST' })
      expect((await trade.json()).error).toBe('auth_not_configured')
    } finally {
      await gw.close()
    }
  })
})
