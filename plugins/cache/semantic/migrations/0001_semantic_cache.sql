-- was: 0008
-- requires extension: vector
-- if missing (info): the semantic cache (cache: { plugin: semantic }) cannot be used: semantic_cache is not created
--
-- Answers of the semantic cache, found by the nearest prompt embedding. `context` is a hash of
-- everything but the conversation (tenant, route, parameters, tools): only answers with the same
-- context are compared, so a similar prompt never gets another tenant's or another model's answer.
-- The vector has no fixed dimension (the embeddings route decides it); lookups compare only
-- vectors of the query's dimension. Rows past expires_at are ignored and deleted in the background.

CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE semantic_cache (
  id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  context     text        NOT NULL,
  fingerprint text        NOT NULL,
  embedding   vector      NOT NULL,
  response    jsonb       NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL
);
CREATE INDEX semantic_cache_context_idx ON semantic_cache (context, expires_at);
CREATE INDEX semantic_cache_fingerprint_idx ON semantic_cache (fingerprint);
CREATE INDEX semantic_cache_expires_idx ON semantic_cache (expires_at);
