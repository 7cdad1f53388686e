/**
 * Files: uploads with an owner, a department and a purpose, in the `files` table.
 *
 *   services: { files: { max_bytes: 104857600 } }
 *
 * - service.files provides the Files capability (training datasets and RAG read what users
 *   upload) and mounts /api/v1/files (upload, list, get, content, delete) in the envelope.
 * - surface.files is OpenAI's /v1/files over the same capability, so `client.files.create /
 *   list / retrieve / content / delete` of the official SDKs work unchanged. It is on whenever
 *   service.files is configured. Its /v1/uploads (uploads.ts) is OpenAI's Uploads API: a file
 *   sent in parts, completed into a file of this service.
 *
 * Who sees a file is the caller's data scope: their own, their department's, or all.
 */
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { Store, definePlugin, raw, reply, token, type JsonSchema, type RouteSpec, type Service, type Surface } from '../../../plugin-api/index.ts'
import { auditTo, systemAuditTo, type Audit, type SystemAudit } from '../../contracts/audit.ts'
import { attachment } from '../kit/download.ts'
import { listOf } from '../kit/schema.ts'
import { unknownCursor } from '../kit/cursor.ts'
import { AuditLog } from '../../contracts/capabilities.ts'
import { FILE_PURPOSES, Files, ownerFilter, ownerOf, type DeleteHook, type PurposeCheck, type PurposeStored, type StoredFile } from '../../contracts/files.ts'
import { fileRepository } from './repository.ts'
import { uploadRepository, type UploadRepository } from './upload-repository.ts'
import { sweepUploads, uploadRoutes } from './uploads.ts'
import { DELETED_FILE_SCHEMA, MANAGED_FILE_SCHEMA, fileEntry, managedFile, openAIFile, reachableFile, uploadOf, type UploadSettings } from './views.ts'

const MIGRATIONS = fileURLToPath(new URL('./migrations/', import.meta.url))
/** Files are data the caller sends models: whoever may use /v1 may keep their own. */
const PERMISSION = 'chat'

type FilesConfig = UploadSettings & { readonly expiry_sweep_ms: number }
/** The upload settings, from service.files to the /v1/files surface (this folder's own, not a shared capability). */
const FilesSettings = token<UploadSettings>('FilesSettings')
/** The upload tables, from service.files to the /v1/uploads routes of the surface (this folder's own too). */
const FileUploads = token<UploadRepository>('FileUploads')

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    max_bytes: { type: 'integer', minimum: 1, default: 100 * 1024 * 1024, description: 'The largest file accepted (the request must also fit `server.body_limit`).' },
    expiry_sweep_ms: { type: 'integer', minimum: 50, default: 60_000, description: 'How often files past their `expires_after` are deleted (they are gone from every read at once).' },
    purposes: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, default: [...FILE_PURPOSES], description: 'The purposes an upload may name.' },
  },
}

const ID_PARAMS = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 64 } } }
const LIST_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    purpose: { type: 'string', minLength: 1 },
    limit: { type: 'integer', minimum: 1, maximum: 10_000, default: 100 },
    after: { type: 'string', minLength: 1, description: 'A file id: the files after it.' },
    order: { enum: ['asc', 'desc'], default: 'desc' },
  },
}
/** OpenAI's list answers up to 10,000 files unless asked for fewer (a caller reading `.data` gets them all). */
const OPENAI_LIST_QUERY = { ...LIST_QUERY, properties: { ...LIST_QUERY.properties, limit: { ...LIST_QUERY.properties.limit, default: 10_000 } } }
interface ListQuery { purpose?: string; limit: number; after?: string; order: 'asc' | 'desc' }

/** The same five routes for both surfaces; `view` and `deleted` say how each answers. */
function fileRoutes(files: Files, settings: UploadSettings, base: string, openAI: boolean, audit: Audit): RouteSpec[] {
  const view = openAI ? openAIFile : managedFile
  const root = base === '' ? '/' : base
  // The management API's answers are documented here; /v1's are OpenAI's (its SDK's types).
  const answers = (schema: JsonSchema) => (openAI ? {} : { response: schema })
  return [
    {
      method: 'POST', path: root, summary: 'Upload a file (multipart: `file`, `purpose`, optional `expires_after[anchor]` and `expires_after[seconds]`).', permission: PERMISSION, body: 'multipart', status: openAI ? 200 : 201, ...answers(MANAGED_FILE_SCHEMA),
      async handle(req) {
        const { file, purpose, expiresAt } = uploadOf(req.body as Record<string, unknown>, req.files, settings)
        const stored = await files.put({ filename: file.filename, purpose, contentType: file.contentType, data: file.data, owner: ownerOf(req.caller), ...(expiresAt ? { expiresAt } : {}) })
        await audit(req, fileEntry('file.upload', stored))
        return view(stored)
      },
    } satisfies RouteSpec,
    {
      method: 'GET', path: root, summary: 'List the files the caller may see, newest first.', permission: PERMISSION, query: openAI ? OPENAI_LIST_QUERY : LIST_QUERY, ...answers(listOf(MANAGED_FILE_SCHEMA)),
      async handle({ caller, query }) {
        const q = query as ListQuery
        if (q.after !== undefined) {
          const cursor = await files.get(q.after)
          if (!cursor || !caller.reaches(cursor)) throw unknownCursor('file', q.after)
        }
        const found = await files.list({ ...ownerFilter(caller), purpose: q.purpose, after: q.after, order: q.order, limit: q.limit + 1 })
        const page = found.slice(0, q.limit)
        const hasMore = found.length > q.limit
        // OpenAI's ListFilesResponse requires string ids: an empty page has empty ones (the SDK pages by the last item, not these).
        if (openAI) return { object: 'list', data: page.map(view), first_id: page[0]?.id ?? '', last_id: page.at(-1)?.id ?? '', has_more: hasMore }
        return reply(page.map(view), { meta: { has_more: hasMore, last_id: page.at(-1)?.id ?? null } })
      },
    } satisfies RouteSpec,
    {
      method: 'GET', path: `${base}/:id`, summary: 'One file\'s record.', permission: PERMISSION, params: ID_PARAMS, ...answers(MANAGED_FILE_SCHEMA),
      async handle({ caller, params }) {
        return view(await reachableFile(files, caller, (params as { id: string }).id))
      },
    } satisfies RouteSpec,
    {
      method: 'GET', path: `${base}/:id/content`, summary: 'The file\'s bytes.', permission: PERMISSION, params: ID_PARAMS, produces: 'application/octet-stream',
      async handle({ caller, params }) {
        const file = await reachableFile(files, caller, (params as { id: string }).id)
        // Streamed a page at a time: a batch's output file can be hundreds of MB.
        // Any name (kit/download.ts); the type is the uploader's word, so a browser must not sniff it into something it renders.
        return raw(Readable.from(files.contentPages(file.id)), file.contentType, { headers: { 'content-disposition': attachment(file.filename), 'x-content-type-options': 'nosniff' } })
      },
    } satisfies RouteSpec,
    {
      method: 'DELETE', path: `${base}/:id`, summary: 'Delete a file.', permission: PERMISSION, params: ID_PARAMS, ...answers(DELETED_FILE_SCHEMA),
      async handle(req) {
        const file = await reachableFile(files, req.caller, (req.params as { id: string }).id)
        // A file deleted meanwhile by another request is that request's entry.
        if (await files.delete(file.id)) await audit(req, fileEntry('file.delete', file))
        return openAI ? { id: file.id, object: 'file', deleted: true } : { id: file.id, deleted: true }
      },
    } satisfies RouteSpec,
  ]
}

/**
 * The Files capability over the repository, with the purpose checks run before anything is
 * stored; and the sweep that deletes expired files (through the delete hooks, as a delete does).
 */
function filesOver(store: Store, audit: SystemAudit): { files: Files; sweepExpired(onError: (fileId: string, err: Error) => void): Promise<number> } {
  const repo = fileRepository(store.sql)
  const checks = new Map<string, { check: PurposeCheck; stored?: PurposeStored }>()
  const deleteHooks = new Set<DeleteHook>()
  const remove = async (file: StoredFile): Promise<boolean> => {
    // What was made from the file goes first: a hook that fails keeps the file, to be deleted again.
    for (const hook of deleteHooks) await hook(file)
    return repo.delete(file.id)
  }
  const sweepExpired = async (onError: (fileId: string, err: Error) => void): Promise<number> => {
    let deleted = 0
    for (const id of await repo.expired(100)) {
      // One file whose hook fails is kept for the next sweep; the others still go.
      try {
        const file = await repo.get(id, true)
        if (!file || !await remove(file)) continue
        deleted++
        const entry = fileEntry('file.expire', file)
        await audit({ ...entry, details: { ...entry.details, expired_at: file.expiresAt?.toISOString() ?? null } })
      } catch (err) {
        onError(id, err as Error)
      }
    }
    return deleted
  }
  const files: Files = {
    async put(upload) {
      const hooks = checks.get(upload.purpose)
      const metadata = (await hooks?.check(upload)) ?? {}
      const file = await repo.insert(upload, metadata)
      if (hooks?.stored) {
        try {
          await hooks.stored(file, upload)
        } catch (err) {
          // All or nothing: no file whose record elsewhere failed.
          await repo.delete(file.id).catch(() => undefined)
          throw err
        }
      }
      return file
    },
    get: (id) => repo.get(id),
    getMany: (ids) => repo.getMany(ids),
    content: (id) => repo.content(id),
    contentPages: (id) => repo.contentPages(id),
    list: (query = {}) => repo.list(query),
    async delete(id) {
      const file = await repo.get(id)
      return file ? remove(file) : false
    },
    onDelete(hook) {
      deleteHooks.add(hook)
      return () => { deleteHooks.delete(hook) }
    },
    checkPurpose(purpose, check, stored) {
      const hooks = { check, stored }
      checks.set(purpose, hooks)
      return () => { if (checks.get(purpose) === hooks) checks.delete(purpose) }
    },
  }
  return { files, sweepExpired }
}

interface FilesService extends Service {
  readonly files: Files
  readonly settings: UploadSettings
}

const service = definePlugin<FilesConfig, FilesService>({
  id: 'service.files',
  kind: 'service',
  description: 'Uploaded files (owner, department, purpose) in the store: /api/v1/files, OpenAI\'s /v1/files, and the Files capability.',
  configSchema,
  needs: [Store],
  uses: [AuditLog],
  provides: [Files, FilesSettings, FileUploads],
  async setup(ctx, config) {
    const store = ctx.get(Store)
    await store.migrate({ owner: 'files', dir: MIGRATIONS })
    const audit = auditTo(ctx.tryGet(AuditLog), ctx.logger)
    const { files, sweepExpired } = filesOver(store, systemAuditTo(ctx.tryGet(AuditLog), ctx.logger))
    ctx.provide(Files, files)
    ctx.provide(FilesSettings, config)
    const uploads = uploadRepository(store.sql)
    ctx.provide(FileUploads, uploads)
    // One sweeper per process that runs jobs (a worker of --workers does not).
    const sweeper = ctx.runsJobs ? setInterval(() => {
      const failed = (fileId: string, err: Error): void => ctx.logger.warn({ file: fileId, err: err.message }, 'deleting an expired file failed; the next sweep tries again')
      sweepExpired(failed).then(
        (n) => { if (n) ctx.logger.info({ deleted: n }, 'expired files deleted') },
        (err: Error) => ctx.logger.warn({ err: err.message }, 'looking for expired files failed; the next sweep tries again'),
      )
      sweepUploads(uploads).then(
        (n) => { if (n.expired || n.parts || n.forgotten) ctx.logger.info(n, 'uploads swept: expired ones marked, parts and old records of ended ones deleted') },
        (err: Error) => ctx.logger.warn({ err: err.message }, 'sweeping ended uploads failed; the next sweep tries again'),
      )
    }, config.expiry_sweep_ms).unref() : undefined
    return { files, settings: config, routes: fileRoutes(files, config, '', false, audit), dispose: () => clearInterval(sweeper) }
  },
})

const surface = definePlugin<Record<string, never>, Surface>({
  id: 'surface.files',
  kind: 'surface',
  enabledByDefault: true,
  description: 'OpenAI\'s /v1/files and /v1/uploads, when service.files is configured.',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  uses: [Files, FilesSettings, FileUploads, AuditLog],
  setup(ctx) {
    const files = ctx.tryGet(Files)
    const settings = ctx.tryGet(FilesSettings)
    const uploads = ctx.tryGet(FileUploads)
    if (!files || !settings || !uploads) return { endpoints: [] }
    const audit = auditTo(ctx.tryGet(AuditLog), ctx.logger)
    return { endpoints: [...fileRoutes(files, settings, '/v1/files', true, audit), ...uploadRoutes(files, uploads, settings, audit)] }
  },
})

export default [service, surface]
