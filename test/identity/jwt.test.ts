import { SignJWT } from 'jose'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { capability, startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { Identity } from '../../plugins/contracts/capabilities.ts'
import { loadConfig } from '../../core/config/index.ts'
import { builtinRegistry } from '../../core/plugins/loader.ts'
import { issuerSettings } from '../../plugins/auth/jwt/verify.ts'
import type { JwtConfig } from '../../plugins/auth/jwt/schema.ts'
import { ADMIN, apiKeyStrategy, bearer, call, chat, config, createKey, signingKey, sign, startIssuer, unsignedToken, type Issuer, type SigningKey, type TokenOptions } from './helpers.ts'

const AUDIENCE = 'api://gateway'

function jwtStrategy(issuer: Issuer, more = ''): string {
  return `    - plugin: jwt\n      issuer: ${issuer.issuer}\n      audience: ${AUDIENCE}\n      jwks_uri: ${issuer.jwksUri}\n      clock_tolerance_s: 5\n${more}`
}

describe('jwt: validating tokens against a local issuer', () => {
  let issuer: Issuer
  let key: SigningKey
  let gw: RunningGateway
  const token = (claims: Record<string, unknown> = {}, options: TokenOptions = {}, k = key) =>
    sign(k, { sub: 'user-1', ...claims }, { issuer: issuer.issuer, audience: AUDIENCE, ...options })

  beforeAll(async () => {
    key = await signingKey('key-1')
    issuer = await startIssuer([key])
    gw = await startTestGateway(config({ store: '', auth: jwtStrategy(issuer, '      cache_ttl_s: 0\n') }))
  })
  afterAll(async () => {
    await gw?.close()
    await issuer?.close()
  })

  it('accepts a valid token and drives /v1 with the OpenAI SDK using it as the api key', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: await token(), maxRetries: 0 })
    const res = await client.chat.completions.create({ model: 'mock-a', messages: [{ role: 'user', content: 'jwt' }] })
    expect(res.choices[0].message.content).toBe('echo: jwt')
  })

  it('answers a request without a token with 401 missing_credentials', async () => {
    expect((await chat(gw, {})).body.error.code).toBe('missing_credentials')
  })

  /** Each bad token, the code it must be refused with. */
  const badTokens: [string, () => Promise<string> | string, string][] = [
    ['malformed (a header that is not JSON)', () => 'eyJub3QganNvbg.eyJzdWIiOiJ4In0.c2ln', 'malformed_token'],
    ['expired', () => token({}, { expiresIn: -60 }), 'token_expired'],
    ['not yet valid (nbf in the future)', () => token({}, { notBefore: 120 }), 'token_not_yet_valid'],
    ['from another issuer', () => token({}, { issuer: 'https://evil.example.com' }), 'invalid_issuer'],
    ['for another audience', () => token({}, { audience: 'api://someone-else' }), 'invalid_audience'],
    ['unsigned (alg: none)', () => unsignedToken({ sub: 'admin', iss: issuer.issuer, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 300 }), 'algorithm_not_allowed'],
    ['with a bad signature (signed by another key under the same kid)', async () => token({}, {}, { ...(await signingKey('key-1')) }), 'invalid_signature'],
    ['with a signature whose last bytes were changed', async () => { const t = await token(); return t.slice(0, -4) + (t.endsWith('AAAA') ? 'BBBB' : 'AAAA') }, 'invalid_signature'],
    ['signed by a key the issuer does not publish', async () => token({}, {}, await signingKey('stranger')), 'unknown_signing_key'],
    ['without a subject', () => sign(key, {}, { issuer: issuer.issuer, audience: AUDIENCE }), 'invalid_token'],
  ]
  for (const [what, make, code] of badTokens) {
    it(`refuses a token ${what} with 401 ${code}`, async () => {
      const res = await chat(gw, bearer(await make()))
      expect(res.status).toBe(401)
      expect(res.body.error).toMatchObject({ type: 'authentication_error', code, param: null })
    })
  }

  it('refuses an HS256 token signed with the issuer\'s public key as the secret (algorithm confusion)', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(key.jwk))
    const forged = await new SignJWT({ sub: 'admin', roles: ['admin'] }).setProtectedHeader({ alg: 'HS256', kid: key.kid })
      .setIssuer(issuer.issuer).setAudience(AUDIENCE).setIssuedAt().setExpirationTime('5m').sign(secret)
    const res = await chat(gw, bearer(forged))
    expect(res.status).toBe(401)
    expect(res.body.error.code).toBe('algorithm_not_allowed')
  })

  it('tolerates clock skew within clock_tolerance_s (5 s), and not past it', async () => {
    expect((await chat(gw, bearer(await token({}, { expiresIn: -2 })))).status).toBe(200)
    expect((await chat(gw, bearer(await token({}, { notBefore: 2 })))).status).toBe(200)
    expect((await chat(gw, bearer(await token({}, { expiresIn: -9 })))).body.error.code).toBe('token_expired')
    expect((await chat(gw, bearer(await token({}, { notBefore: 9 })))).body.error.code).toBe('token_not_yet_valid')
  })

  it('says nothing about the token in its messages', async () => {
    const t = await token({}, { expiresIn: -60 })
    const res = await chat(gw, bearer(t))
    expect(JSON.stringify(res.body)).not.toContain(t.split('.')[1])
  })
})

describe('jwt: JWKS caching and key rotation', () => {
  let issuer: Issuer
  let gw: RunningGateway
  let first: SigningKey
  const token = (k: SigningKey, sub = 'rotating-user') => sign(k, { sub }, { issuer: issuer.issuer, audience: AUDIENCE })

  beforeAll(async () => {
    first = await signingKey('first')
    issuer = await startIssuer([first])
    gw = await startTestGateway(config({ store: '', auth: jwtStrategy(issuer, '      jwks_cooldown_s: 0\n      cache_ttl_s: 0\n') }))
  })
  afterAll(async () => {
    await gw?.close()
    await issuer?.close()
  })

  it('fetches the JWKS once and verifies many tokens with it', async () => {
    const before = issuer.fetches
    for (let i = 0; i < 5; i++) expect((await chat(gw, bearer(await token(first, `u${i}`)))).status).toBe(200)
    expect(issuer.fetches - before).toBeLessThanOrEqual(1)
  })

  it('picks up a rotated key: a token with an unknown kid refetches the JWKS, and a retired key then stops working', async () => {
    const second = await signingKey('second')
    issuer.publish([second])
    const fetches = issuer.fetches
    expect((await chat(gw, bearer(await token(second)))).status).toBe(200)
    expect(issuer.fetches).toBe(fetches + 1)
    const retired = await chat(gw, bearer(await token(first)))
    expect(retired.status).toBe(401)
    expect(retired.body.error.code).toBe('unknown_signing_key')
  })

  it('accepts both keys while the issuer publishes both (overlap during rotation)', async () => {
    const third = await signingKey('third', 'ES256')
    // While the issuer publishes only the new key, the old one is refused...
    issuer.publish([third])
    expect((await chat(gw, bearer(await token(first)))).body.error.code).toBe('unknown_signing_key')
    // ...and while it publishes both, both pass.
    issuer.publish([third, first])
    expect((await chat(gw, bearer(await token(third)))).status).toBe(200)
    expect((await chat(gw, bearer(await token(first)))).status).toBe(200)
  })

  it('answers 503 auth_unavailable, not 401, when the JWKS cannot be fetched', async () => {
    const lonely = await signingKey('never-published')
    await issuer.close()
    const res = await chat(gw, bearer(await token(lonely)))
    expect(res.status).toBe(503)
    expect(res.body.error.code).toBe('auth_unavailable')
  })
})

describe('jwt: claim mapping, Microsoft Entra ID v2 tokens, users recorded in the store', () => {
  const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47'
  const CLIENT = '6e74172b-be56-4843-9ff4-e66a39bb12e3'
  const RESEARCH_GROUP = '0d8b7a57-2a14-4f0a-9f53-6c1c0d3f1a11'
  const ENTRA_ISSUER = `https://login.microsoftonline.com/${TENANT}/v2.0`
  let issuer: Issuer
  let key: SigningKey
  let gw: RunningGateway

  /** A v2.0 access token as Entra issues it (the claims its reference documents). */
  const entraToken = (claims: Record<string, unknown>) => sign(key, {
    ver: '2.0', tid: TENANT, oid: 'a1b2c3d4-0000-4000-8000-00000000000a', sub: 'pairwise-subject-for-this-app', azp: 'client-app',
    name: 'Ada Lovelace', preferred_username: 'ada@contoso.com', scp: 'access_as_user', ...claims,
  }, { issuer: ENTRA_ISSUER, audience: CLIENT })

  beforeAll(async () => {
    key = await signingKey('entra-key')
    issuer = await startIssuer([key])
    gw = await startTestGateway(config({
      auth: apiKeyStrategy() + `    - plugin: jwt
      entra: { tenant_id: ${TENANT}, client_id: ${CLIENT} }
      jwks_uri: ${issuer.jwksUri}
      role_map: { Gateway.Admin: admin, Gateway.DepartmentAdmin: department_admin, Gateway.User: user }
      department_map: { ${RESEARCH_GROUP}: research }
`,
      extra: `services: { keys: {}, users: {} }
departments:
  research: { models: [mock-a] }
`,
    }))
  })
  afterAll(async () => {
    await gw?.close()
    await issuer?.close()
  })

  it('derives the v2.0 issuer and JWKS address from the tenant, and RS256 only', () => {
    const settings = issuerSettings({ entra: { tenant_id: TENANT, client_id: CLIENT, authority: 'https://login.microsoftonline.com' } } as JwtConfig)
    expect(settings).toEqual({
      issuer: ENTRA_ISSUER,
      audience: CLIENT,
      jwksUri: `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`,
      algorithms: ['RS256'],
    })
  })

  it('maps oid, app roles and groups to the principal, and records the user on first sight', async () => {
    const t = await entraToken({ roles: ['Gateway.User', 'Gateway.DepartmentAdmin'], groups: ['ffffffff-0000-0000-0000-000000000000', RESEARCH_GROUP] })
    const me = await call(gw, 'GET', '/api/v1/users/me', { headers: bearer(t) })
    expect(me.status).toBe(200)
    // role_map order is the precedence: department_admin is listed before user.
    expect(me.body.data).toMatchObject({ role: 'department_admin', department: 'research', strategy: 'auth.jwt', scope: 'department_data' })
    expect(me.body.data.user).toMatchObject({ external_subject: 'a1b2c3d4-0000-4000-8000-00000000000a', email: 'ada@contoso.com', name: 'Ada Lovelace', role: 'department_admin', department: 'research' })
    expect(me.body.data.user_id).toBe(me.body.data.user.id)
  })

  it('applies the mapped department to /v1: the research group may use mock-a only', async () => {
    const t = await entraToken({ oid: 'b0000000-0000-4000-8000-00000000000b', roles: ['Gateway.User'], groups: [RESEARCH_GROUP] })
    expect((await chat(gw, bearer(t), 'mock-a')).status).toBe(200)
    const res = await chat(gw, bearer(t), 'mock-b')
    expect(res.status).toBe(403)
    expect(res.body.error.message).toBe("Your department (research) may not use the model 'mock-b'; GET /v1/models lists the models you may use.")
  })

  it('keeps a role an admin set when the token names none, and does not write the user on every request', async () => {
    const oid = 'c0000000-0000-4000-8000-00000000000c'
    const first = await call(gw, 'GET', '/api/v1/users/me', { headers: bearer(await entraToken({ oid })) })
    expect(first.body.data.role).toBe('user')
    const userId = first.body.data.user_id
    const patched = await call(gw, 'PATCH', `/api/v1/users/${userId}`, { headers: ADMIN, body: { role: 'department_admin', department: 'research' } })
    expect(patched.status).toBe(200)

    const upserts = vi.spyOn(capability(gw, Identity).users, 'upsertBySubject')
    try {
      // A fresh token for the same user: the admin's change is seen (the cache was told), one write.
      const again = await call(gw, 'GET', '/api/v1/users/me', { headers: bearer(await entraToken({ oid })) })
      expect(again.body.data).toMatchObject({ role: 'department_admin', department: 'research' })
      for (let i = 0; i < 3; i++) await chat(gw, bearer(await entraToken({ oid })))
      expect(upserts).toHaveBeenCalledTimes(1)
    } finally {
      upserts.mockRestore()
    }
  })

  it('refuses an Entra token for another application (aud) or from another tenant (iss)', async () => {
    const otherApp = await sign(key, { oid: 'x', sub: 'x' }, { issuer: ENTRA_ISSUER, audience: '00000000-0000-0000-0000-000000000000' })
    expect((await chat(gw, bearer(otherApp))).body.error.code).toBe('invalid_audience')
    const otherTenant = await sign(key, { oid: 'x', sub: 'x' }, { issuer: 'https://login.microsoftonline.com/11111111-1111-1111-1111-111111111111/v2.0', audience: CLIENT })
    expect((await chat(gw, bearer(otherTenant))).body.error.code).toBe('invalid_issuer')
  })

  it('lets api-key and jwt strategies share Authorization: each takes only its own kind of credential', async () => {
    expect((await chat(gw, ADMIN)).status).toBe(200)
    expect((await chat(gw, bearer(await entraToken({ roles: ['Gateway.Admin'] })))).status).toBe(200)
  })
})

describe('jwt: the subject namespace of config keys\' users', () => {
  let issuer: Issuer
  let key: SigningKey
  let gw: RunningGateway
  // The subject comes from a claim the user may set (here `email`, as with preferred_username).
  const token = (email: string, claims: Record<string, unknown> = {}) =>
    sign(key, { sub: 'opaque-1', email, ...claims }, { issuer: issuer.issuer, audience: AUDIENCE })

  beforeAll(async () => {
    key = await signingKey('ns-key')
    issuer = await startIssuer([key])
    gw = await startTestGateway(config({
      auth: apiKeyStrategy() + jwtStrategy(issuer, '      claims: { subject: email }\n'),
      extra: 'services: { keys: {}, users: {} }\n',
    }))
  })
  afterAll(async () => {
    await gw?.close()
    await issuer?.close()
  })

  it('refuses a token whose subject is in the config keys\' namespace, so it never becomes the config admin\'s user', async () => {
    const admin = await call(gw, 'GET', '/api/v1/users/me', { headers: ADMIN })
    expect(admin.body.data.user.external_subject).toBe('config:admin')
    for (const subject of ['config:admin', 'config:someone-not-configured']) {
      const res = await call(gw, 'GET', '/api/v1/users/me', { headers: bearer(await token(subject)) })
      expect(res.status, JSON.stringify(res.body)).toBe(401)
      expect(res.body).toMatchObject({ success: false, error: 'reserved_subject' })
      expect(res.body.message).toContain("'config:'")
      expect((await chat(gw, bearer(await token(subject, { roles: ['user'] })))).body.error).toMatchObject({ type: 'authentication_error', code: 'reserved_subject' })
    }
    // Nothing was recorded under the reserved subject, and the admin's record is untouched.
    expect(await capability(gw, Identity).users.findBySubject('config:someone-not-configured')).toBeUndefined()
    expect((await call(gw, 'GET', '/api/v1/users/me', { headers: ADMIN })).body.data.user).toMatchObject({ id: admin.body.data.user_id, role: 'admin' })
    // Any other subject is a user of its own.
    const other = await call(gw, 'GET', '/api/v1/users/me', { headers: bearer(await token('configured@example.com')) })
    expect(other.body.data).toMatchObject({ role: 'user', user: { external_subject: 'configured@example.com' } })
    expect(other.body.data.user_id).not.toBe(admin.body.data.user_id)
  })
})

describe('jwt: two issuers record their users apart (subject_prefix)', () => {
  let okta: Issuer
  let google: Issuer
  let oktaKey: SigningKey
  let googleKey: SigningKey
  let gw: RunningGateway
  const fromOkta = (claims: Record<string, unknown> = {}) => sign(oktaKey, { sub: '00u1', ...claims }, { issuer: okta.issuer, audience: AUDIENCE })
  const fromGoogle = (claims: Record<string, unknown> = {}) => sign(googleKey, { sub: '00u1', ...claims }, { issuer: google.issuer, audience: AUDIENCE })

  beforeAll(async () => {
    oktaKey = await signingKey('okta-key')
    googleKey = await signingKey('google-key')
    okta = await startIssuer([oktaKey])
    google = await startIssuer([googleKey])
    gw = await startTestGateway(config({
      auth: apiKeyStrategy() + jwtStrategy(okta, '      subject_prefix: "okta:"\n') + jwtStrategy(google, '      subject_prefix: "google:"\n'),
      extra: 'services: { keys: {}, users: {} }\n',
    }))
  })
  afterAll(async () => {
    await gw?.close()
    await okta?.close()
    await google?.close()
  })

  it('makes two users of one subject from two issuers: the second is not the first, nor gets their role or keys', async () => {
    const admin = await call(gw, 'GET', '/api/v1/users/me', { headers: bearer(await fromOkta({ roles: ['admin'] })) })
    expect(admin.body.data).toMatchObject({ role: 'admin', user: { external_subject: 'okta:00u1' } })
    const key = await createKey(gw, { name: 'okta admin\'s' }, bearer(await fromOkta()))

    const stranger = await call(gw, 'GET', '/api/v1/users/me', { headers: bearer(await fromGoogle()) })
    expect(stranger.body.data).toMatchObject({ role: 'user', user: { external_subject: 'google:00u1' } })
    expect(stranger.body.data.user_id).not.toBe(admin.body.data.user_id)
    const theirKeys = await call(gw, 'GET', '/api/v1/keys', { headers: bearer(await fromGoogle()) })
    expect(theirKeys.body.data.map((k: { id: string }) => k.id)).not.toContain(key.id)
    expect((await call(gw, 'GET', '/api/v1/users', { headers: bearer(await fromGoogle()) })).status).toBe(403)
  })
})

describe('jwt: a second issuer\'s tokens, and a config key\'s user, without a store', () => {
  let okta: Issuer
  let google: Issuer
  let googleKey: SigningKey
  let gw: RunningGateway
  const fromGoogle = (sub: string) => sign(googleKey, { sub }, { issuer: google.issuer, audience: AUDIENCE })

  beforeAll(async () => {
    googleKey = await signingKey('google-key')
    google = await startIssuer([googleKey])
    // The first strategy's issuer is down from the start: its keys were never fetched.
    okta = await startIssuer([await signingKey('okta-key')])
    await okta.close()
    gw = await startTestGateway(config({
      store: '',
      auth: apiKeyStrategy() + jwtStrategy(okta, '      subject_prefix: "okta:"\n      cache_ttl_s: 0\n') + jwtStrategy(google, '      cache_ttl_s: 0\n'),
      extra: 'limits:\n  backend: { plugin: memory }\n  policies: [ { scope: user, requests_per_minute: 1 } ]\n',
    }))
  })
  afterAll(async () => {
    await gw?.close()
    await google?.close()
  })

  it('verifies the second issuer\'s token although the first issuer\'s keys cannot be fetched (not a 503)', async () => {
    const res = await chat(gw, bearer(await fromGoogle('someone')))
    expect(res.status, JSON.stringify(res.body)).toBe(200)
  })

  it('answers a token of neither issuer with the first refusal, 401 invalid_issuer', async () => {
    const stranger = await sign(googleKey, { sub: 'x' }, { issuer: 'https://evil.example.com', audience: AUDIENCE })
    expect((await chat(gw, bearer(stranger))).body.error).toMatchObject({ type: 'authentication_error', code: 'invalid_issuer' })
  })

  it('keeps the config key user admin apart from a token whose subject is admin: per-user buckets are their own', async () => {
    expect((await chat(gw, ADMIN)).status).toBe(200)
    expect((await chat(gw, bearer(await fromGoogle('admin')))).status).toBe(200)
    expect((await chat(gw, bearer(await fromGoogle('admin')))).status).toBe(429)
    expect((await chat(gw, ADMIN)).status).toBe(429)
  })
})

describe('jwt: config errors', () => {
  it('refuses HS256 in algorithms: a JWKS-verified strategy accepts asymmetric algorithms only', async () => {
    const auth = '    - { plugin: jwt, issuer: https://id.example.com, audience: x, jwks_uri: "https://id.example.com/keys", algorithms: [RS256, HS256] }\n'
    await expect(startTestGateway(config({ store: '', auth }))).rejects.toThrow(/auth\.strategies\[0\]\.algorithms\[1\]: must be one of: "RS256"/)
  })

  describe('two issuers whose subjects would meet', () => {
    const strategy = (issuer: string, more = '') => `    - { plugin: jwt, issuer: "${issuer}", audience: x, jwks_uri: "${issuer}/keys"${more} }\n`
    const OKTA = 'https://acme.okta.com'
    const GOOGLE = 'https://accounts.google.com'
    const check = async (text: string) => loadConfig({ text, label: 'gw.yaml', dir: process.cwd() }, await builtinRegistry(), {})

    it('refuses two jwt strategies of different issuers unless subject_prefix tells their subjects apart, naming the field', async () => {
      await expect(check(config({ store: '', auth: strategy(OKTA) + strategy(GOOGLE) })))
        .rejects.toThrow(/auth\.strategies\[1\]\.subject_prefix: this issuer \(https:\/\/accounts\.google\.com\) and auth\.strategies\[0\]'s \(https:\/\/acme\.okta\.com\) record users by subject alike.*"accounts:"/)
      await expect(check(config({ store: '', auth: strategy(OKTA, ', subject_prefix: "okta:"') + strategy(GOOGLE) + strategy('https://login.example.com') })))
        .rejects.toThrow(/auth\.strategies\[2\]\.subject_prefix: this issuer \(https:\/\/login\.example\.com\) and auth\.strategies\[1\]'s/)
    })

    it('refuses the console\'s oidc sign-in of another issuer than a jwt strategy\'s, at services.auth.oidc.subject_prefix', async () => {
      const extra = `services:\n  auth:\n    oidc: { issuer: "${GOOGLE}", client_id: console }\n`
      await expect(check(config({ auth: strategy(OKTA), extra }))).rejects.toThrow(/services\.auth\.oidc\.subject_prefix: this issuer \(https:\/\/accounts\.google\.com\) and auth\.strategies\[0\]'s/)
    })

    it('accepts one issuer twice (a jwt strategy and the console, one tenant), a prefix on one, or the same prefix on both (the same people)', async () => {
      const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47'
      const entra = `    - { plugin: jwt, entra: { tenant_id: ${TENANT}, client_id: api } }\n`
      const console = `services:\n  auth:\n    oidc: { entra: { tenant_id: ${TENANT} }, client_id: console }\n`
      for (const [auth, extra] of [
        [entra, console],
        [strategy(OKTA) + strategy(`${OKTA}/`), ''],
        [strategy(OKTA) + strategy(GOOGLE, ', subject_prefix: "google:"'), ''],
        [strategy(OKTA, ', subject_prefix: "acme:", claims: { subject: email }') + strategy(GOOGLE, ', subject_prefix: "acme:", claims: { subject: email }'), ''],
      ]) await check(config({ auth: auth!, extra: extra! }))
    })

    it('refuses a subject_prefix in the config keys\' namespace', async () => {
      await expect(check(config({ store: '', auth: strategy(OKTA, ', subject_prefix: "Config:x"') })))
        .rejects.toThrow(/auth\.strategies\[0\]\.subject_prefix: must match pattern/)
    })
  })

  it('refuses a jwt strategy without issuer, audience and jwks_uri (or entra)', async () => {
    await expect(startTestGateway(config({ store: '', auth: '    - { plugin: jwt, issuer: https://id.example.com }\n' }))).rejects.toThrow(/jwt needs issuer, audience and jwks_uri/)
  })
})

describe('jwt: a verified token is reused until it expires', () => {
  it('does not verify a token again within cache_ttl_s (even after its key was rotated out), and never past its exp', async () => {
    const [a, b] = [await signingKey('a'), await signingKey('b')]
    const issuer = await startIssuer([a])
    const gw = await startTestGateway(config({ store: '', auth: `    - { plugin: jwt, issuer: ${issuer.issuer}, audience: ${AUDIENCE}, jwks_uri: "${issuer.jwksUri}", cache_ttl_s: 60, clock_tolerance_s: 0, jwks_cooldown_s: 0 }\n` }))
    try {
      const t = await sign(a, { sub: 'cached' }, { issuer: issuer.issuer, audience: AUDIENCE, expiresIn: 2 })
      expect((await chat(gw, bearer(t))).status).toBe(200)
      // Rotate a out: a token signed by b makes the gateway refetch the JWKS, which no longer has a.
      issuer.publish([b])
      expect((await chat(gw, bearer(await sign(b, { sub: 'other' }, { issuer: issuer.issuer, audience: AUDIENCE })))).status).toBe(200)
      expect((await chat(gw, bearer(t))).status).toBe(200)
      await new Promise((r) => setTimeout(r, 2100))
      // Past exp the cached result is gone: the token is verified again (and a's key is gone too).
      expect((await chat(gw, bearer(t))).status).toBe(401)
    } finally {
      await gw.close()
      await issuer.close()
    }
  })
})
