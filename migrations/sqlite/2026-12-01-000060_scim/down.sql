DROP TABLE scim_requests;
DROP TABLE scim_settings;
DROP TABLE scim_users;
