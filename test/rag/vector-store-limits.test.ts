/**
 * OpenAI's bounds on what /v1/vector_stores takes, driven by the official `openai` SDK: a file's
 * attributes (16 pairs, keys of 64 characters, string values of 512) wherever they come in, refused
 * with a 400 naming the field as OpenAI words it; file batches of up to 2,000 files given as
 * `file_ids` (the batch-wide attributes and chunking apply) or as `files` (each its own: the
 * batch-wide ones are ignored), never both, every file found before any is attached.
 */
import OpenAI, { BadRequestError, toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { KEYS, ragConfig, startRagUpstream, type RagUpstream } from './helpers.ts'

const long = (n: number): string => 'x'.repeat(n)

describe('/v1/vector_stores: OpenAI\'s limits on attributes and file batches', () => {
  let upstream: RagUpstream
  let gw: RunningGateway
  let alice: OpenAI

  beforeAll(async () => {
    upstream = await startRagUpstream()
    gw = await startTestGateway(ragConfig(upstream).replace('services:\n', 'services:\n  files: {}\n'))
    alice = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEYS.alice, maxRetries: 0 })
  }, 60_000)
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })

  const upload = async (name: string, text: string) => alice.files.create({ file: await toFile(Buffer.from(text), name, { type: 'text/plain' }), purpose: 'assistants' })
  const refused = async (call: Promise<unknown>, param: string, message: string | RegExp) => {
    await expect(call).rejects.toBeInstanceOf(BadRequestError)
    await expect(call).rejects.toMatchObject({ status: 400, type: 'invalid_request_error', param, message: expect.stringMatching(message) })
  }

  it('refuses attributes past OpenAI\'s bounds on a file, an update, a batch and each of its files, naming the field; takes them at the bounds', async () => {
    const store = await alice.vectorStores.create({ name: 'Bounded attributes' })
    const file = await upload('cafe.txt', 'The cafeteria opens at seven.')
    const seventeen = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, i]))
    const sixteen = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, i]))

    await refused(alice.vectorStores.files.create(store.id, { file_id: file.id, attributes: seventeen }), 'attributes',
      /Invalid 'attributes': too many properties\. Expected an object with at most 16 properties, but got an object with 17 properties instead\.$/)
    await refused(alice.vectorStores.files.create(store.id, { file_id: file.id, attributes: { [long(65)]: 'v' } }), 'attributes', /key too long.*maximum length 64.*length 65/)
    await refused(alice.vectorStores.files.create(store.id, { file_id: file.id, attributes: { note: long(513) } }), 'attributes.note',
      /Invalid 'attributes\.note': string too long\. Expected a string with maximum length 512, but got a string with length 513 instead\.$/)
    await refused(alice.vectorStores.files.create(store.id, { file_id: file.id, attributes: { nested: { a: 1 } } as never }), 'attributes.nested', /expected a string, a number or a boolean, but got an object/)
    await refused(alice.vectorStores.fileBatches.create(store.id, { file_ids: [file.id], attributes: { note: long(600) } }), 'attributes.note', /string too long/)
    await refused(alice.vectorStores.fileBatches.create(store.id, { files: [{ file_id: file.id }, { file_id: file.id, attributes: { [long(70)]: true } }] }), 'files[1].attributes', /key too long/)
    expect((await alice.vectorStores.files.list(store.id)).data).toEqual([])

    // At the bounds: 16 pairs, a 64-character key, a 512-character string.
    const atBounds: Record<string, string | number | boolean> = { ...sixteen, k15: long(512) }
    delete atBounds.k14
    atBounds[long(64)] = true
    const attached = await alice.vectorStores.files.createAndPoll(store.id, { file_id: file.id, attributes: atBounds }, { pollIntervalMs: 50 })
    expect(attached.attributes).toEqual(atBounds)
    await refused(alice.vectorStores.files.update(file.id, { vector_store_id: store.id, attributes: { ...sixteen, extra: true } }), 'attributes', /too many properties/)
    await refused(alice.vectorStores.files.update(file.id, { vector_store_id: store.id, attributes: { note: long(513) } }), 'attributes.note', /string too long/)
    expect((await alice.vectorStores.files.update(file.id, { vector_store_id: store.id, attributes: { note: long(512) } })).attributes).toEqual({ note: long(512) })
  })

  it('applies a batch\'s attributes and chunking to its file_ids, and ignores them for files that each say their own', async () => {
    const store = await alice.vectorStores.create({ name: 'Batch settings' })
    const a = await upload('a.txt', 'The garage opens at six.')
    const b = await upload('b.txt', 'The library opens at nine.')
    const chunking = { type: 'static' as const, static: { max_chunk_size_tokens: 300, chunk_overlap_tokens: 20 } }
    await alice.vectorStores.fileBatches.createAndPoll(store.id, { file_ids: [a.id], attributes: { source: 'batch' }, chunking_strategy: chunking }, { pollIntervalMs: 50 })
    expect(await alice.vectorStores.files.retrieve(a.id, { vector_store_id: store.id })).toMatchObject({ attributes: { source: 'batch' }, chunking_strategy: chunking })

    await alice.vectorStores.fileBatches.createAndPoll(store.id, {
      files: [{ file_id: b.id, attributes: { own: 1 } }, { file_id: a.id }],
      attributes: { source: 'global' }, chunking_strategy: chunking,
    }, { pollIntervalMs: 50 })
    const own = await alice.vectorStores.files.retrieve(b.id, { vector_store_id: store.id })
    expect(own.attributes).toEqual({ own: 1 })
    // Not the batch's chunking: the store's (services.rag.chunking in the test config, 100 tokens).
    expect(own.chunking_strategy).toEqual({ type: 'static', static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 10 } })
    expect((await alice.vectorStores.files.retrieve(a.id, { vector_store_id: store.id })).attributes).toEqual({})

    await refused(alice.vectorStores.fileBatches.create(store.id, { file_ids: [a.id], files: [{ file_id: b.id }] }), 'files', /mutually exclusive/)
    await refused(alice.vectorStores.fileBatches.create(store.id, {} as never), 'file_ids', /Missing required parameter/)
  })

  it('takes batches of up to 2,000 files, refusing more; finds every file before attaching any', async () => {
    const store = await alice.vectorStores.create({ name: 'Big batches' })
    const missing = (i: number) => `file-${i.toString(16).padStart(24, '0')}`
    await refused(alice.vectorStores.fileBatches.create(store.id, { file_ids: Array.from({ length: 2001 }, (_, i) => missing(i)) }), 'file_ids', /2000/)
    // 2,000 is within bounds: these are refused for the files they name, not for their number.
    await expect(alice.vectorStores.fileBatches.create(store.id, { file_ids: Array.from({ length: 2000 }, (_, i) => missing(i)) })).rejects.toMatchObject({ status: 404, code: 'file_not_found' })
    await expect(alice.vectorStores.fileBatches.create(store.id, { files: Array.from({ length: 2000 }, (_, i) => ({ file_id: missing(i) })) })).rejects.toMatchObject({ status: 404, code: 'file_not_found' })

    // A file not found at the end of a batch: none of those before it is attached.
    const good = await Promise.all([0, 1, 2].map((i) => upload(`good${i}.txt`, `Good file number ${i}.`)))
    const half = alice.vectorStores.fileBatches.create(store.id, { file_ids: [...good.map((f) => f.id), missing(7)] })
    await expect(half).rejects.toMatchObject({ status: 404, code: 'file_not_found', message: expect.stringContaining(missing(7)) })
    expect((await alice.vectorStores.files.list(store.id)).data).toEqual([])

    // The batch is counted by its files' status.
    const many = []
    for (let i = 0; i < 40; i++) many.push((await upload(`n${i}.txt`, `Note ${i}: the meeting room ${i} has a projector.`)).id)
    const batch = await alice.vectorStores.fileBatches.createAndPoll(store.id, { file_ids: [...many, many[0]!] }, { pollIntervalMs: 100 })
    expect(batch.file_counts).toEqual({ in_progress: 0, completed: 40, failed: 0, cancelled: 0, total: 40 })
    expect((await alice.vectorStores.retrieve(store.id)).file_counts).toMatchObject({ completed: 40, total: 40 })
  }, 60_000)
})
