-- A vector store file is its /v1/files file: two files with the same bytes attached to one store
-- are two documents (as on OpenAI), not one that the second attach took over from the first (the
-- first then vanished from the store, and a batch of both counted one as cancelled). Attaching the
-- same file again still reuses its document. Uploads without a file (/api/v1/rag documents) are
-- still one document per content in a collection.
ALTER TABLE rag_documents DROP CONSTRAINT rag_documents_collection_id_content_hash_key;
CREATE UNIQUE INDEX rag_documents_content_idx ON rag_documents (collection_id, content_hash) WHERE file_id IS NULL;
DROP INDEX rag_documents_file_idx;
CREATE UNIQUE INDEX rag_documents_file_idx ON rag_documents (collection_id, file_id) WHERE file_id IS NOT NULL;
