/**
 * Reading documents to text (PDF, Word, PowerPoint...) runs a worker thread per document, at most
 * services.rag.extraction.concurrency at once in the process however many files arrive together
 * (the rest wait in `queue`): many attaches at once through the official `openai` SDK never read
 * more than that, and all of them are read.
 */
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { extractionsRunning } from '../../plugins/services/rag/ingest/extract.ts'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { KEYS, pdfOf, ragConfig, startRagUpstream, type RagUpstream } from './helpers.ts'

const CONCURRENCY = 3

describe('services.rag.extraction.concurrency', () => {
  let upstream: RagUpstream
  let gw: RunningGateway
  let alice: OpenAI

  beforeAll(async () => {
    upstream = await startRagUpstream()
    gw = await startTestGateway(ragConfig(upstream, `, extraction: { concurrency: ${CONCURRENCY}, queue: 100 }`).replace('services:\n', 'services:\n  files: {}\n'))
    alice = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEYS.alice, maxRetries: 0 })
  }, 60_000)
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })

  it('reads at most `concurrency` documents at once when many are attached together, and reads them all', async () => {
    const store = await alice.vectorStores.create({ name: 'Many PDFs' })
    const files = await Promise.all(Array.from({ length: 10 }, async (_, i) =>
      alice.files.create({ file: await toFile(await pdfOf([[`Report ${i}: the warehouse in city ${i} ships on Mondays.`]]), `report${i}.pdf`, { type: 'application/pdf' }), purpose: 'assistants' })))
    let peak = 0
    const sampler = setInterval(() => { peak = Math.max(peak, extractionsRunning()) }, 1)
    try {
      const attached = await Promise.all(files.map((f) => alice.vectorStores.files.create(store.id, { file_id: f.id })))
      expect(attached.every((f) => f.status !== 'failed')).toBe(true)
    } finally {
      clearInterval(sampler)
    }
    // Never more than the bound, and the bound was reached (they did run side by side).
    expect(peak).toBe(CONCURRENCY)
    expect(extractionsRunning()).toBe(0)
    const deadline = Date.now() + 30_000
    while ((await alice.vectorStores.retrieve(store.id)).file_counts.completed < files.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    expect((await alice.vectorStores.retrieve(store.id)).file_counts).toMatchObject({ completed: 10, failed: 0, total: 10 })
  }, 90_000)
})
