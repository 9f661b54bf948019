//! When a failed webhook delivery is tried again: 10 s, 30 s, 1 min, 5 min, 15 min, 30 min, then
//! every hour, until the next try would come more than 24 h after the first; then it is
//! `failed` and the conversation's later deliveries go on. The steps are multiples of a base
//! (10 s by default, `CX_WEBHOOK_RETRY_BASE_MS`), so tests run a day of retries in seconds.

use std::time::Duration;

/// The first six delays, in bases (10 s each by default).
const STEPS: [u64; 6] = [1, 3, 6, 30, 90, 180];
/// Then hourly.
const HOURLY: u64 = 360;
/// Retries stop past a day after the first try.
const DAY: u64 = 8_640;

fn units(failed: u32) -> u64 {
    match failed {
        0 => 0,
        n if (n as usize) <= STEPS.len() => STEPS[n as usize - 1],
        _ => HOURLY,
    }
}

/// The delay after the `failed`-th failed try of a delivery, or `None` when it is given up.
pub fn next_delay(failed: u32, base: Duration) -> Option<Duration> {
    let elapsed: u64 = (1..=failed).map(units).sum();
    if failed == 0 || elapsed > DAY {
        return None;
    }
    Some(base.saturating_mul(u32::try_from(units(failed)).unwrap_or(u32::MAX)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_schedule_reaches_hours() {
        let base = Duration::from_secs(10);
        let delays: Vec<u64> = (1..).map_while(|n| next_delay(n, base)).map(|d| d.as_secs()).collect();
        assert_eq!(&delays[..7], &[10, 30, 60, 300, 900, 1800, 3600]);
        assert!(delays[6..].iter().all(|&d| d == 3600), "hourly after 30 minutes");
        let total: u64 = delays.iter().sum();
        assert!(total <= 24 * 3600 && total + 3600 > 24 * 3600, "retries span a day: {total} s");
        assert_eq!(delays.len(), 29, "29 retries after the first try");
        // A tenth of a second as the base keeps the same shape.
        assert_eq!(next_delay(4, Duration::from_millis(100)), Some(Duration::from_secs(3)));
        assert_eq!(next_delay(30, base), None);
    }
}
