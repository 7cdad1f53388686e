/**
 * The extraction worker: documents' sections read off the event loop (extract.ts), one at a time,
 * in a thread with a bounded heap that reads one after another (readers.ts). Message in: an
 * ExtractJob; out, for each: `{ sections }` or `{ error: { message, status, code, param } }`.
 */
import { parentPort } from 'node:worker_threads'
import { extractSections, type ExtractJob, type ExtractResult } from './extract.ts'

const port = parentPort!
port.on('message', (job: ExtractJob) => {
  extractSections(job.kind, Buffer.from(job.data.buffer, job.data.byteOffset, job.data.byteLength), job.filename, { maxInflatedBytes: job.maxInflatedBytes, maxOfficeInflatedBytes: job.maxOfficeInflatedBytes }).then(
    (sections) => port.postMessage({ sections } satisfies ExtractResult),
    (err: { message?: string; status?: number; code?: string; param?: string | null }) => {
      port.postMessage({ error: { message: String(err?.message ?? err), status: err?.status, code: err?.code, param: err?.param } } satisfies ExtractResult)
    },
  )
})
