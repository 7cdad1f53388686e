-- A paused job is still open: the worker keeps polling it (the provider may resume it).
DROP INDEX IF EXISTS training_jobs_open_idx;
CREATE INDEX training_jobs_open_idx ON training_jobs (status) WHERE status IN ('pending', 'queued', 'running', 'paused', 'evaluating');
