-- Two things a collection's chunks gained.
--
-- 1. Embeddings reused (ingest/reuse.ts): a document's completed chunks are keyed by what made
--    their vectors (the extracted text, the embeddings route and dimension, the chunking). A later
--    ingest of the same text with the same key, uploaded by the same user, copies those chunks
--    instead of paying the embeddings route again. The key belongs to the ingest named by
--    `ready_ingest` (both are set together when an ingest completes).
ALTER TABLE rag_documents ADD COLUMN embedded_key text;
CREATE INDEX rag_documents_embedded_key_idx ON rag_documents (embedded_key) WHERE embedded_key IS NOT NULL;

-- 2. The full-text half of hybrid search in the collection's language: a PostgreSQL text search
--    configuration (`german`, `simple`...), chosen when the collection is made. A chunk's tsvector
--    is now computed when it is written, with its collection's configuration, instead of always
--    `english` (existing chunks keep the `english` vectors they have, as their collections do).
ALTER TABLE rag_collections ADD COLUMN text_search text NOT NULL DEFAULT 'english';
ALTER TABLE rag_chunks ALTER COLUMN tsv DROP EXPRESSION;
