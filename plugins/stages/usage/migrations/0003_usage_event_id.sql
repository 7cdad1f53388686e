-- was: 0009
-- Each usage event has its own id, made by the gateway when it records the event. It is the
-- event's identity: a batch written twice (retried after a timeout, replayed from the usage
-- journal) inserts nothing twice (ON CONFLICT on it). The client's x-request-id stays in
-- request_id as metadata only: two requests that reuse one are two events, both counted.
--
-- Existing rows get a fresh id; rows inserted by other tools get one too (the default). The
-- unique constraint includes the time column, like every unique constraint of this table, so it
-- stays a valid TimescaleDB hypertable (0007).

ALTER TABLE usage_events ADD COLUMN event_id uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE usage_events DROP CONSTRAINT usage_events_request_id_occurred_at_key;
ALTER TABLE usage_events ADD CONSTRAINT usage_events_event_id_occurred_at_key UNIQUE (event_id, occurred_at);
