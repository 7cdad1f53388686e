/**
 * Files through the official openai SDK (`client.files.*`) and the management API: upload with a
 * purpose, list with paging and a purpose filter, retrieve, content, delete; owner and department
 * scoping; bad uploads refused with the field at fault; answers match OpenAI's OpenAPI document.
 */
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { capability, startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { ADMIN, ADMIN_KEY, apiKeyStrategy, bearer, call, config } from '../identity/helpers.ts'
import { Files, type StoredFile } from '../../plugins/contracts/files.ts'
import { Store } from '../../plugin-api/index.ts'
import { waitFor } from '../helpers/wait.ts'
import { expectOpenAISchema } from '../helpers/openai-schema.ts'

const ALICE = 'files-alice-key-0123456789abcdef'
const BOB = 'files-bob-key-0123456789abcdef01'
const CAROL = 'files-carol-key-0123456789abcdef'
const LEAD = 'files-lead-key-0123456789abcdef0'

const CONFIG = config({
  auth: apiKeyStrategy([
    `        - { key: "${ALICE}", user: alice, role: user, department: research }\n`,
    `        - { key: "${BOB}", user: bob, role: user, department: research }\n`,
    `        - { key: "${CAROL}", user: carol, role: user, department: sales }\n`,
    `        - { key: "${LEAD}", user: lead, role: department_admin, department: research }\n`,
  ].join('')),
  extra: 'services: { files: { max_bytes: 100000, expiry_sweep_ms: 100 } }\n',
})

describe('files: /v1/files with the openai SDK, /api/v1/files', () => {
  let gw: RunningGateway
  const client = (key: string) => new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 })

  beforeAll(async () => { gw = await startTestGateway(CONFIG) }, 120_000) // the embedded store's first start is slow on a busy machine
  afterAll(async () => { await gw?.close() })

  it('uploads, retrieves, lists, reads and deletes a file with client.files.*', async () => {
    const alice = client(ALICE)
    const text = '{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}\n'
    const created = await alice.files.create({ file: await toFile(Buffer.from(text), 'train.jsonl', { type: 'application/jsonl' }), purpose: 'user_data' })
    expect(created).toMatchObject({ object: 'file', bytes: Buffer.byteLength(text), filename: 'train.jsonl', purpose: 'user_data', status: 'processed' })
    expect(created.id).toMatch(/^file-[0-9a-f]{24}$/)
    expect(Math.abs(created.created_at - Date.now() / 1000)).toBeLessThan(60)
    expectOpenAISchema('OpenAIFile', created)

    expect(await alice.files.retrieve(created.id)).toEqual(created)
    const content = await alice.files.content(created.id)
    expect(await content.text()).toBe(text)

    const listed = await alice.files.list()
    expect(listed.data.map((f) => f.id)).toContain(created.id)
    // The wire answer itself, as OpenAI's document defines a list.
    const wire = await (await fetch(`${gw.url}/v1/files?limit=2`, { headers: bearer(ALICE) })).json()
    expectOpenAISchema('ListFilesResponse', wire)

    const deleted = await alice.files.delete(created.id)
    expectOpenAISchema('DeleteFileResponse', deleted)
    expect(deleted).toEqual({ id: created.id, object: 'file', deleted: true })
    await expect(alice.files.retrieve(created.id)).rejects.toMatchObject({ status: 404 })
  })

  it('streams a large file\'s content a page at a time (a batch\'s output of hundreds of MB is never held whole): chunked, every byte as stored', async () => {
    // Over two 1 MiB pages, with a 3-byte character across each page's edge.
    const data = Buffer.from(`${'€'.repeat(900_000)}\n`)
    // Uploads are bounded (max_bytes): the large bytes are put in place as the batch worker writes its files.
    const stored = await client(ALICE).files.create({ file: await toFile(Buffer.from('{}\n'), 'big.jsonl'), purpose: 'user_data' })
    await capability(gw, Store).sql.query('UPDATE files SET content = $1, bytes = $2 WHERE id = $3', [data, data.length, stored.id])
    const res = await fetch(`${gw.url}/v1/files/${stored.id}/content`, { headers: bearer(ALICE) })
    expect(res.status).toBe(200)
    // Buffered whole, the answer had a content-length; streamed, it is chunked.
    expect(res.headers.get('content-length')).toBeNull()
    expect(res.headers.get('transfer-encoding')).toBe('chunked')
    expect(Buffer.from(await res.arrayBuffer()).equals(data)).toBe(true)
    const viaSdk = await client(ALICE).files.content(stored.id)
    expect(Buffer.from(await viaSdk.arrayBuffer()).equals(data)).toBe(true)
    await capability(gw, Files).delete(stored.id)
  })

  it('pages a list with after/limit (the SDK follows has_more) and filters by purpose', async () => {
    const bob = client(BOB)
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      ids.push((await bob.files.create({ file: await toFile(Buffer.from(`file ${i}`), `f${i}.txt`), purpose: i % 2 ? 'assistants' : 'batch' })).id)
    }
    const first = await bob.files.list({ limit: 2 })
    expect(first.data.map((f) => f.id)).toEqual([ids[4], ids[3]])
    expect(first.hasNextPage()).toBe(true)
    const all: string[] = []
    for await (const f of bob.files.list({ limit: 2 })) all.push(f.id)
    expect(all).toEqual([...ids].reverse())
    const assistants = await bob.files.list({ purpose: 'assistants' })
    expect(assistants.data.map((f) => f.id)).toEqual([ids[3], ids[1]])
    // An empty list is still OpenAI's shape (string first_id/last_id), and the SDK sees no next page.
    const empty = await (await fetch(`${gw.url}/v1/files?purpose=evals`, { headers: bearer(BOB) })).json()
    expect(empty).toMatchObject({ object: 'list', data: [], has_more: false })
    expectOpenAISchema('ListFilesResponse', empty)
    const none = await bob.files.list({ purpose: 'evals' })
    expect(none.data).toEqual([])
    expect(none.hasNextPage()).toBe(false)
  })

  it('refuses an `after` cursor that names no file the caller can list (deleted since, another\'s) with a 400 naming `after`, not an empty page that reads as the end', async () => {
    const bob = client(BOB)
    const older = await bob.files.create({ file: await toFile(Buffer.from('older'), 'older.txt'), purpose: 'user_data' })
    const cursor = await bob.files.create({ file: await toFile(Buffer.from('cursor'), 'cursor.txt'), purpose: 'user_data' })
    expect((await bob.files.list({ after: cursor.id, limit: 100 })).data.map((f) => f.id)).toContain(older.id)
    await bob.files.delete(cursor.id)
    const gone = await bob.files.list({ after: cursor.id }).catch((e: unknown) => e)
    expect(gone).toBeInstanceOf(OpenAI.BadRequestError)
    expect(gone).toMatchObject({ status: 400, param: 'after', code: 'invalid_value' })
    const others = (await client(CAROL).files.create({ file: await toFile(Buffer.from('hers'), 'hers.txt'), purpose: 'user_data' })).id
    await expect(bob.files.list({ after: others })).rejects.toMatchObject({ status: 400, param: 'after' })
    await expect(bob.files.list({ after: 'file-000000000000000000000000' })).rejects.toMatchObject({ status: 400, param: 'after' })
  })

  it('lists up to 10,000 files a page by default, as OpenAI\'s files.list does (has_more past the limit asked)', async () => {
    const carol = client(CAROL)
    const ids: string[] = []
    for (let i = 0; i < 101; i++) ids.push((await carol.files.create({ file: await toFile(Buffer.from(`image note ${i}`), `n${i}.txt`), purpose: 'vision' })).id)
    const page = await carol.files.list({ purpose: 'vision' })
    expect(page.data.map((f) => f.id)).toEqual([...ids].reverse())
    expect(page.hasNextPage()).toBe(false)
    const hundred = await (await fetch(`${gw.url}/v1/files?purpose=vision&limit=100`, { headers: bearer(CAROL) })).json()
    expect(hundred.data).toHaveLength(100)
    expect(hundred.has_more).toBe(true)
    const all = await (await fetch(`${gw.url}/v1/files?purpose=vision&limit=10000`, { headers: bearer(CAROL) })).json()
    expect(all).toMatchObject({ has_more: false, last_id: ids[0] })
    // 10,001 files: a page of the most a list may ask still says there is more.
    await capability(gw, Store).sql.query(
      `INSERT INTO files (id, user_id, department, filename, purpose, content_type, bytes, content)
       SELECT 'file-' || lpad(to_hex(n), 24, '0'), f.user_id, f.department, 'bulk.txt', 'vision', 'text/plain', 1, 'x'::bytea
       FROM generate_series(1, 9900) AS n, (SELECT user_id, department FROM files WHERE id = $1) AS f`, [ids[0]],
    )
    const full = await (await fetch(`${gw.url}/v1/files?purpose=vision&limit=10000`, { headers: bearer(CAROL) })).json()
    expect(full.data).toHaveLength(10_000)
    expect(full.has_more).toBe(true)
    await capability(gw, Store).sql.query(`DELETE FROM files WHERE filename = 'bulk.txt'`)
  })

  it('keeps files within the owner\'s scope: others get 404 (as for no file), the department admin sees the department', async () => {
    const carol = client(CAROL)
    const mine = await carol.files.create({ file: await toFile(Buffer.from('secret'), 'c.txt'), purpose: 'assistants' })
    await expect(client(ALICE).files.retrieve(mine.id)).rejects.toMatchObject({ status: 404, code: 'file_not_found' })
    await expect(client(ALICE).files.content(mine.id)).rejects.toMatchObject({ status: 404 })
    await expect(client(ALICE).files.delete(mine.id)).rejects.toMatchObject({ status: 404 })
    expect((await client(ALICE).files.list()).data.map((f) => f.id)).not.toContain(mine.id)

    const bobs = (await client(BOB).files.list()).data.map((f) => f.id)
    const lead = (await client(LEAD).files.list({ limit: 100 })).data.map((f) => f.id)
    for (const id of bobs) expect(lead).toContain(id)
    expect(lead).not.toContain(mine.id)
    const admin = (await client(ADMIN_KEY).files.list({ limit: 100 })).data.map((f) => f.id)
    expect(admin).toContain(mine.id)
  })

  it('refuses bad uploads with the field at fault, in OpenAI\'s error shape', async () => {
    const alice = client(ALICE)
    await expect(alice.files.create({ file: await toFile(Buffer.from('x'), 'x.txt'), purpose: 'nonsense' as 'assistants' })).rejects.toMatchObject({ status: 400, param: 'purpose', code: 'invalid_purpose' })
    await expect(alice.files.create({ file: await toFile(Buffer.alloc(0), 'x.txt'), purpose: 'assistants' })).rejects.toMatchObject({ status: 400, param: 'file', code: 'empty_file' })
    await expect(alice.files.create({ file: await toFile(Buffer.alloc(100_001, 97), 'big.txt'), purpose: 'assistants' })).rejects.toMatchObject({ status: 400, param: 'file', code: 'file_too_large' })
    const form = new FormData()
    form.set('file', new Blob(['x']), 'x.txt')
    const res = await fetch(`${gw.url}/v1/files`, { method: 'POST', headers: bearer(ALICE), body: form })
    expect(res.status).toBe(400)
    expect((await res.json()).error).toMatchObject({ param: 'purpose', code: 'missing_purpose' })
    const noAuth = await fetch(`${gw.url}/v1/files`)
    expect(noAuth.status).toBe(401)
    expect((await noAuth.json()).error).toMatchObject({ type: 'authentication_error', code: 'missing_credentials' })
    await expect(alice.files.retrieve('file-000000000000000000000000')).rejects.toMatchObject({ status: 404, code: 'file_not_found' })
    await expect(alice.files.retrieve('nonsense')).rejects.toMatchObject({ status: 404, code: 'file_not_found' })
  })

  it('keeps a file with expires_after until then: gone from every read at its time, then swept through the delete hooks', async () => {
    const alice = client(ALICE)
    const before = Math.floor(Date.now() / 1000)
    const expiring = await alice.files.create({ file: await toFile(Buffer.from('short-lived'), 'tmp.txt'), purpose: 'user_data', expires_after: { anchor: 'created_at', seconds: 3600 } })
    expect(expiring.expires_at).toBeGreaterThanOrEqual(before + 3600)
    expect(expiring.expires_at).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 3600)
    expectOpenAISchema('OpenAIFile', await (await fetch(`${gw.url}/v1/files/${expiring.id}`, { headers: bearer(ALICE) })).json())
    const managed = await (await fetch(`${gw.url}/api/v1/files/${expiring.id}`, { headers: bearer(ALICE) })).json()
    expect(new Date(managed.data.expires_at).getTime() / 1000).toBeCloseTo(expiring.expires_at!, -1)
    const kept = await alice.files.create({ file: await toFile(Buffer.from('kept'), 'kept.txt'), purpose: 'user_data' })
    expect(kept.expires_at).toBeUndefined()

    // Its time comes (moved to now: an hour is the shortest OpenAI allows).
    const deleted: StoredFile[] = []
    const unhook = capability(gw, Files).onDelete(async (file) => { deleted.push(file) })
    try {
      await capability(gw, Store).sql.query(`UPDATE files SET expires_at = now() - interval '1 second' WHERE id = $1`, [expiring.id])
      await expect(alice.files.retrieve(expiring.id)).rejects.toMatchObject({ status: 404, code: 'file_not_found' })
      await expect(alice.files.content(expiring.id)).rejects.toMatchObject({ status: 404 })
      const listed: string[] = []
      for await (const f of alice.files.list({ purpose: 'user_data' })) listed.push(f.id)
      expect(listed).toContain(kept.id)
      expect(listed).not.toContain(expiring.id)
      await waitFor(() => deleted.find((f) => f.id === expiring.id))
      const { rows } = await capability(gw, Store).sql.query('SELECT id FROM files WHERE id = $1', [expiring.id])
      expect(rows).toEqual([])
      expect((await alice.files.retrieve(kept.id)).id).toBe(kept.id)
    } finally {
      unhook()
    }

    // A file whose delete hook fails stays (unreadable) for the next sweep; the others still go.
    const stuck = await alice.files.create({ file: await toFile(Buffer.from('stuck'), 'stuck.txt'), purpose: 'user_data', expires_after: { anchor: 'created_at', seconds: 3600 } })
    const freed = await alice.files.create({ file: await toFile(Buffer.from('freed'), 'freed.txt'), purpose: 'user_data', expires_after: { anchor: 'created_at', seconds: 3600 } })
    const refuse = capability(gw, Files).onDelete(async (file) => { if (file.id === stuck.id) throw new Error('not yet') })
    const exists = async (id: string) => (await capability(gw, Store).sql.query('SELECT id FROM files WHERE id = $1', [id])).rows.length === 1
    try {
      // The stuck one expires first, so a sweep meets it before the other.
      await capability(gw, Store).sql.query(`UPDATE files SET expires_at = now() - interval '2 seconds' WHERE id = $1`, [stuck.id])
      await capability(gw, Store).sql.query(`UPDATE files SET expires_at = now() - interval '1 second' WHERE id = $1`, [freed.id])
      await waitFor(async () => !(await exists(freed.id)))
      expect(await exists(stuck.id)).toBe(true)
      await expect(alice.files.retrieve(stuck.id)).rejects.toMatchObject({ status: 404 })
    } finally {
      refuse()
    }
    await waitFor(async () => !(await exists(stuck.id)))

    // Out of OpenAI's bounds, or another anchor: a 400 naming the field.
    const upload = async (expires_after: { anchor: 'created_at'; seconds: number }) => alice.files.create({ file: await toFile(Buffer.from('x'), 'x.txt'), purpose: 'user_data', expires_after })
    await expect(upload({ anchor: 'created_at', seconds: 60 })).rejects.toMatchObject({ status: 400, param: 'expires_after.seconds', code: 'invalid_expires_after' })
    await expect(upload({ anchor: 'created_at', seconds: 2_592_001 })).rejects.toMatchObject({ status: 400, param: 'expires_after.seconds' })
    await expect(upload({ anchor: 'last_active_at' as 'created_at', seconds: 3600 })).rejects.toMatchObject({ status: 400, param: 'expires_after.anchor' })
  })

  it('serves the same files on /api/v1/files in the envelope, with owner and department', async () => {
    const older = await client(ALICE).files.create({ file: await toFile(Buffer.from('older'), 'older.txt'), purpose: 'assistants' })
    const form = new FormData()
    form.set('purpose', 'assistants')
    form.set('file', new Blob(['hello envelope'], { type: 'text/plain' }), 'e.txt')
    const res = await fetch(`${gw.url}/api/v1/files`, { method: 'POST', headers: bearer(ALICE), body: form })
    expect(res.status).toBe(201)
    const created = (await res.json()) as { success: boolean; data: Record<string, unknown> }
    expect(created.success).toBe(true)
    expect(created.data).toMatchObject({ filename: 'e.txt', purpose: 'assistants', bytes: 14, department: 'research', content_type: 'text/plain' })
    const id = created.data.id as string
    const got = await call(gw, 'GET', `/api/v1/files/${id}`, { headers: bearer(ALICE) })
    expect(got.body.data.id).toBe(id)
    const content = await fetch(`${gw.url}/api/v1/files/${id}/content`, { headers: bearer(ALICE) })
    expect(await content.text()).toBe('hello envelope')
    const list = await call(gw, 'GET', '/api/v1/files?purpose=assistants&limit=1', { headers: bearer(ALICE) })
    // Newest first: the one just uploaded, then the older one behind it.
    expect(list.body.data.map((f: { id: string }) => f.id)).toEqual([id])
    expect(list.body.meta).toMatchObject({ has_more: true })
    const both = await call(gw, 'GET', '/api/v1/files?purpose=assistants&limit=2', { headers: bearer(ALICE) })
    expect(both.body.data.map((f: { id: string }) => f.id)).toEqual([id, older.id])
    expect((await call(gw, 'GET', `/api/v1/files/${id}`, { headers: bearer(CAROL) })).status).toBe(404)
    expect((await call(gw, 'DELETE', `/api/v1/files/${id}`, { headers: ADMIN })).status).toBe(200)
    expect((await call(gw, 'GET', `/api/v1/files/${id}`, { headers: ADMIN })).status).toBe(404)
  })

  it('runs a purpose\'s check before storing: a refused upload stores nothing', async () => {
    const files = capability(gw, Files)
    const remove = files.checkPurpose('evals', async (upload) => {
      if (!upload.data.toString().startsWith('ok')) throw Object.assign(new Error('Not an eval file.'), { status: 400, code: 'invalid_eval', param: 'file' })
      return { checked: true }
    })
    try {
      const before = (await files.list({ purpose: 'evals' })).length
      await expect(client(ALICE).files.create({ file: await toFile(Buffer.from('bad'), 'e.jsonl'), purpose: 'evals' })).rejects.toMatchObject({ status: 400, code: 'invalid_eval' })
      expect((await files.list({ purpose: 'evals' })).length).toBe(before)
      const ok = await client(ALICE).files.create({ file: await toFile(Buffer.from('ok'), 'e.jsonl'), purpose: 'evals' })
      expect((await files.get(ok.id))?.metadata).toEqual({ checked: true })
    } finally {
      remove()
    }
  })
})

describe('files: off unless configured', () => {
  it('answers 404 on /v1/files without service.files', async () => {
    const gw = await startTestGateway(config({ auth: apiKeyStrategy(), store: '' }))
    try {
      const res = await call(gw, 'GET', '/v1/files', { headers: ADMIN })
      expect(res.status).toBe(404)
      // No route at all, not a refusal by a service that is there.
      expect(res.body.error).toMatchObject({ type: 'not_found_error', code: 'unknown_url' })
    } finally {
      await gw.close()
    }
  })
})
