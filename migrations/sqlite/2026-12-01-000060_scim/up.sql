-- SCIM 2.0 provisioning (issue 16). What SCIM knows about a user beyond the
-- users row lives beside it, so the users table keeps its shape.
CREATE TABLE scim_users (
    user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    external_id TEXT,
    display_name TEXT,
    manager_email TEXT,
    -- Set by a SCIM DELETE: the resource answers 404 through SCIM while the
    -- portal shows the user as the account's delete action left them.
    deprovisioned_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX scim_users_external ON scim_users (account_id, external_id);

-- What a SCIM DELETE does in this account: deactivate (default), unlink, or
-- delete with every kind of data transferred to transfer_to.
CREATE TABLE scim_settings (
    account_id BIGINT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    delete_action TEXT NOT NULL CHECK (delete_action IN ('deactivate', 'unlink', 'delete')),
    transfer_to TEXT,
    updated_at TIMESTAMP NOT NULL
);

-- The last SCIM requests per account (trimmed to 50), for the Provisioning page.
CREATE TABLE scim_requests (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    at TIMESTAMP NOT NULL,
    token_name TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status INTEGER NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX scim_requests_account ON scim_requests (account_id, id);
