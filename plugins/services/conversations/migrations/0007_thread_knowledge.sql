-- Knowledge attached to a thread itself (the console's `#` picker): RAG collection ids searched
-- for each message of the thread, as an assistant's rag_collections are.
ALTER TABLE chat_threads ADD COLUMN IF NOT EXISTS rag_collections jsonb NOT NULL DEFAULT '[]';
