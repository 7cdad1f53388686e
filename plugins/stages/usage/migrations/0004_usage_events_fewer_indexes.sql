-- Two of the usage table's seven indexes were written at every insert and read by no query: the
-- primary key (id, occurred_at), since nothing looks an event up by its id, and (model, occurred_at),
-- since no query filters on the model (analytics groups by it over the time index). Together they
-- cost PostgreSQL ~1.5 µs of CPU per inserted event, 15% of the insert (bench/RESULTS.md).
--
-- An event stays identified by the unique (event_id, occurred_at), which the batches' ON CONFLICT
-- uses. It is not made the primary key: that would rebuild its index under an exclusive lock, which
-- on a large table holds every writer for as long. `id` is still filled in for every row.

ALTER TABLE usage_events DROP CONSTRAINT usage_events_pkey;
DROP INDEX usage_events_model_time_idx;
