-- was: 0003
-- One row per /v1 request: who, what, how it went, what it cost. Written in batches off the
-- request path; read by the analytics API and the budget checks.
-- No foreign keys: the principal may be a config-defined user, and usage outlives deleted users.

CREATE TABLE usage_events (
  id                bigint       GENERATED ALWAYS AS IDENTITY,
  occurred_at       timestamptz  NOT NULL,
  request_id        text         NOT NULL,
  user_id           text,
  key_id            text,
  department        text,
  -- The route the client asked for (the `model` it sent), the provider and the upstream model.
  route             text,
  provider          text,
  model             text,
  status            smallint     NOT NULL,
  error_type        text,
  attempts          smallint     NOT NULL DEFAULT 1,
  cache_hit         boolean      NOT NULL DEFAULT false,
  prompt_tokens     integer      NOT NULL DEFAULT 0,
  completion_tokens integer      NOT NULL DEFAULT 0,
  cached_tokens     integer      NOT NULL DEFAULT 0,
  -- Exact decimal: costs are summed over millions of rows and compared with budgets.
  cost_usd          numeric(18, 10) NOT NULL DEFAULT 0,
  latency_ms        integer      NOT NULL,
  ttft_ms           integer,
  streamed          boolean      NOT NULL DEFAULT false,
  -- Every unique constraint includes the time column, so the table can become a TimescaleDB
  -- hypertable (0007) without changing.
  PRIMARY KEY (id, occurred_at),
  -- A batch retried after an ambiguous failure inserts nothing twice (ON CONFLICT DO NOTHING).
  UNIQUE (request_id, occurred_at)
);

-- The analytics queries filter on a time range, alone or with one dimension.
CREATE INDEX usage_events_time_idx ON usage_events (occurred_at);
CREATE INDEX usage_events_user_time_idx ON usage_events (user_id, occurred_at);
CREATE INDEX usage_events_department_time_idx ON usage_events (department, occurred_at);
CREATE INDEX usage_events_model_time_idx ON usage_events (model, occurred_at);
-- Per-key budgets.
CREATE INDEX usage_events_key_time_idx ON usage_events (key_id, occurred_at);
