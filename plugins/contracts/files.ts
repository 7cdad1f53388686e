/**
 * Files: uploaded documents and datasets, owned by a user and a department, each with a purpose
 * (OpenAI's: `fine-tune`, `assistants`, `batch`, `user_data`, `vision`, `evals`). Provided by
 * service.files (its own `files` table; `/api/v1/files` and OpenAI's `/v1/files`), used by the
 * services that read what users upload (training datasets, RAG ingestion).
 *
 * Scoping is the caller's: a route asks `Files` for records, then checks `caller.reaches` (a file
 * out of reach is answered as no file, a 404) or lists with `ownerFilter(caller)`.
 */
import { token, type Caller, type Owner, type Token } from '../../plugin-api/index.ts'
import type { JsonObject } from './capabilities.ts'

export const FILE_PURPOSES = ['assistants', 'batch', 'fine-tune', 'user_data', 'vision', 'evals'] as const
export type FilePurpose = (typeof FILE_PURPOSES)[number]

export interface StoredFile {
  /** `file-` and 24 hex digits. */
  readonly id: string
  readonly filename: string
  readonly purpose: string
  readonly bytes: number
  readonly contentType: string
  readonly userId: string | null
  readonly department: string | null
  readonly createdAt: Date
  /** When it is deleted (OpenAI's `expires_after`); null: kept until deleted. */
  readonly expiresAt: Date | null
  /** What the purpose's check found (a dataset's stats), or {}. */
  readonly metadata: JsonObject
}

export interface FileUpload {
  readonly filename: string
  readonly purpose: string
  readonly contentType?: string
  readonly data: Buffer
  readonly owner: Owner
  /** What the uploading service knows (a dataset's base model), for the purpose's check and hook; not stored. */
  readonly attributes?: JsonObject
  /** Delete it then (it is gone from reads at once, swept soon after). */
  readonly expiresAt?: Date
}

/**
 * Run on every upload of one purpose before it is stored: throw a GatewayError (400, naming what
 * is wrong) to refuse it, so nothing half-valid is kept; what it returns is stored as the file's
 * metadata.
 */
export type PurposeCheck = (upload: FileUpload) => Promise<JsonObject | void>

/**
 * Run once a checked upload is stored (to keep a record of it elsewhere, as training does of a
 * dataset). When it throws, the file is deleted again and `put` throws its error.
 */
export type PurposeStored = (file: StoredFile, upload: FileUpload) => Promise<void>

/**
 * Run before a file is deleted (RAG removes it from every vector store, as OpenAI's
 * `files.delete` does). When it throws, the file is kept and `delete` throws its error, so
 * nothing derived from a deleted file outlives it.
 */
export type DeleteHook = (file: StoredFile) => Promise<void>

export interface FileListQuery {
  readonly purpose?: string
  readonly userId?: string
  readonly department?: string
  /** At most this many (default 100). */
  readonly limit?: number
  /** A file id: list those after it in `order`. */
  readonly after?: string
  /** By upload time; default `desc` (newest first). */
  readonly order?: 'asc' | 'desc'
}

export interface Files {
  /** Check (see `checkPurpose`) and store; throws the check's error when it refuses. */
  put(upload: FileUpload): Promise<StoredFile>
  get(id: string): Promise<StoredFile | undefined>
  /** Those of `ids` that are files, in one read (a vector store's batch of up to 2,000). */
  getMany(ids: readonly string[]): Promise<StoredFile[]>
  /** The file's bytes, or undefined when there is no such file. */
  content(id: string): Promise<Buffer | undefined>
  /** The file's bytes a page at a time, never held whole (a batch's results of hundreds of MB); nothing when there is no such file. */
  contentPages(id: string): AsyncIterable<Buffer>
  list(query?: FileListQuery): Promise<StoredFile[]>
  /** False when there was no such file. Runs the delete hooks first (see `onDelete`). An expired file is no file. */
  delete(id: string): Promise<boolean>
  /** Add a hook run before every delete; returns the function that removes it. */
  onDelete(hook: DeleteHook): () => void
  /** Add a check (and what runs once stored) for uploads of `purpose` (one per purpose: a later one replaces it); returns the function that removes it. */
  checkPurpose(purpose: string, check: PurposeCheck, stored?: PurposeStored): () => void
}

export const Files: Token<Files> = token<Files>('Files')

/** The list filter a caller's data scope allows: their own files, their department's, or all. */
export function ownerFilter(caller: Caller): Pick<FileListQuery, 'userId' | 'department'> {
  switch (caller.scope) {
    case 'own_data': return { userId: caller.principal.userId }
    case 'department_data': return { department: caller.principal.department }
    case 'all_data': return {}
  }
}

/** Who owns what the caller uploads. */
export function ownerOf(caller: Caller): Owner {
  return { userId: caller.principal.userId, department: caller.principal.department ?? null }
}
