ALTER TABLE import_rows DROP COLUMN due_at;
ALTER TABLE accounts DROP COLUMN time_zone;
