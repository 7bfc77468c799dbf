-- Does the account wait on any plan? One index probe per Users page (issue 20).
CREATE INDEX scheduled_acts_account ON scheduled_acts (account_id, state);
