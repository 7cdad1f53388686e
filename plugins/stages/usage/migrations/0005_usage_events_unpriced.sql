-- An event whose tokens went to a model without a price (in config/models.json or gateway.yaml
-- `pricing:`) is recorded at cost 0, which analytics would add up as if the calls were free. The
-- flag tells the two apart, so analytics can say how many requests (and which models) its cost
-- leaves out. Events written before it read as priced: whether they were is no longer known.
-- A constant default: PostgreSQL 11+ adds the column without rewriting the table.

ALTER TABLE usage_events ADD COLUMN unpriced boolean NOT NULL DEFAULT false;
