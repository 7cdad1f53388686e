/**
 * The text of the documents messages carry, read once per file and kept. A document stays in a
 * thread's history, so every later turn sends it again: without this each turn read it again (a
 * worker, pdf.js or an Office unzip). Files do not change (an upload is a new file), so the file id
 * names the text for good; a deleted file's text is dropped at once (`forget`, a Files delete hook).
 * Bounded by the characters kept, least recently used first out.
 */
import { LRUCache } from 'lru-cache'
import type { DocumentReader } from '../../contracts/conversations.ts'
import type { StoredFile } from '../../contracts/files.ts'
import type { CountTokens } from './data/items.ts'

/** About 64 MB of text (JavaScript strings are UTF-16): a few hundred long reports. */
const MAX_CACHED_CHARS = 32 * 1024 * 1024

export interface DocumentText {
  /** The document's text; undefined when it has none a reader finds (a scanned PDF). */
  readonly text: string | undefined
  /** Why there is no text, to tell the model (and the user) instead. */
  readonly why?: string
}

export interface DocumentTexts {
  /** Whether the registered reader reads a file of this name and type. */
  reads(file: Pick<StoredFile, 'filename' | 'contentType'>): boolean
  /** `file`'s text, read from `data` the first time only. A document that cannot be read throws its 4xx unless `lenient` (a PDF, whose text is a fallback). */
  text(file: StoredFile, data: () => Promise<Buffer | undefined>, lenient?: boolean): Promise<DocumentText>
  /** The tokens `file`'s text takes (0 without text); counted once. */
  tokens(file: StoredFile, data: () => Promise<Buffer | undefined>): Promise<number>
  /** Drop `fileId`'s text (the file was deleted). */
  forget(fileId: string): void
}

interface Entry { readonly read: DocumentText; tokens?: number }

type Outcome = { ok: true; entry: Entry } | { ok: false; error: unknown }

/** `reader()` is the reader registered now (the RAG service's); `extracted` is told of each document actually read. */
export function documentTexts(reader: () => DocumentReader | undefined, count: CountTokens, extracted: () => void): DocumentTexts {
  const kept = new LRUCache<string, Outcome>({ maxSize: MAX_CACHED_CHARS, sizeCalculation: (o) => Math.max(1, o.ok ? (o.entry.read.text?.length ?? 0) : 1) })
  // Two turns (or a count and a send) asking at once read the file once.
  const reading = new Map<string, Promise<Outcome>>()

  async function outcome(file: StoredFile, data: () => Promise<Buffer | undefined>): Promise<Outcome> {
    const known = kept.get(file.id)
    if (known) return known
    let pending = reading.get(file.id)
    if (!pending) {
      pending = (async (): Promise<Outcome> => {
        const documents = reader()
        const bytes = await data()
        // Nothing read (no reader now, the file gone): nothing kept.
        if (!documents || !bytes) return { ok: true, entry: { read: { text: undefined, why: 'it could not be read' } } }
        extracted()
        try {
          const o: Outcome = { ok: true, entry: { read: { text: await documents.text({ filename: file.filename, contentType: file.contentType, data: bytes }) } } }
          kept.set(file.id, o)
          return o
        } catch (error) {
          // The document's own fault (a 4xx: no text layer, a broken file) is kept; a busy or failed reader (5xx) is asked again next time.
          const status = (error as { status?: unknown }).status
          if (typeof status === 'number' && status < 500) kept.set(file.id, { ok: false, error })
          return { ok: false, error }
        }
      })().finally(() => reading.delete(file.id))
      reading.set(file.id, pending)
    }
    return pending
  }

  return {
    reads: (file) => reader()?.reads(file.filename, file.contentType) ?? false,
    async text(file, data, lenient = false) {
      const o = await outcome(file, data)
      if (o.ok) return o.entry.read
      if (!lenient) throw o.error
      return { text: undefined, why: o.error instanceof Error ? o.error.message : 'it could not be read' }
    },
    async tokens(file, data) {
      const o = await outcome(file, data)
      if (!o.ok || o.entry.read.text === undefined) return 0
      return (o.entry.tokens ??= await count(o.entry.read.text))
    },
    forget: (fileId) => { kept.delete(fileId) },
  }
}
