-- A job's batches walk its rows from a cursor (issue 20): `applied_through`
-- is the last line a committed batch reached, so a batch reads the rows
-- after it by the primary key and `import_rows_pending`, rewritten at
-- every row's insert and again when it was done, goes. The rows live in
-- their key's B-tree only (WITHOUT ROWID): one tree written per row where
-- there were three. The report's problem rows keep a small partial index.
ALTER TABLE import_jobs ADD COLUMN applied_through BIGINT NOT NULL DEFAULT 0;
CREATE TABLE import_rows_by_line (
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
) WITHOUT ROWID;
INSERT INTO import_rows_by_line SELECT job_id, line, email, cells, user_id, transfer_to, transfer_meetings,
    transfer_webinars, transfer_events, transfer_recordings, state, reason, due_at FROM import_rows;
DROP TABLE import_rows;
ALTER TABLE import_rows_by_line RENAME TO import_rows;
CREATE INDEX import_rows_problems ON import_rows (job_id, line) WHERE state IN ('invalid', 'skipped', 'failed');
-- A running job's rows before its cursor are applied already.
UPDATE import_jobs SET applied_through = coalesce(
    (SELECT max(line) FROM import_rows r WHERE r.job_id = import_jobs.id AND r.state IN ('done', 'skipped', 'failed')), 0)
    WHERE state = 'running';
