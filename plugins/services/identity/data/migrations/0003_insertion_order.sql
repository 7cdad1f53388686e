-- Lists of users and API keys follow the order rows were made in. created_at cannot tell that:
-- the embedded store's clock ticks coarsely, so rows made within one tick tie on it and the
-- random uuid that broke the tie listed them in random order. `seq` is the insertion order, as
-- files' and training jobs' have (bigserial UNIQUE).
--
-- Existing rows are numbered by (created_at, id), their creation order as far as it is known,
-- not in the order the table is scanned (an updated row moves). Adding the column takes one
-- number per existing row from the sequence, so new rows come after them; the constraint comes
-- last so the renumbering cannot collide with itself.

ALTER TABLE users ADD COLUMN seq bigserial;
UPDATE users SET seq = o.n FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS n FROM users) AS o WHERE users.id = o.id;
ALTER TABLE users ADD CONSTRAINT users_seq_key UNIQUE (seq);

ALTER TABLE api_keys ADD COLUMN seq bigserial;
UPDATE api_keys SET seq = o.n FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS n FROM api_keys) AS o WHERE api_keys.id = o.id;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_seq_key UNIQUE (seq);
