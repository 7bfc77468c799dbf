DROP INDEX scheduled_acts_account;
