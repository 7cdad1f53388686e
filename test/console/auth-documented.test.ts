/**
 * /api/v1/openapi.json documents what the sign-in routes answer (options, session, me, logout; the
 * OIDC login and callback are documented as redirects), and real answers validate against it: an
 * API key traded for a session, who the caller is with and without that session, signing out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { documentedAnswers, expectDataDocumented, type DocumentedAnswers } from '../helpers/documented.ts'
import { ADMIN_KEY, startSignIn, type SignInSetup } from './helpers.ts'

const BEARER = { authorization: `Bearer ${ADMIN_KEY}` }

describe('the documented answers of the sign-in routes', () => {
  let setup: SignInSetup
  let doc: any
  let answers: DocumentedAnswers

  beforeAll(async () => {
    setup = await startSignIn({ services: '  docs: {}' })
    doc = await (await fetch(`${setup.gw.url}/api/v1/openapi.json`, { headers: BEARER })).json()
    answers = documentedAnswers(doc, setup.gw.url)
  }, 60_000)
  afterAll(async () => { await setup?.close() })

  it('declares a schema of its data for every route, and the redirects as redirects', () => {
    expectDataDocumented(doc, ['/api/v1/auth'], 6)
    expect(Object.keys(doc.paths['/api/v1/auth/login'].get.responses)).toEqual(['302', 'default'])
    expect(doc.paths['/api/v1/auth/callback'].get.responses['302'].content).toBeUndefined()
  })

  it('answers as documented, signed in with a key and with its session', async () => {
    const { call, check } = answers
    expect(await call('GET', '/api/v1/auth/options')).toEqual({ oidc: { label: 'Test IdP' }, api_key: true })
    expect(await call('GET', '/api/v1/auth/me', BEARER)).toMatchObject({ role: 'admin', session: null, anonymous: false })

    const res = await fetch(`${setup.gw.url}/api/v1/auth/session`, { method: 'POST', headers: BEARER })
    const signedIn = check('POST', '/api/v1/auth/session', res.status, await res.json())
    expect(signedIn.session).toMatchObject({ method: 'api_key' })
    const cookie = { cookie: res.headers.getSetCookie()[0]!.split(';')[0]! }
    const me = await call('GET', '/api/v1/auth/me', cookie)
    expect(me).toMatchObject({ strategy: 'auth.session', session: { csrf_token: signedIn.session.csrf_token } })
    expect(await call('POST', '/api/v1/auth/logout', { ...cookie, 'x-csrf-token': me.session.csrf_token })).toEqual({ redirect: '/sign-in' })
    expect(answers.checked.size).toBe(4)
  })
})
