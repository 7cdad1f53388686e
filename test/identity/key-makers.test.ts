/**
 * Who made a key, and what happens to it when its owner changes department. A key records who saw
 * its secret (`created_by`; `rotated_by` for a secret a rotation made). A user who moves takes
 * along only the keys whose secret they made; a key someone else made for them (a department
 * admin's for a member), or rotated, or made with such a key, is revoked instead: it is in that
 * person's hands, and must not follow the user into the new department's data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { ADMIN, apiKeyStrategy, bearer, call, chat, config, createKey, recordedUserIds } from './helpers.ts'

const PEOPLE = {
  lead: { role: 'department_admin', department: 'research' },
  salesLead: { role: 'department_admin', department: 'sales' },
  alice: { role: 'user', department: 'research' },
  bob: { role: 'user', department: 'research' },
} as const
type Person = keyof typeof PEOPLE
const keyOf = (who: Person) => `makers-${who}-key-0123456789abcdef`
const as = (who: Person) => bearer(keyOf(who))

const CONFIG = config({
  store: 'store: { plugin: embedded, memory: true }\n',
  auth: apiKeyStrategy(Object.entries(PEOPLE).map(([who, p]) =>
    `        - { key: "${keyOf(who as Person)}", user: ${who}, role: ${p.role}, department: ${p.department} }\n`).join('')),
  extra: `services: { keys: {}, users: {}, rag: { embedding_route: mock-a } }
departments:
  research: {}
  sales: {}
`,
})

describe('who made a key, and a key made for a user who changes department', () => {
  let gw: RunningGateway
  let ids = {} as Record<Person, string>

  beforeAll(async () => {
    gw = await startTestGateway(CONFIG)
    ids = await recordedUserIds(gw, Object.keys(PEOPLE) as Person[], as)
  }, 60_000)
  afterAll(() => gw?.close())

  const moveTo = (who: Person, department: string) => call(gw, 'PATCH', `/api/v1/users/${ids[who]}`, { headers: ADMIN, body: { department } })

  it('revokes the key a department admin made for a member who moves to another department, and moves the member\'s own', async () => {
    // Sales shares a collection with its department.
    const shared = await call(gw, 'POST', '/api/v1/rag/collections', { headers: as('salesLead'), body: { name: 'Sales playbook', dept_scope: 'sales' } })
    expect(shared.status, JSON.stringify(shared.body)).toBe(201)
    const collection = `/api/v1/rag/collections/${shared.body.data.id}`

    // The research lead makes a key for alice (she is in research) and keeps its secret; alice makes her own.
    const minted = await createKey(gw, { user_id: ids.alice, name: 'made by lead' }, as('lead'))
    expect(minted.record).toMatchObject({ user_id: ids.alice, department: 'research', created_by: ids.lead, rotated_by: null })
    const own = await createKey(gw, { name: 'alice laptop' }, as('alice'))
    expect(own.record).toMatchObject({ user_id: ids.alice, department: 'research', created_by: ids.alice })
    expect((await call(gw, 'GET', collection, { headers: bearer(minted.key) })).status).toBe(404)

    const moved = await moveTo('alice', 'sales')
    expect(moved.status, JSON.stringify(moved.body)).toBe(200)
    expect(moved.body.data).toMatchObject({ id: ids.alice, department: 'sales' })
    expect(moved.body.meta.revoked_keys).toEqual([minted.id])
    expect(moved.body.message).toContain('revoked 1 key made for this user by someone else')

    // The lead's copy stops at once, and never reads sales' data as alice.
    const refused = await chat(gw, bearer(minted.key))
    expect(refused.status).toBe(401)
    expect(refused.body.error.code).toBe('key_revoked')
    expect((await call(gw, 'GET', collection, { headers: bearer(minted.key) })).status).toBe(401)
    // Alice's own key went with her.
    expect((await chat(gw, bearer(own.key))).status).toBe(200)
    expect((await call(gw, 'GET', '/api/v1/users/me', { headers: bearer(own.key) })).body.data).toMatchObject({ user_id: ids.alice, department: 'sales' })
    expect((await call(gw, 'GET', collection, { headers: bearer(own.key) })).status).toBe(200)
    expect((await call(gw, 'GET', `/api/v1/keys/${own.id}`, { headers: ADMIN })).body.data).toMatchObject({ department: 'sales', status: 'active', created_by: ids.alice })

    // The lead still sees the key they made, revoked where it was; alice's own key is out of their scope now.
    const listed = await call(gw, 'GET', '/api/v1/keys?include_revoked=true', { headers: as('lead') })
    expect(listed.body.data.find((k: { id: string }) => k.id === minted.id)).toMatchObject({ status: 'revoked', department: 'research', created_by: ids.lead })
    expect((await call(gw, 'POST', `/api/v1/keys/${minted.id}/rotate`, { headers: as('lead') })).body.error).toBe('key_not_active')
    expect((await call(gw, 'GET', `/api/v1/keys/${own.id}`, { headers: as('lead') })).body.error).toBe('out_of_scope')
    expect((await call(gw, 'POST', `/api/v1/keys/${own.id}/rotate`, { headers: as('lead') })).body.error).toBe('out_of_scope')
    expect((await call(gw, 'DELETE', `/api/v1/keys/${own.id}`, { headers: as('lead') })).body.error).toBe('out_of_scope')
  })

  it('counts a key made with another key as made by whoever holds that key\'s secret, not by the user it acts as', async () => {
    const minted = await createKey(gw, { user_id: ids.bob }, as('lead'))
    // Made with the lead's copy of bob's key: it acts as bob, but its secret is in the lead's hands.
    const child = await createKey(gw, { name: 'made with the lead\'s copy' }, bearer(minted.key))
    expect(child.record).toMatchObject({ user_id: ids.bob, created_by: ids.lead })
    const own = await createKey(gw, {}, as('bob'))
    const grandchild = await createKey(gw, {}, bearer(own.key))
    expect(grandchild.record.created_by).toBe(ids.bob)

    const moved = await moveTo('bob', 'sales')
    expect([...moved.body.meta.revoked_keys].sort()).toEqual([minted.id, child.id].sort())
    expect((await chat(gw, bearer(child.key))).body.error.code).toBe('key_revoked')
    expect((await chat(gw, bearer(grandchild.key))).status).toBe(200)
    await moveTo('bob', 'research')
  })

  it('counts a key rotated by someone else as theirs: the new secret is in their hands', async () => {
    const own = await createKey(gw, {}, as('bob'))
    // Within scope and a role the lead could give: allowed, and now the lead holds the secret.
    const rotated = await call(gw, 'POST', `/api/v1/keys/${own.id}/rotate`, { headers: as('lead') })
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(201)
    expect(rotated.body.data).toMatchObject({ id: own.id, created_by: ids.bob, rotated_by: ids.lead })
    // A key the lead made and bob rotated is bob's: the lead's secret stops with the rotation.
    const minted = await createKey(gw, { user_id: ids.bob }, as('lead'))
    const taken = await call(gw, 'POST', `/api/v1/keys/${minted.id}/rotate`, { headers: as('bob'), body: { grace_s: 3600 } })
    expect(taken.body.data).toMatchObject({ created_by: ids.lead, rotated_by: ids.bob })
    expect((await chat(gw, bearer(minted.key))).status).toBe(200) // the old secret, in its grace

    const moved = await moveTo('bob', 'sales')
    expect(moved.body.meta.revoked_keys).toEqual([own.id])
    expect((await chat(gw, bearer(rotated.body.data.key))).body.error.code).toBe('key_revoked')
    expect((await chat(gw, bearer(taken.body.data.key))).status).toBe(200)
    // The secret bob's rotation replaced was the lead's: its grace ends with the move.
    expect((await chat(gw, bearer(minted.key))).body.error.code).toBe('key_rotated')
    await moveTo('bob', 'research')
  })

  it('lists each key with its owner and its maker by name, so two keys of the same name are told apart', async () => {
    const forBob = await createKey(gw, { user_id: ids.bob, name: 'notebook' }, as('lead'))
    const bobs = await createKey(gw, { name: 'notebook' }, as('bob'))
    const service = await createKey(gw, { user_id: null, department: 'research', name: 'notebook' }, as('lead'))
    const listed = await call(gw, 'GET', '/api/v1/keys', { headers: as('lead') })
    expect(listed.status).toBe(200)
    const byId = new Map((listed.body.data as { id: string }[]).map((k) => [k.id, k]))
    const person = (who: Person) => ({ id: ids[who], name: who, email: null, external_subject: `config:${who}` })
    expect(byId.get(forBob.id)).toMatchObject({ user_id: ids.bob, owner: person('bob'), created_by: ids.lead, creator: person('lead') })
    expect(byId.get(bobs.id)).toMatchObject({ owner: person('bob'), creator: person('bob') })
    expect(byId.get(service.id)).toMatchObject({ user_id: null, owner: null, creator: person('lead') })
    // A member's own list names them too.
    const own = await call(gw, 'GET', '/api/v1/keys', { headers: as('bob') })
    expect(own.body.data.find((k: { id: string }) => k.id === bobs.id)).toMatchObject({ owner: person('bob') })
  })

  it('revokes nothing when the department does not change', async () => {
    const minted = await createKey(gw, { user_id: ids.bob }, as('lead'))
    const same = await moveTo('bob', 'research')
    expect(same.body.meta.revoked_keys).toEqual([])
    expect((await chat(gw, bearer(minted.key))).status).toBe(200)
  })
})
