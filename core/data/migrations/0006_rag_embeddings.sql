-- requires extension: vector
-- if missing (warn): RAG similarity search is off: rag_chunks has no embedding column (keyword search still works)
--
-- Applied only where pgvector can be installed; until then it stays pending and is retried at
-- every start, so installing the extension later is enough.
--
-- The column has no fixed dimension because collections may use different embedding models.
-- pgvector indexes need one, so an approximate index is made per collection when it is created:
--   CREATE INDEX ... ON rag_chunks USING hnsw ((embedding::vector(1536)) vector_cosine_ops)
--   WHERE collection_id = '...';
-- Without one, `ORDER BY embedding <=> $1` is an exact scan of the collection's chunks.

CREATE EXTENSION IF NOT EXISTS vector;
ALTER TABLE rag_chunks ADD COLUMN embedding vector;
