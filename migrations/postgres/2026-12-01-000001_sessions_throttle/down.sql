DROP TABLE signin_throttle;
DROP TABLE sessions;
ALTER TABLE import_jobs DROP COLUMN error;
