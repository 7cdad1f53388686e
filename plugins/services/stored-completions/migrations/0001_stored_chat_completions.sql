-- Stored chat completions (`store: true` on /v1/chat/completions): the completion a client got and
-- its request's messages, as JSON text (jsonb refuses the NUL character a model may echo). `id` is
-- the completion's own: a cache hit answers another caller with the same id, so it is unique per
-- owner, and `seq` orders a list and names a row.
CREATE TABLE IF NOT EXISTS stored_chat_completions (
  seq             bigserial PRIMARY KEY,
  id              text NOT NULL,
  user_id         text,
  department      text,
  model           text NOT NULL,
  requested_model text NOT NULL,
  metadata        jsonb NOT NULL DEFAULT '{}',
  completion      text NOT NULL,
  messages        text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (id, user_id)
);
CREATE INDEX IF NOT EXISTS stored_chat_completions_user ON stored_chat_completions (user_id, seq);
CREATE INDEX IF NOT EXISTS stored_chat_completions_department ON stored_chat_completions (department, seq);
