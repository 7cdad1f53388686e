/**
 * A console session made from a config key (gateway.yaml's api-key `keys:`) follows the key as the
 * config being served has it: a reload that changes the key's department or role applies at the
 * session's next request, and one that removes the key (or the api-key strategy) ends the session,
 * as revoking a virtual key ends its session.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { CookieClient } from './helpers.ts'

const ADMIN_KEY = 'config-session-admin-key-0123456789'
const LEAD_KEY = 'config-session-lead-key-0123456789'
const NEW_LEAD_KEY = 'config-session-new-lead-key-012345'
const ADMIN = { authorization: `Bearer ${ADMIN_KEY}` }

const admin = `        - { key: "${ADMIN_KEY}", user: admin, role: admin }\n`
const lead = (department: string, key = LEAD_KEY) => `        - { key: "${key}", user: lena, role: department_admin, department: ${department} }\n`

function gatewayYaml(keys: string | null): string {
  const apiKey = keys === null ? '' : `    - plugin: api-key\n      keys:\n${keys}`
  return `version: 1
store: { plugin: embedded, memory: true, vector: false }
providers:
  mock: { plugin: mock }
routes:
  - { model: mock, targets: [ { provider: mock } ] }
departments:
  research: { models: [mock] }
  finance: { models: [mock] }
auth:
  strategies:
    - plugin: session
${apiKey}
services:
  keys: {}
  users: {}
  auth: {}
`
}

let dir: string
let file: string
let gw: RunningGateway | undefined
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'gw-config-key-sessions-'))
  file = path.join(dir, 'gateway.yaml')
})
afterEach(async () => {
  await gw?.close()
  gw = undefined
  await rm(dir, { recursive: true, force: true })
})

async function start(keys: string | null): Promise<RunningGateway> {
  await writeFile(file, gatewayYaml(keys))
  gw = await startTestGateway({ file }, { watch: false })
  return gw
}

async function reload(keys: string | null): Promise<void> {
  await writeFile(file, gatewayYaml(keys))
  expect((await gw!.controller.reload('test')).status).toBe('reloaded')
}

async function sessionOf(key: string): Promise<CookieClient> {
  const client = new CookieClient()
  const signedIn = await client.request(`${gw!.url}/api/v1/auth/session`, { method: 'POST', headers: { authorization: `Bearer ${key}` } })
  expect(signedIn.status).toBe(201)
  return client
}

/** A virtual key of `department`, made by the admin: a record a department admin there may read. */
async function departmentKey(department: string): Promise<string> {
  const created = await new CookieClient().request(`${gw!.url}/api/v1/keys`, { method: 'POST', headers: ADMIN, body: { name: `${department}-service`, role: 'user', user_id: null, department } })
  expect(created.status).toBe(201)
  return created.body.data.id
}

describe('a config key\'s console session', () => {
  it('takes the department gateway.yaml gives the key after a reload, and ends once the key is removed', async () => {
    await start(admin + lead('research'))
    const researchKey = await departmentKey('research')
    const client = await sessionOf(LEAD_KEY)
    expect((await client.request(`${gw!.url}/api/v1/auth/me`)).body.data).toMatchObject({ role: 'department_admin', department: 'research', session: { method: 'api_key' } })
    expect((await client.request(`${gw!.url}/api/v1/keys/${researchKey}`)).status).toBe(200)

    // A virtual key's session, alongside: the config keys' reloads leave it alone.
    const virtual = await new CookieClient().request(`${gw!.url}/api/v1/keys`, { method: 'POST', headers: ADMIN, body: { name: 'console', role: 'user', user_id: null } })
    const virtualSession = await sessionOf(virtual.body.data.key)

    await reload(admin + lead('finance'))
    expect((await client.request(`${gw!.url}/api/v1/auth/me`)).body.data).toMatchObject({ role: 'department_admin', department: 'finance' })
    expect([403, 404]).toContain((await client.request(`${gw!.url}/api/v1/keys/${researchKey}`)).status)
    expect((await client.request(`${gw!.url}/api/v1/keys/${await departmentKey('finance')}`)).status).toBe(200)

    await reload(admin)
    expect((await new CookieClient().request(`${gw!.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${LEAD_KEY}` } })).status).toBe(401)
    const after = await client.request(`${gw!.url}/api/v1/auth/me`)
    expect(after.status).toBe(401)
    expect((await client.request(`${gw!.url}/api/v1/keys/${await departmentKey('finance')}`)).status).toBe(401)
    // Put back, the key signs in anew; the session it had stays ended.
    await reload(admin + lead('finance'))
    expect((await client.request(`${gw!.url}/api/v1/auth/me`)).status).toBe(401)

    expect((await virtualSession.request(`${gw!.url}/api/v1/auth/me`)).body.data).toMatchObject({ key_id: virtual.body.data.id, strategy: 'auth.session' })
  })

  it('takes a role change at the next request', async () => {
    await start(admin + lead('research'))
    const client = await sessionOf(LEAD_KEY)
    expect((await client.request(`${gw!.url}/api/v1/users`)).status).toBe(200)
    await reload(admin + lead('research').replace('department_admin', 'user'))
    expect((await client.request(`${gw!.url}/api/v1/auth/me`)).body.data).toMatchObject({ role: 'user', department: 'research' })
    expect((await client.request(`${gw!.url}/api/v1/users`)).status).toBe(403)
  })

  it('ends with the key it was made with, not with another key for the same user (a key rolled over)', async () => {
    await start(admin + lead('research') + lead('research', NEW_LEAD_KEY))
    const old = await sessionOf(LEAD_KEY)
    const current = await sessionOf(NEW_LEAD_KEY)
    const me = (await old.request(`${gw!.url}/api/v1/auth/me`)).body.data
    expect(me.key_id).toBe((await current.request(`${gw!.url}/api/v1/auth/me`)).body.data.key_id)

    await reload(admin + lead('research', NEW_LEAD_KEY))
    expect((await old.request(`${gw!.url}/api/v1/auth/me`)).status).toBe(401)
    expect((await current.request(`${gw!.url}/api/v1/auth/me`)).body.data).toMatchObject({ user_id: me.user_id, department: 'research' })
  })

  it('ends when the api-key strategy is removed from gateway.yaml', async () => {
    await start(admin + lead('research'))
    const client = await sessionOf(LEAD_KEY)
    expect((await client.request(`${gw!.url}/api/v1/auth/me`)).status).toBe(200)
    await reload(null)
    expect((await client.request(`${gw!.url}/api/v1/auth/me`)).status).toBe(401)
  })
})
