-- Several instances on one database (B9): a running CSV job is leased to the
-- instance applying it, which renews the lease with every batch; another
-- instance takes the job over only once the lease has run out (its holder died).
ALTER TABLE import_jobs ADD COLUMN claimed_by TEXT;
ALTER TABLE import_jobs ADD COLUMN claimed_until TIMESTAMP;
