/**
 * OpenAI's Uploads API on the Files service (`client.uploads.create`, `.parts.create`,
 * `.complete`, `.cancel`): a file sent in parts of up to 64 MB each, kept in `upload_parts` until
 * the upload is completed (the parts, in the order named, become one regular file through
 * `Files.put`: the same owner, limits and purpose checks as files.create), cancelled, or expired
 * (an hour after it was created, as on OpenAI). The parts of an ended upload are deleted, by the
 * complete or cancel itself and by the sweep.
 */
import { createHash } from 'node:crypto'
import { badRequest, conflict, notFound, type Caller, type RouteRequest, type RouteSpec } from '../../../plugin-api/index.ts'
import type { Audit } from '../../contracts/audit.ts'
import { ownerOf, type Files, type StoredFile } from '../../contracts/files.ts'
import { CLAIM_SECONDS, type UploadRecord, type UploadRepository } from './upload-repository.ts'
import { EXPIRY_SECONDS, checkFileSize, fileEntry, namedBytes, openAIFile, purposeOf, type UploadSettings } from './views.ts'

/** OpenAI's bound on one part. */
export const PART_MAX_BYTES = 64 * 1024 * 1024
/** How long an upload takes parts, as on OpenAI. */
const UPLOAD_TTL_MS = 60 * 60 * 1000
/** Parts an upload may keep: its size twice over, room to send a part again (a retry whose first try was stored). */
const STORED_FACTOR = 2
const PERMISSION = 'chat'

interface CreateBody {
  purpose: string
  filename: string
  bytes: number
  mime_type: string
  expires_after?: { anchor: 'created_at'; seconds: number }
}
interface CompleteBody { part_ids: string[]; md5?: string }

const CREATE_BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['purpose', 'filename', 'bytes', 'mime_type'],
  properties: {
    purpose: { type: 'string', minLength: 1 },
    filename: { type: 'string', minLength: 1, maxLength: 255 },
    bytes: { type: 'integer', minimum: 1 },
    mime_type: { type: 'string', minLength: 1, maxLength: 255 },
    expires_after: {
      type: 'object', required: ['anchor', 'seconds'], additionalProperties: false,
      properties: { anchor: { enum: ['created_at'] }, seconds: { type: 'integer', minimum: EXPIRY_SECONDS.min, maximum: EXPIRY_SECONDS.max } },
    },
  },
}
const COMPLETE_BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['part_ids'],
  properties: {
    part_ids: { type: 'array', minItems: 1, maxItems: 10_000, items: { type: 'string', minLength: 1, maxLength: 128 } },
    md5: { type: 'string', pattern: '^[0-9a-fA-F]{32}$' },
  },
}
const ID_PARAMS = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 128 } } }

/** What the upload is now: one still pending past its expiry is `expired` (before the sweep marks it). */
function statusOf(upload: UploadRecord): 'pending' | 'completed' | 'cancelled' | 'expired' {
  if (upload.status === 'completed' || upload.status === 'cancelled' || upload.status === 'expired') return upload.status
  return upload.expiresAt.getTime() <= Date.now() ? 'expired' : 'pending'
}

/** OpenAI's Upload object; `file` once completed (left out before, as OpenAI's schema types it a File). */
export function uploadView(upload: UploadRecord, file?: StoredFile): Record<string, unknown> {
  return {
    ...namedBytes('upload', upload),
    status: statusOf(upload),
    expires_at: Math.floor(upload.expiresAt.getTime() / 1000),
    ...(file ? { file: openAIFile(file) } : {}),
  }
}

/** A 400 (409 while another complete runs) saying why an upload takes no more parts, no complete and no cancel; nothing when it is open. */
function refuseEnded(upload: UploadRecord): void {
  const status = statusOf(upload)
  if (status === 'completed') throw badRequest(`Upload ${upload.id} is already completed (file ${upload.fileId ?? ''}).`, 'upload_id', 'upload_already_completed')
  if (status === 'cancelled') throw badRequest(`Upload ${upload.id} was cancelled.`, 'upload_id', 'upload_already_cancelled')
  if (status === 'expired') throw badRequest(`Upload ${upload.id} expired at ${upload.expiresAt.toISOString()} (an upload takes parts for an hour); create a new one.`, 'upload_id', 'upload_expired')
  if (upload.status === 'completing' && !abandoned(upload)) {
    throw conflict(`Upload ${upload.id} is being completed by another request (a complete that does not finish within ${CLAIM_SECONDS} seconds is taken over).`, 'upload_completing', 'upload_id')
  }
}

/** A complete that claimed the upload longer ago than CLAIM_SECONDS (the gateway crashed, or the store never answered): the next complete takes it over. */
const abandoned = (upload: UploadRecord): boolean => upload.claimedAt === null || upload.claimedAt.getTime() <= Date.now() - CLAIM_SECONDS * 1000

/** The parts named, once each, all of this upload, totalling its bytes (a 400 naming what is wrong). */
async function checkParts(uploads: UploadRepository, upload: UploadRecord, ids: readonly string[]): Promise<void> {
  const seen = new Set<string>()
  for (const id of ids) {
    if (seen.has(id)) throw badRequest(`Part ${id} is named twice in part_ids.`, 'part_ids', 'duplicate_upload_part')
    seen.add(id)
  }
  const parts = new Map((await uploads.parts(upload.id, ids)).map((p) => [p.id, p]))
  const unknown = ids.find((id) => !parts.has(id))
  if (unknown !== undefined) throw badRequest(`No part ${unknown} in upload ${upload.id}.`, 'part_ids', 'upload_part_not_found')
  const total = [...parts.values()].reduce((sum, p) => sum + p.bytes, 0)
  if (total !== upload.bytes) throw badRequest(`The parts hold ${total} bytes; the upload was created for ${upload.bytes}.`, 'part_ids', 'upload_bytes_mismatch')
}

/** OpenAI's /v1/uploads routes over the upload tables and the Files capability. */
export function uploadRoutes(files: Files, uploads: UploadRepository, settings: UploadSettings, audit: Audit): RouteSpec[] {
  const reachable = async (caller: Caller, id: string): Promise<UploadRecord> => {
    const upload = await uploads.get(id)
    // Someone else's upload is no upload: a 403 would confirm the id exists.
    if (!upload || !caller.reaches(upload)) throw notFound(`No such upload: ${id}`, 'upload_not_found', 'upload_id')
    return upload
  }
  /** After a conditional update found the upload not open: why (it changed since it was read). */
  const refuseNow = async (id: string): Promise<never> => {
    const now = await uploads.get(id)
    if (now) refuseEnded(now)
    throw notFound(`No such upload: ${id}`, 'upload_not_found', 'upload_id')
  }
  return [
    {
      method: 'POST', path: '/v1/uploads', summary: 'Create an upload (`purpose`, `filename`, `bytes`, `mime_type`, optional `expires_after`) that takes parts for an hour.', permission: PERMISSION, body: CREATE_BODY,
      async handle({ caller, body }: RouteRequest<CreateBody>) {
        const purpose = purposeOf(body.purpose, settings)
        checkFileSize(body.bytes, body.filename, settings, { bytes: 'bytes', filename: 'filename' })
        const upload = await uploads.create({
          ...ownerOf(caller), filename: body.filename, purpose, mimeType: body.mime_type, bytes: body.bytes,
          fileExpiresAfter: body.expires_after?.seconds ?? null, expiresAt: new Date(Date.now() + UPLOAD_TTL_MS),
        })
        return uploadView(upload)
      },
    },
    {
      method: 'POST', path: '/v1/uploads/:id/parts', summary: 'Add a part (multipart `data`, at most 64 MB) to a pending upload.', permission: PERMISSION, params: ID_PARAMS, body: 'multipart',
      async handle({ caller, params, body, files: sent }) {
        const upload = await reachable(caller, (params as { id: string }).id)
        refuseEnded(upload)
        const field = (body as Record<string, unknown>).data
        const data = sent.find((f) => f.field === 'data')?.data ?? (typeof field === 'string' ? Buffer.from(field) : undefined)
        if (!data) throw badRequest('Send the part\'s bytes in the `data` field.', 'data', 'missing_data')
        if (data.length === 0) throw badRequest('The part is empty.', 'data', 'empty_part')
        if (data.length > Math.min(PART_MAX_BYTES, upload.bytes)) {
          throw badRequest(`A part holds at most ${Math.min(PART_MAX_BYTES, upload.bytes)} bytes (64 MB, and no more than the upload's bytes).`, 'data', 'upload_part_too_large')
        }
        const part = await uploads.addPart(upload.id, data, upload.bytes * STORED_FACTOR)
        if (!part) {
          const now = await uploads.get(upload.id)
          if (now?.status === 'pending' && statusOf(now) === 'pending') {
            throw badRequest(`Upload ${upload.id} already holds parts of ${STORED_FACTOR} times its ${upload.bytes} bytes; cancel it and start again.`, 'data', 'upload_parts_too_large')
          }
          return refuseNow(upload.id)
        }
        return { id: part.id, object: 'upload.part', created_at: Math.floor(part.createdAt.getTime() / 1000), upload_id: part.uploadId }
      },
    },
    {
      method: 'POST', path: '/v1/uploads/:id/complete', summary: 'Complete an upload: its parts, in the order of `part_ids` (optional `md5`), become a file.', permission: PERMISSION, params: ID_PARAMS, body: COMPLETE_BODY,
      async handle(req) {
        const { part_ids: ids, md5 } = req.body as CompleteBody
        const upload = await reachable(req.caller, (req.params as { id: string }).id)
        refuseEnded(upload)
        await checkParts(uploads, upload, ids)
        const { claim } = (await uploads.claim(upload.id)) ?? await refuseNow(upload.id)
        let file: StoredFile
        try {
          const data = await uploads.content(upload.id, ids)
          if (md5 !== undefined && createHash('md5').update(data).digest('hex') !== md5.toLowerCase()) {
            throw badRequest('The md5 of the parts joined is not the `md5` sent.', 'md5', 'md5_mismatch')
          }
          const expiresAt = upload.fileExpiresAfter === null ? undefined : new Date(Date.now() + upload.fileExpiresAfter * 1000)
          file = await files.put({ filename: upload.filename, purpose: upload.purpose, contentType: upload.mimeType, data, owner: { userId: upload.userId, department: upload.department }, ...(expiresAt ? { expiresAt } : {}) })
        } catch (err) {
          // Refused (md5, the purpose's check) or failed: pending again, to be completed with other parts.
          await uploads.release(upload.id, claim)
          throw err
        }
        // Only the complete that still holds the claim keeps its file: one that ran past CLAIM_SECONDS
        // and was taken over (or whose finish failed) deletes it, so an upload makes one file.
        let done: UploadRecord | undefined
        try {
          done = await uploads.finish(upload.id, claim, file.id)
        } catch (err) {
          await files.delete(file.id)
          await uploads.release(upload.id, claim)
          throw err
        }
        if (!done) {
          await files.delete(file.id)
          return refuseNow(upload.id)
        }
        await audit(req, fileEntry('file.upload', file))
        return uploadView(done, file)
      },
    },
    {
      method: 'POST', path: '/v1/uploads/:id/cancel', summary: 'Cancel a pending upload; its parts are deleted.', permission: PERMISSION, params: ID_PARAMS,
      async handle({ caller, params }) {
        const upload = await reachable(caller, (params as { id: string }).id)
        refuseEnded(upload)
        return uploadView((await uploads.cancel(upload.id)) ?? await refuseNow(upload.id))
      },
    },
  ]
}

/** Uploads marked expired and parts deleted per sweep: one sweep stays short on a shared store connection. */
const UPLOADS_PER_SWEEP = 100
const PARTS_PER_SWEEP = 1000

/** One bounded sweep of ended uploads: how many expired, parts deleted and old records deleted (the next sweep takes the rest). */
export const sweepUploads = (uploads: UploadRepository): Promise<{ expired: number; parts: number; forgotten: number }> => uploads.sweep(UPLOADS_PER_SWEEP, PARTS_PER_SWEEP)
