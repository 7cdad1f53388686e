/**
 * Word (.docx) and PowerPoint (.pptx) files in vector stores, driven by the official `openai` SDK:
 * built here as minimal valid Office files (zip archives of XML), uploaded with `files.create`,
 * attached, searched, and read back (a presentation slide by slide, in slide order). An archive
 * whose entries declare more than services.rag.extraction.office_max_inflated_mb is not inflated:
 * as on OpenAI, it is attached `failed` with `last_error: { code: invalid_file }` naming the file
 * and the setting, and a batch holding it (or a corrupt PDF) completes the others.
 */
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { KEYS, docxOf, pptxOf, ragConfig, startRagUpstream, type RagUpstream } from './helpers.ts'

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'
const PPTX = 'application/vnd.openxmlformats-officedocument.presentationml.presentation'

describe('/v1/vector_stores: Word and PowerPoint files', () => {
  let upstream: RagUpstream
  let gw: RunningGateway
  let alice: OpenAI

  beforeAll(async () => {
    upstream = await startRagUpstream()
    gw = await startTestGateway(ragConfig(upstream, ', extraction: { office_max_inflated_mb: 2 }').replace('services:\n', 'services:\n  files: {}\n'))
    alice = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEYS.alice, maxRetries: 0 })
  }, 60_000)
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })

  const upload = async (data: Buffer, name: string, type?: string) => alice.files.create({ file: await toFile(data, name, type ? { type } : undefined), purpose: 'assistants' })

  it('reads a .docx and a .pptx (slides in their order, a slide\'s runs joined), finds them by search and reads their text back', async () => {
    const store = await alice.vectorStores.create({ name: 'Office' })
    const doc = await upload(docxOf(['Travel policy', 'Train tickets in second class are reimbursed for trips under four hours.', 'Hotels & meals: up to 150 euros a night.']), 'travel.docx', DOCX)
    // Eleven slides, so slide10 and slide11 sort after slide2 by number, not by name.
    const slides = Array.from({ length: 11 }, (_, i) => [[`Slide ${i + 1} title`], [`Quarter ${i + 1} `, 'revenue grew.']])
    slides[9] = [['Roadmap'], ['The mobile app ships ', 'in the autumn.']]
    // Uploaded without a type: the name says what it is.
    const deck = await upload(pptxOf(slides), 'roadmap.pptx')

    for (const file of [doc, deck]) {
      const attached = await alice.vectorStores.files.createAndPoll(store.id, { file_id: file.id }, { pollIntervalMs: 50 })
      expect(attached).toMatchObject({ status: 'completed', last_error: null })
    }
    const trains = (await alice.vectorStores.search(store.id, { query: 'Are train tickets reimbursed?', max_num_results: 1 })).data[0]
    expect(trains).toMatchObject({ file_id: doc.id, filename: 'travel.docx' })
    expect(trains!.content[0]!.text).toContain('Train tickets in second class are reimbursed')
    expect(trains!.content[0]!.text).toContain('Hotels & meals')
    const app = (await alice.vectorStores.search(store.id, { query: 'When does the mobile app ship?', max_num_results: 1 })).data[0]
    expect(app).toMatchObject({ file_id: deck.id, filename: 'roadmap.pptx' })
    expect(app!.content[0]!.text).toBe('Roadmap\nThe mobile app ships in the autumn.')

    const pages = (await alice.vectorStores.files.content(deck.id, { vector_store_id: store.id })).data.map((p) => p.text)
    expect(pages).toHaveLength(11)
    expect(pages[0]).toBe('Slide 1 title\nQuarter 1 revenue grew.')
    expect(pages[1]).toBe('Slide 2 title\nQuarter 2 revenue grew.')
    expect(pages[9]).toBe('Roadmap\nThe mobile app ships in the autumn.')
    expect(pages[10]).toBe('Slide 11 title\nQuarter 11 revenue grew.')
  })

  it('attaches an Office file that would inflate past office_max_inflated_mb, or is no zip, as failed (invalid_file, naming the file and the setting); nothing of it is searchable', async () => {
    const store = await alice.vectorStores.create({ name: 'Bombs' })
    // 4 MB of zeros deflate to a few kB: the archive declares what it would inflate to.
    const bomb = await upload(docxOf(['Small text.'], { 'word/media/padding.bin': new Uint8Array(4 * 1024 * 1024) }), 'bomb.docx', DOCX)
    expect(bomb.bytes).toBeLessThan(20_000)
    const attached = await alice.vectorStores.files.create(store.id, { file_id: bomb.id })
    expect(attached).toMatchObject({ id: bomb.id, object: 'vector_store.file', status: 'failed', last_error: { code: 'invalid_file', message: expect.stringContaining('bomb.docx') } })
    expect(attached.last_error!.message).toContain('services.rag.extraction.office_max_inflated_mb')
    const broken = await upload(Buffer.from('PK\u0003\u0004 not really a zip archive'), 'broken.pptx', PPTX)
    expect(await alice.vectorStores.files.createAndPoll(store.id, { file_id: broken.id }, { pollIntervalMs: 50 })).toMatchObject({ status: 'failed', last_error: { code: 'invalid_file', message: expect.stringContaining('broken.pptx') } })
    expect(await alice.vectorStores.files.retrieve(bomb.id, { vector_store_id: store.id })).toMatchObject({ status: 'failed', last_error: { code: 'invalid_file' } })
    expect(await alice.vectorStores.retrieve(store.id)).toMatchObject({ status: 'completed', file_counts: { failed: 2, completed: 0, in_progress: 0, total: 2 } })
    expect((await alice.vectorStores.files.list(store.id, { filter: 'failed' })).data.map((f) => f.id).sort()).toEqual([bomb.id, broken.id].sort())
    expect((await alice.vectorStores.search(store.id, { query: 'Small text' })).data).toEqual([])
    // It has no text to ingest again: a retry says to attach it again (and does not complete it empty).
    const retry = await fetch(`${gw.url}/api/v1/rag/collections/${store.id}/documents/${bomb.id}/retry`, { method: 'POST', headers: { authorization: `Bearer ${KEYS.alice}` } })
    expect(retry.status).toBe(409)
    expect(await retry.json()).toMatchObject({ error: 'document_unreadable' })
    expect((await alice.vectorStores.files.retrieve(bomb.id, { vector_store_id: store.id })).status).toBe('failed')
    // Within the bound, the same file is read.
    const fine = await upload(docxOf(['Small text.'], { 'word/media/padding.bin': new Uint8Array(1024 * 1024) }), 'fine.docx', DOCX)
    expect((await alice.vectorStores.files.createAndPoll(store.id, { file_id: fine.id }, { pollIntervalMs: 50 })).status).toBe('completed')
  })

  it('completes a file batch with a bombed .docx and a corrupt PDF in it: the others are searchable, the bad ones counted failed', async () => {
    const store = await alice.vectorStores.create({ name: 'Mixed batch' })
    const bomb = await upload(docxOf(['Small text.'], { 'word/media/padding.bin': new Uint8Array(4 * 1024 * 1024) }), 'bomb.docx', DOCX)
    const corrupt = await upload(Buffer.from('%PDF-1.7\nnot really a pdf'), 'corrupt.pdf', 'application/pdf')
    const good = await upload(docxOf(['The cafeteria opens at half past seven.']), 'cafeteria.docx', DOCX)
    const deck = await upload(pptxOf([[['Parking'], ['Visitors park on level minus two.']]]), 'parking.pptx', PPTX)
    const batch = await alice.vectorStores.fileBatches.createAndPoll(store.id, { file_ids: [bomb.id, corrupt.id, good.id, deck.id] }, { pollIntervalMs: 50 })
    expect(batch).toMatchObject({ status: 'completed', file_counts: { completed: 2, failed: 2, in_progress: 0, cancelled: 0, total: 4 } })
    const failed = (await alice.vectorStores.fileBatches.listFiles(batch.id, { vector_store_id: store.id, filter: 'failed' })).data
    expect(Object.fromEntries(failed.map((f) => [f.id, f.last_error?.code]))).toEqual({ [bomb.id]: 'invalid_file', [corrupt.id]: 'invalid_file' })
    expect(failed.find((f) => f.id === corrupt.id)!.last_error!.message).toContain('corrupt.pdf')
    expect((await alice.vectorStores.search(store.id, { query: 'When does the cafeteria open?', max_num_results: 1 })).data[0]).toMatchObject({ file_id: good.id })
    expect((await alice.vectorStores.search(store.id, { query: 'Where do visitors park?', max_num_results: 1 })).data[0]).toMatchObject({ file_id: deck.id })
  })
})
