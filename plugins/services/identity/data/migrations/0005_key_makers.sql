-- Who holds a key's secret. The management API shows a secret once, to whoever made the key or
-- rotated it, and that person need not be its owner: a department admin makes a key for a member
-- and keeps a copy. created_by is who made the key; rotated_by who made its current secret by a
-- rotation (null while it was never rotated in place, i.e. previous_prefix is null). Each is the
-- person behind the caller: a user's id, or for a caller using a virtual key, whoever holds that
-- key's secret; null when that is not known (a config key the store could not record, a key
-- whose own holder is unknown).
--
-- A user who changes department takes along only the keys whose current secret they made; the
-- others are revoked, not moved (a copy in someone else's hands would otherwise reach the new
-- department's data as the user). Keys made before this migration have created_by null: their
-- maker is unknown, and they are revoked on such a move too.
--
-- A user is never deleted; should one be, the keys they made stay, their maker unknown.

ALTER TABLE api_keys ADD COLUMN created_by uuid REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE api_keys ADD COLUMN rotated_by uuid REFERENCES users (id) ON DELETE SET NULL;
