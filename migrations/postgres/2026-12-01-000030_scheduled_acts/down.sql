DROP TABLE scheduled_acts;
