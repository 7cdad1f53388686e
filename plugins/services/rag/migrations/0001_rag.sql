-- requires extension: vector
-- if missing (warn): RAG (services: { rag: {} }) cannot be used until pgvector is installed on the server
--
-- RAG collections, their documents and chunks. A chunk is searchable only when its document's
-- `ready_ingest` names the ingest that wrote it: an ingest writes its chunks under a new id and
-- flips `ready_ingest` in one transaction at the end, so a crash mid-ingest leaves nothing half
-- visible (the leftovers are deleted by the next attempt). The vector column has no fixed
-- dimension: each collection gets its own partial HNSW index on `embedding::vector(<dims>)`,
-- made when the collection is created (see data/collections.ts).

CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE rag_collections (
  id                   uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  name                 text        NOT NULL,
  description          text,
  owner_user_id        text,
  department           text,
  dept_scope           text,
  embedding_route      text        NOT NULL,
  dimensions           integer     NOT NULL CHECK (dimensions BETWEEN 1 AND 16000),
  -- Whether embeddings requests ask for `dimensions` (chosen at create) or take the model's own.
  ask_dimensions       boolean     NOT NULL DEFAULT false,
  chunk_max_tokens     integer     NOT NULL,
  chunk_overlap_tokens integer     NOT NULL,
  metadata             jsonb       NOT NULL DEFAULT '{}',
  created_at           timestamptz NOT NULL DEFAULT now(),
  last_active_at       timestamptz
);
CREATE INDEX rag_collections_owner_idx ON rag_collections (owner_user_id);
CREATE INDEX rag_collections_department_idx ON rag_collections (department);
CREATE INDEX rag_collections_scope_idx ON rag_collections (dept_scope);

CREATE TABLE rag_documents (
  id                   uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  collection_id        uuid        NOT NULL REFERENCES rag_collections (id) ON DELETE CASCADE,
  file_id              text,
  filename             text        NOT NULL,
  content_type         text        NOT NULL,
  kind                 text        NOT NULL,
  bytes                integer     NOT NULL,
  content_hash         text        NOT NULL,
  -- The extracted text, by section (page or heading), so an ingest or a retry never re-reads the file.
  sections             jsonb       NOT NULL,
  attributes           jsonb       NOT NULL DEFAULT '{}',
  chunk_max_tokens     integer     NOT NULL,
  chunk_overlap_tokens integer     NOT NULL,
  -- Whose calls embed it: the uploader (user, role, department, key).
  uploader             jsonb       NOT NULL,
  status               text        NOT NULL DEFAULT 'queued',
  error_code           text,
  error_message        text,
  chunks_done          integer     NOT NULL DEFAULT 0,
  chunks_total         integer,
  attempts             integer     NOT NULL DEFAULT 0,
  ingest_id            uuid,
  ready_ingest         uuid,
  lease_until          timestamptz,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  completed_at         timestamptz,
  UNIQUE (collection_id, content_hash)
);
CREATE INDEX rag_documents_collection_idx ON rag_documents (collection_id, created_at);
CREATE INDEX rag_documents_file_idx ON rag_documents (collection_id, file_id);
CREATE INDEX rag_documents_pending_idx ON rag_documents (status, lease_until) WHERE status IN ('queued', 'processing');

CREATE TABLE rag_chunks (
  id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  collection_id uuid        NOT NULL,
  document_id   uuid        NOT NULL REFERENCES rag_documents (id) ON DELETE CASCADE,
  ingest_id     uuid        NOT NULL,
  seq           integer     NOT NULL,
  text          text        NOT NULL,
  page          integer,
  heading       text,
  start_offset  integer     NOT NULL,
  end_offset    integer     NOT NULL,
  embedding     vector      NOT NULL,
  tsv           tsvector    GENERATED ALWAYS AS (to_tsvector('english', text)) STORED
);
CREATE INDEX rag_chunks_document_idx ON rag_chunks (document_id, ingest_id);
CREATE INDEX rag_chunks_collection_idx ON rag_chunks (collection_id);
CREATE INDEX rag_chunks_tsv_idx ON rag_chunks USING gin (tsv);
