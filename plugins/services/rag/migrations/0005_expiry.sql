-- OpenAI's vector store expiry: `expires_after: { anchor: last_active_at, days }`. A store expires
-- `days` after it was last used (searched, a file attached), or after it was made if never used;
-- null is never. The time is computed, not stored, so every use moves it without a second write.
ALTER TABLE rag_collections ADD COLUMN expires_after_days integer CHECK (expires_after_days BETWEEN 1 AND 365);
-- The sweep that frees expired stores' chunks looks only at stores that can expire.
CREATE INDEX rag_collections_expiring_idx ON rag_collections (id) WHERE expires_after_days IS NOT NULL;
