-- Steps of a batch that crashed in a row: at MAX_FAILED_STEPS the batch ends failed with the
-- reason, rather than its step being queued again for ever (a poison batch). A step that ends
-- well sets it back to 0.
ALTER TABLE batches ADD COLUMN failed_steps integer NOT NULL DEFAULT 0;
