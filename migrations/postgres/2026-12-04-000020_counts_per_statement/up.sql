-- The counters kept per statement, not per row (issue 20). A row trigger
-- that upserts the same counter row N times in one transaction leaves a
-- chain of N row versions that each next upsert walks: quadratic. Seeding
-- 1,000,000 users ran for minutes at 100% CPU; a bulk statement now adds
-- its rows' counts once per (account, status) or (account, day, action),
-- from the statement's transition tables.
DROP TRIGGER user_counts_update ON users;
DROP TRIGGER user_counts_insert_delete ON users;
DROP FUNCTION user_counts_track();
DROP TRIGGER audit_counts_insert ON audit_log;
DROP FUNCTION audit_counts_track();

CREATE FUNCTION user_counts_inserted() RETURNS trigger AS $$
BEGIN
    INSERT INTO user_counts (account_id, status, n)
        SELECT account_id, status, count(*) FROM new_rows GROUP BY account_id, status
        ON CONFLICT (account_id, status) DO UPDATE SET n = user_counts.n + EXCLUDED.n;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION user_counts_deleted() RETURNS trigger AS $$
BEGIN
    INSERT INTO user_counts (account_id, status, n)
        SELECT account_id, status, -count(*) FROM old_rows GROUP BY account_id, status
        ON CONFLICT (account_id, status) DO UPDATE SET n = user_counts.n + EXCLUDED.n;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

-- Only rows whose status or account changed count (a join of the two
-- transition tables by id; PostgreSQL allows no column list here).
CREATE FUNCTION user_counts_updated() RETURNS trigger AS $$
BEGIN
    INSERT INTO user_counts (account_id, status, n)
        SELECT account_id, status, sum(d) FROM (
            SELECT o.account_id, o.status, -1 AS d FROM old_rows o JOIN new_rows n ON n.id = o.id
                WHERE o.status IS DISTINCT FROM n.status OR o.account_id IS DISTINCT FROM n.account_id
            UNION ALL
            SELECT n.account_id, n.status, 1 AS d FROM old_rows o JOIN new_rows n ON n.id = o.id
                WHERE o.status IS DISTINCT FROM n.status OR o.account_id IS DISTINCT FROM n.account_id
        ) AS moved
        GROUP BY account_id, status
        ON CONFLICT (account_id, status) DO UPDATE SET n = user_counts.n + EXCLUDED.n;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER user_counts_insert AFTER INSERT ON users
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION user_counts_inserted();
CREATE TRIGGER user_counts_delete AFTER DELETE ON users
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION user_counts_deleted();
CREATE TRIGGER user_counts_update AFTER UPDATE ON users
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION user_counts_updated();

CREATE FUNCTION audit_counts_inserted() RETURNS trigger AS $$
BEGIN
    INSERT INTO audit_counts (account_id, day, action, n)
        SELECT account_id, substr(CAST(at AS TEXT), 1, 10), action, count(*) FROM new_rows
        GROUP BY account_id, substr(CAST(at AS TEXT), 1, 10), action
        ON CONFLICT (account_id, day, action) DO UPDATE SET n = audit_counts.n + EXCLUDED.n;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_counts_insert AFTER INSERT ON audit_log
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_counts_inserted();
