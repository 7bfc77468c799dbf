-- Scheduled offboarding (B7): an act planned for a moment, carried out by
-- the scheduler under the rules that hold then. The row stays as the record
-- of what happened (the user may be gone), so user_id has no foreign key.
CREATE TABLE scheduled_acts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL,
    user_email TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('deactivate', 'unlink', 'delete')),
    transfer_to TEXT,
    transfer_meetings BOOLEAN NOT NULL DEFAULT FALSE,
    transfer_webinars BOOLEAN NOT NULL DEFAULT FALSE,
    transfer_events BOOLEAN NOT NULL DEFAULT FALSE,
    transfer_recordings BOOLEAN NOT NULL DEFAULT FALSE,
    due_at TIMESTAMP NOT NULL,
    scheduled_by_id BIGINT NOT NULL,
    scheduled_by_email TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('scheduled', 'done', 'refused', 'cancelled')),
    outcome TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);
CREATE INDEX scheduled_acts_due ON scheduled_acts (state, due_at);
CREATE INDEX scheduled_acts_user ON scheduled_acts (user_id);
CREATE UNIQUE INDEX scheduled_acts_one_per_user ON scheduled_acts (user_id) WHERE state = 'scheduled';
