/**
 * Embeddings reused: the same text embedded again the same way gives the same vectors, so an
 * ingest first looks for chunks already embedded under its key (the document re-uploaded, or
 * added to another collection or vector store) and copies them instead of paying the embeddings
 * route again, and waiting for it.
 *
 * The key is what made the vectors: the extracted text (its sections, so the same bytes read the
 * same way, or other bytes of the same text), the embeddings route and the dimension asked of it,
 * and the chunking. The text search configuration is not in it: the copies' tsvectors are made
 * again in the target collection's.
 *
 * Reuse is scoped to the document's uploader: only chunks another upload of the same user made
 * are copied. Across users it would show in what the second user sees (no embeddings usage or
 * cost on their key, a budget left untouched, an instant ingest) that someone else had uploaded
 * the same text; within one user it tells them nothing they did not do.
 */
import { createHash } from 'node:crypto'
import type { CollectionRow, DocumentWork } from '../data/repository.ts'

/** Bump when chunking changes what it cuts from the same sections: keys of older chunks then match nothing. */
const KEY_VERSION = 1

export function embeddedKey(doc: Pick<DocumentWork, 'sections' | 'chunking'>, collection: Pick<CollectionRow, 'embeddingRoute' | 'dimensions'>, asksDimensions: boolean): string {
  return createHash('sha256').update(JSON.stringify([
    KEY_VERSION, collection.embeddingRoute, collection.dimensions, asksDimensions, doc.chunking.maxTokens, doc.chunking.overlapTokens, doc.sections,
  ])).digest('hex')
}
