import { TEXT_SEARCH_SCHEMA, type TextSearchConfig } from './text-search.ts'

/** service.rag: its block in gateway.yaml. */
export interface RagConfig {
  embedding_route?: string
  chunking: { max_tokens: number; overlap_tokens: number }
  max_file_bytes: number
  embed_batch_size: number
  ingest_concurrency: number
  top_k: number
  lease_s: number
  expiry_sweep_ms: number
  extraction: ExtractionLimits
  text_search: TextSearchConfig
}

/** What reading one uploaded document may take, in a worker thread, kept for the next document (ingest/extract.ts, ingest/readers.ts). */
export interface ExtractionLimits {
  /** Documents read at once in this process (each in a thread, one at a time); others wait in `queue`. */
  concurrency: number
  timeout_ms: number
  heap_mb: number
  memory_mb: number
  queue: number
  pdf_max_inflated_mb: number
  office_max_inflated_mb: number
}

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    embedding_route: {
      type: 'string', minLength: 1,
      description: 'The route (a model name of this gateway) that embeds documents and queries for collections that name none (every /v1/vector_stores store).',
    },
    chunking: {
      type: 'object', additionalProperties: false, default: {},
      description: 'How documents are cut, in tokens (counted by the gateway\'s tokenizer); a collection or a file may set its own.',
      properties: {
        max_tokens: { type: 'integer', minimum: 100, maximum: 4096, default: 800 },
        overlap_tokens: { type: 'integer', minimum: 0, maximum: 2048, default: 400, description: 'At most half of max_tokens.' },
      },
    },
    max_file_bytes: { type: 'integer', minimum: 1, default: 10 * 1024 * 1024, description: 'The largest document accepted (server.body_limit also applies to uploads): a larger upload to a collection is a 413 file_too_large; a larger file attached to a vector store through /v1 is attached `failed` with `last_error.code: invalid_file`, as OpenAI does.' },
    embed_batch_size: { type: 'integer', minimum: 1, maximum: 2048, default: 64, description: 'Chunks per embeddings call.' },
    ingest_concurrency: { type: 'integer', minimum: 1, maximum: 64, default: 2, description: 'Documents embedded at once in this process (without a queue, or per queue consumer).' },
    text_search: { ...TEXT_SEARCH_SCHEMA, default: 'english', description: `${TEXT_SEARCH_SCHEMA.description} For collections and vector stores made without \`text_search\`; one made keeps its own.` },
    top_k: { type: 'integer', minimum: 1, maximum: 50, default: 5, description: 'Hits a search returns when the request does not say.' },
    extraction: {
      type: 'object', additionalProperties: false, default: {},
      description: 'Bounds on reading one uploaded document (PDF, Word, PowerPoint, Markdown, HTML) to text, which runs in a worker thread (kept to read the next; one stopped at a bound or crashed is replaced): past one, an upload to a collection is a 422 document_too_complex, and a file attached to a vector store is attached `failed` with `last_error.code: invalid_file`.',
      properties: {
        concurrency: { type: 'integer', minimum: 1, maximum: 64, default: 2, description: 'Documents read at once in this process, each in a thread, one at a time (plain text is only decoded, without one); others wait in `queue`; as many threads are kept idle for the next.' },
        timeout_ms: { type: 'integer', minimum: 100, default: 60_000, description: 'How long reading a document may take.' },
        heap_mb: { type: 'integer', minimum: 32, default: 512, description: 'The reading thread\'s JavaScript heap.' },
        memory_mb: { type: 'integer', minimum: 64, default: 1024, description: 'How far the process\'s memory (RSS) may grow while a document is read: what a PDF decodes is held outside the heap, so heap_mb alone does not bound it.' },
        queue: { type: 'integer', minimum: 0, default: 8, description: 'Uploads that may wait for a reading thread (`concurrency` read at once); past it an upload is a 503 with retry-after.' },
        pdf_max_inflated_mb: { type: 'integer', minimum: 1, default: 512, description: 'How much a PDF\'s compressed text streams may inflate to, together (a small file can hold gigabytes).' },
        office_max_inflated_mb: { type: 'integer', minimum: 1, default: 256, description: 'How much a Word (.docx) or PowerPoint (.pptx) file, a zip archive, may inflate to: the sizes its entries declare, added up before anything is inflated.' },
      },
    },
    expiry_sweep_ms: { type: 'integer', minimum: 50, default: 60_000, description: 'How often the chunks of expired vector stores (`expires_after`) are deleted, a bounded number at a time; the stores refuse searches and files from their expiry on.' },
    lease_s: {
      type: 'integer', minimum: 10, default: 300,
      description: 'A document being ingested whose worker has not reported progress for this long is taken up again (the worker died).',
    },
  },
} as const
