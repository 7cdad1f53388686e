/**
 * Files a chat message carries (`attachments` of /api/v1/chat/threads/:id/messages): uploaded files
 * of the caller's, checked, as the message's image and document parts. From there they go to the
 * model exactly as /v1/responses sends `input_image` / `input_file` parts with a `file_id`
 * (file-parts.ts reads them into data: URLs each turn): an image as the chat API's image part, a
 * PDF as its file part, which OpenAI, Anthropic and Gemini read natively (as its text to a target
 * that reads no PDF: contracts/file-text.ts), another document (a .docx, a .txt) as its text, read
 * by the RAG service's readers where it runs.
 */
import { badRequest, notFound, type Caller } from '../../../plugin-api/index.ts'
import type { ContentPart, DocumentReader } from '../../contracts/conversations.ts'
import type { Files } from '../../contracts/files.ts'
import { sentAsFile } from './file-parts.ts'

/** The most files one message carries. */
export const MAX_ATTACHMENTS = 10
/** Anthropic's limits, the lowest of the providers that read them: 5 MB an image, 32 MB a PDF. */
const MAX_IMAGE_BYTES = 5 * 1024 * 1024
const MAX_DOCUMENT_BYTES = 32 * 1024 * 1024
const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp'])
/** Purposes a file uploaded to be read by a model has (OpenAI's `user_data` and `vision`; `assistants`, as knowledge is uploaded). */
const PURPOSES = new Set(['user_data', 'vision', 'assistants'])

export const ATTACHMENTS_SCHEMA = {
  type: 'array', maxItems: MAX_ATTACHMENTS,
  items: { type: 'object', additionalProperties: false, required: ['file_id'], properties: { file_id: { type: 'string', minLength: 1, maxLength: 64 } } },
  description: `Files sent with the message (at most ${MAX_ATTACHMENTS}): ids of the caller's uploads (\`/api/v1/files\`, purpose \`user_data\` or \`vision\`). An image (PNG, JPEG, GIF, WebP; 5 MB) goes to the model as an image, a PDF (32 MB) as a document, another document (.docx, .pptx, .txt, .md, .csv, .json, .html; with the rag service) as its text. Another user's file is a 404.`,
}

export interface Attachment { readonly file_id: string }

const mb = (bytes: number): string => `${Math.round(bytes / 1024 / 1024)} MB`

/** The parts `attachments` become, in order; a 404 for a file the caller does not reach, a 400 naming the attachment for one that cannot be sent. */
export async function attachmentParts(attachments: readonly Attachment[], caller: Caller, files: Files | undefined, documents: DocumentReader | undefined): Promise<ContentPart[]> {
  if (attachments.length && !files) throw badRequest('Attachments need the files service, which this gateway does not run.', 'attachments', 'unsupported_parameter')
  return Promise.all(attachments.map(async ({ file_id }, i): Promise<ContentPart> => {
    const at = `attachments[${i}]`
    const file = await files!.get(file_id)
    if (!file || !caller.reaches(file)) throw notFound(`No file with id '${file_id}'.`, 'file_not_found', `${at}.file_id`)
    if (!PURPOSES.has(file.purpose)) throw badRequest(`The file '${file.filename}' was uploaded for ${file.purpose}: upload it with purpose user_data (or vision, an image) to attach it.`, `${at}.file_id`, 'invalid_attachment')
    const type = file.contentType.split(';')[0]!.trim().toLowerCase()
    if (IMAGE_TYPES.has(type)) {
      if (file.bytes > MAX_IMAGE_BYTES) throw badRequest(`The image '${file.filename}' is larger than ${mb(MAX_IMAGE_BYTES)}.`, `${at}.file_id`, 'attachment_too_large')
      return { type: 'input_image', file_id: file.id, detail: 'auto', filename: file.filename }
    }
    // A PDF goes as it is; another document (a .docx, a .txt) as its text, where the RAG service reads it (file-parts.ts).
    if (sentAsFile(file.filename, file.contentType) || documents?.reads(file.filename, file.contentType)) {
      if (file.bytes > MAX_DOCUMENT_BYTES) throw badRequest(`The document '${file.filename}' is larger than ${mb(MAX_DOCUMENT_BYTES)}.`, `${at}.file_id`, 'attachment_too_large')
      return { type: 'input_file', file_id: file.id, filename: file.filename }
    }
    const documentsToo = documents ? ', a PDF or a document (Word, PowerPoint, text, Markdown, HTML, CSV, JSON)' : ' or a PDF'
    throw badRequest(`The file '${file.filename}' (${type || 'unknown type'}) cannot be attached: attach an image (PNG, JPEG, GIF, WebP)${documentsToo}.`, `${at}.file_id`, 'unsupported_attachment')
  }))
}

/** The files a kept message carries, as the chat API shows them (name and kind; the content is at /api/v1/files/:id/content). */
export function attachmentsOf(parts: readonly ContentPart[]): { file_id: string; filename: string | null; kind: 'image' | 'file' }[] {
  const out: { file_id: string; filename: string | null; kind: 'image' | 'file' }[] = []
  for (const p of parts) {
    if ((p.type === 'input_image' || p.type === 'input_file') && p.file_id) out.push({ file_id: p.file_id, filename: p.filename ?? null, kind: p.type === 'input_image' ? 'image' : 'file' })
  }
  return out
}
