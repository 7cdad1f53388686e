-- When the process running a background response last said it is still at it: a response still
-- queued or in progress whose heartbeat stopped (its gateway died) reads as failed within a few
-- beats, not only past its deadline. NULL for rows written before this column.
ALTER TABLE chat_responses ADD COLUMN IF NOT EXISTS heartbeat_at timestamptz;
