//! Sign-in throttling: after repeated failures for an email or from a
//! client address, further attempts wait, longer each time. Unknown emails
//! count like known ones, so the answer still tells nothing.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed before the waiting starts.
const PER_ACCOUNT: u32 = 5;
const PER_ADDRESS: u32 = 20;
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);

#[derive(Default)]
pub struct Throttle {
    entries: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Throttle {
    fn keys(email: &str, address: &str) -> [(String, u32); 2] {
        [
            (format!("email:{}", email.trim().to_lowercase()), PER_ACCOUNT),
            (format!("ip:{address}"), PER_ADDRESS),
        ]
    }

    /// How long this attempt must wait, if at all.
    pub fn wait(&self, email: &str, address: &str) -> Option<Duration> {
        let entries = self.entries.lock().ok()?;
        let now = Instant::now();
        Self::keys(email, address)
            .iter()
            .filter_map(|(k, _)| entries.get(k))
            .filter_map(|(_, until)| until.checked_duration_since(now))
            .max()
    }

    /// A failed attempt: past the allowance, each failure doubles the wait (1 s, 2 s, 4 s ... 15 min).
    pub fn failed(&self, email: &str, address: &str) {
        let Ok(mut entries) = self.entries.lock() else { return };
        let now = Instant::now();
        for (key, allowed) in Self::keys(email, address) {
            let entry = entries.entry(key).or_insert((0, now));
            entry.0 += 1;
            if entry.0 >= allowed {
                let wait = Duration::from_secs(1u64 << (entry.0 - allowed).min(10)).min(MAX_WAIT);
                entry.1 = now + wait;
            }
        }
        // Forget old entries so the map stays small.
        if entries.len() > 100_000 {
            entries.retain(|_, (_, until)| *until > now);
        }
    }

    pub fn succeeded(&self, email: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(&format!("email:{}", email.trim().to_lowercase()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_then_growing_waits() {
        let t = Throttle::default();
        for _ in 0..4 {
            t.failed("a@x", "1.2.3.4");
            assert_eq!(t.wait("a@x", "9.9.9.9"), None);
        }
        t.failed("a@x", "1.2.3.4");
        let first = t.wait("A@x ", "9.9.9.9").expect("waits");
        t.failed("a@x", "1.2.3.4");
        assert!(t.wait("a@x", "9.9.9.9").expect("waits") > first);
        assert_eq!(t.wait("b@x", "9.9.9.9"), None, "other accounts are not held up");
        t.succeeded("a@x");
        assert_eq!(t.wait("a@x", "9.9.9.9"), None);
    }

    #[test]
    fn one_address_trying_many_accounts_is_held_up() {
        let t = Throttle::default();
        for i in 0..PER_ADDRESS {
            t.failed(&format!("u{i}@x"), "6.6.6.6");
        }
        assert!(t.wait("fresh@x", "6.6.6.6").is_some());
        assert!(t.wait("fresh@x", "7.7.7.7").is_none());
    }
}
