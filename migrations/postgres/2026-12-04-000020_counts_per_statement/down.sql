DROP TRIGGER audit_counts_insert ON audit_log;
DROP FUNCTION audit_counts_inserted();
DROP TRIGGER user_counts_update ON users;
DROP TRIGGER user_counts_delete ON users;
DROP TRIGGER user_counts_insert ON users;
DROP FUNCTION user_counts_updated();
DROP FUNCTION user_counts_deleted();
DROP FUNCTION user_counts_inserted();

CREATE FUNCTION user_counts_track() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE user_counts SET n = n - 1 WHERE account_id = OLD.account_id AND status = OLD.status;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO user_counts (account_id, status, n) VALUES (NEW.account_id, NEW.status, 1)
            ON CONFLICT (account_id, status) DO UPDATE SET n = user_counts.n + 1;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER user_counts_insert_delete AFTER INSERT OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION user_counts_track();
CREATE TRIGGER user_counts_update AFTER UPDATE OF status, account_id ON users
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.account_id IS DISTINCT FROM NEW.account_id)
    EXECUTE FUNCTION user_counts_track();

CREATE FUNCTION audit_counts_track() RETURNS trigger AS $$
BEGIN
    INSERT INTO audit_counts (account_id, day, action, n)
        VALUES (NEW.account_id, substr(CAST(NEW.at AS TEXT), 1, 10), NEW.action, 1)
        ON CONFLICT (account_id, day, action) DO UPDATE SET n = audit_counts.n + 1;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_counts_insert AFTER INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_counts_track();
