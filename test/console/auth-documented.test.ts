/**
 * /api/v1/openapi.json documents what the sign-in routes answer (options, session, me, logout; the
 * OIDC login and callback are documented as redirects), and real answers validate against it: an
 * API key traded for a session, who the caller is with and without that session, signing out.
 */
import { describe, expect, it } from 'vitest'
import { documentedSuite } from '../helpers/documented.ts'
import { ADMIN_KEY, startSignIn } from './helpers.ts'

const BEARER = { authorization: `Bearer ${ADMIN_KEY}` }

describe('the documented answers of the sign-in routes', () => {
  const suite = documentedSuite({
    start: () => startSignIn({ services: '  docs: {}' }),
    headers: BEARER,
    prefixes: ['/api/v1/auth'],
    routes: 6,
  })

  it('documents the login and callback as redirects', () => {
    expect(Object.keys(suite.doc.paths['/api/v1/auth/login'].get.responses)).toEqual(['302', 'default'])
    expect(suite.doc.paths['/api/v1/auth/callback'].get.responses['302'].content).toBeUndefined()
  })

  it('answers as documented, signed in with a key and with its session', async () => {
    // Each call names its caller: none, the key, or the session's cookie.
    const { call, check } = suite.answers
    expect(await call('GET', '/api/v1/auth/options')).toEqual({ oidc: { label: 'Test IdP' }, api_key: true })
    expect(await call('GET', '/api/v1/auth/me', BEARER)).toMatchObject({ role: 'admin', session: null, anonymous: false })

    // The session's cookie comes back in a header, which `call` does not return: fetched here, checked as `call` would.
    const res = await fetch(`${suite.gw.url}/api/v1/auth/session`, { method: 'POST', headers: BEARER })
    const signedIn = check('POST', '/api/v1/auth/session', res.status, await res.json())
    expect(signedIn.session).toMatchObject({ method: 'api_key' })
    const cookie = { cookie: res.headers.getSetCookie()[0]!.split(';')[0]! }
    const me = await call('GET', '/api/v1/auth/me', cookie)
    expect(me).toMatchObject({ strategy: 'auth.session', session: { csrf_token: signedIn.session.csrf_token } })
    expect(await call('POST', '/api/v1/auth/logout', { ...cookie, 'x-csrf-token': me.session.csrf_token })).toEqual({ redirect: '/sign-in' })
    expect(suite.answers.checked.size).toBe(4)
  })
})
