-- Of an event's prompt tokens, those written to the provider's prompt cache (Anthropic bills them
-- at 1.25x input, 2x for its 1-hour cache), and of its completion tokens, those a reasoning model
-- spent thinking: the cost already counted both, but without them an admin could not tell why a
-- request cost what it did, nor recompute it from the tokens shown. Events written before read 0.
-- Constant defaults: PostgreSQL 11+ adds the columns without rewriting the table.

ALTER TABLE usage_events ADD COLUMN cache_write_tokens integer NOT NULL DEFAULT 0;
ALTER TABLE usage_events ADD COLUMN reasoning_tokens integer NOT NULL DEFAULT 0;
