-- Console sign-in (service.auth): the sessions people hold, and the OpenID Connect logins under way.

CREATE TABLE user_sessions (
  id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  -- sha256 of the session cookie's value; the value itself is never stored.
  token_hash    text        NOT NULL UNIQUE,
  -- 'oidc' (a user from the identity provider) or 'api_key' (a key traded for a session).
  method        text        NOT NULL,
  -- users.id for an OIDC session; the key's owner (or null) for a key session.
  user_id       text,
  -- The key a key session was made with (a virtual key's id, or `config:<name>`).
  key_id        text,
  -- The principal as it was at sign-in (a key session's, whose key may not be in the store).
  principal     jsonb       NOT NULL,
  csrf_token    text        NOT NULL,
  user_agent    text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL
);
CREATE INDEX user_sessions_user_idx ON user_sessions (user_id);
CREATE INDEX user_sessions_key_idx ON user_sessions (key_id);
CREATE INDEX user_sessions_expires_idx ON user_sessions (expires_at);

-- A sign-in started at the identity provider and not yet back: its PKCE verifier, state and
-- nonce, bound to the browser that started it by a cookie (whose sha256 is the key).
CREATE TABLE auth_logins (
  id_hash       text        PRIMARY KEY,
  state         text        NOT NULL,
  nonce         text        NOT NULL,
  code_verifier text        NOT NULL,
  redirect_uri  text        NOT NULL,
  return_to     text        NOT NULL,
  expires_at    timestamptz NOT NULL
);
