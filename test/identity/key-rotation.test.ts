/**
 * Rotating a virtual key replaces its secret in place: the key keeps its id, and with it its
 * settings, its rate buckets and budget (counted by key id), its cache scope and its usage
 * history. The new secret works at once; the old one works for `grace_s` seconds (0 by default:
 * not at all), even where it was cached, then never again. Rotating again drops the older secret;
 * revoking the key revokes both.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { ADMIN, apiKeyStrategy, bearer, call, chat, config, createKey, type Answer } from './helpers.ts'

/** The mock answers "echo: hello" (2 tokens) at $0.01 each; a request reserves its 3 tokens at most. */
const ROUTES = `providers:
  mock: { plugin: mock }
routes:
  - { model: mock-a, targets: [ { provider: mock } ] }
  - { model: priced, targets: [ { provider: mock, model: priced-1 } ] }
pricing:
  priced-1: { input: 0, output: 10000, max_output_tokens: 3 }
`

const rotate = (gw: RunningGateway, id: string, body: Record<string, unknown> = {}, headers: Record<string, string> = ADMIN): Promise<Answer> =>
  call(gw, 'POST', `/api/v1/keys/${id}/rotate`, { headers, body })

/** Requests with `key` until one is refused (at most `max`); the refusal. */
async function useUp(gw: RunningGateway, key: string, model = 'mock-a', max = 10): Promise<Answer> {
  for (let i = 0; i < max; i++) {
    const res = await chat(gw, bearer(key), model)
    if (res.status !== 200) return res
    // Spend accrues once the response has ended.
    await sleep(30)
  }
  throw new Error(`${max} requests and none refused`)
}

describe('rotating a virtual key', () => {
  let gw: RunningGateway
  beforeAll(async () => {
    gw = await startTestGateway(config({
      routes: ROUTES,
      auth: apiKeyStrategy('', '      cache_ttl_s: 60\n'),
      extra: `services: { keys: {}, users: {}, analytics: {} }
limits: { backend: { plugin: memory }, budget_status: 429, budget_refresh_s: 0.2 }
usage: { flush_interval_ms: 50 }
`,
    }))
  }, 60_000)
  afterAll(() => gw?.close())

  it('keeps the key: same id and settings, a new secret and prefix, and `replaces` naming the key itself', async () => {
    const { key: old, id, record } = await createKey(gw, { name: 'rotating', role: 'user', allowed_models: ['mock-a'], limits: { requests_per_minute: 50 } })
    expect(record.previous_secret_expires_at).toBeNull()
    const res = await rotate(gw, id)
    expect(res.status).toBe(201)
    const rotated = res.body.data
    expect(rotated).toMatchObject({ id, replaces: id, name: 'rotating', role: 'user', allowed_models: ['mock-a'], limits: { requests_per_minute: 50 }, status: 'active', created_at: record.created_at })
    expect(rotated.key).not.toBe(old)
    expect(rotated.key.startsWith(rotated.prefix)).toBe(true)
    expect(rotated.prefix).not.toBe(record.prefix)
    expect(new Date(rotated.previous_secret_expires_at).getTime()).toBeLessThanOrEqual(Date.now())
    // One key, not two: the list has it once, with its new prefix.
    const listed = (await call(gw, 'GET', '/api/v1/keys?include_revoked=true', { headers: ADMIN })).body.data.filter((k: { name: string }) => k.name === 'rotating')
    expect(listed).toMatchObject([{ id, prefix: rotated.prefix, status: 'active' }])
  })

  it('carries a used-up rate limit over to the new secret: still 429, the same key', async () => {
    const { key: old, id } = await createKey(gw, { role: 'user', limits: { requests_per_minute: 2 } })
    const refused = await useUp(gw, old)
    expect(refused.status).toBe(429)
    expect(refused.body.error.code).toBe('rate_limit_exceeded')
    const rotated = await rotate(gw, id)
    expect(rotated.body.data.id).toBe(id)
    const res = await chat(gw, bearer(rotated.body.data.key))
    expect(res.status).toBe(429)
    expect(res.body.error.code).toBe('rate_limit_exceeded')
  })

  it('carries a used-up budget over to the new secret: still refused, the same key', async () => {
    const { key: old, id } = await createKey(gw, { role: 'user', limits: { budget_usd_per_day: 0.05 } })
    const refused = await useUp(gw, old, 'priced')
    expect(refused.status).toBe(429)
    expect(refused.body.error.code).toBe('budget_exceeded')
    const rotated = await rotate(gw, id, { grace_s: 60 })
    expect(rotated.body.data.id).toBe(id)
    for (const key of [rotated.body.data.key, old]) {
      const res = await chat(gw, bearer(key), 'priced')
      expect(res.status).toBe(429)
      expect(res.body.error.code).toBe('budget_exceeded')
    }
  })

  it('lets a key with limits rotate itself (its buckets stay with it), and no other key', async () => {
    const { key: limited, id } = await createKey(gw, { role: 'user', limits: { requests_per_minute: 2 } })
    const { id: other } = await createKey(gw, { role: 'user' })
    expect((await useUp(gw, limited)).status).toBe(429)
    const self = await rotate(gw, id, {}, bearer(limited))
    expect(self.status, JSON.stringify(self.body)).toBe(201)
    expect(self.body.data).toMatchObject({ id, limits: { requests_per_minute: 2 } })
    expect((await chat(gw, bearer(self.body.data.key))).status).toBe(429)
    const refused = await rotate(gw, other, {}, bearer(self.body.data.key))
    expect(refused.status).toBe(403)
    expect(refused.body.error).toBe('key_limits_not_grantable')
  })

  it('without grace, refuses the old secret at once, though it was just used (and cached), with 401 key_rotated', async () => {
    const { key: old, id } = await createKey(gw, { role: 'user' })
    expect((await chat(gw, bearer(old))).status).toBe(200)
    const rotated = await rotate(gw, id)
    const res = await chat(gw, bearer(old))
    expect(res.status).toBe(401)
    expect(res.body.error).toEqual({ message: 'This API key was replaced by a rotation; use its new secret.', type: 'authentication_error', code: 'key_rotated', param: null })
    expect((await chat(gw, bearer(rotated.body.data.key))).status).toBe(200)
    expect((await chat(gw, bearer(old))).body.error.code).toBe('key_rotated')
  })

  it('with grace_s, accepts both secrets that long, then the old one never again, though it was cached', async () => {
    const { key: old, id } = await createKey(gw, { role: 'user' })
    expect((await chat(gw, bearer(old))).status).toBe(200)
    const rotated = await rotate(gw, id, { grace_s: 2 })
    expect(rotated.status).toBe(201)
    const graceEnds = new Date(rotated.body.data.previous_secret_expires_at).getTime()
    expect(graceEnds).toBeGreaterThan(Date.now() + 1000)
    expect(rotated.body.message).toContain(rotated.body.data.previous_secret_expires_at)
    for (let i = 0; i < 3; i++) {
      expect((await chat(gw, bearer(old))).status).toBe(200)
      expect((await chat(gw, bearer(rotated.body.data.key))).status).toBe(200)
    }
    await sleep(graceEnds - Date.now() + 50)
    const res = await chat(gw, bearer(old))
    expect(res.status).toBe(401)
    expect(res.body.error.code).toBe('key_rotated')
    expect((await chat(gw, bearer(rotated.body.data.key))).status).toBe(200)
    expect((await call(gw, 'GET', `/api/v1/keys/${id}`, { headers: ADMIN })).body.data.status).toBe('active')
  })

  it('ends the grace no later than the key itself expires', async () => {
    const expires = new Date(Date.now() + 3600_000)
    const { id } = await createKey(gw, { role: 'user', expires_at: expires.toISOString() })
    const rotated = await rotate(gw, id, { grace_s: 7 * 24 * 3600 })
    expect(rotated.body.data).toMatchObject({ id, expires_at: expires.toISOString(), previous_secret_expires_at: expires.toISOString() })
  })

  it('keeps one previous secret: rotating again within the grace period drops the older one at once', async () => {
    const { key: first, id } = await createKey(gw, { role: 'user' })
    const second = (await rotate(gw, id, { grace_s: 60 })).body.data.key
    expect((await chat(gw, bearer(first))).status).toBe(200)
    const third = (await rotate(gw, id, { grace_s: 60 })).body.data.key
    expect((await chat(gw, bearer(first))).body.error.code).toBe('invalid_api_key')
    expect((await chat(gw, bearer(second))).status).toBe(200)
    expect((await chat(gw, bearer(third))).status).toBe(200)
  })

  it('revoking the key during the grace period refuses both secrets at once', async () => {
    const { key: old, id } = await createKey(gw, { role: 'user' })
    const fresh = (await rotate(gw, id, { grace_s: 60 })).body.data.key
    expect((await chat(gw, bearer(old))).status).toBe(200)
    expect((await chat(gw, bearer(fresh))).status).toBe(200)
    expect((await call(gw, 'DELETE', `/api/v1/keys/${id}`, { headers: ADMIN })).body.data).toMatchObject({ id, status: 'revoked' })
    for (const key of [old, fresh]) expect((await chat(gw, bearer(key))).body.error.code).toBe('key_revoked')
    expect((await rotate(gw, id)).status).toBe(409)
  })

  it('a replaced secret, in its grace, manages no keys: it cannot rotate the key back into its hands, revoke it, or mint keys', async () => {
    const { key: old, id } = await createKey(gw, { role: 'user' })
    const fresh = (await rotate(gw, id, { grace_s: 3600 })).body.data.key
    // Still good for calls while clients switch.
    expect((await chat(gw, bearer(old))).status).toBe(200)
    for (const refused of [
      await rotate(gw, id, { grace_s: 0 }, bearer(old)),
      await call(gw, 'POST', '/api/v1/keys', { headers: bearer(old), body: { name: 'minted' } }),
      await call(gw, 'DELETE', `/api/v1/keys/${id}`, { headers: bearer(old) }),
    ]) {
      expect(refused.status).toBe(403)
      expect(refused.body.error).toBe('secret_replaced')
    }
    // The owner's new secret is untouched, and it may manage its own key.
    expect((await chat(gw, bearer(fresh))).status).toBe(200)
    expect((await rotate(gw, id, {}, bearer(fresh))).status).toBe(201)
  })

  it('records usage under the one key id, before and after the rotation', async () => {
    const { key: old, id } = await createKey(gw, { role: 'user', name: 'usage-across-rotation' })
    for (let i = 0; i < 2; i++) expect((await chat(gw, bearer(old))).status).toBe(200)
    const fresh = (await rotate(gw, id, { grace_s: 60 })).body.data.key
    for (const key of [old, fresh, fresh]) expect((await chat(gw, bearer(key))).status).toBe(200)
    await vi.waitFor(async () => {
      const rows = (await call(gw, 'GET', '/api/v1/analytics/usage?group_by=key', { headers: ADMIN })).body.data
      const mine = rows.filter((r: { key: { name: string } | null }) => r.key?.name === 'usage-across-rotation')
      expect(mine).toMatchObject([{ group: id, requests: 5 }])
    }, { timeout: 5000, interval: 100 })
  })
})

describe('a console session traded for a key that is then rotated', () => {
  let gw: RunningGateway
  beforeAll(async () => {
    gw = await startTestGateway(config({
      auth: `    - plugin: session\n${apiKeyStrategy()}`,
      extra: 'services: { keys: {}, auth: { cache_ttl_s: 0 } }\n',
    }))
  }, 60_000)
  afterAll(() => gw?.close())

  /** A session cookie for `key` (POST /api/v1/auth/session). */
  async function signIn(key: string): Promise<Record<string, string>> {
    const res = await fetch(`${gw.url}/api/v1/auth/session`, { method: 'POST', headers: bearer(key) })
    expect(res.status).toBe(201)
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('gw_session='))!
    return { cookie: cookie.split(';')[0]! }
  }
  const me = async (session: Record<string, string>): Promise<number> => (await call(gw, 'GET', '/api/v1/auth/me', { headers: session })).status

  it('ends with the secret it was made with: at once without grace, when the grace ends with one; one made with the new secret lives on', async () => {
    const { key: first, id } = await createKey(gw, { role: 'user' })
    const withFirst = await signIn(first)
    expect(await me(withFirst)).toBe(200)
    const second = (await rotate(gw, id)).body.data.key
    expect(await me(withFirst)).toBe(401)

    const withSecond = await signIn(second)
    const rotated = (await rotate(gw, id, { grace_s: 2 })).body.data
    // During the grace the old secret still works, and so do sessions made with it, before or since.
    const withSecondInGrace = await signIn(second)
    const withThird = await signIn(rotated.key)
    for (const session of [withSecond, withSecondInGrace, withThird]) expect(await me(session)).toBe(200)
    await sleep(new Date(rotated.previous_secret_expires_at).getTime() - Date.now() + 50)
    expect(await me(withSecond)).toBe(401)
    expect(await me(withSecondInGrace)).toBe(401)
    expect(await me(withThird)).toBe(200)
  })
})
