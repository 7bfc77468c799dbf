//! Offboard: the admin portal that takes people out of an organisation account.
//! This file wires the parts together and holds nothing else.
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod cluster;
pub mod config;
pub mod csv_import;
pub mod db;
pub mod domain;
pub mod email;
pub mod i18n;
pub mod mail;
pub mod services;
pub mod web;
pub mod webhooks;
pub mod worker;

pub use config::Config;

/// Gives memory freed after a large piece of work (a CSV file, a job batch,
/// an argon2 check's 19 MB block) back to the system now. The allocator
/// (mimalloc, which also serves SQLite's and glibc's callers) otherwise
/// keeps freed memory for a second before it returns it: 200 sign-ins at
/// once held 300 MB.
pub fn release_free_memory() {
    // SAFETY: mi_collect only frees memory no allocation uses.
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
}

pub use web::{app, AppState};
