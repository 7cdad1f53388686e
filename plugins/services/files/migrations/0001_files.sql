-- Uploaded files (service.files): the bytes with their owner, department and purpose.
CREATE TABLE files (
  seq          bigserial   UNIQUE,
  id           text        PRIMARY KEY,
  user_id      text,
  department   text,
  filename     text        NOT NULL,
  purpose      text        NOT NULL,
  content_type text        NOT NULL,
  bytes        integer     NOT NULL,
  content      bytea       NOT NULL,
  -- What the purpose's check found (a dataset's stats).
  metadata     jsonb       NOT NULL DEFAULT '{}'::jsonb,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX files_user_idx ON files (user_id, seq);
CREATE INDEX files_department_idx ON files (department, seq);
CREATE INDEX files_purpose_idx ON files (purpose, seq);
