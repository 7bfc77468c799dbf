-- Mail the server refused for good (SMTP 5xx): kept with its reason, never retried.
ALTER TABLE mail_outbox ADD COLUMN failed_at TIMESTAMP;
