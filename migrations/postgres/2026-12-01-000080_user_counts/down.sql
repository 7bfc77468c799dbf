DROP TRIGGER audit_counts_insert ON audit_log;
DROP FUNCTION audit_counts_track();
DROP TABLE audit_counts;
DROP TRIGGER user_counts_update ON users;
DROP TRIGGER user_counts_insert_delete ON users;
DROP FUNCTION user_counts_track();
DROP TABLE user_counts;
