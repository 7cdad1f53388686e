/**
 * Images and documents a message names by an uploaded file's id, read into the `data:` URL a chat
 * request carries, each time a turn sends them (the items keep the id, as the client gave it). A
 * document no model reads as it is (a .docx, a .txt: not a PDF) is sent as its text instead, read by
 * the registered DocumentReader (the RAG service's readers), as Open WebUI sends an attached file.
 * A PDF goes as it is, carrying a way to its text for a target that reads no PDF (file-text.ts).
 * Texts are read once per file (document-texts.ts).
 */
import { badRequest } from '../../../plugin-api/index.ts'
import type { ContentPart, ItemContent } from '../../contracts/conversations.ts'
import type { Files, StoredFile } from '../../contracts/files.ts'
import { FILE_TEXT, fileBlock, type FileText } from '../../contracts/file-text.ts'
import type { DocumentTexts } from './document-texts.ts'
import type { Window } from './context.ts'

const unread = (p: ContentPart): boolean => (p.type === 'input_image' && !p.image_url && !!p.file_id) || (p.type === 'input_file' && !p.file_data && !!p.file_id)

/** Whether a model is sent the file as it is (a PDF: OpenAI, Anthropic and Gemini read it natively), not as its text. */
export const sentAsFile = (filename: string, contentType: string): boolean =>
  contentType.split(';')[0]!.trim().toLowerCase() === 'application/pdf' || /\.pdf$/i.test(filename)

/** A read file part: its PDF's text rides along (`FILE_TEXT`, carried onto the chat part by translate.ts). */
export type ReadPart = ContentPart & { [FILE_TEXT]?: FileText }

interface Read { readonly url: string; readonly filename: string; readonly text?: string; readonly pdfText?: FileText }

/**
 * `items` with every part that names a file read. A file deleted since its message was sent (the
 * surface checked it then) becomes a line of text saying so: the conversation goes on without it.
 */
export async function readFileParts(items: readonly ItemContent[], files: Files | undefined, texts?: DocumentTexts): Promise<ItemContent[]> {
  const read = new Map<string, Promise<Read | undefined>>()
  const dataOf = (id: string, asDocument: boolean): Promise<Read | undefined> => {
    let pending = read.get(id)
    if (!pending) {
      pending = (async () => {
        const [file, data] = files ? await Promise.all([files.get(id), files.content(id)]) : [undefined, undefined]
        if (!file || !data) return undefined
        const url = `data:${file.contentType};base64,${data.toString('base64')}`
        if (!asDocument || !texts?.reads(file)) return { url, filename: file.filename }
        const bytes = async () => data
        if (sentAsFile(file.filename, file.contentType)) {
          // Read only when a target that reads no PDF is called (and then once: the texts are kept).
          const pdfText: FileText = async () => { const t = await texts.text(file, bytes, true); return t.text ?? `[The PDF's text cannot be read: ${t.why}]` }
          return { url, filename: file.filename, pdfText }
        }
        return { url, filename: file.filename, text: (await texts.text(file, bytes)).text ?? '' }
      })()
      read.set(id, pending)
    }
    return pending
  }
  return Promise.all(items.map(async (item) => {
    if (item.type !== 'message' || !item.content.some(unread)) return item
    const content = await Promise.all(item.content.map(async (p): Promise<ReadPart> => {
      if (!unread(p) || (p.type !== 'input_image' && p.type !== 'input_file')) return p
      const read = await dataOf(p.file_id!, p.type === 'input_file')
      if (!read) return { type: 'input_text', text: `[The ${p.type === 'input_image' ? 'image' : 'file'} ${p.file_id} is no longer available.]` }
      if (p.type === 'input_image') return { ...p, image_url: read.url }
      const filename = p.filename ?? read.filename
      if (read.text !== undefined) return { type: 'input_text', text: fileBlock(filename, read.text) }
      return { ...p, file_data: read.url, filename, ...(read.pdfText ? { [FILE_TEXT]: read.pdfText } : {}) }
    }))
    return { ...item, content }
  }))
}

/**
 * The tokens the text of the documents `item` names takes (a PDF's too: it is what a target that
 * reads no PDF is sent, and near what one that does counts), which the item's stored token count
 * leaves out. Read through the kept texts, so counting costs a read only the first time.
 */
export async function documentTokens(item: ItemContent, files: Files | undefined, texts: DocumentTexts | undefined): Promise<{ total: number; largest?: { filename: string; tokens: number } }> {
  if (item.type !== 'message' || !files || !texts) return { total: 0 }
  let total = 0
  let largest: { filename: string; tokens: number } | undefined
  for (const p of item.content) {
    if (p.type !== 'input_file' || p.file_data || !p.file_id) continue
    const file: StoredFile | undefined = await files.get(p.file_id)
    if (!file || !texts.reads(file)) continue
    const tokens = await texts.tokens(file, () => files.content(file.id))
    total += tokens
    if (!largest || tokens > largest.tokens) largest = { filename: p.filename ?? file.filename, tokens }
  }
  return { total, largest }
}

/**
 * A 400 naming the document when one of the new input's documents alone does not fit what the
 * window leaves: a clear refusal before the provider's context-length 400 (the text is not cut:
 * a model answering from part of a document without saying so is worse than no answer).
 */
export function requireDocumentFits(largest: { filename: string; tokens: number } | undefined, window: Window, otherTokens: number): void {
  if (!largest || largest.tokens + otherTokens <= window.tokens - window.reserve) return
  throw badRequest(
    `The document '${largest.filename}' is about ${largest.tokens} tokens of text: with the instructions and the message it does not fit the model's window of ${window.tokens} tokens (${window.reserve} kept for the answer). Send a shorter document or the part that matters, or use a model with a larger window.`,
    'input', 'context_length_exceeded',
  )
}
