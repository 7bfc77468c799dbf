-- The uploader's language: the report's reasons and the result CSV speak it.
ALTER TABLE import_jobs ADD COLUMN lang TEXT NOT NULL DEFAULT 'en';
