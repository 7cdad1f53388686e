/**
 * The audit trail of RAG collections: a collection (vector store) created, changed and deleted, and its
 * documents (files) added and removed, through /api/v1/rag and OpenAI's /v1/vector_stores alike,
 * each an entry naming who did it, the collection, the document by id and filename, and the
 * request id; never a document's text. `target_id=<collection>` reads its history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { KEYS, api, ragConfig, startRagUpstream, type Api, type RagUpstream, type User } from './helpers.ts'

const TEXT = 'The quarterly SECRET-BODY-TEXT plan for the research department.'

describe('the audit trail of RAG collections and vector stores', () => {
  let upstream: RagUpstream
  let gw: RunningGateway
  let rag: Api
  const v1 = async (method: string, path: string, user: User, body?: unknown) => {
    const res = await fetch(`${gw.url}/v1${path}`, {
      method, headers: { authorization: `Bearer ${KEYS[user]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    return { status: res.status, body: await res.json(), requestId: res.headers.get('x-request-id') }
  }
  const history = async (id: string) => {
    const res = await fetch(`${gw.url}/api/v1/audit?target_id=${id}`, { headers: { authorization: `Bearer ${KEYS.admin}` } })
    return (await res.json()).data as { action: string; actor: { user_id: string; role: string }; target: unknown; department: string | null; details: Record<string, unknown>; request_id: string }[]
  }
  const userId = async (user: User) => (await (await fetch(`${gw.url}/api/v1/users/me`, { headers: { authorization: `Bearer ${KEYS[user]}` } })).json()).data.user_id

  beforeAll(async () => {
    upstream = await startRagUpstream()
    gw = await startTestGateway(ragConfig(upstream).replace('services:\n', 'queue: { plugin: memory }\nservices:\n  files: {}\n  users: {}\n'))
    rag = api(gw)
  }, 60_000)
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })

  it('records a collection created, renamed and deleted through /api/v1/rag, and its documents uploaded and deleted; never their text', async () => {
    const created = await rag('POST', '/collections', 'dana', { name: 'plans', dept_scope: 'research' })
    expect(created.status).toBe(201)
    const id = created.body.data.id
    const uploaded = await rag.upload(id, 'dana', [{ name: 'plan.txt', type: 'text/plain', data: Buffer.from(TEXT) }])
    expect(uploaded.status).toBe(202)
    const doc = uploaded.body.data[0]
    await rag.settled(id)
    expect((await rag('PATCH', `/collections/${id}`, 'dana', { name: 'plans-2027', metadata: { team: 'core' } })).status).toBe(200)
    expect((await rag('DELETE', `/collections/${id}/documents/${doc.id}`, 'dana')).status).toBe(200)
    expect((await rag('DELETE', `/collections/${id}`, 'admin')).status).toBe(200)

    const entries = await history(id)
    expect(entries.map((e) => e.action)).toEqual(['collection.delete', 'document.delete', 'collection.update', 'document.add', 'collection.create'])
    const dana = await userId('dana')
    for (const e of entries.slice(1)) expect(e).toMatchObject({ actor: { user_id: dana }, target: { type: 'collection', id }, department: 'research' })
    const [remove, docDelete, update, docAdd, create] = entries
    expect(create).toMatchObject({ actor: { role: 'department_admin' }, details: { name: 'plans', dept_scope: 'research', embedding_route: 'embedder' } })
    const document = { collection: 'plans', document_id: doc.id, file_id: null, filename: 'plan.txt', bytes: Buffer.byteLength(TEXT) }
    expect(docAdd.details).toEqual(document)
    expect(update.details).toEqual({ name: { from: 'plans', to: 'plans-2027' }, dept_scope: 'research', embedding_route: 'embedder', changed: ['metadata', 'name'] })
    expect(docDelete.details).toEqual({ ...document, collection: 'plans-2027' })
    expect(remove).toMatchObject({ actor: { role: 'admin' }, target: { type: 'collection', id }, department: 'research', details: { name: 'plans-2027' } })
    expect(JSON.stringify(entries)).not.toContain('SECRET-BODY-TEXT')
  })

  it('records a vector store created with files, a file attached (alone and in a batch) and detached, its metadata changed and the store deleted, through /v1/vector_stores', async () => {
    const upload = async (name: string) => {
      const form = new FormData()
      form.set('purpose', 'assistants')
      form.set('file', new Blob([TEXT]), name)
      const res = await fetch(`${gw.url}/v1/files`, { method: 'POST', headers: { authorization: `Bearer ${KEYS.alice}` }, body: form })
      return (await res.json()).id as string
    }
    const [first, second, third] = [await upload('a.txt'), await upload('b.txt'), await upload('c.txt')]
    const created = await v1('POST', '/vector_stores', 'alice', { name: 'notes', file_ids: [first] })
    expect(created.status).toBe(200)
    const id = created.body.id
    expect((await v1('POST', `/vector_stores/${id}/files`, 'alice', { file_id: second })).status).toBe(200)
    expect((await v1('POST', `/vector_stores/${id}/file_batches`, 'alice', { file_ids: [third] })).status).toBe(200)
    expect((await v1('POST', `/vector_stores/${id}`, 'alice', { metadata: { topic: 'notes' } })).status).toBe(200)
    const detached = await v1('DELETE', `/vector_stores/${id}/files/${first}`, 'alice')
    expect(detached.status).toBe(200)
    // An unknown file is the SDK's 404, and no entry.
    expect((await v1('DELETE', `/vector_stores/${id}/files/file-000000000000000000000000`, 'alice')).status).toBe(404)
    expect((await v1('DELETE', `/vector_stores/${id}`, 'alice')).status).toBe(200)

    const entries = await history(id)
    expect(entries.map((e) => [e.action, e.details.filename ?? e.details.name])).toEqual([
      ['collection.delete', 'notes'], ['document.delete', 'a.txt'], ['collection.update', 'notes'], ['document.add', 'c.txt'], ['document.add', 'b.txt'], ['document.add', 'a.txt'], ['collection.create', 'notes'],
    ])
    expect(entries[1].details).toMatchObject({ file_id: first, collection: 'notes' })
    expect(entries[2].details).toMatchObject({ name: 'notes', changed: ['metadata'] })
    expect(entries[1].request_id).toBe(detached.requestId)
    expect(entries.at(-1)!.request_id).toBe(created.requestId)
    const alice = await userId('alice')
    for (const e of entries) expect(e.actor).toMatchObject({ user_id: alice, role: 'user' })
  })

  it('records a vector store file given new attributes (before and after), and a failed document retried with why it had failed', async () => {
    const form = new FormData()
    form.set('purpose', 'assistants')
    form.set('file', new Blob([TEXT]), 'labelled.txt')
    const fileId = (await (await fetch(`${gw.url}/v1/files`, { method: 'POST', headers: { authorization: `Bearer ${KEYS.alice}` }, body: form })).json()).id as string
    const store = (await v1('POST', '/vector_stores', 'alice', { name: 'labelled' })).body.id as string
    expect((await v1('POST', `/vector_stores/${store}/files`, 'alice', { file_id: fileId, attributes: { team: 'core' } })).status).toBe(200)
    const relabelled = await v1('POST', `/vector_stores/${store}/files/${fileId}`, 'alice', { attributes: { team: 'ops', year: 2027 } })
    expect(relabelled.status).toBe(200)

    const { body } = await rag('POST', '/collections', 'alice', { name: 'flaky' })
    const collection = body.data.id as string
    upstream.beforeEmbed = (inputs) => { if (inputs.some((i) => i.includes('SECRET-BODY-TEXT'))) throw new Error('embedding backend on fire') }
    try {
      // Text alice has not had embedded yet (the same text again would be copied, with no embeddings call to fail).
      await rag.upload(collection, 'alice', [{ name: 'plan.txt', type: 'text/plain', data: Buffer.from(`${TEXT} Second draft.`) }])
      expect((await rag.settled(collection))[0].status).toBe('failed')
    } finally {
      upstream.beforeEmbed = undefined
    }
    const [failed] = (await rag('GET', `/collections/${collection}/documents`, 'alice')).body.data
    const retried = await rag('POST', `/collections/${collection}/documents/${failed.id}/retry`, 'alice')
    expect(retried.status).toBe(202)
    await rag.settled(collection)

    const alice = await userId('alice')
    const [update] = await history(store)
    expect(update).toMatchObject({ action: 'document.update', actor: { user_id: alice }, target: { type: 'collection', id: store }, request_id: relabelled.requestId })
    expect(update.details).toMatchObject({ collection: 'labelled', file_id: fileId, filename: 'labelled.txt', attributes: { from: { team: 'core' }, to: { team: 'ops', year: 2027 } } })
    const [retry] = await history(collection)
    expect(retry).toMatchObject({ action: 'document.retry', actor: { user_id: alice }, target: { type: 'collection', id: collection } })
    expect(retry.details).toMatchObject({ collection: 'flaky', document_id: failed.id, filename: 'plan.txt', previous_error: failed.error.code })
    expect(JSON.stringify([update, retry])).not.toContain('SECRET-BODY-TEXT')
  })
})
