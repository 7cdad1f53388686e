-- A rotation replaces a key's secret in place: the row (its id, and so its rate buckets, budget,
-- cache scope and usage history, which are all counted by key id) stays, and only key_hash and
-- prefix change. The secret it replaced is kept as previous_key_hash and keeps working until
-- previous_expires_at (the rotation's grace period; at once when there is none), then never
-- again. One previous secret at most: rotating again drops the older one. previous_prefix is
-- that secret's visible start: a console session made with a secret records its prefix, and ends
-- when that secret stops working.
--
-- Keys rotated before this migration are separate rows (the old one revoked or expiring); they
-- stay as they are.

ALTER TABLE api_keys ADD COLUMN previous_key_hash text;
ALTER TABLE api_keys ADD COLUMN previous_prefix text;
ALTER TABLE api_keys ADD COLUMN previous_expires_at timestamptz;
-- A lookup by hash probes key_hash or this: unique, as key_hash is, and only where there is one.
CREATE UNIQUE INDEX api_keys_previous_key_hash_key ON api_keys (previous_key_hash) WHERE previous_key_hash IS NOT NULL;
