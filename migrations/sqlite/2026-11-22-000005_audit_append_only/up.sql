-- The audit log is append-only (B1): the database itself refuses changes.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
-- Filters of the Audit log page, newest first.
CREATE INDEX audit_log_actor ON audit_log (account_id, actor_email, id);
CREATE INDEX audit_log_target ON audit_log (account_id, target_email, id);
CREATE INDEX audit_log_action ON audit_log (account_id, action, id);
