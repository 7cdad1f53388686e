/**
 * Reading documents to text (services.rag.extraction): the time to read BENCH_EXTRACT_FILES
 * (default 20) small PDFs, twice in a row, straight through extractInWorker at the default bounds
 * (2 at once), then to ingest as many through the gateway's RAG API (uploaded at once, read, chunked,
 * embedded by the mock provider, stored) until every document is completed.
 * Run: node --import tsx bench/extraction.ts
 */
import { PDFDocument, StandardFonts } from 'pdf-lib'
import { extractInWorker } from '../plugins/services/rag/ingest/extract.ts'
import { startRagGateway } from './rag-gateway.ts'

const FILES = Number(process.env.BENCH_EXTRACT_FILES ?? 20)
const LIMITS = { concurrency: 2, timeout_ms: 60_000, heap_mb: 512, memory_mb: 1024, queue: FILES, pdf_max_inflated_mb: 512, office_max_inflated_mb: 256 }

async function pdf(i: number): Promise<Buffer> {
  const doc = await PDFDocument.create()
  const font = await doc.embedFont(StandardFonts.Helvetica)
  for (let p = 0; p < 2; p++) doc.addPage([600, 800]).drawText(`Report ${i}, page ${p + 1}: the warehouse in city ${i} ships on Mondays.`, { x: 40, y: 750, size: 11, font })
  return Buffer.from(await doc.save())
}

const pdfs = await Promise.all(Array.from({ length: FILES }, (_, i) => pdf(i)))

for (const round of [1, 2]) {
  const started = performance.now()
  const read = await Promise.all(pdfs.map((data, i) => extractInWorker('pdf', data, `report${i}.pdf`, LIMITS)))
  if (read.some((sections) => sections.length !== 2)) throw new Error('a PDF was not read whole')
  console.log(`extractInWorker, round ${round}: ${FILES} PDFs in ${(performance.now() - started).toFixed(0)} ms (2 at once)`)
}

const rag = await startRagGateway({ label: 'bench-extract', dims: 64, rag: `extraction: { queue: ${FILES} }` })
try {
  for (const round of [1, 2]) {
    const collection = await rag.api('POST', '/collections', { name: `pdfs ${round}` })
    const started = performance.now()
    await Promise.all(pdfs.map(async (data, i) => {
      const form = new FormData()
      form.append('file', new Blob([new Uint8Array(data)], { type: 'application/pdf' }), `report${i}.pdf`)
      const res = await fetch(`${rag.gw.url}/api/v1/rag/collections/${collection.id}/documents`, { method: 'POST', body: form })
      if (!res.ok) throw new Error(`upload ${i}: ${res.status} ${await res.text()}`)
    }))
    const uploaded = performance.now()
    for (;;) {
      const docs = await rag.api('GET', `/collections/${collection.id}/documents`) as { status: string }[]
      if (docs.length === FILES && docs.every((d) => d.status === 'completed' || d.status === 'failed')) {
        if (docs.some((d) => d.status === 'failed')) throw new Error('a document failed')
        break
      }
      await new Promise((r) => setTimeout(r, 20))
    }
    console.log(`gateway ingest, round ${round}: ${FILES} PDFs uploaded (read) in ${(uploaded - started).toFixed(0)} ms, all completed in ${(performance.now() - started).toFixed(0)} ms`)
  }
} finally {
  await rag.close()
}
