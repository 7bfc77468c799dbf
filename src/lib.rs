//! Offboard: the admin portal that takes people out of an organisation account.
//! This file wires the parts together and holds nothing else.
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod config;
pub mod csv_import;
pub mod db;
pub mod domain;
pub mod i18n;
pub mod mail;
pub mod services;
pub mod web;
pub mod worker;

pub use config::Config;
pub use web::{app, AppState};
