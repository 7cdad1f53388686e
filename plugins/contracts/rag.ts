/**
 * RAG collections (service.rag provides `Rag`): what other plugins use to search a caller's
 * collections (the vector-stores surface, `file_search` in Responses, assistants with attached
 * collections). Every method takes the caller: a collection outside its reach is "not found".
 */
import { token, type Caller, type GatewayCalls, type Token } from '../../plugin-api/index.ts'
import { type Page } from '../store/kit/sql.ts'

/** How documents are cut: sizes in tokens (the gateway's tokenizer's; 4 bytes a token without one). */
export interface ChunkingSettings {
  readonly maxTokens: number
  readonly overlapTokens: number
}

export interface CollectionRecord {
  readonly id: string
  readonly name: string
  readonly description: string | null
  readonly ownerUserId: string | null
  /** The owner's department: its department admins manage the collection. */
  readonly department: string | null
  /** Members of this department may search it (null: only the owner and admins). */
  readonly deptScope: string | null
  readonly embeddingRoute: string
  readonly dimensions: number
  readonly chunking: ChunkingSettings
  /** The PostgreSQL text search configuration of its full-text search (`english`, `german`, `simple`...). */
  readonly textSearch: string
  readonly metadata: Readonly<Record<string, string>>
  readonly createdAt: Date
  readonly lastActiveAt: Date | null
  /** Days after its last use (or its creation, if never used) it expires; null: never. */
  readonly expiresAfterDays: number | null
  /** When it expires (searches and new documents are refused from then on); null: never. */
  readonly expiresAt: Date | null
  /** Documents by status, and the bytes they hold. */
  readonly counts: DocumentCounts
  readonly bytes: number
}

export interface DocumentCounts {
  readonly queued: number
  readonly processing: number
  readonly completed: number
  readonly failed: number
  readonly total: number
}

export type DocumentStatus = 'queued' | 'processing' | 'completed' | 'failed'

/** What search filters match on: at most 16 keys, each a string, a number or a boolean. */
export type DocumentAttributes = Readonly<Record<string, string | number | boolean>>

/** One section of a document's extracted text. */
export interface DocumentText {
  readonly text: string
  /** A PDF's page or a presentation's slide (from 1). */
  readonly page?: number
  readonly heading?: string
}

export interface DocumentRecord {
  readonly id: string
  readonly collectionId: string
  /** The /v1/files id it was attached from, if any. */
  readonly fileId: string | null
  readonly filename: string
  readonly contentType: string
  /** How its text was read; `other` for a file of a type not read (kept failed, `unsupported_file`). */
  readonly kind: 'text' | 'markdown' | 'html' | 'pdf' | 'docx' | 'pptx' | 'other'
  readonly bytes: number
  readonly contentHash: string
  readonly attributes: DocumentAttributes
  readonly status: DocumentStatus
  readonly error: { readonly code: string; readonly message: string } | null
  readonly chunksDone: number
  readonly chunksTotal: number | null
  readonly attempts: number
  readonly chunking: ChunkingSettings
  readonly createdAt: Date
  readonly completedAt: Date | null
}

export interface NewCollection {
  readonly name: string
  readonly description?: string
  /** Default: the service's `embedding_route`. */
  readonly embeddingRoute?: string
  /** Default: what the route answers (one probe call). */
  readonly dimensions?: number
  readonly deptScope?: string | null
  readonly chunking?: Partial<ChunkingSettings>
  /** Default: the service's `text_search`. */
  readonly textSearch?: string
  readonly metadata?: Readonly<Record<string, string>>
  /** Expire this many days (1 to 365) after its last use. */
  readonly expiresAfterDays?: number
}

export interface NewDocument {
  readonly filename: string
  readonly contentType: string
  readonly data: Buffer
  readonly fileId?: string
  readonly attributes?: Readonly<Record<string, string | number | boolean>>
  /** Per-document chunking (OpenAI's chunking_strategy on a file), else the collection's. */
  readonly chunking?: Partial<ChunkingSettings>
  /**
   * A file that cannot be read (over services.rag.max_file_bytes, of a type not read, with no text,
   * corrupt, or past an extraction bound) is kept as a failed document saying why, as OpenAI's vector store files are, instead of
   * refusing the call.
   */
  readonly failUnreadable?: boolean
}

/** OpenAI's attribute filters: a comparison, or `and` / `or` of filters. */
export type SearchFilter =
  | { readonly type: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte'; readonly key: string; readonly value: string | number | boolean }
  | { readonly type: 'in' | 'nin'; readonly key: string; readonly value: readonly (string | number)[] }
  | { readonly type: 'and' | 'or'; readonly filters: readonly SearchFilter[] }

export interface SearchOptions {
  readonly topK?: number
  readonly filters?: SearchFilter
  /** Fuse vector and full-text ranks (reciprocal rank fusion). */
  readonly hybrid?: boolean
  /** How much each ranking weighs in the fusion (OpenAI's `hybrid_search`; default 1 and 1): implies `hybrid`. */
  readonly hybridWeights?: HybridWeights
  /** Hits scoring below this are dropped. */
  readonly scoreThreshold?: number
  readonly signal?: AbortSignal
}

export interface HybridWeights {
  readonly embedding: number
  readonly text: number
}

export interface SearchHit {
  readonly collectionId: string
  readonly documentId: string
  readonly fileId: string | null
  readonly filename: string
  readonly attributes: Readonly<Record<string, string | number | boolean>>
  readonly text: string
  /** Cosine similarity (vector search) or the fused rank score (hybrid), from 0 to 1. */
  readonly score: number
  readonly page: number | null
  readonly heading: string | null
  readonly startOffset: number
  readonly endOffset: number
}

/**
 * OpenAI's cursor paging (with `limit`): the records after or before the one a cursor names, in
 * `order` of creation (newest first by default). A cursor that names no record bounds nothing.
 */
export interface Cursor {
  readonly order?: 'asc' | 'desc'
  /** A record's id (a document's, or the /v1/files id it was attached from). */
  readonly after?: string
  /** As `after`: the page just before it, in the same order. */
  readonly before?: string
}

export interface DocumentFilter extends Page, Cursor {
  readonly status?: DocumentStatus | readonly DocumentStatus[]
  /** Only the documents attached from these /v1/files ids. */
  readonly fileIds?: readonly string[]
}

export interface Rag {
  createCollection(caller: Caller, gateway: GatewayCalls, input: NewCollection): Promise<CollectionRecord>
  listCollections(caller: Caller, page?: Page & Cursor): Promise<CollectionRecord[]>
  /** A collection the caller may see (expired ones too); 404 otherwise. */
  getCollection(caller: Caller, id: string): Promise<CollectionRecord>
  /** `expiresAfterDays`: null never expires; an expired collection's expiry cannot change. */
  updateCollection(caller: Caller, id: string, changes: { readonly name?: string; readonly metadata?: Readonly<Record<string, string>>; readonly expiresAfterDays?: number | null }): Promise<CollectionRecord>
  /** With its documents and chunks. */
  deleteCollection(caller: Caller, id: string): Promise<void>
  /** Checks and extracts the text now (a clear 4xx for bad input, nothing stored), embeds in the background. */
  addDocument(caller: Caller, collectionId: string, doc: NewDocument): Promise<DocumentRecord>
  /** As addDocument for several: every one is read before any is stored, so one refused stores none (the error names it). */
  addDocuments(caller: Caller, collectionId: string, docs: readonly NewDocument[]): Promise<DocumentRecord[]>
  listDocuments(caller: Caller, collectionId: string, filter?: DocumentFilter): Promise<DocumentRecord[]>
  /** By document id or by the /v1/files id it was attached from. */
  getDocument(caller: Caller, collectionId: string, id: string): Promise<DocumentRecord>
  deleteDocument(caller: Caller, collectionId: string, id: string): Promise<void>
  /** Its attributes replaced: search filters read them at once (nothing is embedded again). */
  updateDocument(caller: Caller, collectionId: string, id: string, changes: { readonly attributes: DocumentAttributes }): Promise<DocumentRecord>
  /** The text extracted from it, section by section (a PDF's pages, a document's headings), as it was chunked. */
  documentText(caller: Caller, collectionId: string, id: string): Promise<readonly DocumentText[]>
  /** A failed document, ingested again. */
  retryDocument(caller: Caller, collectionId: string, id: string): Promise<DocumentRecord>
  /** Top hits over the collections (each must be searchable by the caller), the query embedded as the caller. */
  search(caller: Caller, gateway: GatewayCalls, collectionIds: readonly string[], query: string, options?: SearchOptions): Promise<SearchHit[]>
}

export const Rag: Token<Rag> = token<Rag>('Rag')
