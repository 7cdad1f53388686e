/**
 * OpenAI's /v1/vector_stores driven by the official `openai` SDK: files uploaded with
 * `files.create`, a store made with `vectorStores.create`, files attached with
 * `vectorStores.files.createAndPoll` (ingested through the queue), `vectorStores.search` finding
 * the passage with its file; an unknown store or file refused with nothing stored; a file of a
 * type not read or without text attached `failed` (as on OpenAI), saying why; another
 * department's user never sees the store.
 */
import OpenAI, { NotFoundError, BadRequestError, toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { expectOpenAISchema } from '../helpers/openai-schema.ts'
import { KEYS, api, fixture, pdfOf, ragConfig, startRagUpstream, type RagUpstream } from './helpers.ts'

describe('/v1/vector_stores with the openai SDK', () => {
  let upstream: RagUpstream
  let gw: RunningGateway
  let alice: OpenAI
  let carol: OpenAI

  beforeAll(async () => {
    upstream = await startRagUpstream()
    const config = ragConfig(upstream).replace('services:\n', 'queue: { plugin: memory }\nsurfaces:\n  responses: {}\n  vector-stores: { rewrite_route: gpt }\nservices:\n  files: {}\n  conversations: {}\n')
    gw = await startTestGateway(config)
    alice = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEYS.alice, maxRetries: 0 })
    carol = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEYS.carol, maxRetries: 0 })
  }, 60_000)
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })

  it('creates a store, attaches files and polls them to completed, then searches them', async () => {
    const handbook = await alice.files.create({ file: await toFile(fixture('handbook.md'), 'handbook.md', { type: 'text/markdown' }), purpose: 'assistants' })
    const pdf = await alice.files.create({
      file: await toFile(await pdfOf([['Cover page.'], ['The server room key is kept in the blue safe next to the kitchen.']]), 'keys.pdf', { type: 'application/pdf' }),
      purpose: 'assistants',
    })
    const store = await alice.vectorStores.create({ name: 'Handbook', metadata: { team: 'hr' } })
    expect(store).toMatchObject({ object: 'vector_store', name: 'Handbook', metadata: { team: 'hr' }, file_counts: { total: 0 } })

    const attached = await alice.vectorStores.files.createAndPoll(store.id, { file_id: handbook.id, attributes: { kind: 'policy' } }, { pollIntervalMs: 50 })
    expect(attached).toMatchObject({ id: handbook.id, object: 'vector_store.file', vector_store_id: store.id, status: 'completed', last_error: null, attributes: { kind: 'policy' } })
    const second = await alice.vectorStores.files.createAndPoll(store.id, { file_id: pdf.id, chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 50 } } }, { pollIntervalMs: 50 })
    expect(second).toMatchObject({ status: 'completed', chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 50 } } })

    const listed = []
    for await (const f of alice.vectorStores.files.list(store.id)) listed.push(f.id)
    expect(listed.sort()).toEqual([handbook.id, pdf.id].sort())
    expect(await alice.vectorStores.retrieve(store.id)).toMatchObject({ status: 'completed', file_counts: { completed: 2, in_progress: 0, failed: 0, total: 2 } })

    const results = await alice.vectorStores.search(store.id, { query: 'How long is paid parental leave?', max_num_results: 3 })
    const hits = []
    for await (const hit of results) hits.push(hit)
    expect(hits.length).toBeGreaterThan(0)
    expect(hits[0]).toMatchObject({ file_id: handbook.id, filename: 'handbook.md', attributes: { kind: 'policy' } })
    expect(hits[0].content[0].text).toContain('sixteen weeks of paid parental leave')
    expect(hits[0].score).toBeGreaterThan(0)
    expect(hits[0].score).toBeLessThanOrEqual(1)

    const inPdf = await alice.vectorStores.search(store.id, { query: 'Where is the server room key kept?', max_num_results: 1 })
    expect(inPdf.data[0]).toMatchObject({ file_id: pdf.id, filename: 'keys.pdf' })
    const filtered = await alice.vectorStores.search(store.id, { query: 'server room key', filters: { type: 'eq', key: 'kind', value: 'policy' } })
    expect(filtered.data.every((h) => h.file_id === handbook.id)).toBe(true)

    // Another department's user: the store does not exist for them.
    await expect(carol.vectorStores.retrieve(store.id)).rejects.toBeInstanceOf(NotFoundError)
    await expect(carol.vectorStores.search(store.id, { query: 'leave' })).rejects.toBeInstanceOf(NotFoundError)
    const carolStores = []
    for await (const s of carol.vectorStores.list()) carolStores.push(s.id)
    expect(carolStores).not.toContain(store.id)

    // Detach one file, then delete the store.
    expect(await alice.vectorStores.files.delete(pdf.id, { vector_store_id: store.id })).toMatchObject({ id: pdf.id, deleted: true })
    expect((await alice.vectorStores.search(store.id, { query: 'server room key', max_num_results: 10 })).data.some((h) => h.file_id === pdf.id)).toBe(false)
    expect(await alice.vectorStores.delete(store.id)).toMatchObject({ id: store.id, object: 'vector_store.deleted', deleted: true })
    await expect(alice.vectorStores.retrieve(store.id)).rejects.toBeInstanceOf(NotFoundError)
    // The files themselves stay.
    expect((await alice.files.retrieve(pdf.id)).id).toBe(pdf.id)
  })

  it('searches source code and other text files OpenAI\'s file search takes (.py, .ts, .go...), uploaded without a content type', async () => {
    const store = await alice.vectorStores.create({ name: 'Code' })
    const sources: [string, string][] = [
      ['retry.py', 'def backoff_delay(attempt):\n    # Exponential backoff for the billing webhook.\n    return min(60, 2 ** attempt)\n'],
      ['server.ts', 'export const listenPort = Number(process.env.PORT ?? 8080) // the invoice service port\n'],
      ['main.go', 'package main\n\n// ledgerShards is how many shards hold the ledger.\nconst ledgerShards = 16\n'],
      ['deploy.sh', '#!/bin/sh\n# Deploys the reporting cron job.\nkubectl apply -f cron.yaml\n'],
    ]
    const ids = new Map<string, string>()
    for (const [name, text] of sources) {
      // No type: the SDK sends the part as application/octet-stream.
      const file = await alice.files.create({ file: await toFile(Buffer.from(text), name), purpose: 'assistants' })
      const attached = await alice.vectorStores.files.createAndPoll(store.id, { file_id: file.id }, { pollIntervalMs: 50 })
      expect(attached.status).toBe('completed')
      ids.set(name, file.id)
    }
    expect((await alice.vectorStores.search(store.id, { query: 'billing webhook backoff', max_num_results: 1 })).data[0]).toMatchObject({ file_id: ids.get('retry.py'), filename: 'retry.py' })
    expect((await alice.vectorStores.search(store.id, { query: 'ledger shards', max_num_results: 1 })).data[0]).toMatchObject({ filename: 'main.go' })
    // A binary file under a code name is attached failed (as on OpenAI): its type is not one read.
    const binary = await alice.files.create({ file: await toFile(Buffer.from(Array.from({ length: 400 }, (_, i) => ((i * 37) % 256) | 0x80)), 'blob.py'), purpose: 'assistants' })
    expect(await alice.vectorStores.files.create(store.id, { file_id: binary.id })).toMatchObject({ status: 'failed', last_error: { code: 'unsupported_file', message: expect.stringContaining('blob.py') } })
  })

  it('refuses an unknown store and an unknown file, storing nothing', async () => {
    await expect(alice.vectorStores.retrieve('9d5ed678-fe57-4cca-b9a2-0e6c1f8f0a11')).rejects.toBeInstanceOf(NotFoundError)
    await expect(alice.vectorStores.search('no-such-store', { query: 'x' })).rejects.toBeInstanceOf(NotFoundError)
    // In the SDK's words: a vector store, not the management API's collection.
    const reads = [() => alice.vectorStores.retrieve('vs_nope'), () => alice.vectorStores.files.list('vs_nope'), () => alice.vectorStores.fileBatches.retrieve('vsfb_x', { vector_store_id: 'vs_nope' })]
    for (const read of reads) {
      const err = await read().catch((e: unknown) => e)
      expect(err).toBeInstanceOf(NotFoundError)
      expect(err).toMatchObject({ code: 'vector_store_not_found', param: 'id', message: "404 No vector store with id 'vs_nope'." })
    }
    const store = await alice.vectorStores.create({ name: 'Strict' })
    const missing = alice.vectorStores.files.create(store.id, { file_id: 'file-000000000000000000000000' })
    await expect(missing).rejects.toBeInstanceOf(NotFoundError)
    await expect(missing).rejects.toMatchObject({ code: 'file_not_found', param: 'file_id' })
    expect((await alice.vectorStores.files.list(store.id)).data).toEqual([])
    expect((await alice.vectorStores.retrieve(store.id)).file_counts.total).toBe(0)
  })

  it('attaches a file over services.rag.max_file_bytes as failed, as OpenAI does: invalid_file naming the limit and the setting, nothing read or embedded; the management API still refuses it (413)', async () => {
    const store = await alice.vectorStores.create({ name: 'Too large' })
    // 250,000 bytes of text: over the 200,000 the test config allows.
    const big = Buffer.alloc(250_000, 'word ')
    const large = await alice.files.create({ file: await toFile(big, 'big.txt', { type: 'text/plain' }), purpose: 'assistants' })
    const attached = await alice.vectorStores.files.create(store.id, { file_id: large.id })
    expect(attached).toMatchObject({ id: large.id, status: 'failed', last_error: { code: 'invalid_file' } })
    expectOpenAISchema('VectorStoreFileObject', attached)
    for (const part of ['big.txt', 'too large', '250000', '200000', 'services.rag.max_file_bytes']) expect(attached.last_error!.message).toContain(part)
    // In a batch, the others go on.
    const good = await alice.files.create({ file: await toFile(fixture('faq.txt'), 'faq.txt', { type: 'text/plain' }), purpose: 'assistants' })
    const again = await alice.vectorStores.create({ name: 'Too large, in a batch' })
    const embedded = upstream.embeddings().length
    const batch = await alice.vectorStores.fileBatches.createAndPoll(again.id, { file_ids: [large.id, good.id] }, { pollIntervalMs: 50 })
    expect(batch).toMatchObject({ status: 'completed', file_counts: { completed: 1, failed: 1, total: 2 } })
    const inputs: string[] = upstream.embeddings().slice(embedded).flatMap((r) => [r.body.input].flat())
    for (const input of inputs) expect(fixture('faq.txt').toString()).toContain(input)
    // The management API keeps its refusal.
    const refused = await api(gw).upload(store.id, 'alice', [{ name: 'big.txt', type: 'text/plain', data: big }])
    expect(refused).toMatchObject({ status: 413, body: { success: false, error: 'file_too_large' } })
    expect((await alice.vectorStores.retrieve(store.id)).file_counts).toMatchObject({ failed: 1, total: 1 })
  })

  it('attaches a file of a type not read, a PDF without a text layer and a blank one as failed, as OpenAI does: unsupported_file or invalid_file saying why, nothing embedded', async () => {
    const store = await alice.vectorStores.create({ name: 'Unreadable' })
    const embedded = upstream.embeddings().length
    const upload = async (data: Buffer, name: string, type: string) => alice.files.create({ file: await toFile(data, name, { type }), purpose: 'assistants' })
    const tool = await upload(Buffer.from([0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0]), 'tool.exe', 'application/octet-stream')
    const scan = await upload(await pdfOf([[]]), 'scan.pdf', 'application/pdf')
    const blank = await upload(Buffer.from('   \n\n  '), 'blank.md', 'text/markdown')

    const unsupported = await alice.vectorStores.files.create(store.id, { file_id: tool.id })
    expect(unsupported).toMatchObject({ id: tool.id, object: 'vector_store.file', status: 'failed', last_error: { code: 'unsupported_file', message: expect.stringContaining('tool.exe') } })
    expect(unsupported.last_error!.message).toContain('not a supported file type')
    expectOpenAISchema('VectorStoreFileObject', unsupported)
    const noLayer = await alice.vectorStores.files.createAndPoll(store.id, { file_id: scan.id }, { pollIntervalMs: 50 })
    expect(noLayer).toMatchObject({ status: 'failed', last_error: { code: 'invalid_file', message: expect.stringContaining('no text layer') } })
    expect(noLayer.last_error!.message).toContain('scan.pdf')
    // In a batch, the others go on.
    // Text not embedded before in this suite (the same text is embedded once per user: it would be copied, with no call).
    const readable = Buffer.from('Notes of the unreadable files store: the blank file fails, this readable one is embedded.')
    const good = await upload(readable, 'notes.txt', 'text/plain')
    const batch = await alice.vectorStores.fileBatches.createAndPoll(store.id, { file_ids: [blank.id, good.id] }, { pollIntervalMs: 50 })
    expect(batch).toMatchObject({ status: 'completed', file_counts: { completed: 1, failed: 1, total: 2 } })
    expect(await alice.vectorStores.files.retrieve(blank.id, { vector_store_id: store.id })).toMatchObject({ status: 'failed', last_error: { code: 'invalid_file', message: expect.stringContaining('blank.md') } })

    expect(await alice.vectorStores.retrieve(store.id)).toMatchObject({ status: 'completed', file_counts: { completed: 1, failed: 3, in_progress: 0, total: 4 } })
    expect((await alice.vectorStores.files.list(store.id, { filter: 'failed' })).data.map((f) => f.id).sort()).toEqual([tool.id, scan.id, blank.id].sort())
    // Only the readable file was embedded.
    const inputs: string[] = upstream.embeddings().slice(embedded).flatMap((r) => [r.body.input].flat())
    expect(inputs.length).toBeGreaterThan(0)
    for (const input of inputs) expect(readable.toString()).toContain(input)
    // The management API shows them failed with the gateway's own codes; a retry says to attach them again.
    const docs = await (await fetch(`${gw.url}/api/v1/rag/collections/${store.id}/documents`, { headers: { authorization: `Bearer ${KEYS.alice}` } })).json()
    const byFile = Object.fromEntries((docs.data as { filename: string; kind: string; status: string; error: { code: string } | null }[]).map((d) => [d.filename, [d.kind, d.status, d.error?.code]]))
    expect(byFile).toMatchObject({ 'tool.exe': ['other', 'failed', 'unsupported_file'], 'scan.pdf': ['pdf', 'failed', 'no_text'], 'blank.md': ['markdown', 'failed', 'no_text'] })
    const retry = await fetch(`${gw.url}/api/v1/rag/collections/${store.id}/documents/${tool.id}/retry`, { method: 'POST', headers: { authorization: `Bearer ${KEYS.alice}` } })
    expect(retry.status).toBe(409)
  })

  it('refuses what it cannot honour, naming the SDK\'s field: a chunk overlap over half the chunk size', async () => {
    const store = await alice.vectorStores.create({ name: 'Kept' })

    const file = await alice.files.create({ file: await toFile(fixture('faq.txt'), 'faq.txt', { type: 'text/plain' }), purpose: 'assistants' })
    const overlap = alice.vectorStores.files.create(store.id, { file_id: file.id, chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 150 } } })
    await expect(overlap).rejects.toBeInstanceOf(BadRequestError)
    await expect(overlap).rejects.toMatchObject({ code: 'invalid_chunking', param: 'chunking_strategy.static.chunk_overlap_tokens' })
    await expect(alice.vectorStores.create({ name: 'x', chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 51 } } }))
      .rejects.toMatchObject({ status: 400, param: 'chunking_strategy.static.chunk_overlap_tokens' })
    // Sizes under `auto` (which has none: OpenAI's schema takes `type` alone) would be ignored, the file cut 800/400: refused instead.
    const sizedAuto = { type: 'auto', static: { max_chunk_size_tokens: 300, chunk_overlap_tokens: 50 } } as unknown as OpenAI.FileChunkingStrategyParam
    await expect(alice.vectorStores.files.create(store.id, { file_id: file.id, chunking_strategy: sizedAuto }))
      .rejects.toMatchObject({ status: 400, param: 'chunking_strategy.static' })
    await expect(alice.vectorStores.create({ name: 'x', chunking_strategy: sizedAuto })).rejects.toMatchObject({ status: 400, param: 'chunking_strategy.static' })
    expect((await alice.vectorStores.files.list(store.id)).data).toEqual([])
  })

  it('creates no store when one of its file_ids is refused (one it cannot read is attached failed): the error names the file and nothing is left behind', async () => {
    const before = (await alice.vectorStores.list({ limit: 100 })).data.map((s) => s.id)
    const good = await alice.files.create({ file: await toFile(fixture('faq.txt'), 'faq.txt', { type: 'text/plain' }), purpose: 'assistants' })
    const scan = await alice.files.create({ file: await toFile(await pdfOf([[]]), 'scan.pdf', { type: 'application/pdf' }), purpose: 'assistants' })
    // A file without text does not refuse the store: it is attached failed (as on OpenAI).
    const made = await alice.vectorStores.create({ name: 'Made', file_ids: [good.id, scan.id] })
    expect(made.file_counts).toMatchObject({ failed: 1, total: 2 })
    expect(await alice.vectorStores.files.retrieve(scan.id, { vector_store_id: made.id })).toMatchObject({ status: 'failed', last_error: { code: 'invalid_file' } })
    await alice.vectorStores.delete(made.id)
    const missing = alice.vectorStores.create({ name: 'Half made', file_ids: [good.id, 'file-000000000000000000000000'] })
    await expect(missing).rejects.toMatchObject({ status: 404, code: 'file_not_found', param: 'file_id' })
    expect((await alice.vectorStores.list({ limit: 100 })).data.map((s) => s.id)).toEqual(before)
    // The files themselves stay.
    expect((await alice.files.retrieve(good.id)).id).toBe(good.id)
  })

  it('answers in OpenAI\'s schemas: stores, files, lists (empty ones too), deletions and search pages', async () => {
    const wire = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${gw.url}/v1${path}`, { method, headers: { authorization: `Bearer ${KEYS.alice}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
      return res.json()
    }
    const store = await alice.vectorStores.create({ name: 'Schemas' })
    expectOpenAISchema('VectorStoreObject', await wire('GET', `/vector_stores/${store.id}`))
    expectOpenAISchema('ListVectorStoreFilesResponse', await wire('GET', `/vector_stores/${store.id}/files`))
    const file = await alice.files.create({ file: await toFile(fixture('faq.txt'), 'faq.txt', { type: 'text/plain' }), purpose: 'assistants' })
    await alice.vectorStores.files.createAndPoll(store.id, { file_id: file.id, attributes: { kind: 'faq' } }, { pollIntervalMs: 50 })
    expectOpenAISchema('VectorStoreFileObject', await wire('GET', `/vector_stores/${store.id}/files/${file.id}`))
    expectOpenAISchema('ListVectorStoreFilesResponse', await wire('GET', `/vector_stores/${store.id}/files?filter=failed`))
    expectOpenAISchema('ListVectorStoresResponse', await wire('GET', '/vector_stores?limit=2'))
    expectOpenAISchema('VectorStoreSearchResultsPage', await wire('POST', `/vector_stores/${store.id}/search`, { query: ['bicycles', 'wifi'], max_num_results: 2, rewrite_query: false, ranking_options: { ranker: 'auto', score_threshold: 0 } }))
    // An unknown file of a known store is the file that is not found, named as the SDK's parameter.
    await expect(alice.vectorStores.files.retrieve('file-000000000000000000000000', { vector_store_id: store.id })).rejects.toMatchObject({ status: 404, code: 'file_not_found', param: 'file_id' })
    await expect(alice.vectorStores.files.delete('file-000000000000000000000000', { vector_store_id: store.id })).rejects.toMatchObject({ status: 404, code: 'file_not_found', param: 'file_id' })
    expectOpenAISchema('DeleteVectorStoreFileResponse', await wire('DELETE', `/vector_stores/${store.id}/files/${file.id}`))
    expectOpenAISchema('DeleteVectorStoreResponse', await wire('DELETE', `/vector_stores/${store.id}`))
  })

  it('removes a deleted file from every vector store it was attached to, as OpenAI\'s files.delete does', async () => {
    const file = await alice.files.create({ file: await toFile(fixture('faq.txt'), 'faq.txt', { type: 'text/plain' }), purpose: 'assistants' })
    const kept = await alice.files.create({ file: await toFile(fixture('handbook.md'), 'handbook.md', { type: 'text/markdown' }), purpose: 'assistants' })
    const one = await alice.vectorStores.create({ name: 'One', file_ids: [file.id, kept.id] })
    const two = await alice.vectorStores.create({ name: 'Two' })
    await alice.vectorStores.files.createAndPoll(two.id, { file_id: file.id }, { pollIntervalMs: 50 })
    await alice.vectorStores.files.poll(one.id, file.id, { pollIntervalMs: 50 })
    expect((await alice.vectorStores.search(two.id, { query: 'Where can bicycles be parked?' })).data[0]).toMatchObject({ file_id: file.id })

    expect(await alice.files.delete(file.id)).toMatchObject({ id: file.id, deleted: true })
    for (const store of [one, two]) {
      await expect(alice.vectorStores.files.retrieve(file.id, { vector_store_id: store.id })).rejects.toBeInstanceOf(NotFoundError)
      const hits = (await alice.vectorStores.search(store.id, { query: 'Where can bicycles be parked?', max_num_results: 20 })).data
      expect(hits.some((h) => h.file_id === file.id)).toBe(false)
    }
    expect((await alice.vectorStores.retrieve(one.id)).file_counts.total).toBe(1)
    expect((await alice.vectorStores.retrieve(two.id)).file_counts.total).toBe(0)
    expect((await alice.vectorStores.files.retrieve(kept.id, { vector_store_id: one.id })).id).toBe(kept.id)
  })

  it('keeps two files with the same bytes as two files of a store (attached one by one or in a batch); the same file again stays one', async () => {
    const upload = async (name: string) => alice.files.create({ file: await toFile(Buffer.from('The cafeteria opens at seven.'), name, { type: 'text/plain' }), purpose: 'assistants' })
    const first = await upload('first.txt')
    const copy = await upload('copy.txt')
    const store = await alice.vectorStores.create({ name: 'Copies' })
    await alice.vectorStores.files.createAndPoll(store.id, { file_id: first.id, attributes: { copy: false } }, { pollIntervalMs: 50 })
    await alice.vectorStores.files.createAndPoll(store.id, { file_id: copy.id, attributes: { copy: true } }, { pollIntervalMs: 50 })
    // Attaching a file again reuses its document.
    await alice.vectorStores.files.createAndPoll(store.id, { file_id: first.id, attributes: { copy: false } }, { pollIntervalMs: 50 })
    const listed = (await alice.vectorStores.files.list(store.id)).data
    expect(listed.map((f) => f.id).sort()).toEqual([first.id, copy.id].sort())
    expect((await alice.vectorStores.files.retrieve(first.id, { vector_store_id: store.id })).attributes).toEqual({ copy: false })
    expect((await alice.vectorStores.retrieve(store.id)).file_counts).toMatchObject({ completed: 2, total: 2 })
    const hits = (await alice.vectorStores.search(store.id, { query: 'When does the cafeteria open?' })).data
    expect(hits.map((h) => h.filename).sort()).toEqual(['copy.txt', 'first.txt'])
    // Deleting one file leaves the other attached.
    await alice.files.delete(copy.id)
    expect((await alice.vectorStores.files.retrieve(first.id, { vector_store_id: store.id })).status).toBe('completed')
    expect((await alice.vectorStores.search(store.id, { query: 'When does the cafeteria open?' })).data.map((h) => h.file_id)).toEqual([first.id])

    const again = await upload('again.txt')
    const batchStore = await alice.vectorStores.create({ name: 'Copies in a batch' })
    const batch = await alice.vectorStores.fileBatches.createAndPoll(batchStore.id, { file_ids: [first.id, again.id] }, { pollIntervalMs: 50 })
    expect(batch.file_counts).toEqual({ in_progress: 0, completed: 2, failed: 0, cancelled: 0, total: 2 })
  })

  it('pages lists by cursor as OpenAI does: after and before give the page next to the cursor, in either order', async () => {
    const store = await alice.vectorStores.create({ name: 'Pages' })
    const ids: string[] = []
    for (let i = 0; i < 6; i++) {
      const file = await alice.files.create({ file: await toFile(Buffer.from(`Page test document ${i}.`), `p${i}.txt`, { type: 'text/plain' }), purpose: 'assistants' })
      ids.push(file.id)
    }
    const batch = await alice.vectorStores.fileBatches.createAndPoll(store.id, { file_ids: ids }, { pollIntervalMs: 50 })
    const newest = [...ids].reverse()
    const listed: string[] = []
    for await (const f of alice.vectorStores.files.list(store.id, { limit: 4 })) listed.push(f.id)
    expect(listed).toEqual(newest)

    const files = async (query: { before?: string; after?: string; order?: 'asc' | 'desc'; limit?: number; filter?: 'completed' | 'failed' }) => {
      const page = await alice.vectorStores.files.list(store.id, query)
      return { ids: page.data.map((f) => f.id), has_more: page.has_more }
    }
    // Newest first: the two newer than ids[1] are ids[3], ids[2] (ids[5], ids[4] are further on).
    expect(await files({ before: ids[1], limit: 2 })).toEqual({ ids: [ids[3], ids[2]], has_more: true })
    expect(await files({ before: ids[3], limit: 2 })).toEqual({ ids: [ids[5], ids[4]], has_more: false })
    expect(await files({ after: ids[4], limit: 2 })).toEqual({ ids: [ids[3], ids[2]], has_more: true })
    expect(await files({ order: 'asc', before: ids[4], limit: 2 })).toEqual({ ids: [ids[2], ids[3]], has_more: true })
    expect(await files({ order: 'asc', after: ids[3], limit: 2, filter: 'completed' })).toEqual({ ids: [ids[4], ids[5]], has_more: false })
    expect(await files({ after: ids[5], before: ids[1], limit: 10 })).toEqual({ ids: [ids[4], ids[3], ids[2]], has_more: false })
    const inBatch = await alice.vectorStores.fileBatches.listFiles(batch.id, { vector_store_id: store.id, before: ids[0], limit: 1 })
    expect(inBatch.data.map((f) => f.id)).toEqual([ids[1]])

    const stores = [store.id]
    for (let i = 0; i < 3; i++) stores.unshift((await alice.vectorStores.create({ name: `Pages ${i}` })).id)
    const page = await alice.vectorStores.list({ before: stores[3], limit: 2 })
    expect(page.data.map((s) => s.id)).toEqual([stores[1], stores[2]])
    expect(page.has_more).toBe(true)

    // A cursor that names nothing the caller sees is refused, naming it (it gave the first page, as if it were the next).
    const unknownStore = '9d5ed678-fe57-4cca-b9a2-0e6c1f8f0a11'
    await expect(alice.vectorStores.list({ after: unknownStore })).rejects.toMatchObject({ status: 400, param: 'after' })
    await expect(carol.vectorStores.list({ before: store.id })).rejects.toMatchObject({ status: 400, param: 'before' })
    await expect(alice.vectorStores.files.list(store.id, { after: 'file-000000000000000000000000' })).rejects.toMatchObject({ status: 400, param: 'after' })
    await expect(alice.vectorStores.fileBatches.listFiles(batch.id, { vector_store_id: store.id, before: 'file-000000000000000000000000' })).rejects.toMatchObject({ status: 400, param: 'before' })
    await expect(carol.vectorStores.files.list(store.id, { after: ids[0] })).rejects.toMatchObject({ status: 404 })
  })

  it('attaches files in batches: fileBatches.createAndPoll and uploadAndPoll, counts, listFiles with a filter, cancel', async () => {
    const store = await alice.vectorStores.create({ name: 'Batches' })
    const faq = await alice.files.create({ file: await toFile(fixture('faq.txt'), 'faq.txt', { type: 'text/plain' }), purpose: 'assistants' })
    const handbook = await alice.files.create({ file: await toFile(fixture('handbook.md'), 'handbook.md', { type: 'text/markdown' }), purpose: 'assistants' })
    const batch = await alice.vectorStores.fileBatches.createAndPoll(store.id, { file_ids: [faq.id, handbook.id], attributes: { source: 'batch' } }, { pollIntervalMs: 50 })
    expect(batch).toMatchObject({ object: 'vector_store.files_batch', vector_store_id: store.id, status: 'completed', file_counts: { in_progress: 0, completed: 2, failed: 0, cancelled: 0, total: 2 } })
    expect(batch.id).toMatch(/^vsfb_/)
    const wire = await (await fetch(`${gw.url}/v1/vector_stores/${store.id}/file_batches/${batch.id}`, { headers: { authorization: `Bearer ${KEYS.alice}` } })).json()
    expectOpenAISchema('VectorStoreFileBatchObject', wire)
    const inBatch: string[] = []
    for await (const f of alice.vectorStores.fileBatches.listFiles(batch.id, { vector_store_id: store.id, filter: 'completed', limit: 1 })) inBatch.push(f.id)
    expect(inBatch.sort()).toEqual([faq.id, handbook.id].sort())
    expect((await alice.vectorStores.fileBatches.listFiles(batch.id, { vector_store_id: store.id, filter: 'failed' })).data).toEqual([])
    // The batch's attributes are each file's.
    const hits = (await alice.vectorStores.search(store.id, { query: 'Where can bicycles be parked?', filters: { type: 'eq', key: 'source', value: 'batch' } })).data
    expect(hits.length).toBeGreaterThan(0)
    expect(hits.every((h) => h.attributes?.source === 'batch')).toBe(true)

    const uploaded = await alice.vectorStores.fileBatches.uploadAndPoll(store.id, { files: [await toFile(Buffer.from('The cafeteria opens at seven.'), 'cafe.txt', { type: 'text/plain' })] }, { pollIntervalMs: 50 })
    expect(uploaded).toMatchObject({ status: 'completed', file_counts: { completed: 1, total: 1 } })
    expect((await alice.vectorStores.retrieve(store.id)).file_counts).toMatchObject({ completed: 3, total: 3 })

    expect(await alice.vectorStores.fileBatches.cancel(uploaded.id, { vector_store_id: store.id })).toMatchObject({ id: uploaded.id, status: 'cancelled' })
    await expect(alice.vectorStores.fileBatches.retrieve('vsfb_000000000000000000000000', { vector_store_id: store.id })).rejects.toBeInstanceOf(NotFoundError)
    await expect(carol.vectorStores.fileBatches.retrieve(batch.id, { vector_store_id: store.id })).rejects.toBeInstanceOf(NotFoundError)
    const missing = alice.vectorStores.fileBatches.create(store.id, { file_ids: ['file-000000000000000000000000'] })
    await expect(missing).rejects.toBeInstanceOf(NotFoundError)
    await expect(missing).rejects.toMatchObject({ code: 'file_not_found', param: 'file_id' })
  })

  it('updates a file\'s attributes (filters see them at once) and reads back its extracted text, page by page for a PDF', async () => {
    const store = await alice.vectorStores.create({ name: 'Attributes' })
    const faq = await alice.files.create({ file: await toFile(fixture('faq.txt'), 'faq.txt', { type: 'text/plain' }), purpose: 'assistants' })
    const pdf = await alice.files.create({ file: await toFile(await pdfOf([['Cover page.'], ['The server room key is kept in the blue safe.']]), 'keys.pdf', { type: 'application/pdf' }), purpose: 'assistants' })
    await alice.vectorStores.files.createAndPoll(store.id, { file_id: faq.id, attributes: { kind: 'faq' } }, { pollIntervalMs: 50 })
    await alice.vectorStores.files.createAndPoll(store.id, { file_id: pdf.id }, { pollIntervalMs: 50 })
    const search = async (filter: { key: string; value: string | number }) =>
      (await alice.vectorStores.search(store.id, { query: 'Where can bicycles be parked?', max_num_results: 20, filters: { type: 'eq', ...filter } })).data.map((h) => h.file_id)

    const updated = await alice.vectorStores.files.update(faq.id, { vector_store_id: store.id, attributes: { kind: 'manual', year: 2025 } })
    expect(updated).toMatchObject({ id: faq.id, object: 'vector_store.file', status: 'completed', attributes: { kind: 'manual', year: 2025 } })
    expect((await alice.vectorStores.files.retrieve(faq.id, { vector_store_id: store.id })).attributes).toEqual({ kind: 'manual', year: 2025 })
    expect(await search({ key: 'kind', value: 'faq' })).toEqual([])
    expect(new Set(await search({ key: 'year', value: 2025 }))).toEqual(new Set([faq.id]))
    // Attributes are replaced, not merged; null clears them.
    expect((await alice.vectorStores.files.update(faq.id, { vector_store_id: store.id, attributes: null })).attributes).toEqual({})

    const texts: string[] = []
    for await (const part of alice.vectorStores.files.content(faq.id, { vector_store_id: store.id })) texts.push(part.text ?? '')
    expect(texts.join('\n')).toContain(fixture('faq.txt').toString('utf8').split('\n')[0].trim())
    const pages = (await alice.vectorStores.files.content(pdf.id, { vector_store_id: store.id })).data
    expect(pages.map((p) => p.text)).toEqual(['Cover page.', 'The server room key is kept in the blue safe.'])
    const wire = await (await fetch(`${gw.url}/v1/vector_stores/${store.id}/files/${pdf.id}/content`, { headers: { authorization: `Bearer ${KEYS.alice}` } })).json()
    expectOpenAISchema('VectorStoreFileContentResponse', wire)

    // Bad attributes, an unknown file, and callers who may not see or change the store.
    const tooMany = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, i]))
    await expect(alice.vectorStores.files.update(faq.id, { vector_store_id: store.id, attributes: tooMany })).rejects.toBeInstanceOf(BadRequestError)
    await expect(alice.vectorStores.files.update(faq.id, { vector_store_id: store.id, attributes: { nested: { a: 1 } } as never })).rejects.toBeInstanceOf(BadRequestError)
    await expect(alice.vectorStores.files.update('file-000000000000000000000000', { vector_store_id: store.id, attributes: {} })).rejects.toMatchObject({ status: 404, code: 'file_not_found', param: 'file_id' })
    await expect(alice.vectorStores.files.content('file-000000000000000000000000', { vector_store_id: store.id })).rejects.toMatchObject({ status: 404, code: 'file_not_found' })
    await expect(carol.vectorStores.files.update(faq.id, { vector_store_id: store.id, attributes: { kind: 'x' } })).rejects.toBeInstanceOf(NotFoundError)
    await expect(carol.vectorStores.files.content(faq.id, { vector_store_id: store.id })).rejects.toBeInstanceOf(NotFoundError)
    const bob = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEYS.bob, maxRetries: 0 })
    await expect(bob.vectorStores.files.content(faq.id, { vector_store_id: store.id })).rejects.toBeInstanceOf(NotFoundError)
    expect((await alice.vectorStores.files.retrieve(faq.id, { vector_store_id: store.id })).attributes).toEqual({})
    // The department's admin reaches the store of a member of the department.
    const dana = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEYS.dana, maxRetries: 0 })
    expect((await dana.vectorStores.files.update(faq.id, { vector_store_id: store.id, attributes: { reviewed: true } })).attributes).toEqual({ reviewed: true })
  })

  it('matches a file without the attribute with ne and nin, for a number as for a string', async () => {
    const store = await alice.vectorStores.create({ name: 'Negations' })
    const upload = async (name: string, text: string) => alice.files.create({ file: await toFile(Buffer.from(text), name, { type: 'text/plain' }), purpose: 'assistants' })
    const dated = await upload('dated.txt', 'The cafeteria opens at seven.')
    const undated = await upload('undated.txt', 'The garage opens at six.')
    const worded = await upload('worded.txt', 'The library opens at nine.')
    await alice.vectorStores.fileBatches.createAndPoll(store.id, {
      files: [{ file_id: dated.id, attributes: { year: 2024, kind: 'food' } }, { file_id: undated.id }, { file_id: worded.id, attributes: { year: 'unknown' } }],
    }, { pollIntervalMs: 50 })
    const found = async (filters: OpenAI.VectorStores.VectorStoreSearchParams['filters']) =>
      (await alice.vectorStores.search(store.id, { query: 'When does it open?', max_num_results: 10, filters })).data.map((h) => h.filename).sort()
    expect(await found({ type: 'ne', key: 'kind', value: 'drink' })).toEqual(['dated.txt', 'undated.txt', 'worded.txt'])
    expect(await found({ type: 'nin', key: 'year', value: [2023] })).toEqual(['dated.txt', 'undated.txt', 'worded.txt'])
    expect(await found({ type: 'ne', key: 'year', value: 2023 })).toEqual(['dated.txt', 'undated.txt', 'worded.txt'])
    expect(await found({ type: 'ne', key: 'year', value: 2024 })).toEqual(['undated.txt', 'worded.txt'])
    expect(await found({ type: 'eq', key: 'year', value: 2024 })).toEqual(['dated.txt'])
    expect(await found({ type: 'gte', key: 'year', value: 2000 })).toEqual(['dated.txt'])
  })

  it('rewrites the query with rewrite_route when a search asks (rewrite_query), saying what it searched', async () => {
    const store = await alice.vectorStores.create({ name: 'Rewrite' })
    const file = await alice.files.create({ file: await toFile(fixture('handbook.md'), 'handbook.md', { type: 'text/markdown' }), purpose: 'assistants' })
    await alice.vectorStores.files.createAndPoll(store.id, { file_id: file.id }, { pollIntervalMs: 50 })
    const search = async (body: object) => (await fetch(`${gw.url}/v1/vector_stores/${store.id}/search`, { method: 'POST', headers: { authorization: `Bearer ${KEYS.alice}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()
    const before = upstream.chats().length
    const page = await search({ query: 'How long is paid parental leave?', rewrite_query: true })
    expectOpenAISchema('VectorStoreSearchResultsPage', page)
    // The test upstream's answer quotes the question: the query searched is the model's.
    expect(page.search_query).toEqual(['No sources: How long is paid parental leave?'])
    expect(page.data[0]).toMatchObject({ file_id: file.id })
    const asked = upstream.chats().slice(before)
    expect(asked).toHaveLength(1)
    expect(asked[0]!.body).toMatchObject({ model: 'gpt-4o-mini', temperature: 0, messages: [{ role: 'system' }, { role: 'user', content: 'How long is paid parental leave?' }] })
    // Not asked: searched as sent, no model call.
    expect((await search({ query: 'parental leave' })).search_query).toEqual(['parental leave'])
    expect(upstream.chats().length).toBe(before + 1)
    // An unknown store is refused before any model call.
    const unknown = await fetch(`${gw.url}/v1/vector_stores/9d5ed678-fe57-4cca-b9a2-0e6c1f8f0a11/search`, { method: 'POST', headers: { authorization: `Bearer ${KEYS.alice}`, 'content-type': 'application/json' }, body: JSON.stringify({ query: 'x', rewrite_query: true }) })
    expect(unknown.status).toBe(404)
    expect(upstream.chats().length).toBe(before + 1)
  })

  it('refuses a config whose rewrite_route no route answers, naming it', async () => {
    const config = ragConfig(upstream).replace('services:\n', 'surfaces:\n  vector-stores: { rewrite_route: nope }\nservices:\n  files: {}\n')
    await expect(startTestGateway(config)).rejects.toThrow(/rewrite_route[\s\S]*no route answers 'nope'|no route answers 'nope'[\s\S]*rewrite_route/)
  })

  it('grounds a /v1/responses answer with the file_search tool: passages numbered in the context, results in the output', async () => {
    const file = await alice.files.create({ file: await toFile(fixture('faq.txt'), 'faq.txt', { type: 'text/plain' }), purpose: 'assistants' })
    const store = await alice.vectorStores.create({ name: 'FAQ' })
    await alice.vectorStores.files.createAndPoll(store.id, { file_id: file.id }, { pollIntervalMs: 50 })
    const response = await alice.responses.create({ model: 'gpt', input: 'Where can bicycles be parked?', tools: [{ type: 'file_search', vector_store_ids: [store.id], max_num_results: 2 }], include: ['file_search_call.results'] })
    const call = response.output.find((o) => o.type === 'file_search_call') as any
    expect(call).toMatchObject({ type: 'file_search_call', status: 'completed', queries: ['Where can bicycles be parked?'] })
    expect(call.results[0]).toMatchObject({ file_id: file.id, filename: 'faq.txt' })
    expect(call.results[0].text).toContain('underground garage')
    // The model was given the passages, numbered, and cites them.
    const sent = upstream.chats().at(-1)!.body.messages.map((m: any) => m.content).join('\n')
    expect(sent).toContain('[1] (faq.txt)')
    expect(sent).toContain('underground garage on level minus two')
    expect(response.output_text).toContain('According to the sources [1]')
    // Sent back as a stateless client does (the whole output, then the next question): the search is not sent to the model again, the answer is.
    const next = await alice.responses.create({ model: 'gpt', input: [{ role: 'user', content: 'Where can bicycles be parked?' }, ...response.output, { role: 'user', content: 'And cars?' }] as OpenAI.Responses.ResponseInput })
    expect(next.status).toBe('completed')
    const replayed = upstream.chats().at(-1)!.body.messages as { role: string; content: string }[]
    expect(replayed.map((m) => m.role)).toEqual(['user', 'assistant', 'user'])
    expect(replayed[1].content).toBe(response.output_text)
    // Streamed: the file_search_call is announced first, and the answer's events are numbered as the final output lists it.
    const events: OpenAI.Responses.ResponseStreamEvent[] = []
    for await (const event of await alice.responses.create({ model: 'gpt', input: 'Where can bicycles be parked?', tools: [{ type: 'file_search', vector_store_ids: [store.id] }], stream: true })) events.push(event)
    const final = (events.at(-1) as OpenAI.Responses.ResponseCompletedEvent).response
    expect(final.output.map((o) => o.type)).toEqual(['file_search_call', 'message'])
    const added = events.filter((e): e is OpenAI.Responses.ResponseOutputItemAddedEvent => e.type === 'response.output_item.added')
    expect(added.map((e) => [e.output_index, e.item.type])).toEqual([[0, 'file_search_call'], [1, 'message']])
    const done = events.filter((e): e is OpenAI.Responses.ResponseOutputItemDoneEvent => e.type === 'response.output_item.done')
    expect(done.map((e) => e.item)).toEqual(final.output)
    expect(new Set(events.filter((e) => e.type === 'response.output_text.delta').map((e) => (e as OpenAI.Responses.ResponseTextDeltaEvent).output_index))).toEqual(new Set([1]))
    // Another department's user gets nothing from a store they cannot see.
    // Another department's store is no vector store to carol, named where her request named it.
    const hidden = await carol.responses.create({ model: 'gpt', input: 'Where can bicycles be parked?', tools: [{ type: 'file_search', vector_store_ids: [store.id] }] }).catch((e: unknown) => e)
    expect(hidden).toBeInstanceOf(NotFoundError)
    expect(hidden).toMatchObject({ code: 'vector_store_not_found', param: 'tools.vector_store_ids', message: `404 No vector store with id '${store.id}'.` })
  })

  it('streams a file_search answer with its file_search_call item first, at the output_index the final response gives it', async () => {
    const file = await alice.files.create({ file: await toFile(fixture('faq.txt'), 'faq.txt', { type: 'text/plain' }), purpose: 'assistants' })
    const store = await alice.vectorStores.create({ name: 'Streamed', file_ids: [file.id] })
    await alice.vectorStores.files.poll(store.id, file.id, { pollIntervalMs: 50 })
    const stream = alice.responses.stream({ model: 'gpt', input: 'Where can bicycles be parked?', tools: [{ type: 'file_search', vector_store_ids: [store.id] }], include: ['file_search_call.results'] })
    const events: { type: string; output_index?: number; item?: { type: string; id: string } }[] = []
    stream.on('event', (e) => events.push(e as never))
    const final = await stream.finalResponse()
    for (const e of events) expectOpenAISchema('ResponseStreamEvent', e)
    expect(final.output.map((o) => o.type)).toEqual(['file_search_call', 'message'])
    // Every item the final response holds was announced, at its index, and done with its final content.
    const added = events.filter((e) => e.type === 'response.output_item.added').map((e) => [e.output_index, e.item!.type, e.item!.id])
    expect(added).toEqual(final.output.map((o, i) => [i, o.type, o.id]))
    const done = events.filter((e) => e.type === 'response.output_item.done').map((e) => e.item)
    // (The SDK's final response adds `parsed` to each text part.)
    expect(final.output).toMatchObject(done)
    expect(done).toHaveLength(final.output.length)
    expect(events.filter((e) => e.type.startsWith('response.file_search_call.')).map((e) => [e.type, e.output_index])).toEqual([
      ['response.file_search_call.in_progress', 0], ['response.file_search_call.searching', 0], ['response.file_search_call.completed', 0],
    ])
    expect(new Set(events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.output_index))).toEqual(new Set([1]))
    const call = final.output[0] as { results: { file_id: string }[] }
    expect(call.results[0]).toMatchObject({ file_id: file.id })
    expect((final.output[1] as { content: { annotations: unknown[] }[] }).content[0]!.annotations[0]).toMatchObject({ type: 'file_citation', file_id: file.id })
  })

  it('takes tool_choice as OpenAI does with file_search: { type: file_search } searches, none does not, another tool type is refused', async () => {
    const file = await alice.files.create({ file: await toFile(fixture('faq.txt'), 'faq.txt', { type: 'text/plain' }), purpose: 'assistants' })
    const store = await alice.vectorStores.create({ name: 'Choice', file_ids: [file.id] })
    await alice.vectorStores.files.poll(store.id, file.id, { pollIntervalMs: 50 })
    const tools: OpenAI.Responses.Tool[] = [{ type: 'file_search', vector_store_ids: [store.id] }]
    const forced = await alice.responses.create({ model: 'gpt', input: 'Where can bicycles be parked?', tools, tool_choice: { type: 'file_search' } })
    expect(forced.tool_choice).toEqual({ type: 'file_search' })
    expect(forced.output.map((o) => o.type)).toEqual(['file_search_call', 'message'])
    expect(forced.output_text).toContain('According to the sources [1]')
    const none = await alice.responses.create({ model: 'gpt', input: 'Where can bicycles be parked?', tools, tool_choice: 'none' })
    expect(none.output.map((o) => o.type)).toEqual(['message'])
    expect(none.output_text).toContain('No sources')
    const other = alice.responses.create({ model: 'gpt', input: 'Where can bicycles be parked?', tools, tool_choice: { type: 'web_search_preview' } })
    await expect(other).rejects.toBeInstanceOf(BadRequestError)
    await expect(other).rejects.toMatchObject({ code: 'invalid_tool_choice', param: 'tool_choice' })
  })

  it('bounds file_search results by max_num_results and ranking_options (score_threshold, hybrid_search weights; rankers rank alike), refusing values out of range with the field at fault', async () => {
    const faq = await alice.files.create({ file: await toFile(fixture('faq.txt'), 'faq.txt', { type: 'text/plain' }), purpose: 'assistants' })
    const handbook = await alice.files.create({ file: await toFile(fixture('handbook.md'), 'handbook.md', { type: 'text/markdown' }), purpose: 'assistants' })
    const store = await alice.vectorStores.create({ name: 'Bounded', file_ids: [faq.id, handbook.id] })
    await alice.vectorStores.files.poll(store.id, faq.id, { pollIntervalMs: 50 })
    await alice.vectorStores.files.poll(store.id, handbook.id, { pollIntervalMs: 50 })
    const results = async (tool: object): Promise<{ score: number; text: string }[]> => {
      const response = await alice.responses.create({ model: 'gpt', input: 'Where can bicycles be parked?', tools: [{ type: 'file_search', vector_store_ids: [store.id], ...tool } as OpenAI.Responses.FileSearchTool], include: ['file_search_call.results'] })
      return (response.output.find((o) => o.type === 'file_search_call') as { results: { score: number; text: string }[] }).results
    }
    const all = await results({ max_num_results: 20 })
    expect(all.length).toBeGreaterThan(2)
    expect(await results({ max_num_results: 1 })).toHaveLength(1)
    const threshold = (all[0]!.score + all.at(-1)!.score) / 2
    const kept = await results({ max_num_results: 20, ranking_options: { ranker: 'auto', score_threshold: threshold } })
    expect(kept.length).toBeGreaterThan(0)
    expect(kept).toEqual(all.filter((r) => r.score >= threshold))
    // OpenAI's rankers re-score with a model of theirs; this retriever has none: each ranks by similarity alike.
    expect(await results({ max_num_results: 20, ranking_options: { ranker: 'default-2024-11-15' } })).toEqual(all)

    // hybrid_search fuses the vector ranking with a full-text one, weighted as asked; scores stay
    // from 0 to 1 (first in both rankings is 1), so score_threshold reads the same.
    const hybrid = await results({ max_num_results: 20, ranking_options: { hybrid_search: { embedding_weight: 1, text_weight: 1 } } })
    expect(hybrid.length).toBeGreaterThan(2)
    expect(hybrid.every((r) => r.score > 0 && r.score <= 1)).toBe(true)
    const vectorOnly = await results({ max_num_results: 20, ranking_options: { hybrid_search: { embedding_weight: 1, text_weight: 0 } } })
    expect(vectorOnly.slice(0, all.length).map((r) => r.text)).toEqual(all.map((r) => r.text))
    expect(vectorOnly[0]!.score).toBe(1)
    const cut = await results({ max_num_results: 20, ranking_options: { hybrid_search: { embedding_weight: 1, text_weight: 1 }, score_threshold: 0.5 } })
    expect(cut.length).toBeGreaterThan(0)
    expect(cut).toEqual(hybrid.filter((r) => r.score >= 0.5))

    // The search endpoint's rankers (`none` too) rank alike, and its score_threshold applies with each.
    const searched = async (ranking_options: OpenAI.VectorStores.VectorStoreSearchParams.RankingOptions) =>
      (await alice.vectorStores.search(store.id, { query: 'Where can bicycles be parked?', max_num_results: 20, ranking_options })).data.map((h) => h.score)
    const scores = await searched({ ranker: 'none' })
    for (const ranker of ['none', 'auto', 'default-2024-11-15'] as const) {
      expect(await searched({ ranker })).toEqual(scores)
      expect(await searched({ ranker, score_threshold: threshold })).toEqual(scores.filter((score) => score >= threshold))
    }

    const refused = async (tool: object, param: string) => {
      const call = alice.responses.create({ model: 'gpt', input: 'Where can bicycles be parked?', tools: [{ type: 'file_search', vector_store_ids: [store.id], ...tool }] })
      await expect(call).rejects.toBeInstanceOf(BadRequestError)
      await expect(call).rejects.toMatchObject({ status: 400, param })
    }
    const chats = upstream.chats().length
    await refused({ max_num_results: 0 }, 'tools.max_num_results')
    await refused({ max_num_results: 51 }, 'tools.max_num_results')
    await refused({ ranking_options: { score_threshold: 1.5 } }, 'tools.ranking_options.score_threshold')
    await refused({ ranking_options: { ranker: 'best' } }, 'tools.ranking_options.ranker')
    // `none` is the search endpoint's value, not the tool's (OpenAI's RankerVersionType).
    await refused({ ranking_options: { ranker: 'none' } }, 'tools.ranking_options.ranker')
    await refused({ ranking_options: { hybrid_search: { embedding_weight: 1 } } }, 'tools.ranking_options.hybrid_search.text_weight')
    await refused({ ranking_options: { hybrid_search: { embedding_weight: -1, text_weight: 1 } } }, 'tools.ranking_options.hybrid_search.embedding_weight')
    await refused({ ranking_options: { hybrid_search: { embedding_weight: 0, text_weight: 0 } } }, 'tools.ranking_options.hybrid_search')
    await refused({ ranking_options: { rerank: true } }, 'tools.ranking_options.rerank')
    await refused({ max_results: 3 }, 'tools.max_results')
    // Refused before any model call.
    expect(upstream.chats().length).toBe(chats)
  })
})
