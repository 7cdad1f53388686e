/**
 * Images and documents a message names by an uploaded file's id, read into the `data:` URL a chat
 * request carries, each time a turn sends them (the items keep the id, as the client gave it). A
 * document no model reads as it is (a .docx, a .txt: not a PDF) is sent as its text instead, read by
 * the registered DocumentReader (the RAG service's readers), as Open WebUI sends an attached file.
 */
import type { ContentPart, DocumentReader, ItemContent } from '../../contracts/conversations.ts'
import type { Files } from '../../contracts/files.ts'

const unread = (p: ContentPart): boolean => (p.type === 'input_image' && !p.image_url && !!p.file_id) || (p.type === 'input_file' && !p.file_data && !!p.file_id)

/** Whether a model is sent the file as it is (a PDF: OpenAI, Anthropic and Gemini read it natively), not as its text. */
export const sentAsFile = (filename: string, contentType: string): boolean =>
  contentType.split(';')[0]!.trim().toLowerCase() === 'application/pdf' || /\.pdf$/i.test(filename)

interface Read { readonly url: string; readonly filename: string; readonly text?: string }

/**
 * `items` with every part that names a file read. A file deleted since its message was sent (the
 * surface checked it then) becomes a line of text saying so: the conversation goes on without it.
 */
export async function readFileParts(items: readonly ItemContent[], files: Files | undefined, documents?: DocumentReader): Promise<ItemContent[]> {
  const read = new Map<string, Promise<Read | undefined>>()
  const dataOf = (id: string, asDocument: boolean): Promise<Read | undefined> => {
    let pending = read.get(id)
    if (!pending) {
      pending = (async () => {
        const [file, data] = files ? await Promise.all([files.get(id), files.content(id)]) : [undefined, undefined]
        if (!file || !data) return undefined
        const text = asDocument && documents && !sentAsFile(file.filename, file.contentType) && documents.reads(file.filename, file.contentType)
          ? await documents.text({ filename: file.filename, contentType: file.contentType, data }) : undefined
        return { url: `data:${file.contentType};base64,${data.toString('base64')}`, filename: file.filename, text }
      })()
      read.set(id, pending)
    }
    return pending
  }
  return Promise.all(items.map(async (item) => {
    if (item.type !== 'message' || !item.content.some(unread)) return item
    const content = await Promise.all(item.content.map(async (p): Promise<ContentPart> => {
      if (!unread(p) || (p.type !== 'input_image' && p.type !== 'input_file')) return p
      const read = await dataOf(p.file_id!, p.type === 'input_file')
      if (!read) return { type: 'input_text', text: `[The ${p.type === 'input_image' ? 'image' : 'file'} ${p.file_id} is no longer available.]` }
      if (p.type === 'input_image') return { ...p, image_url: read.url }
      const filename = p.filename ?? read.filename
      if (read.text !== undefined) return { type: 'input_text', text: `<file name="${filename}">\n${read.text}\n</file>` }
      return { ...p, file_data: read.url, filename }
    }))
    return { ...item, content }
  }))
}
