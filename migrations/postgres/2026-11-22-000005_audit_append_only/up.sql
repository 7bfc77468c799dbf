-- The audit log is append-only (B1): the database itself refuses changes.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
-- Filters of the Audit log page, newest first.
CREATE INDEX audit_log_actor ON audit_log (account_id, actor_email, id);
CREATE INDEX audit_log_target ON audit_log (account_id, target_email, id);
CREATE INDEX audit_log_action ON audit_log (account_id, action, id);
