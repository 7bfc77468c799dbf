//! When a session is still good, and when a sign-in attempt may check a
//! password (R11 and issue 12): plain functions over the stored counters, so
//! every instance decides alike from what the database holds.

use chrono::{Duration, NaiveDateTime};

/// The counters of one (email, source address) pair, as stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ThrottleRow {
    pub attempts: i32,
    pub window_start: NaiveDateTime,
    pub lockouts: i32,
    pub blocked_until: Option<NaiveDateTime>,
}

/// How long a session may live: idle since the last request, and in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    pub idle: Duration,
    pub lifetime: Duration,
}

impl SessionLimits {
    /// Whether a session made at `created` and last used at `last_seen` still holds at `now`.
    pub fn alive(&self, created: NaiveDateTime, last_seen: NaiveDateTime, now: NaiveDateTime) -> bool {
        now - last_seen < self.idle && now - created < self.lifetime
    }
}

/// The last-seen time is written at most this often, so a busy session costs
/// one write a minute, not one per request.
pub const TOUCH_EVERY: Duration = Duration::seconds(60);

pub fn needs_touch(last_seen: NaiveDateTime, now: NaiveDateTime) -> bool {
    now - last_seen >= TOUCH_EVERY
}

/// Password checks allowed per (email, source address) in one window.
pub const ALLOWED: i32 = 5;
pub const WINDOW: Duration = Duration::minutes(15);
const FIRST_WAIT: Duration = Duration::minutes(1);
const LONGEST_WAIT: Duration = Duration::minutes(15);

/// What an arriving attempt may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Check the password (the attempt is already counted).
    Check,
    /// Answer 429 and come back after this long.
    Wait(Duration),
}

/// Counts an attempt before its password is checked, so attempts that arrive
/// together are all counted and no more than [`ALLOWED`] checks run per
/// window. The attempt that uses the last check starts the wait: 1 minute,
/// doubling with each lockout up to 15 minutes; a quiet window forgets them.
pub fn attempt(row: Option<ThrottleRow>, now: NaiveDateTime) -> (Attempt, ThrottleRow) {
    let mut r = row.unwrap_or(ThrottleRow {
        window_start: now,
        ..Default::default()
    });
    if let Some(until) = r.blocked_until.filter(|u| *u > now) {
        return (Attempt::Wait(until - now), r);
    }
    if now - r.window_start >= WINDOW {
        if r.blocked_until.is_none_or(|u| now - u >= WINDOW) {
            r.lockouts = 0;
        }
        r.attempts = 0;
        r.window_start = now;
    }
    r.attempts += 1;
    if r.attempts >= ALLOWED {
        let wait = (FIRST_WAIT * 2i32.pow(r.lockouts.clamp(0, 8) as u32)).min(LONGEST_WAIT);
        r.blocked_until = Some(now + wait);
        r.lockouts += 1;
        r.attempts = 0;
        r.window_start = now;
    }
    (Attempt::Check, r)
}

/// Whole seconds to put in `Retry-After`, never 0.
pub fn retry_after_secs(wait: Duration) -> i64 {
    (wait.num_milliseconds() + 999).div_euclid(1000).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .expect("time")
            .naive_utc()
    }

    #[test]
    fn sessions_end_when_idle_or_too_old() {
        let limits = SessionLimits {
            idle: Duration::minutes(30),
            lifetime: Duration::hours(12),
        };
        let start = t0();
        assert!(limits.alive(start, start, start + Duration::minutes(29)));
        assert!(!limits.alive(start, start, start + Duration::minutes(30)));
        let busy = start + Duration::hours(12) - Duration::minutes(1);
        assert!(limits.alive(start, busy, busy + Duration::seconds(30)));
        assert!(!limits.alive(start, busy, start + Duration::hours(12)));
        assert!(!needs_touch(start, start + Duration::seconds(59)));
        assert!(needs_touch(start, start + Duration::seconds(60)));
    }

    /// Runs `n` attempts at `now`, returning how many may check a password.
    fn run(row: &mut Option<ThrottleRow>, n: usize, now: NaiveDateTime) -> usize {
        (0..n)
            .filter(|_| {
                let (a, r) = attempt(*row, now);
                *row = Some(r);
                a == Attempt::Check
            })
            .count()
    }

    #[test]
    fn five_checks_then_waits_that_double_up_to_fifteen_minutes() {
        let mut row = None;
        assert_eq!(run(&mut row, 30, t0()), 5, "30 at once: only 5 checks");
        assert_eq!(attempt(row, t0()).0, Attempt::Wait(Duration::minutes(1)));
        let mut now = t0() + Duration::minutes(1);
        let mut waits = vec![];
        for _ in 0..6 {
            assert_eq!(run(&mut row, 5, now), 5);
            let Attempt::Wait(w) = attempt(row, now).0 else {
                panic!("blocked")
            };
            waits.push(w.num_minutes());
            now += w;
        }
        assert_eq!(waits, vec![2, 4, 8, 15, 15, 15]);
    }

    #[test]
    fn counters_expire_after_a_quiet_window() {
        let mut row = None;
        assert_eq!(run(&mut row, 4, t0()), 4);
        let later = t0() + WINDOW;
        assert_eq!(run(&mut row, 4, later), 4, "a new window");
        assert_eq!(run(&mut row, 5, later + Duration::minutes(20)), 5);
        let (_, r) = attempt(row, later + Duration::minutes(20));
        assert_eq!(r.lockouts, 1, "the first lockout");
        let quiet = later + Duration::minutes(20) + Duration::minutes(1) + WINDOW;
        assert_eq!(run(&mut row, 5, quiet), 5);
        assert_eq!(
            attempt(row, quiet).0,
            Attempt::Wait(Duration::minutes(1)),
            "lockouts forgotten"
        );
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::milliseconds(1)), 1);
        assert_eq!(retry_after_secs(Duration::milliseconds(60_001)), 61);
        assert_eq!(retry_after_secs(Duration::zero()), 1);
    }
}
