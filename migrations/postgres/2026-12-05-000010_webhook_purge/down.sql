DROP INDEX webhook_deliveries_event;
