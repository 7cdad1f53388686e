-- One row per management action (a key created, rotated, revoked; a user's role or department
-- changed): who did it, to what, and what changed. Written by the service that acted, after it
-- acted; never a secret (a key's prefix names it). No foreign keys: the trail outlives what it names.

CREATE TABLE audit_events (
  id             uuid         PRIMARY KEY,
  occurred_at    timestamptz  NOT NULL DEFAULT now(),
  request_id     text,
  actor_user_id  text         NOT NULL,
  actor_key_id   text,
  actor_role     text         NOT NULL,
  action         text         NOT NULL,
  target_type    text         NOT NULL,
  target_id      text         NOT NULL,
  department     text,
  details        jsonb        NOT NULL DEFAULT '{}'::jsonb
);

-- Listed newest first over a time range, alone or by actor, target or department.
CREATE INDEX audit_events_time_idx ON audit_events (occurred_at);
CREATE INDEX audit_events_actor_time_idx ON audit_events (actor_user_id, occurred_at);
CREATE INDEX audit_events_target_time_idx ON audit_events (target_id, occurred_at);
