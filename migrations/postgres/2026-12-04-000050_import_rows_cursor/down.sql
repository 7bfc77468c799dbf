DROP INDEX import_rows_problems;
CREATE INDEX import_rows_pending ON import_rows (job_id, state, line);
ALTER TABLE import_jobs DROP COLUMN applied_through;
