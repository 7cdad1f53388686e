-- Fine-tuned models made routable (service.training): the route overlay every replica merges
-- into its route table, without editing gateway.yaml.
CREATE TABLE training_deployments (
  route       text        PRIMARY KEY,
  job_id      text        NOT NULL REFERENCES training_jobs (id) ON DELETE CASCADE,
  provider    text        NOT NULL,
  model       text        NOT NULL,
  created_by  text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
