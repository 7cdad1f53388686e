/**
 * The RBAC matrix: each role against each endpoint, within and outside its data scope. Callers are
 * config keys (recorded as users on first use); the roles are the built-in ones plus an `auditor`
 * defined in gateway.yaml (view_users over all data, and no chat).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { ADMIN, apiKeyStrategy, bearer, call, chat, config, createKey, recordedUserIds, type Answer } from './helpers.ts'

const PEOPLE = {
  admin: { role: 'admin' },
  rdAdmin: { role: 'department_admin', department: 'research' },
  salesAdmin: { role: 'department_admin', department: 'sales' },
  alice: { role: 'user', department: 'research' },
  bob: { role: 'user', department: 'research' },
  carol: { role: 'user', department: 'sales' },
  auditor: { role: 'auditor' },
} as const
type Person = keyof typeof PEOPLE

const keyOf = (who: Person) => `rbac-${who}-key-0123456789abcdef`
const as = (who: Person) => bearer(keyOf(who))

const CONFIG = config({
  auth: apiKeyStrategy(Object.entries(PEOPLE).map(([who, p]) =>
    `        - { key: "${keyOf(who as Person)}", user: ${who}, role: ${p.role}${'department' in p ? `, department: ${p.department}` : ''} }\n`).join('')),
  extra: `services: { keys: {}, users: {} }
roles:
  auditor: { permissions: [view_users], scope: all_data }
departments:
  research: { models: [mock-a, mock-b] }
  sales: { models: [mock-c] }
`,
})

describe('the RBAC matrix: role × endpoint × scope', () => {
  let gw: RunningGateway
  let ids = {} as Record<Person, string>
  const keys = {} as Record<'alice' | 'bob' | 'carol', { id: string; prefix: string; name: string }>

  beforeAll(async () => {
    gw = await startTestGateway(CONFIG)
    ids = await recordedUserIds(gw, Object.keys(PEOPLE) as Person[], as)
    for (const who of ['alice', 'bob', 'carol'] as const) {
      const { id, record } = await createKey(gw, { name: `${who}-laptop` }, as(who))
      keys[who] = { id, prefix: record.prefix, name: record.name }
    }
  })
  afterAll(() => gw?.close())

  const expectRefused = (res: Answer, status: number, code: string) => {
    expect(res.status, JSON.stringify(res.body)).toBe(status)
    expect(res.body).toMatchObject({ success: false, data: null, error: code })
  }

  describe('/v1 needs the chat permission', () => {
    for (const who of ['admin', 'rdAdmin', 'alice'] as const) {
      it(`lets ${who} (${PEOPLE[who].role}) chat`, async () => {
        expect((await chat(gw, as(who))).status).toBe(200)
      })
    }
    it('refuses a role without chat with 403 permission_denied in the OpenAI shape', async () => {
      const res = await chat(gw, as('auditor'))
      expect(res.status).toBe(403)
      expect(res.body.error).toEqual({ message: "Your role 'auditor' does not have the 'chat' permission.", type: 'permission_error', code: 'permission_denied', param: null })
      expect((await call(gw, 'GET', '/v1/models', { headers: as('auditor') })).status).toBe(403)
    })
  })

  describe('/api/v1/admin needs manage_gateway', () => {
    it('lets the admin in and refuses department admins, users and custom roles', async () => {
      expect((await call(gw, 'GET', '/api/v1/admin/routes', { headers: as('admin') })).status).toBe(200)
      for (const who of ['rdAdmin', 'alice', 'auditor'] as const) expectRefused(await call(gw, 'GET', '/api/v1/admin/routes', { headers: as(who) }), 403, 'permission_denied')
    })
  })

  describe('/api/v1/users', () => {
    const listed = async (who: Person, query = '') => {
      const res = await call(gw, 'GET', `/api/v1/users${query}`, { headers: as(who) })
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      return (res.body.data as { id: string }[]).map((u) => u.id).sort()
    }

    it('lists everyone for admin and for all_data roles (auditor)', async () => {
      const all = Object.values(ids).sort()
      expect((await listed('admin')).filter((id) => all.includes(id))).toEqual(all)
      expect((await listed('auditor')).filter((id) => all.includes(id))).toEqual(all)
    })

    it('lists only their department for a department_admin, and refuses another department with 403', async () => {
      expect(await listed('rdAdmin')).toEqual([ids.rdAdmin, ids.alice, ids.bob].sort())
      expect(await listed('salesAdmin')).toEqual([ids.salesAdmin, ids.carol].sort())
      expectRefused(await call(gw, 'GET', '/api/v1/users?department=sales', { headers: as('rdAdmin') }), 403, 'out_of_scope')
    })

    it('refuses users (no view_users) with 403, but tells anyone who they are at /me', async () => {
      expectRefused(await call(gw, 'GET', '/api/v1/users', { headers: as('alice') }), 403, 'permission_denied')
      const me = await call(gw, 'GET', '/api/v1/users/me', { headers: as('alice') })
      expect(me.body.data).toMatchObject({ user_id: ids.alice, role: 'user', department: 'research', scope: 'own_data', strategy: 'auth.api-key' })
      expect(me.body.data.permissions).toContain('manage_keys')
    })

    it('reads one user within scope, and refuses one outside it without saying anything about them', async () => {
      expect((await call(gw, 'GET', `/api/v1/users/${ids.alice}`, { headers: as('rdAdmin') })).status).toBe(200)
      expect((await call(gw, 'GET', `/api/v1/users/${ids.carol}`, { headers: as('auditor') })).status).toBe(200)
      const res = await call(gw, 'GET', `/api/v1/users/${ids.carol}`, { headers: as('rdAdmin') })
      expectRefused(res, 403, 'out_of_scope')
      expect(res.body.message).toBe("You may only manage your department's users.")
      for (const secret of [ids.carol, 'carol', 'sales']) expect(JSON.stringify(res.body)).not.toContain(secret)
    })

    it('lets a department_admin give a role they hold to a user of their department', async () => {
      const res = await call(gw, 'PATCH', `/api/v1/users/${ids.bob}`, { headers: as('rdAdmin'), body: { role: 'department_admin' } })
      expect(res.status).toBe(200)
      expect(res.body.data).toMatchObject({ id: ids.bob, role: 'department_admin' })
      expect((await call(gw, 'PATCH', `/api/v1/users/${ids.bob}`, { headers: as('rdAdmin'), body: { role: 'user' } })).status).toBe(200)
    })

    it('refuses a department_admin: a role above theirs, another department\'s user, a move out of their department', async () => {
      expectRefused(await call(gw, 'PATCH', `/api/v1/users/${ids.bob}`, { headers: as('rdAdmin'), body: { role: 'admin' } }), 403, 'role_not_grantable')
      expectRefused(await call(gw, 'PATCH', `/api/v1/users/${ids.carol}`, { headers: as('rdAdmin'), body: { role: 'user' } }), 403, 'out_of_scope')
      expectRefused(await call(gw, 'PATCH', `/api/v1/users/${ids.admin}`, { headers: as('rdAdmin'), body: { role: 'user' } }), 403, 'out_of_scope')
      expectRefused(await call(gw, 'PATCH', `/api/v1/users/${ids.bob}`, { headers: as('rdAdmin'), body: { department: 'sales' } }), 403, 'out_of_scope')
    })

    it('lists the roles and departments, with what the caller may give out (the console\'s pickers)', async () => {
      const roles = async (who: Person) => {
        const res = await call(gw, 'GET', '/api/v1/users/roles', { headers: as(who) })
        expect(res.status, JSON.stringify(res.body)).toBe(200)
        return Object.fromEntries((res.body.data as { name: string; grantable: boolean; scope: string; permissions: string[] }[]).map((r) => [r.name, r]))
      }
      const forAdmin = await roles('admin')
      expect(Object.keys(forAdmin)).toEqual(expect.arrayContaining(['admin', 'department_admin', 'user', 'auditor']))
      expect(forAdmin.auditor).toEqual({ name: 'auditor', scope: 'all_data', permissions: ['view_users'], grantable: true })
      expect(Object.values(forAdmin).every((r) => r.grantable)).toBe(true)
      const forRdAdmin = await roles('rdAdmin')
      expect(forRdAdmin.admin!.grantable).toBe(false)
      expect(forRdAdmin.auditor!.grantable).toBe(false)
      expect(forRdAdmin.user!.grantable).toBe(true)
      expect(forRdAdmin.department_admin!.grantable).toBe(true)
      const depts = await call(gw, 'GET', '/api/v1/users/departments', { headers: as('rdAdmin') })
      expect(depts.body.data).toEqual([{ name: 'research', assignable: true }, { name: 'sales', assignable: false }])
      expectRefused(await call(gw, 'GET', '/api/v1/users/roles', { headers: as('alice') }), 403, 'permission_denied')
    })

    it('refuses users and view-only roles on PATCH, and checks roles and departments exist', async () => {
      expectRefused(await call(gw, 'PATCH', `/api/v1/users/${ids.bob}`, { headers: as('alice'), body: { role: 'user' } }), 403, 'permission_denied')
      expectRefused(await call(gw, 'PATCH', `/api/v1/users/${ids.bob}`, { headers: as('auditor'), body: { role: 'user' } }), 403, 'permission_denied')
      expectRefused(await call(gw, 'PATCH', `/api/v1/users/${ids.bob}`, { headers: ADMIN, body: { role: 'superuser' } }), 400, 'unknown_role')
      expectRefused(await call(gw, 'PATCH', `/api/v1/users/${ids.bob}`, { headers: ADMIN, body: { department: 'marketing' } }), 400, 'unknown_department')
      expectRefused(await call(gw, 'PATCH', `/api/v1/users/${ids.bob}`, { headers: ADMIN, body: {} }), 400, 'empty_update')
      expectRefused(await call(gw, 'PATCH', '/api/v1/users/00000000-0000-4000-8000-000000000000', { headers: ADMIN, body: { role: 'user' } }), 404, 'user_not_found')
    })
  })

  describe('/api/v1/keys', () => {
    const listedKeys = async (who: Person, query = '') => {
      const res = await call(gw, 'GET', `/api/v1/keys${query}`, { headers: as(who) })
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      return res.body.data as { id: string; user_id: string | null; department: string | null }[]
    }

    it('gives a user\'s own key the user\'s role and department', async () => {
      const mine = (await listedKeys('alice')).find((k) => k.id === keys.alice.id)
      expect(mine).toMatchObject({ user_id: ids.alice, department: 'research', role: 'user' })
    })

    it('lists only their own keys for a user, and refuses to list someone else\'s', async () => {
      const listed = await listedKeys('alice')
      expect(listed.length).toBeGreaterThan(0)
      expect(listed.every((k) => k.user_id === ids.alice)).toBe(true)
      expectRefused(await call(gw, 'GET', `/api/v1/keys?user_id=${ids.bob}`, { headers: as('alice') }), 403, 'out_of_scope')
    })

    it('lists the department\'s keys for a department_admin, and refuses another department', async () => {
      const listed = await listedKeys('rdAdmin')
      expect(listed.map((k) => k.id)).toEqual(expect.arrayContaining([keys.alice.id, keys.bob.id]))
      expect(listed.every((k) => k.department === 'research')).toBe(true)
      expectRefused(await call(gw, 'GET', '/api/v1/keys?department=sales', { headers: as('rdAdmin') }), 403, 'out_of_scope')
    })

    it('lists every key for the admin', async () => {
      expect((await listedKeys('admin')).map((k) => k.id)).toEqual(expect.arrayContaining(Object.values(keys).map((k) => k.id)))
    })

    it('lets a department_admin create keys for their department\'s users and service keys in their department', async () => {
      const forBob = await call(gw, 'POST', '/api/v1/keys', { headers: as('rdAdmin'), body: { user_id: ids.bob } })
      expect(forBob.status).toBe(201)
      expect(forBob.body.data).toMatchObject({ user_id: ids.bob, department: 'research', role: 'user' })
      const service = await call(gw, 'POST', '/api/v1/keys', { headers: as('rdAdmin'), body: { user_id: null, name: 'research-batch' } })
      expect(service.status).toBe(201)
      expect(service.body.data).toMatchObject({ user_id: null, department: 'research', role: 'user' })
    })

    it('refuses keys outside the caller\'s scope or above its role', async () => {
      expectRefused(await call(gw, 'POST', '/api/v1/keys', { headers: as('alice'), body: { user_id: ids.bob } }), 403, 'out_of_scope')
      expectRefused(await call(gw, 'POST', '/api/v1/keys', { headers: as('alice'), body: { user_id: null } }), 403, 'out_of_scope')
      expectRefused(await call(gw, 'POST', '/api/v1/keys', { headers: as('salesAdmin'), body: { user_id: ids.bob } }), 403, 'out_of_scope')
      expectRefused(await call(gw, 'POST', '/api/v1/keys', { headers: as('rdAdmin'), body: { user_id: null, department: 'sales' } }), 403, 'out_of_scope')
      expectRefused(await call(gw, 'POST', '/api/v1/keys', { headers: as('alice'), body: { role: 'department_admin' } }), 403, 'role_not_grantable')
      expectRefused(await call(gw, 'POST', '/api/v1/keys', { headers: as('rdAdmin'), body: { role: 'admin' } }), 403, 'role_not_grantable')
      expectRefused(await call(gw, 'POST', '/api/v1/keys', { headers: as('auditor'), body: {} }), 403, 'permission_denied')
      expectRefused(await call(gw, 'POST', '/api/v1/keys', { headers: ADMIN, body: { user_id: ids.alice, role: 'admin' } }), 400, 'role_exceeds_owner')
      expectRefused(await call(gw, 'POST', '/api/v1/keys', { headers: ADMIN, body: { user_id: ids.alice, department: 'sales' } }), 400, 'department_mismatch')
    })

    it('refuses a department_admin revoking another department\'s key with a 403 that leaks nothing about it', async () => {
      const res = await call(gw, 'DELETE', `/api/v1/keys/${keys.carol.id}`, { headers: as('rdAdmin') })
      expectRefused(res, 403, 'out_of_scope')
      expect(res.body.message).toBe("You may only manage your department's keys.")
      for (const leak of [keys.carol.id, keys.carol.prefix, keys.carol.name, ids.carol, 'sales', 'carol']) expect(JSON.stringify(res.body)).not.toContain(leak)
      expectRefused(await call(gw, 'GET', `/api/v1/keys/${keys.carol.id}`, { headers: as('rdAdmin') }), 403, 'out_of_scope')
      expectRefused(await call(gw, 'POST', `/api/v1/keys/${keys.carol.id}/rotate`, { headers: as('rdAdmin') }), 403, 'out_of_scope')
    })

    it('refuses a user revoking a colleague\'s key, and lets the department_admin do it', async () => {
      expectRefused(await call(gw, 'DELETE', `/api/v1/keys/${keys.bob.id}`, { headers: as('alice') }), 403, 'out_of_scope')
      expect((await call(gw, 'GET', `/api/v1/keys/${keys.bob.id}`, { headers: ADMIN })).body.data.status).toBe('active')
      const revoked = await call(gw, 'DELETE', `/api/v1/keys/${keys.bob.id}`, { headers: as('rdAdmin') })
      expect(revoked.status).toBe(200)
      expect(revoked.body.data).toMatchObject({ id: keys.bob.id, status: 'revoked' })
    })

    it('lets a user revoke and rotate their own key, and the old secrets stop working', async () => {
      const { id, key } = await createKey(gw, {}, as('alice'))
      const rotated = await call(gw, 'POST', `/api/v1/keys/${id}/rotate`, { headers: as('alice') })
      expect(rotated.status).toBe(201)
      expect(rotated.body.data).toMatchObject({ id, replaces: id, status: 'active', user_id: ids.alice })
      expect((await chat(gw, bearer(rotated.body.data.key))).status).toBe(200)
      expect((await chat(gw, bearer(key))).body.error.code).toBe('key_rotated')
      const { id: other, key: otherKey } = await createKey(gw, {}, as('alice'))
      expect((await chat(gw, bearer(otherKey))).status).toBe(200)
      expect((await call(gw, 'DELETE', `/api/v1/keys/${other}`, { headers: as('alice') })).body.data).toMatchObject({ id: other, status: 'revoked' })
      expect((await chat(gw, bearer(otherKey))).body.error.code).toBe('key_revoked')
    })

    it('answers 404 for a key that does not exist', async () => {
      expectRefused(await call(gw, 'GET', '/api/v1/keys/00000000-0000-4000-8000-000000000000', { headers: ADMIN }), 404, 'key_not_found')
    })
  })

  describe('a user\'s keys follow the user', () => {
    it('lowers the keys of a demoted user, and the change applies to the next request made with them', async () => {
      await call(gw, 'PATCH', `/api/v1/users/${ids.bob}`, { headers: ADMIN, body: { role: 'department_admin' } })
      const { key } = await createKey(gw, { user_id: ids.bob, role: 'department_admin' })
      expect((await call(gw, 'GET', '/api/v1/users', { headers: bearer(key) })).status).toBe(200)
      await call(gw, 'PATCH', `/api/v1/users/${ids.bob}`, { headers: ADMIN, body: { role: 'user' } })
      const me = await call(gw, 'GET', '/api/v1/users/me', { headers: bearer(key) })
      expect(me.body.data.role).toBe('user')
      expect((await call(gw, 'GET', '/api/v1/users', { headers: bearer(key) })).status).toBe(403)
    })

    it('moves the keys a user made with a user who changes department, and their models with them; revokes the ones someone else made for them', async () => {
      const { key } = await createKey(gw, {}, as('carol'))
      const { id: adminMade, key: adminCopy } = await createKey(gw, { user_id: ids.carol })
      expect((await chat(gw, bearer(key), 'mock-c')).status).toBe(200)
      const moved = await call(gw, 'PATCH', `/api/v1/users/${ids.carol}`, { headers: ADMIN, body: { department: 'research' } })
      expect(moved.status).toBe(200)
      expect(moved.body.meta.revoked_keys).toEqual([adminMade])
      expect((await chat(gw, bearer(key), 'mock-c')).status).toBe(403)
      expect((await chat(gw, bearer(key), 'mock-a')).status).toBe(200)
      expect((await chat(gw, bearer(adminCopy), 'mock-a')).body.error.code).toBe('key_revoked')
    })
  })

  describe('keys made with a key limited to some models', () => {
    it('inherit the limit, and may not widen it', async () => {
      const { key: limited } = await createKey(gw, { allowed_models: ['mock-a'] }, as('alice'))
      const child = await call(gw, 'POST', '/api/v1/keys', { headers: bearer(limited), body: {} })
      expect(child.status).toBe(201)
      expect(child.body.data.allowed_models).toEqual(['mock-a'])
      expectRefused(await call(gw, 'POST', '/api/v1/keys', { headers: bearer(limited), body: { allowed_models: ['mock-b'] } }), 403, 'models_not_grantable')
      expectRefused(await call(gw, 'POST', `/api/v1/keys/${keys.alice.id}/rotate`, { headers: bearer(limited) }), 403, 'models_not_grantable')
    })

    it('may not widen a glob: `mock-?` does not cover `mock-*`, though the one matches the other as a name', async () => {
      const { key: limited } = await createKey(gw, { allowed_models: ['mock-?'] }, as('alice'))
      expectRefused(await call(gw, 'POST', '/api/v1/keys', { headers: bearer(limited), body: { allowed_models: ['mock-*'] } }), 403, 'models_not_grantable')
      expectRefused(await call(gw, 'POST', '/api/v1/keys', { headers: bearer(limited), body: { allowed_models: ['mock-a?'] } }), 403, 'models_not_grantable')
      for (const within of [['mock-a'], ['mock-?'], ['mock-b', 'mock-?']]) {
        const res = await call(gw, 'POST', '/api/v1/keys', { headers: bearer(limited), body: { allowed_models: within } })
        expect(res.status, JSON.stringify(res.body)).toBe(201)
        expect(res.body.data.allowed_models).toEqual(within)
      }
    })
  })

  describe('a glob a user sends in allowed_models', () => {
    it('is matched at once, however it is written: a long name does not stall the gateway', async () => {
      // A service key without a department: no department's model list decides before the key's glob.
      const { key } = await createKey(gw, { user_id: null, allowed_models: ['*a*a*a*a*a*a*a*a*a*a*a*ab'] })
      const started = performance.now()
      const res = await chat(gw, bearer(key), `claude-${'a'.repeat(200)}`)
      expect(res.status).toBe(403)
      expect(performance.now() - started).toBeLessThan(2000)
    })
  })

  describe('keys made with a key that has limits or an expiry', () => {
    it('a key with limits of its own makes no keys and rotates no other key (its limits would not bind them); itself it may', async () => {
      const { id, key: limited } = await createKey(gw, { limits: { requests_per_minute: 1 } }, as('alice'))
      for (const body of [{}, { limits: { requests_per_minute: 1 } }]) {
        const res = await call(gw, 'POST', '/api/v1/keys', { headers: bearer(limited), body })
        expectRefused(res, 403, 'key_limits_not_grantable')
        expect(res.body.message).toContain('requests_per_minute')
      }
      expectRefused(await call(gw, 'POST', `/api/v1/keys/${keys.alice.id}/rotate`, { headers: bearer(limited) }), 403, 'key_limits_not_grantable')
      // Its own secret is replaced in place: the same id, so the same buckets (key-rotation.test.ts).
      const itself = await call(gw, 'POST', `/api/v1/keys/${id}/rotate`, { headers: bearer(limited), body: { grace_s: 60 } })
      expect(itself.status, JSON.stringify(itself.body)).toBe(201)
      expect(itself.body.data).toMatchObject({ id, limits: { requests_per_minute: 1 } })
      // Whoever gave it out rotates it too, the limits carried over.
      const byAlice = await call(gw, 'POST', `/api/v1/keys/${id}/rotate`, { headers: as('alice') })
      expect(byAlice.status, JSON.stringify(byAlice.body)).toBe(201)
      expect(byAlice.body.data).toMatchObject({ id, limits: { requests_per_minute: 1 } })
    })

    it('a key that expires makes keys that expire no later: its expiry by default, a later one refused', async () => {
      const expiry = new Date(Date.now() + 3600_000)
      const { key: shortLived } = await createKey(gw, { expires_at: expiry.toISOString() }, as('alice'))
      const child = await call(gw, 'POST', '/api/v1/keys', { headers: bearer(shortLived), body: {} })
      expect(child.status, JSON.stringify(child.body)).toBe(201)
      expect(new Date(child.body.data.expires_at).getTime()).toBe(expiry.getTime())
      const sooner = new Date(Date.now() + 600_000)
      const earlier = await call(gw, 'POST', '/api/v1/keys', { headers: bearer(shortLived), body: { expires_at: sooner.toISOString() } })
      expect(new Date(earlier.body.data.expires_at).getTime()).toBe(sooner.getTime())
      expectRefused(await call(gw, 'POST', '/api/v1/keys', { headers: bearer(shortLived), body: { expires_at: new Date(Date.now() + 7200_000).toISOString() } }), 403, 'expiry_not_grantable')
      // Another key that never expires: a fresh secret for it would outlive the caller.
      expectRefused(await call(gw, 'POST', `/api/v1/keys/${keys.alice.id}/rotate`, { headers: bearer(shortLived) }), 403, 'expiry_not_grantable')
    })
  })

  describe('revoking a key of a higher role', () => {
    it('is refused to a department_admin (an administrator\'s key in their department), allowed to the admin', async () => {
      const { id, key } = await createKey(gw, { user_id: null, department: 'research', role: 'admin', name: 'research-admin-service' })
      expectRefused(await call(gw, 'DELETE', `/api/v1/keys/${id}`, { headers: as('rdAdmin') }), 403, 'role_not_grantable')
      expect((await chat(gw, bearer(key))).status).toBe(200)
      expect((await call(gw, 'DELETE', `/api/v1/keys/${id}`, { headers: ADMIN })).status).toBe(200)
      expect((await chat(gw, bearer(key))).body.error.code).toBe('key_revoked')
    })
  })
})
