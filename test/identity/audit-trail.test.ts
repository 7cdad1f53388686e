/**
 * The audit trail of management actions: every key created, rotated or revoked and every user
 * changed is an entry naming who did it (user, credential, role), to what, and what changed, at
 * GET /api/v1/audit (config reloads through the admin API too; newest first, filtered by action, actor, target); never a key's secret. Before,
 * a revoked key left no trace of who revoked it, and a role change none at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { ADMIN, apiKeyStrategy, bearer, call, config, createKey } from './helpers.ts'

const BOB_KEY = 'test-bob-key-0123456789abcdef0123'

describe('the audit trail of management actions', () => {
  let gw: RunningGateway
  const audit = async (query = '', headers: Record<string, string> = ADMIN) => call(gw, 'GET', `/api/v1/audit${query ? `?${query}` : ''}`, { headers })

  beforeAll(async () => {
    gw = await startTestGateway(config({
      auth: apiKeyStrategy(`        - { key: "${BOB_KEY}", user: bob, role: user }\n`),
      extra: 'services: { keys: {}, users: {} }\n',
    }))
  }, 60_000)
  afterAll(() => gw?.close())

  it('records who created, rotated and revoked a key, and what it was, newest first; never its secret', async () => {
    const { key: secret, id, record } = await createKey(gw, { name: 'ci', role: 'user', allowed_models: ['mock-a'], limits: { requests_per_minute: 50 } })
    const rotated = await call(gw, 'POST', `/api/v1/keys/${id}/rotate`, { headers: ADMIN, body: { grace_s: 60 } })
    expect(rotated.status).toBe(201)
    expect((await call(gw, 'DELETE', `/api/v1/keys/${id}`, { headers: ADMIN })).status).toBe(200)
    // Revoking again changes nothing, and records nothing.
    expect((await call(gw, 'DELETE', `/api/v1/keys/${id}`, { headers: ADMIN })).status).toBe(200)

    const res = await audit(`target_id=${id}`)
    expect(res.status).toBe(200)
    const me = (await call(gw, 'GET', '/api/v1/users/me', { headers: ADMIN })).body.data
    const entries = res.body.data
    expect(entries.map((e: { action: string }) => e.action)).toEqual(['key.revoke', 'key.rotate', 'key.create'])
    for (const e of entries) {
      expect(e.actor).toEqual({ user_id: me.user_id, key_id: me.key_id, role: 'admin' })
      expect(e.target).toEqual({ type: 'key', id })
    }
    const [revoke, rotate, create] = entries
    expect(create.details).toMatchObject({ name: 'ci', prefix: record.prefix, role: 'user', allowed_models: ['mock-a'], limits: { requests_per_minute: 50 } })
    expect(rotate.details).toMatchObject({ prefix: rotated.body.data.prefix, previous_prefix: record.prefix, grace_s: 60 })
    expect(revoke.details).toMatchObject({ name: 'ci', prefix: rotated.body.data.prefix })
    expect(new Date(create.time).getTime()).toBeLessThanOrEqual(new Date(revoke.time).getTime())
    const text = JSON.stringify(res.body)
    expect(text).not.toContain(secret)
    expect(text).not.toContain(rotated.body.data.key)
  })

  it('records a user\'s role change, before and after', async () => {
    // Bob is recorded on first sight.
    await call(gw, 'GET', '/api/v1/users/me', { headers: bearer(BOB_KEY) })
    const users = (await call(gw, 'GET', '/api/v1/users', { headers: ADMIN })).body.data
    const bob = users.find((u: { external_subject?: string; name?: string; id: string }) => JSON.stringify(u).includes('bob'))
    const changed = await call(gw, 'PATCH', `/api/v1/users/${bob.id}`, { headers: ADMIN, body: { role: 'department_admin' } })
    expect(changed.status).toBe(200)
    const res = await audit('action=user.update')
    expect(res.body.data).toHaveLength(1)
    expect(res.body.data[0]).toMatchObject({ action: 'user.update', target: { type: 'user', id: bob.id }, details: { role: { from: 'user', to: 'department_admin' }, revoked_keys: [] } })
  })

  it('records who reloaded the config, and what came of it', async () => {
    const reloaded = await call(gw, 'POST', '/api/v1/admin/reload', { headers: ADMIN, body: {} })
    expect(reloaded.status).toBe(200)
    const [entry] = (await audit('action=config.reload')).body.data
    expect(entry).toMatchObject({ action: 'config.reload', actor: { role: 'admin' }, target: { type: 'config', id: 'gateway.yaml' }, details: { status: reloaded.body.data.status, version: reloaded.body.data.version } })
    expect(entry.request_id).toBe(reloaded.headers.get('x-request-id'))
  })

  it('filters by action and actor, and is refused to a caller without view_audit', async () => {
    expect((await audit('action=key.rotate')).body.data).toHaveLength(1)
    expect((await audit('actor=someone-else')).body.data).toEqual([])
    expect((await audit('from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z')).body.data).toEqual([])
    const refused = await audit('', bearer(BOB_KEY))
    expect(refused.status).toBe(403)
  })
})
