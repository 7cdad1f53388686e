-- was: 0007
-- requires extension: timescaledb
-- if missing (info): usage_events stays a plain table; the same queries work, without time partitioning
--
-- Where TimescaleDB exists, usage_events becomes a hypertable partitioned by occurred_at (the
-- table's unique constraints already include it). Queries do not change. This uses the
-- create_hypertable(relation, time_column) form, which TimescaleDB 1.x and 2.x both accept.

CREATE EXTENSION IF NOT EXISTS timescaledb;
SELECT create_hypertable(
  'usage_events', 'occurred_at',
  chunk_time_interval => INTERVAL '7 days',
  create_default_indexes => false,
  if_not_exists => true,
  migrate_data => true
);
