-- Batches (OpenAI's /v1/batches): a file of requests run through the gateway's own pipeline as the
-- user who created the batch, in steps by queue workers. `principal` is who the lines run as.
CREATE TABLE IF NOT EXISTS batches (
  seq                  bigserial UNIQUE,
  id                   text PRIMARY KEY,
  user_id              text,
  department           text,
  principal            jsonb NOT NULL,
  endpoint             text NOT NULL,
  input_file_id        text NOT NULL,
  completion_window    text NOT NULL,
  status               text NOT NULL,
  model                text,
  output_file_id       text,
  error_file_id        text,
  errors               jsonb,
  request_counts       jsonb NOT NULL DEFAULT '{"total": 0, "completed": 0, "failed": 0}',
  usage                jsonb,
  metadata             jsonb NOT NULL DEFAULT '{}',
  output_expires_after jsonb,
  -- One worker steps a batch at a time: a step holds the lease and renews it while it runs.
  lease_until          timestamptz,
  updated_at           timestamptz NOT NULL DEFAULT now(),
  created_at           timestamptz NOT NULL DEFAULT now(),
  in_progress_at       timestamptz,
  expires_at           timestamptz NOT NULL,
  finalizing_at        timestamptz,
  completed_at         timestamptz,
  failed_at            timestamptz,
  expired_at           timestamptz,
  cancelling_at        timestamptz,
  cancelled_at         timestamptz
);
CREATE INDEX IF NOT EXISTS batches_user ON batches (user_id, seq);
CREATE INDEX IF NOT EXISTS batches_open ON batches (status) WHERE status IN ('validating', 'in_progress', 'finalizing', 'cancelling');

-- A checked batch's requests (1-based line numbers of its input file), read a step's worth at a
-- time; with what each answered, until the batch's output and error files are written from them.
CREATE TABLE IF NOT EXISTS batch_lines (
  batch_id  text NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
  line      integer NOT NULL,
  custom_id text NOT NULL,
  body      jsonb NOT NULL,
  PRIMARY KEY (batch_id, line)
);

-- What each line of a running batch answered (1-based line numbers of the input file), until the
-- batch's output and error files are written from them.
CREATE TABLE IF NOT EXISTS batch_results (
  batch_id text NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
  line     integer NOT NULL,
  ok       boolean NOT NULL,
  result   jsonb NOT NULL,
  usage    jsonb,
  PRIMARY KEY (batch_id, line)
);
