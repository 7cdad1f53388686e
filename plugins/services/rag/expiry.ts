/**
 * Vector store expiry, as OpenAI has it (`expires_after: { anchor: last_active_at, days }`): a
 * collection past its `expiresAt` is `expired`. It can still be read, listed and deleted; a search
 * or a new document is refused with `vector_store_expired`. A sweep (in processes that run jobs)
 * then frees its chunks, as OpenAI deletes an expired store's embeddings; its documents (and their
 * extracted text) stay, so its files are still listed and counted.
 */
import { GatewayError, type Logger } from '../../../plugin-api/index.ts'
import type { RagRepository } from './data/repository.ts'

/** Whether the collection is past its expiry now. */
export const isExpired = <C extends { readonly expiresAt: Date | null }>(c: C): c is C & { readonly expiresAt: Date } => c.expiresAt !== null && c.expiresAt.getTime() <= Date.now()

/** An expired collection cannot be used: a 400 naming it and when it expired. */
export function refuseExpired(c: { readonly id: string; readonly expiresAt: Date | null }, param = 'vector_store_id'): void {
  if (!isExpired(c)) return
  throw new GatewayError(`Vector store '${c.id}' expired at ${c.expiresAt.toISOString()} (its expires_after passed since it was last used): it can be read, listed and deleted, not searched or given files.`, { status: 400, code: 'vector_store_expired', param })
}

/**
 * Why a document waiting in a store that expired before its turn is failed, not ingested: its
 * embeddings would be paid for and then deleted by the sweep.
 */
export const expiredBeforeIngest = (c: { readonly id: string; readonly expiresAt: Date }): string =>
  `Not ingested: vector store '${c.id}' expired at ${c.expiresAt.toISOString()} before this file's turn (an expired store's chunks are deleted). Attach the file to a store in use.`

/** Stores looked at per sweep, and chunks deleted per statement and per sweep: one sweep stays short on a shared store connection. */
const STORES_PER_SWEEP = 10
const CHUNKS_PER_DELETE = 1000
const CHUNKS_PER_SWEEP = 20_000

/** One bounded pass: at most CHUNKS_PER_SWEEP chunks of expired collections deleted; how many went (the next pass takes the rest). */
export async function freeExpiredChunks(repo: Pick<RagRepository, 'expiredWithChunks' | 'freeExpiredChunks'>): Promise<number> {
  let freed = 0
  for (const id of await repo.expiredWithChunks(STORES_PER_SWEEP)) {
    for (;;) {
      const n = await repo.freeExpiredChunks(id, Math.min(CHUNKS_PER_DELETE, CHUNKS_PER_SWEEP - freed))
      freed += n
      if (freed >= CHUNKS_PER_SWEEP) return freed
      if (n === 0) break
    }
  }
  return freed
}

/** Sweep every `everyMs` (one pass at a time); stop() ends it. */
export function startExpirySweep(repo: RagRepository, everyMs: number, logger: Logger): () => void {
  let sweeping = false
  const timer = setInterval(() => {
    if (sweeping) return
    sweeping = true
    freeExpiredChunks(repo).then(
      (n) => { if (n) logger.info({ chunks: n }, 'chunks of expired vector stores deleted') },
      (err: Error) => logger.warn({ err: err.message }, 'freeing expired vector stores failed; the next sweep tries again'),
    ).finally(() => { sweeping = false })
  }, everyMs).unref()
  return () => clearInterval(timer)
}
