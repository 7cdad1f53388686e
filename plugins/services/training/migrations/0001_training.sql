-- Fine-tuning jobs and what happened to them (service.training). Datasets are files (purpose
-- fine-tune) in service.files' table, their stats in the file's metadata.
CREATE TABLE training_jobs (
  seq              bigserial   UNIQUE,
  id               text        PRIMARY KEY,
  user_id          text,
  department       text,
  provider         text        NOT NULL,
  model            text        NOT NULL,
  training_file    text        NOT NULL,
  validation_file  text,
  hyperparameters  jsonb       NOT NULL DEFAULT '{}'::jsonb,
  suffix           text,
  -- pending → queued → running → succeeded | failed | cancelled
  status           text        NOT NULL DEFAULT 'pending',
  provider_job_id  text,
  fine_tuned_model text,
  error            text,
  trained_tokens   integer,
  -- The worker step that may run next (a redelivered older step is stale) and who holds the job now.
  step_token       text        NOT NULL,
  lease_until      timestamptz,
  poll_delay_ms    integer     NOT NULL DEFAULT 0,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  finished_at      timestamptz
);
CREATE INDEX training_jobs_user_idx ON training_jobs (user_id, seq);
CREATE INDEX training_jobs_department_idx ON training_jobs (department, seq);
CREATE INDEX training_jobs_open_idx ON training_jobs (status) WHERE status IN ('pending', 'queued', 'running');

CREATE TABLE training_job_events (
  seq               bigserial   PRIMARY KEY,
  id                text        NOT NULL UNIQUE,
  job_id            text        NOT NULL REFERENCES training_jobs (id) ON DELETE CASCADE,
  -- The provider's id for the event: recorded once however often it is polled.
  provider_event_id text,
  level             text        NOT NULL,
  message           text        NOT NULL,
  metrics           jsonb,
  created_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (job_id, provider_event_id)
);
