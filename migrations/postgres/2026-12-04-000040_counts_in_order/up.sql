-- The counter rows locked in one order (issue 20): two transactions that
-- each moved a user from active to deactivated could take the account's
-- two user_counts rows in opposite orders (the GROUP BY's output order is
-- the plan's) and deadlock; 16 concurrent `PUT status` ran at 7/s, each
-- deadlock found after a second. ORDER BY makes the upserts take the rows
-- in key order.
CREATE OR REPLACE FUNCTION user_counts_inserted() RETURNS trigger AS $$
BEGIN
    INSERT INTO user_counts (account_id, status, n)
        SELECT account_id, status, count(*) FROM new_rows GROUP BY account_id, status
        ORDER BY account_id, status
        ON CONFLICT (account_id, status) DO UPDATE SET n = user_counts.n + EXCLUDED.n;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION user_counts_deleted() RETURNS trigger AS $$
BEGIN
    INSERT INTO user_counts (account_id, status, n)
        SELECT account_id, status, -count(*) FROM old_rows GROUP BY account_id, status
        ORDER BY account_id, status
        ON CONFLICT (account_id, status) DO UPDATE SET n = user_counts.n + EXCLUDED.n;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION user_counts_updated() RETURNS trigger AS $$
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
        ORDER BY account_id, status
        ON CONFLICT (account_id, status) DO UPDATE SET n = user_counts.n + EXCLUDED.n;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION audit_counts_inserted() RETURNS trigger AS $$
BEGIN
    INSERT INTO audit_counts (account_id, day, action, n)
        SELECT account_id, substr(CAST(at AS TEXT), 1, 10), action, count(*) FROM new_rows
        GROUP BY account_id, substr(CAST(at AS TEXT), 1, 10), action
        ORDER BY 1, 2, 3
        ON CONFLICT (account_id, day, action) DO UPDATE SET n = audit_counts.n + EXCLUDED.n;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
