-- Why a job failed as OpenAI shows it: the provider's error code and the parameter at fault
-- (`invalid_n_examples` on `training_file`), beside `error`, its message. `failed_starts` counts
-- the tries to start the job at its provider that crashed, so a start that always crashes ends
-- the job failed (start_attempts) rather than being tried, and its files uploaded, forever.
ALTER TABLE training_jobs
  ADD COLUMN error_code    text,
  ADD COLUMN error_param   text,
  ADD COLUMN failed_starts integer NOT NULL DEFAULT 0;
