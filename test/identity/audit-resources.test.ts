/**
 * The audit trail of the resources users manage: assistants created, changed and deleted, and
 * files uploaded and deleted (through /api/v1/files and OpenAI's /v1/files), each an entry
 * naming who did it, to what (by id and name), what changed and the request id; never an
 * assistant's instructions or a file's bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { ADMIN, apiKeyStrategy, bearer, call, config } from './helpers.ts'

const LEAD_KEY = 'test-lead-key-0123456789abcdef0123'

describe('the audit trail of assistants and files', () => {
  let gw: RunningGateway
  const audit = async (query: string) => (await call(gw, 'GET', `/api/v1/audit?${query}`, { headers: ADMIN })).body.data
  const lead = async () => (await call(gw, 'GET', '/api/v1/users/me', { headers: bearer(LEAD_KEY) })).body.data

  beforeAll(async () => {
    gw = await startTestGateway(config({
      auth: apiKeyStrategy(`        - { key: "${LEAD_KEY}", user: lead, role: department_admin, department: research }\n`),
      extra: 'departments: { research: {}, sales: {} }\nservices: { users: {}, conversations: {}, assistants: {}, files: {} }\n',
    }))
  }, 60_000)
  afterAll(() => gw?.close())

  it('records who created, changed and deleted an assistant, by name, route and department; never its instructions', async () => {
    const created = await call(gw, 'POST', '/api/v1/assistants', { headers: bearer(LEAD_KEY), body: { name: 'helper', route: 'mock-a', instructions: 'SECRET-PROMPT-TEXT' } })
    expect(created.status).toBe(201)
    const { id } = created.body.data
    const patched = await call(gw, 'PATCH', `/api/v1/assistants/${id}`, { headers: bearer(LEAD_KEY), body: { route: 'mock-b', instructions: 'OTHER-PROMPT-TEXT' } })
    expect(patched.status).toBe(200)
    const deleted = await call(gw, 'DELETE', `/api/v1/assistants/${id}`, { headers: bearer(LEAD_KEY) })
    expect(deleted.status).toBe(200)

    const entries = await audit(`target_id=${id}`)
    expect(entries.map((e: { action: string }) => e.action)).toEqual(['assistant.delete', 'assistant.update', 'assistant.create'])
    const me = await lead()
    for (const e of entries) expect(e).toMatchObject({ actor: { user_id: me.user_id, role: 'department_admin' }, target: { type: 'assistant', id }, department: 'research' })
    const [remove, update, create] = entries
    expect(create.details).toEqual({ name: 'helper', route: 'mock-a', dept_scope: 'research' })
    expect(update.details).toEqual({ name: 'helper', changed: ['instructions', 'route'], route: { from: 'mock-a', to: 'mock-b' } })
    expect(remove.details).toEqual({ name: 'helper', route: 'mock-b', dept_scope: 'research' })
    expect(create.request_id).toBe(created.headers.get('x-request-id'))
    expect(remove.request_id).toBe(deleted.headers.get('x-request-id'))
    expect(JSON.stringify(entries)).not.toMatch(/PROMPT-TEXT/)
    // A department reads its own: the department filter finds them.
    expect((await audit('department=research&action=assistant.create')).map((e: { target: { id: string } }) => e.target.id)).toContain(id)
  })
})
