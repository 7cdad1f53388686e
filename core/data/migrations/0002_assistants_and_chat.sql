-- Assistants (a named model + instructions) and the chat threads and messages of the chat UI.

CREATE TABLE assistants (
  id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  name          text        NOT NULL,
  description   text,
  instructions  text,
  model         text        NOT NULL,
  owner_user_id uuid        REFERENCES users (id) ON DELETE SET NULL,
  department    text,
  visibility    text        NOT NULL DEFAULT 'private' CHECK (visibility IN ('private', 'department', 'public')),
  -- Request defaults such as temperature or tools.
  settings      jsonb       NOT NULL DEFAULT '{}'::jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX assistants_owner_idx ON assistants (owner_user_id);
CREATE INDEX assistants_department_idx ON assistants (department);

CREATE TABLE chat_threads (
  id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  assistant_id uuid        REFERENCES assistants (id) ON DELETE SET NULL,
  title        text,
  model        text,
  metadata     jsonb       NOT NULL DEFAULT '{}'::jsonb,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX chat_threads_user_recent_idx ON chat_threads (user_id, updated_at DESC);

CREATE TABLE chat_messages (
  id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  -- Append order: timestamps can tie within one transaction, a sequence cannot.
  seq               bigint      GENERATED ALWAYS AS IDENTITY,
  thread_id         uuid        NOT NULL REFERENCES chat_threads (id) ON DELETE CASCADE,
  role              text        NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
  -- OpenAI message content: a JSON string or an array of content parts.
  content           jsonb       NOT NULL,
  tool_calls        jsonb,
  model             text,
  prompt_tokens     integer,
  completion_tokens integer,
  created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX chat_messages_thread_idx ON chat_messages (thread_id, seq);
