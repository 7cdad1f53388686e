-- The web sessions moved to service.auth, which owns its own user_sessions table (with CSRF
-- tokens and key sessions); this one was never written to.
DROP TABLE IF EXISTS user_sessions;
