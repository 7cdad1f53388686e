-- Datasets as their own records (service.training), as in the seed design's training_datasets:
-- the checked file, its stats, what the check found and the split. The bytes stay in
-- service.files' table (a dataset is also a /v1/files file of purpose fine-tune); a dataset goes
-- with its training file.
CREATE TABLE training_datasets (
  seq                bigserial   UNIQUE,
  id                 text        PRIMARY KEY,
  user_id            text,
  department         text,
  name               text        NOT NULL,
  file_id            text        NOT NULL UNIQUE REFERENCES files (id) ON DELETE CASCADE,
  validation_file_id text        REFERENCES files (id) ON DELETE SET NULL,
  -- The base model the check and the cost estimate were for, or null.
  model              text,
  -- The training side's stats: examples, tokens, max_example_tokens, epochs, estimated_cost_usd.
  stats              jsonb       NOT NULL,
  -- The line-by-line check: status, lines checked, blank lines, the token limit applied.
  validation         jsonb       NOT NULL,
  -- On request: the fraction held out and each side's examples and tokens.
  split              jsonb,
  created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX training_datasets_user_idx ON training_datasets (user_id, seq);
CREATE INDEX training_datasets_department_idx ON training_datasets (department, seq);

-- Fine-tune files stored before this table: each becomes a dataset of its own.
INSERT INTO training_datasets (id, user_id, department, name, file_id, model, stats, validation, created_at)
SELECT 'ds-' || substr(id, 6), user_id, department, filename, id, metadata ->> 'model', metadata,
       jsonb_build_object('status', 'valid', 'lines', (metadata ->> 'examples')::int), created_at
FROM files WHERE purpose = 'fine-tune' AND metadata ? 'examples' ORDER BY seq;

-- Who created a job (the evaluation calls the pipeline as them), what they asked that OpenAI
-- echoes back, and the evaluation after training: its metrics and the results file.
ALTER TABLE training_jobs
  ADD COLUMN owner_role  text,
  ADD COLUMN owner_key   text,
  ADD COLUMN seed        integer,
  ADD COLUMN metadata    jsonb,
  ADD COLUMN result_file text,
  ADD COLUMN evaluation  jsonb;
DROP INDEX training_jobs_open_idx;
CREATE INDEX training_jobs_open_idx ON training_jobs (status) WHERE status IN ('pending', 'queued', 'running', 'evaluating');
