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

CREATE TRIGGER user_counts_insert AFTER INSERT ON users BEGIN
    INSERT INTO user_counts (account_id, status, n) VALUES (NEW.account_id, NEW.status, 1)
        ON CONFLICT (account_id, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER user_counts_delete AFTER DELETE ON users BEGIN
    UPDATE user_counts SET n = n - 1 WHERE account_id = OLD.account_id AND status = OLD.status;
END;
CREATE TRIGGER user_counts_update AFTER UPDATE OF status, account_id ON users
    WHEN OLD.status IS NOT NEW.status OR OLD.account_id IS NOT NEW.account_id BEGIN
    UPDATE user_counts SET n = n - 1 WHERE account_id = OLD.account_id AND status = OLD.status;
    INSERT INTO user_counts (account_id, status, n) VALUES (NEW.account_id, NEW.status, 1)
        ON CONFLICT (account_id, status) DO UPDATE SET n = n + 1;
END;

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
CREATE TRIGGER audit_counts_insert AFTER INSERT ON audit_log BEGIN
    INSERT INTO audit_counts (account_id, day, action, n)
        VALUES (NEW.account_id, substr(CAST(NEW.at AS TEXT), 1, 10), NEW.action, 1)
        ON CONFLICT (account_id, day, action) DO UPDATE SET n = n + 1;
END;
