CREATE INDEX webhook_deliveries_due ON webhook_deliveries (delivered_at, given_up, next_attempt_at);
DROP INDEX webhook_deliveries_pending;
