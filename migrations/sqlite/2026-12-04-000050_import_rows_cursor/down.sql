CREATE TABLE import_rows_with_rowid (
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
    due_at TIMESTAMP,
    PRIMARY KEY (job_id, line)
);
INSERT INTO import_rows_with_rowid SELECT job_id, line, email, cells, user_id, transfer_to, transfer_meetings,
    transfer_webinars, transfer_events, transfer_recordings, state, reason, due_at FROM import_rows;
DROP TABLE import_rows;
ALTER TABLE import_rows_with_rowid RENAME TO import_rows;
CREATE INDEX import_rows_pending ON import_rows (job_id, state, line);
ALTER TABLE import_jobs DROP COLUMN applied_through;
