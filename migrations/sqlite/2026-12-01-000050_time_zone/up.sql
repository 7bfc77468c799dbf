-- Scheduled offboarding (B7): the account's time zone reads and shows the
-- planned moments (stored in UTC); a CSV row with an effective date is
-- scheduled for that moment instead of applied at once.
ALTER TABLE accounts ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE import_rows ADD COLUMN due_at TIMESTAMP;
