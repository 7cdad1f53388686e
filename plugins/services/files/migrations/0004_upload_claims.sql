-- A complete's claim on an upload: `claim` names the complete that holds it (only that one may
-- finish or release it), `claimed_at` when it began. A `completing` upload whose claim is older
-- than a bound (a crashed gateway, a store call that never came back) is taken over by a new
-- complete instead of answering 409 until the upload expires.
ALTER TABLE uploads ADD COLUMN claim text;
ALTER TABLE uploads ADD COLUMN claimed_at timestamptz;
