/**
 * The audit trail of the resources users manage: assistants created, changed and deleted, chat
 * threads started, renamed and deleted, and files uploaded and deleted (through /api/v1/files and
 * OpenAI's /v1/files and /v1/uploads) or deleted by the expiry sweep (actor `system`), each an entry naming who
 * did it, to what (by id and name), what changed and the request id; never an assistant's
 * instructions, what was said in a thread, or a file's bytes.
 */
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { capability, startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { waitFor } from '../helpers/wait.ts'
import { Store } from '../../plugin-api/index.ts'
import { ADMIN, apiKeyStrategy, bearer, call, config } from './helpers.ts'

const LEAD_KEY = 'test-lead-key-0123456789abcdef0123'

describe('the audit trail of assistants and files', () => {
  let gw: RunningGateway
  const audit = async (query: string) => (await call(gw, 'GET', `/api/v1/audit?${query}`, { headers: ADMIN })).body.data
  const lead = async () => (await call(gw, 'GET', '/api/v1/users/me', { headers: bearer(LEAD_KEY) })).body.data

  beforeAll(async () => {
    gw = await startTestGateway(config({
      auth: apiKeyStrategy(`        - { key: "${LEAD_KEY}", user: lead, role: department_admin, department: research }\n`),
      extra: 'departments: { research: {}, sales: {} }\nservices: { users: {}, conversations: {}, assistants: {}, chat: {}, files: { expiry_sweep_ms: 100 } }\n',
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

  it('records who uploaded and deleted a file, through /api/v1/files and /v1/files, by name, purpose and size; never its bytes', async () => {
    const upload = async (path: string) => {
      const form = new FormData()
      form.set('purpose', 'user_data')
      form.set('file', new Blob(['FILE-CONTENT-NOT-AUDITED']), `notes-${path.length}.txt`)
      const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: bearer(LEAD_KEY), body: form })
      const body = await res.json()
      return { id: (body.data ?? body).id as string, requestId: res.headers.get('x-request-id') }
    }
    const managed = await upload('/api/v1/files')
    const openai = await upload('/v1/files')
    const deletedManaged = await call(gw, 'DELETE', `/api/v1/files/${managed.id}`, { headers: bearer(LEAD_KEY) })
    expect(deletedManaged.status).toBe(200)
    expect((await call(gw, 'DELETE', `/v1/files/${openai.id}`, { headers: ADMIN })).status).toBe(200)

    const me = await lead()
    for (const [file, filename] of [[managed, 'notes-13.txt'], [openai, 'notes-9.txt']] as const) {
      const entries = await audit(`target_id=${file.id}`)
      expect(entries.map((e: { action: string }) => e.action)).toEqual(['file.delete', 'file.upload'])
      for (const e of entries) {
        expect(e).toMatchObject({ target: { type: 'file', id: file.id }, department: 'research' })
        expect(e.details).toEqual({ filename, purpose: 'user_data', bytes: 24, owner: me.user_id })
      }
      expect(entries[1]).toMatchObject({ actor: { user_id: me.user_id }, request_id: file.requestId })
      expect(JSON.stringify(entries)).not.toContain('FILE-CONTENT')
    }
    // Who deleted it: the lead one, the admin the other.
    expect((await audit(`target_id=${managed.id}&action=file.delete`))[0]).toMatchObject({ actor: { role: 'department_admin' }, request_id: deletedManaged.headers.get('x-request-id') })
    expect((await audit(`target_id=${openai.id}&action=file.delete`))[0]).toMatchObject({ actor: { role: 'admin' } })
  })

  it('records a file made by completing an upload (/v1/uploads) as an upload by its creator, with the complete\'s request id', async () => {
    const client = new OpenAI({ apiKey: LEAD_KEY, baseURL: `${gw.url}/v1`, maxRetries: 0 })
    const upload = await client.uploads.create({ purpose: 'user_data', filename: 'parts.txt', bytes: 24, mime_type: 'text/plain' })
    const a = await client.uploads.parts.create(upload.id, { data: new File(['FILE-CONTENT'], 'a') })
    const b = await client.uploads.parts.create(upload.id, { data: new File(['-NOT-AUDITED'], 'b') })
    const { data: done, response } = await client.uploads.complete(upload.id, { part_ids: [a.id, b.id] }).withResponse()
    const entries = await audit(`target_id=${done.file!.id}`)
    const me = await lead()
    expect(entries).toHaveLength(1)
    expect(entries[0]).toMatchObject({ action: 'file.upload', actor: { user_id: me.user_id }, target: { type: 'file', id: done.file!.id }, department: 'research', request_id: response.headers.get('x-request-id') })
    expect(entries[0].details).toEqual({ filename: 'parts.txt', purpose: 'user_data', bytes: 24, owner: me.user_id })
    expect(JSON.stringify(entries)).not.toContain('FILE-CONTENT')
  })

  it('records a file the expiry sweep deleted, by the system, with when it expired', async () => {
    const form = new FormData()
    form.set('purpose', 'user_data')
    form.set('expires_after[anchor]', 'created_at')
    form.set('expires_after[seconds]', '3600')
    form.set('file', new Blob(['SHORT-LIVED-CONTENT']), 'short.txt')
    const res = await fetch(`${gw.url}/v1/files`, { method: 'POST', headers: bearer(LEAD_KEY), body: form })
    const { id } = await res.json() as { id: string }
    expect(res.status).toBe(200)
    // Its time comes (an hour is the shortest OpenAI allows).
    await capability(gw, Store).sql.query(`UPDATE files SET expires_at = now() - interval '1 second' WHERE id = $1`, [id])
    const expired = await waitFor(async () => (await audit(`target_id=${id}&action=file.expire`))[0])
    const me = await lead()
    expect(expired.value).toMatchObject({ actor: { user_id: 'system', key_id: null, role: 'system' }, target: { type: 'file', id }, department: 'research', request_id: null })
    expect(expired.value.details).toMatchObject({ filename: 'short.txt', purpose: 'user_data', bytes: 19, owner: me.user_id })
    expect(Date.parse(expired.value.details.expired_at)).toBeLessThan(Date.now())
    // The system's actions are found by its actor id.
    expect((await audit('actor=system')).map((e: { target: { id: string } }) => e.target.id)).toContain(id)
  })

  it('records who started, renamed and deleted a chat thread, by title; never what was said in it', async () => {
    const created = await call(gw, 'POST', '/api/v1/chat/threads', { headers: bearer(LEAD_KEY), body: { title: 'Plans' } })
    expect(created.status).toBe(201)
    const { id } = created.body.data
    expect((await call(gw, 'POST', `/api/v1/chat/threads/${id}/messages`, { headers: bearer(LEAD_KEY), body: { content: 'SAID-IN-THE-THREAD', model: 'mock-a' } })).status).toBe(201)
    const renamed = await call(gw, 'PATCH', `/api/v1/chat/threads/${id}`, { headers: bearer(LEAD_KEY), body: { title: 'Plans 2027' } })
    expect(renamed.status).toBe(200)
    const deleted = await call(gw, 'DELETE', `/api/v1/chat/threads/${id}`, { headers: ADMIN })
    expect(deleted.status).toBe(200)

    const entries = await audit(`target_id=${id}`)
    expect(entries.map((e: { action: string }) => e.action)).toEqual(['thread.delete', 'thread.update', 'thread.create'])
    const me = await lead()
    const [remove, rename, create] = entries
    for (const e of entries) expect(e).toMatchObject({ target: { type: 'thread', id }, department: 'research' })
    expect(create).toMatchObject({ actor: { user_id: me.user_id }, request_id: created.headers.get('x-request-id'), details: { title: 'Plans', owner: me.user_id, assistant_id: null } })
    expect(rename).toMatchObject({ actor: { user_id: me.user_id }, details: { changed: ['title'], title: { from: 'Plans', to: 'Plans 2027' } } })
    expect(remove).toMatchObject({ actor: { role: 'admin' }, request_id: deleted.headers.get('x-request-id'), details: { title: 'Plans 2027', owner: me.user_id } })
    expect(JSON.stringify(entries)).not.toContain('SAID-IN-THE-THREAD')
  })
})

describe('the audit trail of conversations made through OpenAI\'s Conversations API', () => {
  let gw: RunningGateway
  const audit = async (query: string) => (await call(gw, 'GET', `/api/v1/audit?${query}`, { headers: ADMIN })).body.data

  beforeAll(async () => {
    gw = await startTestGateway(config({
      auth: apiKeyStrategy(`        - { key: "${LEAD_KEY}", user: lead, role: department_admin, department: research }\n`),
      extra: 'departments: { research: {} }\nservices: { users: {}, conversations: {} }\nsurfaces: { responses: {} }\n',
    }))
  }, 60_000)
  afterAll(() => gw?.close())

  it('records who created, updated and deleted a conversation, as the console\'s threads are; never its items or metadata values', async () => {
    const lead = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: LEAD_KEY, maxRetries: 0 })
    const { data: conversation, response: created } = await lead.conversations.create({ items: [{ type: 'message', role: 'user', content: 'SAID-IN-THE-CONVERSATION' }], metadata: { topic: 'METADATA-VALUE' } }).withResponse()
    await lead.conversations.update(conversation.id, { metadata: { topic: 'OTHER-VALUE' } })
    const { response: deleted } = await lead.conversations.delete(conversation.id).withResponse()

    const entries = await audit(`target_id=${conversation.id}`)
    expect(entries.map((e: { action: string }) => e.action)).toEqual(['thread.delete', 'thread.update', 'thread.create'])
    const [remove, update, create] = entries
    for (const e of entries) expect(e).toMatchObject({ actor: { role: 'department_admin' }, target: { type: 'thread', id: conversation.id }, department: 'research', details: { title: null, assistant_id: null } })
    expect(create.request_id).toBe(created.headers.get('x-request-id'))
    expect(update.details.changed).toEqual(['metadata'])
    expect(remove.request_id).toBe(deleted.headers.get('x-request-id'))
    expect(JSON.stringify(entries)).not.toMatch(/SAID-IN-THE-CONVERSATION|METADATA-VALUE|OTHER-VALUE/)
  })
})
