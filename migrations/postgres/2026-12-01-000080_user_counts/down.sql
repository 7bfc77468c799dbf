DROP TRIGGER user_counts_update ON users;
DROP TRIGGER user_counts_insert_delete ON users;
DROP FUNCTION user_counts_track();
DROP TABLE user_counts;
