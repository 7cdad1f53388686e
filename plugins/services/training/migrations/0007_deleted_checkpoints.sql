-- Checkpoint models (`ft:...:ckpt-step-N`, a job's `checkpoints`) deleted through
-- DELETE /v1/models/{model}, as `model_deleted_at` records its final model's: from then on neither
-- listed nor routed, and a second delete is a 404.
CREATE TABLE IF NOT EXISTS training_deleted_checkpoints (
  model      text        PRIMARY KEY,
  job_id     text        NOT NULL REFERENCES training_jobs(id) ON DELETE CASCADE,
  deleted_at timestamptz NOT NULL DEFAULT now()
);
