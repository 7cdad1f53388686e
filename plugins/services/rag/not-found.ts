/**
 * A collection the caller does not see (or none): a 404 that keeps its id, so OpenAI's surfaces
 * (/v1/vector_stores, the file_search tool) can say "vector store" and name the field their request
 * named it in; the management API answers it as it is (collection_not_found).
 */
import { GatewayError, notFound } from '../../../plugin-api/index.ts'

export class CollectionNotFound extends GatewayError {
  constructor(readonly collectionId: string) {
    super(`No collection '${collectionId}'.`, { status: 404, code: 'collection_not_found', param: 'id' })
  }
}

/** `err` in OpenAI's words when it is an unknown collection: no such vector store, at `param`. */
export const asVectorStoreError = (err: unknown, param: string): unknown =>
  err instanceof CollectionNotFound ? notFound(`No vector store with id '${err.collectionId}'.`, 'vector_store_not_found', param) : err
