-- The deliveries still to make, in id order (issue 20): the sender's claim
-- walks this small index instead of every pending delivery sorted anew, or
-- every delivery ever made; it replaces the index on (delivered_at, ...),
-- which only the claim used. The claim states both conditions literally.
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (id) WHERE delivered_at IS NULL AND NOT given_up;
DROP INDEX webhook_deliveries_due;
