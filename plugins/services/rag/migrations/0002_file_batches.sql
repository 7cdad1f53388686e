-- OpenAI's vector store file batches: which files were attached together. Their status is read
-- from the documents (rag_documents.file_id), so a batch holds no state of its own but `cancelled`.
CREATE TABLE rag_file_batches (
  id            text        PRIMARY KEY,
  collection_id uuid        NOT NULL REFERENCES rag_collections (id) ON DELETE CASCADE,
  file_ids      text[]      NOT NULL,
  cancelled     boolean     NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rag_file_batches_collection_idx ON rag_file_batches (collection_id);
