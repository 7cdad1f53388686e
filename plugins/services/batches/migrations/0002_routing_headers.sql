-- The headers of the request that created a batch, as routes' `when: { headers }` read them (its
-- credentials left out): each line is routed with them, as the same request sent directly would be.
ALTER TABLE batches ADD COLUMN IF NOT EXISTS headers jsonb NOT NULL DEFAULT '{}';
