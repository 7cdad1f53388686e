/**
 * One document's ingest: claim it (one worker wins); copy the chunks of an earlier upload of the
 * same text by the same uploader if there is one (reuse.ts); else cut its sections into chunks, embed them in
 * batches through the gateway's own embeddings route as the uploader (routing, limits, cost and
 * usage apply), write each batch with the progress, and make the chunks searchable in one
 * transaction at the end. A failure is recorded on the document with why; a worker that dies
 * leaves its lease to run out, and the next attempt deletes what it had written.
 */
import { toGatewayError, type GatewayCalls, type Logger, type Principal } from '../../../../plugin-api/index.ts'
import { withdrawal } from '../../../contracts/principals.ts'
import type { RagConfig } from '../schema.ts'
import type { RagRepository, Uploader } from '../data/repository.ts'
import { chunkSections, type CountTokens } from './chunk.ts'
import { expiredBeforeIngest, isExpired } from '../expiry.ts'
import { embeddedKey } from './reuse.ts'

export interface IngestDeps {
  readonly repo: RagRepository
  readonly config: RagConfig
  readonly logger: Logger
  /** The pipeline as the uploader. */
  readonly callsAs: (principal: Principal) => GatewayCalls
  /** The uploader as they stand now (contracts/principals.ts): undefined once their key is revoked or expired, or their user deleted. */
  readonly currentPrincipal: (principal: Principal) => Promise<Principal | undefined>
  readonly onChunks?: (count: number) => void
  /** Chunks copied from an earlier upload's instead of embedded (ingest/reuse.ts). */
  readonly onReused?: (count: number) => void
  /** The gateway's tokenizer, for chunk sizes in real tokens (else 4 bytes a token). */
  readonly countTokens?: CountTokens
}

export const principalOf = (u: Uploader): Principal => ({
  userId: u.userId, role: u.role, department: u.department, keyId: u.keyId, allowedModels: u.allowedModels, strategy: 'service.rag',
})

/** Whether the uploader, as they stand now, may still call the embeddings route (a withdrawn one is told why by the embedding path). */
async function reusable(deps: IngestDeps, recorded: Principal, route: string): Promise<boolean> {
  const uploader = await deps.currentPrincipal(recorded)
  return uploader !== undefined && deps.callsAs(uploader).routes(route) !== undefined
}

/** Ingest the document if it is waiting (or its worker died); a no-op when another worker has it. */
export async function ingestDocument(deps: IngestDeps, documentId: string, signal?: AbortSignal): Promise<void> {
  const { repo, config, logger } = deps
  const doc = await repo.claim(documentId, config.lease_s)
  if (!doc) return
  const ingestId = doc.ingestId!
  const collection = await repo.getCollectionRow(doc.collectionId)
  if (!collection) return
  /**
   * Whether the store expired before this batch (an expired store's chunks are swept: no embedding
   * is paid for to be deleted). Read again only once the expiry read at the claim has passed: a
   * use since then moves it.
   */
  let expiry = collection
  const expired = async (): Promise<boolean> => {
    if (!isExpired(expiry)) return false
    expiry = await repo.getCollectionRow(collection.id) ?? expiry
    if (!isExpired(expiry)) return false
    logger.info({ document: doc.id, collection: collection.id }, 'document not ingested: its vector store expired')
    await repo.fail(doc.id, ingestId, 'vector_store_expired', expiredBeforeIngest(expiry))
    return true
  }
  const target = { id: doc.id, collectionId: doc.collectionId, textSearch: collection.textSearch }
  try {
    const recorded = principalOf(doc.uploader)
    const asksDimensions = await repo.asksDimensions(collection.id)
    const key = embeddedKey(doc, collection, asksDimensions)
    // The same text embedded the same way for this uploader before: copied, not paid for again
    // (ingest/reuse.ts); only while the uploader may still call the route.
    if (await expired()) return
    const reused = await reusable(deps, recorded, collection.embeddingRoute)
      ? await repo.copyEmbedded(target, ingestId, key, recorded.userId) : undefined
    if (reused !== undefined) {
      deps.onReused?.(reused)
      if (await repo.complete(doc.id, ingestId, key)) logger.info({ document: doc.id, chunks: reused }, 'document ingested with the embeddings of an earlier upload')
      return
    }
    const chunks = await chunkSections(doc.sections, doc.chunking, deps.countTokens)
    if (!await repo.setTotal(doc.id, ingestId, chunks.length, config.lease_s)) return
    const dimensions = asksDimensions ? { dimensions: collection.dimensions } : {}
    for (let first = 0; first < chunks.length; first += config.embed_batch_size) {
      signal?.throwIfAborted()
      if (await expired()) return
      // Each batch is embedded as the uploader is now (the ingest runs after the upload, maybe
      // much later): a revoked key or a deleted user stops it, a new role or department applies.
      const uploader = await deps.currentPrincipal(recorded)
      if (!uploader) {
        const { code, reason } = withdrawal(recorded)
        logger.info({ document: doc.id, code }, 'document ingest stopped: its uploader was withdrawn')
        await repo.fail(doc.id, ingestId, code, `The document was not ingested: ${reason}.`)
        return
      }
      const batch = chunks.slice(first, first + config.embed_batch_size)
      const call = await deps.callsAs(uploader).embed({ model: collection.embeddingRoute, input: batch.map((c) => c.text), ...dimensions, encoding_format: 'float' }, { signal })
      const vectors = [...call.result.data].sort((a, b) => a.index - b.index).map((d) => d.embedding as number[])
      const wrong = vectors.find((v) => !Array.isArray(v) || v.length !== collection.dimensions)
      if (vectors.length !== batch.length || wrong) {
        throw Object.assign(new Error(`the embeddings route '${collection.embeddingRoute}' answered ${vectors.length} vectors of ${wrong?.length ?? collection.dimensions} dimensions for ${batch.length} chunks; the collection holds ${collection.dimensions}-dimension vectors`), { code: 'embedding_mismatch' })
      }
      // False: the document was deleted or queued again meanwhile; this ingest stops.
      if (!await repo.writeChunks(target, ingestId, first, batch, vectors, config.lease_s)) return
      deps.onChunks?.(batch.length)
    }
    if (await repo.complete(doc.id, ingestId, key)) logger.info({ document: doc.id, chunks: chunks.length }, 'document ingested')
  } catch (err) {
    if (signal?.aborted) return // shutting down: the lease runs out and another worker takes it up
    const e = toGatewayError(err)
    const code = (err as { code?: string }).code ?? e.code ?? 'ingest_failed'
    logger.warn({ document: doc.id, code, err: e.message }, 'document ingest failed')
    await repo.fail(doc.id, ingestId, code, e.message)
  }
}
