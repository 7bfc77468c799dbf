//! One integration test binary (link time). Runs on SQLite by default and on
//! PostgreSQL with `OFFBOARD_TEST_DB=postgres`.

mod access;
mod advanced;
mod api;
mod api_schedule;
mod api_tokens;
mod assets;
mod audit;
mod auth;
mod bulk;
mod cli;
mod cluster;
mod errors;
mod i18n;
mod import;
mod import_files;
mod language_switch;
mod matrix;
mod resume;
mod roles;
mod rooms;
mod schedule;
mod scim;
mod snapshots;
mod suggest;
mod support;
mod user_actions;
mod users_page;
mod webhooks;
