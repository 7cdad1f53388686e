-- The `summarize` context policy's summary of a thread's older turns, and the last item it covers.
ALTER TABLE chat_threads ADD COLUMN IF NOT EXISTS summary text;
ALTER TABLE chat_threads ADD COLUMN IF NOT EXISTS summary_through_seq bigint;
ALTER TABLE chat_threads ADD COLUMN IF NOT EXISTS summary_tokens integer;
