-- The Users page's status tabs (issue 18): the number of users per account
-- and status, kept by triggers in the same transaction as every insert,
-- delete, status change and move to another account (unlink), whatever
-- the path (portal, bulk, CSV, API, SCIM, sweeper).
CREATE TABLE user_counts (
    account_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    n BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, status)
);
INSERT INTO user_counts (account_id, status, n)
    SELECT account_id, status, count(*) FROM users GROUP BY account_id, status;

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

-- The audit page's chart (issue 18): acts per account, day (UTC) and action,
-- kept by a trigger in the same transaction as each audit row.
CREATE TABLE audit_counts (
    account_id BIGINT NOT NULL,
    day TEXT NOT NULL,
    action TEXT NOT NULL,
    n BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, day, action)
);
INSERT INTO audit_counts (account_id, day, action, n)
    SELECT account_id, substr(CAST(at AS TEXT), 1, 10), action, count(*) FROM audit_log
    GROUP BY account_id, substr(CAST(at AS TEXT), 1, 10), action;

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
