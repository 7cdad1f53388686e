-- What the provider resolved a job's hyperparameters to (its choices for those asked as 'auto'),
-- and when the job's fine-tuned model was deleted (DELETE /v1/models/{model}): from then on it is
-- neither listed nor routed, and a second delete is a 404.
ALTER TABLE training_jobs
  ADD COLUMN resolved_hyperparameters jsonb,
  ADD COLUMN model_deleted_at         timestamptz;
CREATE INDEX training_jobs_model_idx ON training_jobs (fine_tuned_model) WHERE fine_tuned_model IS NOT NULL;
