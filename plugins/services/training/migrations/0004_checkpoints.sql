-- The checkpoints a provider saved and named (OpenAI's per epoch), recorded when the job trained:
-- what /v1/fine_tuning/jobs/{id}/checkpoints lists.
ALTER TABLE training_jobs ADD COLUMN checkpoints jsonb;
