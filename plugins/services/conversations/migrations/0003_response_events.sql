-- The events of background responses created streaming, in order, so a client can follow one from
-- another connection or resume after a drop (GET /v1/responses/{id}?stream=true&starting_after=N).
-- Wire-neutral (the turn's events): the surface numbers its frames from them the same way each time.
-- seq 0 marks a streamed background response; the run's last row is an `end` marker.
CREATE TABLE IF NOT EXISTS chat_response_events (
  response_id text NOT NULL,
  seq         integer NOT NULL,
  event       jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (response_id, seq)
);
CREATE INDEX IF NOT EXISTS chat_response_events_created ON chat_response_events (created_at);
