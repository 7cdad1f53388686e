/** A stored file as each surface shows it, and the upload checks both share. */
import { badRequest, notFound, type Caller, type JsonSchema, type UploadedFile } from '../../../core/plugins/api.ts'
import { NULLABLE_STRING_SCHEMA, recordSchema, TIME_SCHEMA } from '../kit/schema.ts'
import type { Files, StoredFile } from '../../contracts/files.ts'

/**
 * OpenAI's file object (`client.files.retrieve`). `expires_at` and `status_details` are left out,
 * not null: OpenAI's schema types them as an integer and a string (files here never expire, and a
 * stored file never failed its check).
 */
export function openAIFile(file: StoredFile): Record<string, unknown> {
  return {
    id: file.id,
    object: 'file',
    bytes: file.bytes,
    created_at: Math.floor(file.createdAt.getTime() / 1000),
    filename: file.filename,
    purpose: file.purpose,
    status: 'processed',
  }
}

/** What the management API answers for a file (the envelope's `data`). */
export const MANAGED_FILE_SCHEMA: JsonSchema = recordSchema({
  id: { type: 'string' }, object: { const: 'file' }, bytes: { type: 'integer', minimum: 0 }, created_at: TIME_SCHEMA, filename: { type: 'string' },
  purpose: { type: 'string' }, status: { const: 'processed' }, content_type: { type: 'string' }, user_id: NULLABLE_STRING_SCHEMA, department: NULLABLE_STRING_SCHEMA,
  metadata: { type: 'object', description: 'What the purpose\'s check found (a fine-tune dataset\'s stats).' },
})
export const DELETED_FILE_SCHEMA: JsonSchema = recordSchema({ id: { type: 'string' }, deleted: { const: true } })

/** The management API's view: OpenAI's fields, the owner, and what the purpose's check found. */
export function managedFile(file: StoredFile): Record<string, unknown> {
  return {
    ...openAIFile(file),
    content_type: file.contentType,
    user_id: file.userId,
    department: file.department,
    created_at: file.createdAt.toISOString(),
    metadata: file.metadata,
  }
}

export interface UploadSettings {
  readonly purposes: readonly string[]
  readonly max_bytes: number
}

/** The one file and the purpose of a multipart upload (`file`, `purpose`), or a 400 naming the field. */
export function uploadOf(body: Record<string, unknown>, files: readonly UploadedFile[], settings: UploadSettings): { file: UploadedFile; purpose: string } {
  const purpose = body.purpose
  if (typeof purpose !== 'string' || purpose === '') throw badRequest('`purpose` is required.', 'purpose', 'missing_purpose')
  if (!settings.purposes.includes(purpose)) throw badRequest(`\`purpose\` must be one of: ${settings.purposes.join(', ')}.`, 'purpose', 'invalid_purpose')
  const file = files.find((f) => f.field === 'file')
  if (!file) throw badRequest('Send the file in the `file` field.', 'file', 'missing_file')
  if (files.length > 1) throw badRequest('Send one file per upload.', 'file', 'too_many_files')
  if (file.data.length === 0) throw badRequest('The file is empty.', 'file', 'empty_file')
  if (file.data.length > settings.max_bytes) throw badRequest(`The file is larger than ${settings.max_bytes} bytes.`, 'file', 'file_too_large')
  if (!file.filename || file.filename.length > 255) throw badRequest('The file needs a name of 1 to 255 characters.', 'file', 'invalid_filename')
  return { file, purpose }
}

/** The file `id` if the caller's scope reaches it: 404 when there is none, 403 when it is someone else's. */
export async function reachableFile(files: Files, caller: Caller, id: string): Promise<StoredFile> {
  const file = await files.get(id)
  if (!file) throw notFound(`No such file: ${id}`, 'file_not_found', 'file_id')
  caller.requireReach(file, 'file')
  return file
}
