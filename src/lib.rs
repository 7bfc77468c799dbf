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

/// Gives memory freed after a large piece of work (a CSV file, a job batch)
/// back to the system. glibc keeps freed memory in each thread's arena, so
/// without this the RSS stays at the peak of every thread that ever read a
/// large file.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns unused heap pages to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}
/// Large blocks (an argon2 check's 19 MB, a CSV file) are mapped and
/// unmapped directly. glibc otherwise raises its mmap threshold after the
/// first such block is freed and serves the next ones from per-thread
/// arenas, which keep them: 40 blocking threads that each once checked a
/// password held 800 MB.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's tuning; called once at start.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1024 * 1024);
    }
}

pub use web::{app, AppState};
