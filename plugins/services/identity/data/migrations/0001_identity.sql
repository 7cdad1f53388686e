-- was: 0001
-- Who uses the gateway: users (from an identity provider or a config key), their web sessions,
-- and the API keys they own.

CREATE TABLE users (
  id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  -- The identity provider's subject (OIDC `sub`), or the user name a config-defined key names.
  external_subject text        NOT NULL UNIQUE,
  email            text,
  name             text,
  -- A role name from gateway.yaml's `roles:`; not checked here, because roles live in config.
  role             text        NOT NULL DEFAULT 'user',
  department       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  last_seen_at     timestamptz
);
CREATE INDEX users_department_idx ON users (department);

CREATE TABLE user_sessions (
  id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- sha256 of the session token; the token itself is never stored.
  token_hash   text        NOT NULL UNIQUE,
  user_agent   text,
  ip_address   text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  revoked_at   timestamptz,
  last_seen_at timestamptz
);
CREATE INDEX user_sessions_user_idx ON user_sessions (user_id);

CREATE TABLE api_keys (
  id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  -- sha256 of the key, hex: enough for random keys of 128+ bits, and a lookup is one index probe.
  key_hash       text        NOT NULL UNIQUE,
  -- The visible start of the key, shown in lists so people can tell their keys apart.
  prefix         text        NOT NULL,
  name           text,
  user_id        uuid        REFERENCES users (id) ON DELETE CASCADE,
  department     text,
  role           text        NOT NULL DEFAULT 'user',
  -- NULL: whatever the role allows.
  allowed_models text[],
  -- Per-key limits and budget, e.g. {"requests_per_minute": 60, "budget_usd_per_month": 50}.
  limits         jsonb       NOT NULL DEFAULT '{}'::jsonb,
  created_at     timestamptz NOT NULL DEFAULT now(),
  expires_at     timestamptz,
  revoked_at     timestamptz,
  last_used_at   timestamptz
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id);
CREATE INDEX api_keys_department_idx ON api_keys (department);
