ALTER TABLE import_jobs DROP COLUMN claimed_until;
ALTER TABLE import_jobs DROP COLUMN claimed_by;
