-- Lists of collections and documents follow the order rows were made in (newest first).
-- created_at cannot tell that: the embedded store's clock ticks coarsely, so rows made within one
-- tick tie on it and the random uuid that broke the tie listed them in random order. `seq` is the
-- insertion order, as files' and training jobs' have (bigserial UNIQUE).
--
-- Existing rows are numbered by (created_at, id), their creation order as far as it is known,
-- not in the order the table is scanned (an updated row moves). Adding the column takes one
-- number per existing row from the sequence, so new rows come after them; the constraint comes
-- last so the renumbering cannot collide with itself.

ALTER TABLE rag_collections ADD COLUMN seq bigserial;
UPDATE rag_collections SET seq = o.n FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS n FROM rag_collections) AS o WHERE rag_collections.id = o.id;
ALTER TABLE rag_collections ADD CONSTRAINT rag_collections_seq_key UNIQUE (seq);

ALTER TABLE rag_documents ADD COLUMN seq bigserial;
UPDATE rag_documents SET seq = o.n FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS n FROM rag_documents) AS o WHERE rag_documents.id = o.id;
ALTER TABLE rag_documents ADD CONSTRAINT rag_documents_seq_key UNIQUE (seq);
-- A collection's documents are listed by it, newest first.
DROP INDEX rag_documents_collection_idx;
CREATE INDEX rag_documents_collection_idx ON rag_documents (collection_id, seq);
