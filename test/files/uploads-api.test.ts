/**
 * OpenAI's Uploads API through the official openai SDK (`client.uploads.create`, `.parts.create`,
 * `.complete`, `.cancel`): a file sent in parts becomes a regular file of the Files service (same
 * owner, limits and purpose checks as files.create) usable by files.content and batches; a
 * cancelled or expired upload takes nothing more and its parts are deleted; parts survive a
 * restart of a gateway with a persistent store. Answers match OpenAI's Upload and UploadPart schemas.
 */
import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Store } from '../../plugin-api/index.ts'
import { Files } from '../../plugins/contracts/files.ts'
import { capability, startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { expectOpenAISchema } from '../helpers/openai-schema.ts'
import { waitFor } from '../helpers/wait.ts'
import { apiKeyStrategy, config } from '../identity/helpers.ts'

const ALICE = 'uploads-alice-key-0123456789abcd'
const BOB = 'uploads-bob-key-0123456789abcdef'
const AUTH = apiKeyStrategy([
  `        - { key: "${ALICE}", user: alice, role: user, department: research }\n`,
  `        - { key: "${BOB}", user: bob, role: user, department: sales }\n`,
].join(''))
const SERVICES = 'queue: { plugin: memory }\nservices: { files: { max_bytes: 100000, expiry_sweep_ms: 100 }, training: {}, batches: {} }\n'

const chatLine = (id: string, text: string) => JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: { model: 'mock-a', messages: [{ role: 'user', content: text }] } })
const example = (q: string, a: string) => JSON.stringify({ messages: [{ role: 'user', content: q }, { role: 'assistant', content: a }] })

/** Send `text` as an upload of `parts` pieces, in order; the upload and its part ids. */
async function sendInParts(client: OpenAI, text: string, parts: number, purpose: OpenAI.FilePurpose = 'user_data', filename = 'data.jsonl') {
  const bytes = Buffer.from(text)
  const upload = await client.uploads.create({ purpose, filename, bytes: bytes.length, mime_type: 'application/jsonl' })
  const size = Math.ceil(bytes.length / parts)
  const ids: string[] = []
  for (let i = 0; i < bytes.length; i += size) {
    ids.push((await client.uploads.parts.create(upload.id, { data: await toFile(bytes.subarray(i, i + size), 'part') })).id)
  }
  return { upload, ids }
}

describe('uploads: /v1/uploads with the openai SDK', () => {
  let gw: RunningGateway
  const client = (key: string) => new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 })
  const partsOf = async (uploadId: string) => (await capability(gw, Store).sql.query<{ id: string }>('SELECT id FROM upload_parts WHERE upload_id = $1', [uploadId])).rows.length

  beforeAll(async () => { gw = await startTestGateway(config({ auth: AUTH, extra: SERVICES })) }, 120_000)
  afterAll(async () => { await gw?.close() })

  it('creates an upload, takes parts in any order and completes them, in the order named, into a file files.content reads', async () => {
    const alice = client(ALICE)
    const text = `${chatLine('a', 'one')}\n${chatLine('b', 'two')}\n`
    const before = Math.floor(Date.now() / 1000)
    const upload = await alice.uploads.create({ purpose: 'batch', filename: 'requests.jsonl', bytes: Buffer.byteLength(text), mime_type: 'application/jsonl' })
    expectOpenAISchema('Upload', upload)
    expect(upload).toMatchObject({ object: 'upload', status: 'pending', purpose: 'batch', filename: 'requests.jsonl', bytes: Buffer.byteLength(text) })
    expect(upload.id).toMatch(/^upload_/)
    expect(upload.expires_at - upload.created_at).toBe(3600)
    expect(upload.created_at).toBeGreaterThanOrEqual(before)
    expect(upload.file).toBeUndefined()

    // Sent second half first: the order is complete's part_ids, not the arrival.
    const half = Buffer.byteLength(text) >> 1
    const second = await alice.uploads.parts.create(upload.id, { data: await toFile(Buffer.from(text).subarray(half), 'b') })
    const first = await alice.uploads.parts.create(upload.id, { data: await toFile(Buffer.from(text).subarray(0, half), 'a') })
    expectOpenAISchema('UploadPart', first)
    expect(first).toMatchObject({ object: 'upload.part', upload_id: upload.id })
    expect(first.id).toMatch(/^part_/)

    const done = await alice.uploads.complete(upload.id, { part_ids: [first.id, second.id], md5: createHash('md5').update(text).digest('hex') })
    expectOpenAISchema('Upload', done)
    expect(done).toMatchObject({ id: upload.id, status: 'completed', file: { object: 'file', bytes: Buffer.byteLength(text), filename: 'requests.jsonl', purpose: 'batch', status: 'processed' } })
    expectOpenAISchema('OpenAIFile', done.file)
    const fileId = done.file!.id
    expect(await alice.files.retrieve(fileId)).toEqual(done.file)
    expect(await (await alice.files.content(fileId)).text()).toBe(text)
    expect(await partsOf(upload.id)).toBe(0)

    // A regular file: a batch runs from it.
    const batch = await alice.batches.create({ input_file_id: fileId, endpoint: '/v1/chat/completions', completion_window: '24h' })
    expect(batch.input_file_id).toBe(fileId)
    const ended = await waitFor(async () => {
      const b = await alice.batches.retrieve(batch.id)
      return ['completed', 'failed'].includes(b.status) ? b : undefined
    }, 20_000)
    expect(ended.value).toMatchObject({ status: 'completed', request_counts: { total: 2, completed: 2, failed: 0 } })

    // Once completed, it takes no more parts, no second complete and no cancel.
    await expect(alice.uploads.complete(upload.id, { part_ids: [first.id, second.id] })).rejects.toMatchObject({ status: 400, code: 'upload_already_completed' })
    await expect(alice.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('x'), 'x') })).rejects.toMatchObject({ status: 400, code: 'upload_already_completed' })
    await expect(alice.uploads.cancel(upload.id)).rejects.toMatchObject({ status: 400, code: 'upload_already_completed' })
  })

  it('gives the file the owner, the expires_after and the purpose check of files.create (a broken fine-tune JSONL refused, a valid one kept)', async () => {
    const alice = client(ALICE)
    const bob = client(BOB)
    const good = `${example('Capital of France?', 'Paris.')}\n${example('2+2?', '4')}\n`
    const { upload, ids } = await sendInParts(alice, good, 3, 'fine-tune', 'train.jsonl')
    await expect(bob.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('x'), 'x') })).rejects.toMatchObject({ status: 404, code: 'upload_not_found' })
    await expect(bob.uploads.complete(upload.id, { part_ids: ids })).rejects.toMatchObject({ status: 404, code: 'upload_not_found' })
    await expect(bob.uploads.cancel(upload.id)).rejects.toMatchObject({ status: 404, code: 'upload_not_found' })
    const done = await alice.uploads.complete(upload.id, { part_ids: ids })
    expect(done.file).toMatchObject({ purpose: 'fine-tune', bytes: Buffer.byteLength(good) })
    await expect(bob.files.retrieve(done.file!.id)).rejects.toMatchObject({ status: 404, code: 'file_not_found' })
    expect((await alice.files.list({ purpose: 'fine-tune' })).data.map((f) => f.id)).toContain(done.file!.id)

    // Not JSONL for fine-tuning: refused whole as files.create refuses it, and the upload stays pending.
    const broken = `${example('Hi', 'Hello')}\n{"messages": [{"role": "wizard", "content": "x"}]}\n`
    const bad = await sendInParts(alice, broken, 2, 'fine-tune', 'broken.jsonl')
    const refused = await alice.uploads.complete(bad.upload.id, { part_ids: bad.ids }).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError)
    expect(refused).toMatchObject({ status: 400, code: 'invalid_dataset' })
    expect((await alice.uploads.cancel(bad.upload.id)).status).toBe('cancelled')

    const expiring = await alice.uploads.create({ purpose: 'user_data', filename: 'tmp.txt', bytes: 5, mime_type: 'text/plain', expires_after: { anchor: 'created_at', seconds: 3600 } })
    const part = await alice.uploads.parts.create(expiring.id, { data: await toFile(Buffer.from('hello'), 'p') })
    const made = await alice.uploads.complete(expiring.id, { part_ids: [part.id] })
    expect(made.file!.expires_at! - made.file!.created_at).toBe(3600)
  })

  it('refuses what OpenAI refuses: wrong total, unknown or repeated parts, a wrong md5, limits of files.create, unknown fields', async () => {
    const alice = client(ALICE)
    const { upload, ids } = await sendInParts(alice, 'abcdefghij', 2)
    const mismatch = await alice.uploads.complete(upload.id, { part_ids: [ids[0]] }).catch((e: unknown) => e)
    expect(mismatch).toBeInstanceOf(OpenAI.BadRequestError)
    expect(mismatch).toMatchObject({ status: 400, code: 'upload_bytes_mismatch', param: 'part_ids' })
    await expect(alice.uploads.complete(upload.id, { part_ids: [ids[0], 'part_00000000000000000000000000000000'] })).rejects.toMatchObject({ status: 400, code: 'upload_part_not_found', param: 'part_ids' })
    await expect(alice.uploads.complete(upload.id, { part_ids: [ids[0], 'nonsense'] })).rejects.toMatchObject({ status: 400, code: 'upload_part_not_found' })
    // Another upload's part is no part of this one.
    const other = await sendInParts(alice, 'fghij', 1)
    await expect(alice.uploads.complete(upload.id, { part_ids: [ids[0], other.ids[0]] })).rejects.toMatchObject({ status: 400, code: 'upload_part_not_found' })
    await expect(alice.uploads.complete(upload.id, { part_ids: [ids[0], ids[0]] })).rejects.toMatchObject({ status: 400, code: 'duplicate_upload_part' })
    await expect(alice.uploads.complete(upload.id, { part_ids: ids, md5: createHash('md5').update('other').digest('hex') })).rejects.toMatchObject({ status: 400, code: 'md5_mismatch', param: 'md5' })
    // Every refusal left it pending: it completes.
    expect((await alice.uploads.complete(upload.id, { part_ids: ids })).status).toBe('completed')

    const create = (body: Partial<OpenAI.Uploads.UploadCreateParams> & Record<string, unknown>) => alice.uploads.create({ purpose: 'user_data', filename: 'f.txt', bytes: 10, mime_type: 'text/plain', ...body } as OpenAI.Uploads.UploadCreateParams)
    await expect(create({ bytes: 100_001 })).rejects.toMatchObject({ status: 400, code: 'file_too_large', param: 'bytes' })
    await expect(create({ purpose: 'nonsense' as 'assistants' })).rejects.toMatchObject({ status: 400, code: 'invalid_purpose', param: 'purpose' })
    await expect(create({ filename: 'x'.repeat(256) })).rejects.toMatchObject({ status: 400 })
    await expect(create({ expires_after: { anchor: 'created_at', seconds: 60 } })).rejects.toMatchObject({ status: 400 })
    await expect(create({ colour: 'blue' })).rejects.toMatchObject({ status: 400, code: 'unknown_parameter' })

    const small = await create({ bytes: 4 })
    await expect(alice.uploads.parts.create(small.id, { data: await toFile(Buffer.from('12345'), 'p') })).rejects.toMatchObject({ status: 400, code: 'upload_part_too_large', param: 'data' })
    await expect(alice.uploads.parts.create(small.id, { data: await toFile(Buffer.alloc(0), 'p') })).rejects.toMatchObject({ status: 400, code: 'empty_part' })
    // Parts kept are bounded: twice the upload's bytes (room to send a part again), no more.
    for (let i = 0; i < 2; i++) await alice.uploads.parts.create(small.id, { data: await toFile(Buffer.from('1234'), 'p') })
    await expect(alice.uploads.parts.create(small.id, { data: await toFile(Buffer.from('1'), 'p') })).rejects.toMatchObject({ status: 400, code: 'upload_parts_too_large' })
    await expect(alice.uploads.cancel('upload_00000000000000000000000000000000')).rejects.toMatchObject({ status: 404, code: 'upload_not_found' })
  })

  it('cancels a pending upload: its parts are deleted at once, and it takes no parts, no complete and no second cancel', async () => {
    const alice = client(ALICE)
    const { upload, ids } = await sendInParts(alice, 'cancel me', 3)
    expect(await partsOf(upload.id)).toBe(3)
    const cancelled = await alice.uploads.cancel(upload.id)
    expectOpenAISchema('Upload', cancelled)
    expect(cancelled).toMatchObject({ id: upload.id, status: 'cancelled' })
    expect(await partsOf(upload.id)).toBe(0)
    const again = await alice.uploads.cancel(upload.id).catch((e: unknown) => e)
    expect(again).toBeInstanceOf(OpenAI.BadRequestError)
    expect(again).toMatchObject({ status: 400, code: 'upload_already_cancelled' })
    await expect(alice.uploads.complete(upload.id, { part_ids: ids })).rejects.toMatchObject({ status: 400, code: 'upload_already_cancelled' })
    await expect(alice.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('x'), 'x') })).rejects.toMatchObject({ status: 400, code: 'upload_already_cancelled' })
  })

  it('expires an upload an hour after its creation: refused from then on, then swept (marked expired, parts deleted)', async () => {
    const alice = client(ALICE)
    const { upload, ids } = await sendInParts(alice, 'expire me', 2)
    const sql = capability(gw, Store).sql
    // Its hour passes (moved to now).
    await sql.query(`UPDATE uploads SET expires_at = now() - interval '1 second' WHERE id = $1`, [upload.id])
    await expect(alice.uploads.complete(upload.id, { part_ids: ids })).rejects.toMatchObject({ status: 400, code: 'upload_expired' })
    await expect(alice.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('x'), 'x') })).rejects.toMatchObject({ status: 400, code: 'upload_expired' })
    await expect(alice.uploads.cancel(upload.id)).rejects.toMatchObject({ status: 400, code: 'upload_expired' })
    await waitFor(async () => (await partsOf(upload.id)) === 0)
    const { rows } = await sql.query<{ status: string }>('SELECT status FROM uploads WHERE id = $1', [upload.id])
    expect(rows[0].status).toBe('expired')

    // Its record answers why for 30 days, then goes.
    await expect(alice.uploads.cancel(upload.id)).rejects.toMatchObject({ status: 400, code: 'upload_expired' })
    await sql.query(`UPDATE uploads SET expires_at = now() - interval '31 days' WHERE id = $1`, [upload.id])
    await waitFor(async () => (await sql.query('SELECT id FROM uploads WHERE id = $1', [upload.id])).rows.length === 0)
    await expect(alice.uploads.cancel(upload.id)).rejects.toMatchObject({ status: 404, code: 'upload_not_found' })
  })
})

describe('uploads: a part holds at most 64 MB, as on OpenAI', () => {
  it('refuses a part of 64 MB and a byte even when the body limit and the upload would take it', async () => {
    const gw = await startTestGateway(config({ auth: AUTH, extra: `server: { body_limit: 70mb }\nservices: { files: { max_bytes: 80000000 } }\n` }))
    try {
      const alice = new OpenAI({ apiKey: ALICE, baseURL: `${gw.url}/v1`, maxRetries: 0 })
      const upload = await alice.uploads.create({ purpose: 'user_data', filename: 'big.bin', bytes: 70_000_000, mime_type: 'application/octet-stream' })
      const big = alice.uploads.parts.create(upload.id, { data: await toFile(Buffer.alloc(64 * 1024 * 1024 + 1), 'p') })
      await expect(big).rejects.toMatchObject({ status: 400, code: 'upload_part_too_large', param: 'data' })
    } finally {
      await gw.close()
    }
  }, 120_000)
})

describe('uploads: parts kept across a restart of a gateway with a persistent store', () => {
  let dir: string
  beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'gw-uploads-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('completes after a restart between parts, with the parts sent before it', async () => {
    const yaml = config({ auth: AUTH, store: `store: { plugin: embedded, path: "${path.join(dir, 'data')}", vector: false }\n`, extra: SERVICES })
    const text = 'first half|second half'
    let gw = await startTestGateway(yaml)
    let alice = new OpenAI({ apiKey: ALICE, baseURL: `${gw.url}/v1`, maxRetries: 0 })
    const upload = await alice.uploads.create({ purpose: 'user_data', filename: 'halves.txt', bytes: text.length, mime_type: 'text/plain' })
    const first = await alice.uploads.parts.create(upload.id, { data: await toFile(Buffer.from(text.slice(0, 11)), 'a') })
    await gw.close()

    gw = await startTestGateway(yaml)
    try {
      alice = new OpenAI({ apiKey: ALICE, baseURL: `${gw.url}/v1`, maxRetries: 0 })
      const second = await alice.uploads.parts.create(upload.id, { data: await toFile(Buffer.from(text.slice(11)), 'b') })
      const done = await alice.uploads.complete(upload.id, { part_ids: [first.id, second.id] })
      expect(await (await alice.files.content(done.file!.id)).text()).toBe(text)
    } finally {
      await gw.close()
    }
  }, 120_000)
})

describe('uploads: a complete that never finished (crashed gateway, failed store call) is taken over, and an upload makes one file', () => {
  let gw: RunningGateway
  const alice = () => new OpenAI({ apiKey: ALICE, baseURL: `${gw.url}/v1`, maxRetries: 0 })
  const sql = () => capability(gw, Store).sql
  const filesNamed = async (filename: string) => (await sql().query<{ id: string }>('SELECT id FROM files WHERE filename = $1', [filename])).rows.map((r) => r.id)
  /** The row as a gateway that crashed while completing leaves it: `completing`, claimed `age` ago. */
  const crashedWhileCompleting = (id: string, age: string | null) => sql().query(
    `UPDATE uploads SET status = 'completing', claim = 'crashed', claimed_at = ${age === null ? 'NULL' : `now() - interval '${age}'`} WHERE id = $1`, [id])

  beforeAll(async () => { gw = await startTestGateway(config({ auth: AUTH, extra: SERVICES })) }, 120_000)
  afterAll(async () => { await gw?.close() })

  it('answers 409 while a complete holds the upload, then lets a later complete take over an abandoned one and make exactly one file', async () => {
    const { upload, ids } = await sendInParts(alice(), 'crash while completing', 2, 'user_data', 'crashed.txt')
    await crashedWhileCompleting(upload.id, '1 second')
    await expect(alice().uploads.complete(upload.id, { part_ids: ids })).rejects.toMatchObject({ status: 409, code: 'upload_completing' })

    await crashedWhileCompleting(upload.id, '61 seconds')
    const done = await alice().uploads.complete(upload.id, { part_ids: ids })
    expect(done).toMatchObject({ status: 'completed', file: { filename: 'crashed.txt', bytes: 22 } })
    expect(await (await alice().files.content(done.file!.id)).text()).toBe('crash while completing')
    expect(await filesNamed('crashed.txt')).toEqual([done.file!.id])
    await expect(alice().uploads.complete(upload.id, { part_ids: ids })).rejects.toMatchObject({ status: 400, code: 'upload_already_completed' })

    // A row claimed before claims were timed (no claimed_at) is abandoned too; so it also takes parts and a cancel.
    const old = await sendInParts(alice(), 'old claim', 1, 'user_data', 'old-claim.txt')
    await crashedWhileCompleting(old.upload.id, null)
    expect((await alice().uploads.complete(old.upload.id, { part_ids: old.ids })).status).toBe('completed')
    const stuck = await sendInParts(alice(), 'cancel me', 1, 'user_data', 'stuck.txt')
    await crashedWhileCompleting(stuck.upload.id, '2 minutes')
    expect((await alice().uploads.cancel(stuck.upload.id)).status).toBe('cancelled')
  })

  it('puts the upload back to pending when the store fails while making the file, so the next complete succeeds', async () => {
    const { upload, ids } = await sendInParts(alice(), 'store fails once', 1, 'user_data', 'store-fails.txt')
    let failures = 1
    const remove = capability(gw, Files).checkPurpose('user_data', async () => {
      if (failures-- > 0) throw new Error('store connection lost')
    })
    try {
      await expect(alice().uploads.complete(upload.id, { part_ids: ids })).rejects.toMatchObject({ status: 500 })
      expect((await sql().query<{ status: string }>('SELECT status FROM uploads WHERE id = $1', [upload.id])).rows[0].status).toBe('pending')
      const done = await alice().uploads.complete(upload.id, { part_ids: ids })
      expect(await filesNamed('store-fails.txt')).toEqual([done.file!.id])
    } finally { remove() }
  })

  it('two completes: one too slow is taken over, the slow one keeps no file and says the upload was completed', async () => {
    const { upload, ids } = await sendInParts(alice(), 'slow then taken over', 2, 'user_data', 'slow.txt')
    let takeover: Promise<OpenAI.Uploads.Upload> | undefined
    const remove = capability(gw, Files).checkPurpose('user_data', async () => {
      if (takeover) return
      // The first complete stalls past the bound while making its file; another one takes the upload over and finishes.
      await sql().query(`UPDATE uploads SET claimed_at = now() - interval '61 seconds' WHERE id = $1`, [upload.id])
      takeover = alice().uploads.complete(upload.id, { part_ids: ids })
      await takeover
    })
    try {
      const slow = await alice().uploads.complete(upload.id, { part_ids: ids }).catch((e: unknown) => e)
      const done = await takeover!
      expect(done).toMatchObject({ status: 'completed' })
      expect(slow).toMatchObject({ status: 400, code: 'upload_already_completed' })
      expect(await filesNamed('slow.txt')).toEqual([done.file!.id])
      expect(await (await alice().files.content(done.file!.id)).text()).toBe('slow then taken over')
    } finally { remove() }

    // Racing completes of a pending upload: one makes the file, the other is refused.
    const race = await sendInParts(alice(), 'racing completes', 2, 'user_data', 'race.txt')
    const results = await Promise.allSettled([0, 1, 2].map(() => alice().uploads.complete(race.upload.id, { part_ids: race.ids })))
    const made = results.filter((r) => r.status === 'fulfilled')
    expect(made).toHaveLength(1)
    for (const r of results) if (r.status === 'rejected') expect((r.reason as { status: number }).status).toBeOneOf([400, 409])
    expect(await filesNamed('race.txt')).toHaveLength(1)
  })
})
