/**
 * Images and documents a message names by an uploaded file's id, read into the `data:` URL a chat
 * request carries, each time a turn sends them (the items keep the id, as the client gave it).
 */
import { badRequest } from '../../../core/plugins/api.ts'
import type { ContentPart, ItemContent } from '../../contracts/conversations.ts'
import type { Files } from '../../contracts/files.ts'

const unread = (p: ContentPart): boolean => (p.type === 'input_image' && !p.image_url && !!p.file_id) || (p.type === 'input_file' && !p.file_data && !!p.file_id)

/** `items` with every part that names a file read; a file gone since is a 400 naming it. */
export async function readFileParts(items: readonly ItemContent[], files: Files | undefined): Promise<ItemContent[]> {
  const read = new Map<string, Promise<{ url: string; filename: string }>>()
  const dataOf = (id: string): Promise<{ url: string; filename: string }> => {
    let pending = read.get(id)
    if (!pending) {
      pending = (async () => {
        const [file, data] = files ? await Promise.all([files.get(id), files.content(id)]) : [undefined, undefined]
        if (!file || !data) throw badRequest(`The file ${id} a message names no longer exists.`, 'input', 'file_not_found')
        return { url: `data:${file.contentType};base64,${data.toString('base64')}`, filename: file.filename }
      })()
      read.set(id, pending)
    }
    return pending
  }
  return Promise.all(items.map(async (item) => {
    if (item.type !== 'message' || !item.content.some(unread)) return item
    const content = await Promise.all(item.content.map(async (p): Promise<ContentPart> => {
      if (!unread(p) || (p.type !== 'input_image' && p.type !== 'input_file')) return p
      const { url, filename } = await dataOf(p.file_id!)
      return p.type === 'input_image' ? { ...p, image_url: url } : { ...p, file_data: url, filename: p.filename ?? filename }
    }))
    return { ...item, content }
  }))
}
