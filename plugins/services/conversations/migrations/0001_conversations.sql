-- Assistants, chat threads (= /v1/conversations), their items, and stored /v1/responses.
CREATE TABLE IF NOT EXISTS assistants (
  id             text PRIMARY KEY,
  name           text NOT NULL,
  description    text,
  route          text NOT NULL,
  instructions   text,
  department     text,
  user_id        text,
  params         jsonb NOT NULL DEFAULT '{}',
  tools          jsonb NOT NULL DEFAULT '[]',
  rag_collections jsonb NOT NULL DEFAULT '[]',
  context_policy jsonb NOT NULL DEFAULT '{"strategy":"truncate"}',
  metadata       jsonb NOT NULL DEFAULT '{}',
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
-- One name per department (and one among the global ones): `model: assistant/<name>` is unambiguous.
CREATE UNIQUE INDEX IF NOT EXISTS assistants_department_name ON assistants (coalesce(department, ''), lower(name));

CREATE TABLE IF NOT EXISTS chat_threads (
  id               text PRIMARY KEY,
  user_id          text NOT NULL,
  department       text,
  assistant_id     text REFERENCES assistants(id) ON DELETE SET NULL,
  title            text,
  metadata         jsonb NOT NULL DEFAULT '{}',
  item_count       integer NOT NULL DEFAULT 0,
  created_at       timestamptz NOT NULL DEFAULT now(),
  last_activity_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS chat_threads_user_activity ON chat_threads (user_id, last_activity_at DESC);
CREATE INDEX IF NOT EXISTS chat_threads_department_activity ON chat_threads (department, last_activity_at DESC);

CREATE TABLE IF NOT EXISTS chat_responses (
  id                   text PRIMARY KEY,
  user_id              text NOT NULL,
  department           text,
  thread_id            text,
  previous_response_id text,
  body                 jsonb NOT NULL,
  created_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS chat_responses_previous ON chat_responses (previous_response_id);

-- The items of threads and responses, in the Responses API's item shape. `seq` orders them (and is
-- the cursor); history is read newest first from (thread_id, seq), never the whole thread.
CREATE TABLE IF NOT EXISTS chat_items (
  seq          bigserial PRIMARY KEY,
  id           text NOT NULL UNIQUE,
  thread_id    text REFERENCES chat_threads(id) ON DELETE CASCADE,
  response_id  text,
  origin       text NOT NULL CHECK (origin IN ('input', 'output')),
  content      jsonb NOT NULL,
  status       text NOT NULL DEFAULT 'completed',
  tokens       integer NOT NULL DEFAULT 0,
  cost_usd     numeric(18, 10),
  usage        jsonb,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS chat_items_thread_seq ON chat_items (thread_id, seq);
CREATE INDEX IF NOT EXISTS chat_items_response_seq ON chat_items (response_id, seq);
