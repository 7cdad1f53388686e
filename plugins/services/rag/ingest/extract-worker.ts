/**
 * The extraction worker: one document's sections read off the event loop (extract.ts), in a
 * thread started for it with a bounded heap. Message in: `{ kind, data, filename }`; out:
 * `{ sections }` or `{ error: { message, status, code, param } }`.
 */
import { parentPort } from 'node:worker_threads'
import { extractSections, type ExtractJob, type ExtractResult } from './extract.ts'

const port = parentPort!
port.once('message', (job: ExtractJob) => {
  extractSections(job.kind, Buffer.from(job.data.buffer, job.data.byteOffset, job.data.byteLength), job.filename, { maxInflatedBytes: job.maxInflatedBytes, maxOfficeInflatedBytes: job.maxOfficeInflatedBytes }).then(
    (sections) => port.postMessage({ sections } satisfies ExtractResult),
    (err: { message?: string; status?: number; code?: string; param?: string | null }) => {
      port.postMessage({ error: { message: String(err?.message ?? err), status: err?.status, code: err?.code, param: err?.param } } satisfies ExtractResult)
    },
  )
})
