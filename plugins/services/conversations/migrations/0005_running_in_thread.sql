-- The background responses still running in a thread: a new turn of that conversation waits for
-- them (OpenAI's conversation_locked), and only those rows are indexed, so the check stays cheap.
CREATE INDEX IF NOT EXISTS chat_responses_running_thread ON chat_responses (thread_id)
  WHERE body->>'status' IN ('queued', 'in_progress');
