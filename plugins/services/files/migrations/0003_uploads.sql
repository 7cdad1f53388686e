-- OpenAI's Uploads API: a file sent in parts (each up to 64 MB), made a `files` row when completed.
-- An upload is `pending` until completed, cancelled or past `expires_at`; its parts are deleted
-- when it ends (the sweep deletes those of cancelled and expired uploads).
CREATE TABLE uploads (
  seq             bigserial   UNIQUE,
  id              text        PRIMARY KEY,
  user_id         text,
  department      text,
  filename        text        NOT NULL,
  purpose         text        NOT NULL,
  mime_type       text        NOT NULL,
  bytes           bigint      NOT NULL,
  -- pending | completing (a complete is making the file) | completed | cancelled | expired
  status          text        NOT NULL DEFAULT 'pending',
  -- The completed file's `expires_after.seconds`, counted from the file's creation.
  file_expires_after integer,
  file_id         text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL
);
CREATE INDEX uploads_expires_idx ON uploads (expires_at) WHERE status IN ('pending', 'completing');
CREATE TABLE upload_parts (
  seq        bigserial   UNIQUE,
  id         text        PRIMARY KEY,
  upload_id  text        NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
  bytes      integer     NOT NULL,
  content    bytea       NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX upload_parts_upload_idx ON upload_parts (upload_id);
