-- API tokens (issue 14): only a SHA-256 of the token is kept; the token is
-- shown once. A token acts for its creator, under the creator's rights.
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    last4 TEXT NOT NULL,
    -- The creator's row may go (deleted, unlinked): the token then stops working.
    created_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_by_email TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
-- A name names one live token of the account (the CLI revokes by name).
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (account_id, name) WHERE revoked_at IS NULL;
CREATE INDEX api_tokens_account ON api_tokens (account_id, created_at);
