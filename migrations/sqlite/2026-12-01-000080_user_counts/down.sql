DROP TRIGGER audit_counts_insert;
DROP TABLE audit_counts;
DROP TRIGGER user_counts_update;
DROP TRIGGER user_counts_delete;
DROP TRIGGER user_counts_insert;
DROP TABLE user_counts;
