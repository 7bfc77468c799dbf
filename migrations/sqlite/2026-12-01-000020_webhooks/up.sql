-- Webhook endpoints of an account (B6): what they want, how they are signed.
CREATE TABLE webhook_endpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    -- After a rotation the old secret keeps signing beside the new one until then.
    old_secret TEXT,
    old_secret_until TIMESTAMP,
    state TEXT NOT NULL CHECK (state IN ('unvalidated', 'active', 'paused')),
    created_by_email TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    validated_at TIMESTAMP
);
CREATE UNIQUE INDEX webhook_endpoints_url ON webhook_endpoints (account_id, url);

-- The outbox: one row per event, written in the transaction of the act, so a
-- crash never loses one and a rolled-back act never sends one.
CREATE TABLE webhook_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    fanned_out BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX webhook_events_pending ON webhook_events (fanned_out, id);

-- One delivery of an event to an endpoint, retried with back-off; the log
-- of the Webhooks page.
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id BIGINT NOT NULL REFERENCES webhook_events(id) ON DELETE CASCADE,
    endpoint_id BIGINT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    claimed_until TIMESTAMP,
    delivered_at TIMESTAMP,
    given_up BOOLEAN NOT NULL DEFAULT FALSE,
    last_status INTEGER,
    last_ms INTEGER,
    last_error TEXT,
    last_attempt_at TIMESTAMP
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (delivered_at, given_up, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
