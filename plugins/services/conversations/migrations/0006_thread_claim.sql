-- Who is answering in a thread now, and until when: a turn claims its thread while it runs (from
-- any process, on either store), so a second turn is refused (conversation_locked) instead of
-- interleaving with it. The claim is renewed while the turn runs; one whose process died expires.
ALTER TABLE chat_threads ADD COLUMN IF NOT EXISTS claimed_by text;
ALTER TABLE chat_threads ADD COLUMN IF NOT EXISTS claimed_until timestamptz;
