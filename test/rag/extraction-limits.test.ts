/**
 * Reading an uploaded document to text runs in a worker thread with bounds (services.rag.extraction):
 * a document that takes too long is a 422 while the gateway goes on answering others (in the
 * request's thread, a 1.8 MB Markdown file held every request 25 s), and a PDF whose compressed
 * text inflates past the bound is a 422 before pdf.js inflates it (1.5 MB became 3.4 GB of RSS).
 */
import zlib from 'node:zlib'
import { PDFDocument, PDFName, PDFRawStream } from 'pdf-lib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { extractInWorker } from '../../plugins/services/rag/ingest/extract.ts'
import { api, pdfOf, ragConfig, startRagUpstream, type Api, type RagUpstream } from './helpers.ts'

/** A PDF with one Flate text stream that inflates to `inflatedMb` MB of spaces. */
function inflatingPdf(inflatedMb: number): Buffer {
  const stream = zlib.deflateSync(Buffer.alloc(inflatedMb * 1024 * 1024, 0x20))
  return Buffer.concat([
    Buffer.from(`%PDF-1.4\n1 0 obj\n<< /Length ${stream.length} /Filter /FlateDecode >>\nstream\n`, 'latin1'),
    stream,
    Buffer.from('\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n', 'latin1'),
  ])
}

/** Deflated `mb` MB of a page's text operators and spaces, deflated once more: a few kB that pdf.js inflates whole. */
async function twiceDeflatedPdf(mb: number): Promise<Buffer> {
  const deflate = zlib.createDeflate({ level: 9 })
  const parts: Buffer[] = []
  deflate.on('data', (chunk: Buffer) => parts.push(chunk))
  const done = new Promise((resolve) => deflate.on('end', resolve))
  deflate.write('BT /F1 12 Tf 72 712 Td (inflated) Tj ET\n')
  const spaces = Buffer.alloc(16 * 1024 * 1024, 0x20)
  for (let i = 0; i < mb / 16; i++) if (!deflate.write(spaces)) await new Promise((resolve) => deflate.once('drain', resolve))
  deflate.end()
  await done
  const twice = zlib.deflateSync(Buffer.concat(parts))
  const pdf = await PDFDocument.create()
  const page = pdf.addPage([600, 800])
  const stream = PDFRawStream.of(pdf.context.obj({ Filter: [PDFName.of('FlateDecode'), PDFName.of('FlateDecode')], Length: twice.length }), twice)
  page.node.set(PDFName.of('Contents'), pdf.context.register(stream))
  return Buffer.from(await pdf.save({ useObjectStreams: false }))
}

describe('RAG: bounded document extraction', () => {
  let upstream: RagUpstream
  let gw: RunningGateway
  let rag: Api
  let collection: string

  beforeAll(async () => {
    upstream = await startRagUpstream()
    const config = ragConfig(upstream, ', extraction: { timeout_ms: 3000, pdf_max_inflated_mb: 2, memory_mb: 128 }').replace('max_file_bytes: 200000', 'max_file_bytes: 4000000')
    gw = await startTestGateway(config.replace(/^version: 1\n/, 'version: 1\nserver: { body_limit: 8mb }\n'))
    rag = api(gw)
    collection = (await rag('POST', '/collections', 'alice', { name: 'Bounded' })).body.data.id
  }, 60_000)
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })

  it('stops reading a document past its bounds (a 422), and the gateway answers meanwhile', async () => {
    // Emphasis markers the Markdown parser backtracks over: seconds of CPU per megabyte.
    const markdown = Buffer.from('*a _b '.repeat(400_000))
    const started = performance.now()
    const upload = rag.upload(collection, 'alice', [{ name: 'slow.md', type: 'text/markdown', data: markdown }])
    await new Promise((resolve) => setTimeout(resolve, 300))
    const health = performance.now()
    expect((await fetch(`${gw.url}/health`)).status).toBe(200)
    const healthMs = performance.now() - health
    const res = await upload
    expect(res.status).toBe(422)
    expect(res.body).toMatchObject({ error: 'document_too_complex' })
    expect(res.body.message).toMatch(/services\.rag\.extraction\.(timeout_ms|memory_mb)/)
    expect(healthMs).toBeLessThan(500)
    expect(performance.now() - started).toBeLessThan(10_000)
  }, 30_000)

  it('stops reading at timeout_ms', async () => {
    const slow = extractInWorker('markdown', Buffer.from('*a _b '.repeat(200_000)), 'slow.md', { concurrency: 2, timeout_ms: 300, heap_mb: 512, memory_mb: 4096, pdf_max_inflated_mb: 512, office_max_inflated_mb: 256, queue: 8 })
    await expect(slow).rejects.toMatchObject({ status: 422, code: 'document_too_complex', message: expect.stringContaining('extraction.timeout_ms') })
  }, 30_000)

  it('stops reading a document whose decoding grows the process past memory_mb (a twice-deflated PDF the pre-scan does not measure)', async () => {
    const pdf = await twiceDeflatedPdf(1024)
    expect(pdf.length).toBeLessThan(200_000)
    const rssBefore = process.memoryUsage.rss()
    const res = await rag.upload(collection, 'alice', [{ name: 'twice.pdf', type: 'application/pdf', data: pdf }])
    expect(res.status).toBe(422)
    expect(res.body.message).toContain('extraction.memory_mb')
    expect(process.memoryUsage.rss() - rssBefore).toBeLessThan(900 * 1024 * 1024)
  }, 60_000)

  it('refuses a PDF whose compressed text inflates past pdf_max_inflated_mb, and reads one within it', async () => {
    const bomb = await rag.upload(collection, 'alice', [{ name: 'bomb.pdf', type: 'application/pdf', data: inflatingPdf(4) }])
    expect(bomb.status).toBe(422)
    expect(bomb.body).toMatchObject({ error: 'document_too_complex' })
    expect(bomb.body.message).toContain('pdf_max_inflated_mb')
    const fine = await rag.upload(collection, 'alice', [{ name: 'fine.pdf', type: 'application/pdf', data: await pdfOf([['Safety goggles are mandatory in the laboratory.']]) }])
    expect(fine.status).toBe(202)
    const docs = await rag.settled(collection)
    expect(docs.find((d) => d.filename === 'fine.pdf')?.status).toBe('completed')
  }, 30_000)
})
