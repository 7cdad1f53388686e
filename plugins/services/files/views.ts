/** A stored file as each surface shows it, and the upload checks both share. */
import { badRequest, notFound, type Caller, type JsonSchema, type UploadedFile } from '../../../plugin-api/index.ts'
import { NULLABLE_STRING_SCHEMA, recordSchema, TIME_SCHEMA } from '../kit/schema.ts'
import type { Files, StoredFile } from '../../contracts/files.ts'

/** What OpenAI's File and Upload objects begin with: the id, the object type, the size, when, the name and the purpose. */
export function namedBytes(object: string, r: Pick<StoredFile, 'id' | 'bytes' | 'createdAt' | 'filename' | 'purpose'>): Record<string, unknown> {
  return { id: r.id, object, bytes: r.bytes, created_at: Math.floor(r.createdAt.getTime() / 1000), filename: r.filename, purpose: r.purpose }
}

/**
 * OpenAI's file object (`client.files.retrieve`). `expires_at` only when the file expires and
 * `status_details` never, left out rather than null: OpenAI's schema types them as an integer and
 * a string (a stored file never failed its check).
 */
export function openAIFile(file: StoredFile): Record<string, unknown> {
  return {
    ...namedBytes('file', file),
    status: 'processed',
    ...(file.expiresAt ? { expires_at: Math.floor(file.expiresAt.getTime() / 1000) } : {}),
  }
}

/** A file as the audit trail names it: by its name, purpose and size, never its bytes. */
export const fileEntry = (action: string, f: StoredFile) => ({
  action, target: { type: 'file', id: f.id }, department: f.department, details: { filename: f.filename, purpose: f.purpose, bytes: f.bytes, owner: f.userId },
})

/** What the management API answers for a file (the envelope's `data`). */
export const MANAGED_FILE_SCHEMA: JsonSchema = recordSchema({
  id: { type: 'string' }, object: { const: 'file' }, bytes: { type: 'integer', minimum: 0 }, created_at: TIME_SCHEMA, filename: { type: 'string' },
  purpose: { type: 'string' }, status: { const: 'processed' }, expires_at: { ...TIME_SCHEMA, description: 'When the file is deleted (`expires_after`); absent: kept until deleted.' }, content_type: { type: 'string' }, user_id: NULLABLE_STRING_SCHEMA, department: NULLABLE_STRING_SCHEMA,
  metadata: { type: 'object', description: 'What the purpose\'s check found (a fine-tune dataset\'s stats).' },
}, ['expires_at'])
export const DELETED_FILE_SCHEMA: JsonSchema = recordSchema({ id: { type: 'string' }, deleted: { const: true } })

/** The management API's view: OpenAI's fields, the owner, and what the purpose's check found. */
export function managedFile(file: StoredFile): Record<string, unknown> {
  return {
    ...openAIFile(file),
    content_type: file.contentType,
    user_id: file.userId,
    department: file.department,
    created_at: file.createdAt.toISOString(),
    ...(file.expiresAt ? { expires_at: file.expiresAt.toISOString() } : {}),
    metadata: file.metadata,
  }
}

export interface UploadSettings {
  readonly purposes: readonly string[]
  readonly max_bytes: number
}

/** OpenAI's bounds on `expires_after.seconds`: an hour to 30 days. */
export const EXPIRY_SECONDS = { min: 3600, max: 2_592_000 }

/** `expires_after[anchor]` and `expires_after[seconds]`, as the SDKs send the object in a form: when the file is to be deleted. */
function expiryOf(body: Record<string, unknown>): Date | undefined {
  const anchor = body['expires_after[anchor]']
  const seconds = body['expires_after[seconds]']
  if (anchor === undefined && seconds === undefined) return undefined
  if (anchor !== 'created_at') throw badRequest('`expires_after.anchor` must be `created_at`.', 'expires_after.anchor', 'invalid_expires_after')
  const n = typeof seconds === 'string' && /^\d+$/.test(seconds) ? Number(seconds) : NaN
  if (!(n >= EXPIRY_SECONDS.min && n <= EXPIRY_SECONDS.max)) {
    throw badRequest(`\`expires_after.seconds\` must be a whole number from ${EXPIRY_SECONDS.min} (an hour) to ${EXPIRY_SECONDS.max} (30 days).`, 'expires_after.seconds', 'invalid_expires_after')
  }
  return new Date(Date.now() + n * 1000)
}

/** The purpose an upload names, if the settings allow it (a 400 naming `purpose` otherwise). */
export function purposeOf(purpose: unknown, settings: UploadSettings): string {
  if (typeof purpose !== 'string' || purpose === '') throw badRequest('`purpose` is required.', 'purpose', 'missing_purpose')
  if (!settings.purposes.includes(purpose)) throw badRequest(`\`purpose\` must be one of: ${settings.purposes.join(', ')}.`, 'purpose', 'invalid_purpose')
  return purpose
}

/** A file's size and name within the limits files.create applies (a 400 naming `param` otherwise). */
export function checkFileSize(bytes: number, filename: string, settings: UploadSettings, param: { bytes: string; filename: string }): void {
  if (bytes === 0) throw badRequest('The file is empty.', param.bytes, 'empty_file')
  if (bytes > settings.max_bytes) throw badRequest(`The file is larger than ${settings.max_bytes} bytes.`, param.bytes, 'file_too_large')
  if (!filename || filename.length > 255) throw badRequest('The file needs a name of 1 to 255 characters.', param.filename, 'invalid_filename')
}

/** The one file and the purpose of a multipart upload (`file`, `purpose`), or a 400 naming the field. */
export function uploadOf(body: Record<string, unknown>, files: readonly UploadedFile[], settings: UploadSettings): { file: UploadedFile; purpose: string; expiresAt: Date | undefined } {
  const purpose = purposeOf(body.purpose, settings)
  const file = files.find((f) => f.field === 'file')
  if (!file) throw badRequest('Send the file in the `file` field.', 'file', 'missing_file')
  if (files.length > 1) throw badRequest('Send one file per upload.', 'file', 'too_many_files')
  checkFileSize(file.data.length, file.filename, settings, { bytes: 'file', filename: 'file' })
  return { file, purpose, expiresAt: expiryOf(body) }
}

/** The file `id` if the caller's scope reaches it: 404 when there is none or it is out of reach (as OpenAI answers, its existence not confirmed). */
export async function reachableFile(files: Files, caller: Caller, id: string): Promise<StoredFile> {
  const file = await files.get(id)
  if (!file || !caller.reaches(file)) throw notFound(`No such file: ${id}`, 'file_not_found', 'file_id')
  return file
}
