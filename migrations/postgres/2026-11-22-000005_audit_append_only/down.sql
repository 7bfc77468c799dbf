DROP INDEX audit_log_action;
DROP INDEX audit_log_target;
DROP INDEX audit_log_actor;
DROP TRIGGER audit_log_no_truncate ON audit_log;
DROP TRIGGER audit_log_no_change ON audit_log;
DROP FUNCTION audit_log_append_only();
