-- A CSV import (R65-R67): the job and one row per data line of the file.
-- Rows are applied in batches whose transaction also records each row's
-- state, so a restart resumes at the first pending row: none lost, none twice.
CREATE TABLE import_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    actor_id BIGINT NOT NULL,
    actor_email TEXT NOT NULL,
    action TEXT NOT NULL,
    filename TEXT NOT NULL,
    headers TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('validated', 'running', 'done', 'cancelled')),
    total INTEGER NOT NULL,
    valid INTEGER NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    finished_at TIMESTAMP
);
CREATE INDEX import_jobs_account ON import_jobs (account_id, id);
CREATE INDEX import_jobs_state ON import_jobs (state);

CREATE TABLE import_rows (
    job_id BIGINT NOT NULL REFERENCES import_jobs(id) ON DELETE CASCADE,
    line BIGINT NOT NULL,
    email TEXT NOT NULL,
    cells TEXT NOT NULL,
    user_id BIGINT,
    transfer_to TEXT,
    transfer_meetings BOOLEAN NOT NULL DEFAULT 0,
    transfer_webinars BOOLEAN NOT NULL DEFAULT 0,
    transfer_events BOOLEAN NOT NULL DEFAULT 0,
    transfer_recordings BOOLEAN NOT NULL DEFAULT 0,
    state TEXT NOT NULL CHECK (state IN ('invalid', 'pending', 'done', 'skipped', 'failed')),
    reason TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (job_id, line)
);
CREATE INDEX import_rows_pending ON import_rows (job_id, state, line);
