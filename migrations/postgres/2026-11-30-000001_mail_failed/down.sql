ALTER TABLE mail_outbox DROP COLUMN failed_at;
