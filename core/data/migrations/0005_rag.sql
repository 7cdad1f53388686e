-- Retrieval-augmented generation: collections of documents split into chunks. The embedding
-- column needs pgvector and is added by 0006 where the extension exists; the full-text column
-- below works everywhere, so keyword search is available either way.

CREATE TABLE rag_collections (
  id                 uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  name               text        NOT NULL,
  description        text,
  owner_user_id      uuid        REFERENCES users (id) ON DELETE SET NULL,
  department         text,
  visibility         text        NOT NULL DEFAULT 'private' CHECK (visibility IN ('private', 'department', 'public')),
  embedding_provider text,
  embedding_model    text,
  dimensions         integer,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rag_collections_department_idx ON rag_collections (department);

CREATE TABLE rag_documents (
  id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  collection_id uuid        NOT NULL REFERENCES rag_collections (id) ON DELETE CASCADE,
  title         text,
  source_uri    text,
  mime_type     text,
  -- sha256 of the content: re-uploading the same file can be detected.
  content_hash  text,
  size_bytes    bigint,
  status        text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'indexing', 'indexed', 'failed')),
  error         text,
  metadata      jsonb       NOT NULL DEFAULT '{}'::jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rag_documents_collection_idx ON rag_documents (collection_id);

CREATE TABLE rag_chunks (
  id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  document_id   uuid        NOT NULL REFERENCES rag_documents (id) ON DELETE CASCADE,
  -- Repeated from the document so a search scans one table.
  collection_id uuid        NOT NULL REFERENCES rag_collections (id) ON DELETE CASCADE,
  chunk_index   integer     NOT NULL,
  content       text        NOT NULL,
  token_count   integer,
  metadata      jsonb       NOT NULL DEFAULT '{}'::jsonb,
  content_tsv   tsvector    GENERATED ALWAYS AS (to_tsvector('simple', content)) STORED,
  created_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (document_id, chunk_index)
);
CREATE INDEX rag_chunks_collection_idx ON rag_chunks (collection_id);
CREATE INDEX rag_chunks_content_tsv_idx ON rag_chunks USING gin (content_tsv);
