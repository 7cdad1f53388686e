-- Fine-tuning: uploaded datasets and the jobs run on them at a provider.

CREATE TABLE training_datasets (
  id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  name          text        NOT NULL,
  description   text,
  owner_user_id uuid        REFERENCES users (id) ON DELETE SET NULL,
  department    text,
  -- e.g. openai-chat-jsonl
  format        text        NOT NULL,
  -- Where the file lives (a path under the data directory, or an object-store URI).
  storage_uri   text        NOT NULL,
  row_count     integer,
  size_bytes    bigint,
  status        text        NOT NULL DEFAULT 'uploaded' CHECK (status IN ('uploaded', 'validating', 'valid', 'invalid')),
  -- The validation report: row errors, token counts.
  validation    jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX training_datasets_owner_idx ON training_datasets (owner_user_id);
CREATE INDEX training_datasets_department_idx ON training_datasets (department);

CREATE TABLE training_jobs (
  id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  -- Jobs stay as history when their dataset is deleted.
  dataset_id       uuid        REFERENCES training_datasets (id) ON DELETE SET NULL,
  created_by       uuid        REFERENCES users (id) ON DELETE SET NULL,
  department       text,
  provider         text        NOT NULL,
  base_model       text        NOT NULL,
  fine_tuned_model text,
  upstream_job_id  text,
  status           text        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  hyperparameters  jsonb       NOT NULL DEFAULT '{}'::jsonb,
  error            text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  started_at       timestamptz,
  finished_at      timestamptz,
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX training_jobs_status_idx ON training_jobs (status);
CREATE INDEX training_jobs_dataset_idx ON training_jobs (dataset_id);
