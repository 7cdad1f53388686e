/**
 * Images and documents a message names by an uploaded file's id, read into the `data:` URL a chat
 * request carries, each time a turn sends them (the items keep the id, as the client gave it).
 */
import type { ContentPart, ItemContent } from '../../contracts/conversations.ts'
import type { Files } from '../../contracts/files.ts'

const unread = (p: ContentPart): boolean => (p.type === 'input_image' && !p.image_url && !!p.file_id) || (p.type === 'input_file' && !p.file_data && !!p.file_id)

/**
 * `items` with every part that names a file read. A file deleted since its message was sent (the
 * surface checked it then) becomes a line of text saying so: the conversation goes on without it.
 */
export async function readFileParts(items: readonly ItemContent[], files: Files | undefined): Promise<ItemContent[]> {
  const read = new Map<string, Promise<{ url: string; filename: string } | undefined>>()
  const dataOf = (id: string): Promise<{ url: string; filename: string } | undefined> => {
    let pending = read.get(id)
    if (!pending) {
      pending = (async () => {
        const [file, data] = files ? await Promise.all([files.get(id), files.content(id)]) : [undefined, undefined]
        return file && data ? { url: `data:${file.contentType};base64,${data.toString('base64')}`, filename: file.filename } : undefined
      })()
      read.set(id, pending)
    }
    return pending
  }
  return Promise.all(items.map(async (item) => {
    if (item.type !== 'message' || !item.content.some(unread)) return item
    const content = await Promise.all(item.content.map(async (p): Promise<ContentPart> => {
      if (!unread(p) || (p.type !== 'input_image' && p.type !== 'input_file')) return p
      const read = await dataOf(p.file_id!)
      if (!read) return { type: 'input_text', text: `[The ${p.type === 'input_image' ? 'image' : 'file'} ${p.file_id} is no longer available.]` }
      return p.type === 'input_image' ? { ...p, image_url: read.url } : { ...p, file_data: read.url, filename: p.filename ?? read.filename }
    }))
    return { ...item, content }
  }))
}
