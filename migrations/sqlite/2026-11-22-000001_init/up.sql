-- SQLite schema. Text columns that are searched or ordered hold lowercase copies,
-- so prefix search is an index range scan on byte order (same order as PostgreSQL's "C" collation).
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    is_free BOOLEAN NOT NULL DEFAULT 0,
    auto_delete_enabled BOOLEAN NOT NULL DEFAULT 0,
    auto_delete_days INTEGER NOT NULL DEFAULT 30,
    auto_delete_warn BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE custom_roles (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    UNIQUE (account_id, name)
);

CREATE TABLE role_privileges (
    role_id BIGINT NOT NULL REFERENCES custom_roles(id) ON DELETE CASCADE,
    privilege TEXT NOT NULL,
    PRIMARY KEY (role_id, privilege)
);

-- AUTOINCREMENT: a deleted user's id is never handed to a new user (sessions name users by id).
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    first_lc TEXT NOT NULL DEFAULT '',
    last_lc TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    custom_role_id BIGINT REFERENCES custom_roles(id) ON DELETE SET NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'deactivated')),
    user_type TEXT NOT NULL CHECK (user_type IN ('basic', 'licensed')),
    webinar_license BOOLEAN NOT NULL DEFAULT 0,
    phone_license BOOLEAN NOT NULL DEFAULT 0,
    large_meeting_license BOOLEAN NOT NULL DEFAULT 0,
    is_external BOOLEAN NOT NULL DEFAULT 0,
    is_room BOOLEAN NOT NULL DEFAULT 0,
    deactivated_at TIMESTAMP,
    password_hash TEXT,
    settings TEXT NOT NULL DEFAULT '{}',
    language TEXT,
    session_epoch INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);
-- Email is unique among live users: a deleted user's row is gone, so the address is free again (R41).
CREATE UNIQUE INDEX users_email ON users (email);
CREATE INDEX users_account_email ON users (account_id, email);
CREATE INDEX users_account_status_email ON users (account_id, status, email);
CREATE INDEX users_account_first ON users (account_id, first_lc, email);
CREATE INDEX users_account_last ON users (account_id, last_lc, email);
CREATE INDEX users_deactivated_at ON users (account_id, deactivated_at) WHERE status = 'deactivated';

CREATE TABLE managed_domains (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    domain TEXT NOT NULL UNIQUE
);

CREATE TABLE meetings (
    id INTEGER PRIMARY KEY,
    owner_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    topic TEXT NOT NULL,
    uses_pmi BOOLEAN NOT NULL DEFAULT 0,
    start_at TIMESTAMP NOT NULL
);
CREATE INDEX meetings_owner ON meetings (owner_id);

CREATE TABLE webinars (
    id INTEGER PRIMARY KEY,
    owner_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    topic TEXT NOT NULL,
    start_at TIMESTAMP NOT NULL
);
CREATE INDEX webinars_owner ON webinars (owner_id);

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    owner_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    start_at TIMESTAMP NOT NULL
);
CREATE INDEX events_owner ON events (owner_id);

CREATE TABLE cloud_recordings (
    id INTEGER PRIMARY KEY,
    owner_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    topic TEXT NOT NULL,
    size_bytes BIGINT NOT NULL DEFAULT 0,
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX cloud_recordings_owner ON cloud_recordings (owner_id);

-- Phone call recordings and voicemails belong to the account's main log (R45):
-- they outlive the user, who is kept by email once the row is gone.
CREATE TABLE phone_records (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    user_email TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('call_recording', 'voicemail')),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX phone_records_account ON phone_records (account_id, id);
CREATE INDEX phone_records_user ON phone_records (user_id);

-- Append-only: no code path updates or deletes these rows. No foreign keys, so
-- an entry survives the user and the account it names.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_id BIGINT,
    actor_email TEXT NOT NULL,
    action TEXT NOT NULL,
    target_id BIGINT,
    target_email TEXT NOT NULL,
    source TEXT NOT NULL,
    job_id BIGINT,
    transfer_to_email TEXT,
    meetings_transferred INTEGER NOT NULL DEFAULT 0,
    webinars_transferred INTEGER NOT NULL DEFAULT 0,
    events_transferred INTEGER NOT NULL DEFAULT 0,
    recordings_transferred INTEGER NOT NULL DEFAULT 0,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_account ON audit_log (account_id, id);
