-- Whether an event was a line of a batch (/v1/batches, /v1/messages/batches): such a call is priced
-- at its model's batch rate (gateway.yaml `pricing: { batch: }`), so without the mark an admin could
-- not tell why two like requests cost apart. Events written before read false. A constant default:
-- PostgreSQL 11+ adds the column without rewriting the table.

ALTER TABLE usage_events ADD COLUMN batch boolean NOT NULL DEFAULT false;
