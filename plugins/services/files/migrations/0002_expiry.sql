-- OpenAI's `expires_after`: a file may be given a time after which it is deleted (swept).
ALTER TABLE files ADD COLUMN expires_at timestamptz;
CREATE INDEX files_expires_idx ON files (expires_at) WHERE expires_at IS NOT NULL;
