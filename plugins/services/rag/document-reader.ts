/**
 * The conversations service's DocumentReader: a document a chat message carries (a .docx, a .txt)
 * read into text by the same readers that ingest knowledge (ingest/extract.ts, in a worker, within
 * `extraction`'s bounds), so a model that reads no Word file is sent its text.
 */
import type { DocumentReader } from '../../contracts/conversations.ts'
import { badRequest } from '../../../plugin-api/index.ts'
import { SUPPORTED, extractInWorker, kindOf } from './ingest/extract.ts'
import type { ExtractionLimits } from './schema.ts'

const NO_BYTES = Buffer.alloc(0)

export function documentReader(limits: ExtractionLimits): DocumentReader {
  return {
    reads: (filename, contentType) => kindOf(filename, contentType, NO_BYTES) !== undefined,
    async text({ filename, contentType, data }) {
      const kind = kindOf(filename, contentType, data)
      if (!kind) throw badRequest(`'${filename}' cannot be read: send ${SUPPORTED}.`, 'file', 'unsupported_file')
      return (await extractInWorker(kind, data, filename, limits)).map((s) => s.text).join('\n\n')
    },
  }
}
