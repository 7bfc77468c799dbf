-- A bulk action between its preview and its result. The users the preview
-- allowed are kept here, so the confirm applies exactly those, and the state
-- flips once, so a second click or a replayed request applies nothing.
CREATE TABLE bulk_runs (
    token TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    actor_id BIGINT NOT NULL,
    action TEXT NOT NULL,
    user_ids TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('previewed', 'applying', 'applied')),
    done INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);
