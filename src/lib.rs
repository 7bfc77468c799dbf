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

/// mimalloc's `mi_option_purge_delay` (mimalloc.h; the crate names no
/// constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Memory freed on any thread goes back to the system at once, unless
/// `MIMALLOC_PURGE_DELAY` says otherwise. mimalloc's default delays the
/// return by a second but only acts on it when that thread allocates again, so
/// an idle blocking thread kept what its last request freed: 16 concurrent
/// `GET /v2/users?page_size=2000` left the server at 166 MB, 78 MB with this
/// (issue 20). Page and job timings did not move measurably.
pub fn purge_freed_memory_at_once() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets an allocator option; any value is valid.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
    }
}

pub use web::{app, AppState};

#[cfg(test)]
mod tests {
    /// mimalloc 3's purge delay defaults to 1,000 ms: reading that at the
    /// index shows that it names the option in the bundled mimalloc.
    #[test]
    fn the_purge_delay_option_is_mimallocs() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            // SAFETY: reads an allocator option.
            let delay = unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
            assert_eq!(delay, 1_000);
        }
    }
}
