-- The sweeper purges finished deliveries with their events after the
-- retention days (issue 20: the outbox grew forever). Deleting an event
-- cascades to its deliveries, and the purge asks whether an event still has
-- a delivery waiting: both look deliveries up by event.
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);
