-- A job's batches walk its rows from a cursor (issue 20): `applied_through`
-- is the last line a committed batch reached, so a batch reads the rows
-- after it by the primary key and `import_rows_pending`, written at every
-- row's insert and again when it was done, goes. The report's problem rows
-- keep a small partial index.
ALTER TABLE import_jobs ADD COLUMN applied_through BIGINT NOT NULL DEFAULT 0;
DROP INDEX import_rows_pending;
CREATE INDEX import_rows_problems ON import_rows (job_id, line) WHERE state IN ('invalid', 'skipped', 'failed');
-- A running job's rows before its cursor are applied already.
UPDATE import_jobs SET applied_through = coalesce(
    (SELECT max(line) FROM import_rows r WHERE r.job_id = import_jobs.id AND r.state IN ('done', 'skipped', 'failed')), 0)
    WHERE state = 'running';
