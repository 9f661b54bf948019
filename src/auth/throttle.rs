//! Failed sign-in attempts per email address: after [`MAX_FAILURES`] within [`WINDOW`], that
//! address gets 429 with `Retry-After` until the window has passed, for known and unknown
//! addresses alike (so the limit tells nothing about which exist). Kept per node in memory: a
//! cluster of n nodes allows n times as many guesses, still far from what brute force needs.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed per address and window.
pub const MAX_FAILURES: u32 = 10;
/// How long failures count.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Addresses remembered at most; the oldest windows are dropped beyond it.
const MAX_KEYS: usize = 100_000;

#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Throttle {
    /// `Some(seconds to wait)` when `key` is over its limit now.
    pub fn blocked(&self, key: &str) -> Option<u64> {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let (since, n) = map.get(key)?;
        let left = WINDOW.checked_sub(since.elapsed())?;
        (*n >= MAX_FAILURES).then(|| left.as_secs().max(1))
    }

    /// Counts a failure for `key`.
    pub fn failed(&self, key: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_KEYS {
            map.retain(|_, (since, _)| since.elapsed() < WINDOW);
        }
        let entry = map.entry(key.to_owned()).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 += 1;
    }

    /// Forgets `key`'s failures (it signed in).
    pub fn succeeded(&self, key: &str) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_blocked_after_its_failures_and_freed_by_a_success() {
        let t = Throttle::default();
        for _ in 0..MAX_FAILURES - 1 {
            t.failed("a@x");
        }
        assert_eq!(t.blocked("a@x"), None);
        t.failed("a@x");
        assert!(t.blocked("a@x").is_some_and(|s| s > 0 && s <= WINDOW.as_secs()));
        assert_eq!(t.blocked("b@x"), None, "per address");
        t.succeeded("a@x");
        assert_eq!(t.blocked("a@x"), None);
    }
}
