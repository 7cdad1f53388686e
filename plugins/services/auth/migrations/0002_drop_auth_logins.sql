-- OpenID Connect logins under way are no longer kept in the store: GET /api/v1/auth/login is
-- public, and a row per call let anyone on the internet write to the database at their request
-- rate (rows = rate x 600 s, with no bound). The state, nonce and PKCE verifier now travel in the
-- browser's login cookie (login-cookie.ts). A login started before this migration ends at its
-- callback with login_expired, and the person signs in again.

DROP TABLE IF EXISTS auth_logins;
