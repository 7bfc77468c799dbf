-- PostgreSQL only (its statement triggers took the counter rows in the
-- plan's order and could deadlock); SQLite has one writer at a time.
SELECT 1;
