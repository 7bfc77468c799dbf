-- Server-side sessions: the cookie names a row here, so sign-out, "sign out
-- everywhere", the idle timeout and the absolute lifetime end a session on
-- every instance, whatever copy of the cookie is replayed.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);

-- Sign-in throttling per (email, source address), shared by every instance.
CREATE TABLE signin_throttle (
    key TEXT PRIMARY KEY,
    attempts INTEGER NOT NULL,
    window_start TIMESTAMP NOT NULL,
    lockouts INTEGER NOT NULL,
    blocked_until TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX signin_throttle_updated ON signin_throttle (updated_at);

-- Why a job stopped early (a worker failure), shown on its page.
ALTER TABLE import_jobs ADD COLUMN error TEXT;
