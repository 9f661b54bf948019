//! Meta's throughput limit per phone number (80 messages a second by default, up to 1,000),
//! kept on our side: every send through a number waits here for a slot, so a campaign never
//! trips the limit. At most `limit × HEADROOM` sends start in any sliding second, spread evenly
//! over it (the margin and the spacing absorb the network's jitter between here and Meta); conversation replies go before bulk
//! (campaign) sends; after Meta says 130429 (throughput exceeded) the number runs at half speed
//! for a while.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Share of the number's limit used.
pub const HEADROOM: f64 = 0.97;
/// How long a number runs at half speed after Meta throttled it.
const SLOW_FOR: Duration = Duration::from_secs(10);
const SECOND: Duration = Duration::from_secs(1);

#[derive(Default)]
struct Number {
    /// Start times of the sends of the last second, oldest first.
    started: VecDeque<Instant>,
    /// Conversation replies waiting for a slot: bulk sends let them go first.
    replies_waiting: usize,
    slow_until: Option<Instant>,
    /// The earliest start of the next send: sends are spread evenly over the second, so a
    /// burst's jitter on the way to Meta cannot crowd one of Meta's seconds.
    next_slot: Option<Instant>,
}

/// The slots of every number this node sends through.
#[derive(Clone, Default)]
pub struct Pacer {
    numbers: Arc<Mutex<HashMap<String, Number>>>,
}

impl Pacer {
    /// Sends that may start in a sliding second for a number allowed `per_second`.
    pub fn capacity(per_second: u32) -> usize {
        let n = per_second.max(1) as usize;
        // 3%, and at least two sends at low rates (a new connection's first send is slower).
        Ord::min((n as f64 * HEADROOM).floor() as usize, n.saturating_sub(2)).max(1)
    }

    /// Waits for a slot to send through `number`, allowed `per_second`.
    pub async fn acquire(&self, number: &str, per_second: u32, bulk: bool) {
        let mut counted = false;
        loop {
            let wait = {
                let mut all = self.numbers.lock().unwrap_or_else(|p| p.into_inner());
                let n = all.entry(number.to_owned()).or_default();
                let now = Instant::now();
                while n.started.front().is_some_and(|t| now.duration_since(*t) >= SECOND) {
                    n.started.pop_front();
                }
                let mut cap = Pacer::capacity(per_second);
                if n.slow_until.is_some_and(|t| t > now) {
                    cap = (cap / 2).max(1);
                }
                if !bulk && !counted {
                    n.replies_waiting += 1;
                    counted = true;
                }
                let yield_to_replies = bulk && n.replies_waiting > 0;
                let spaced = n.next_slot.is_none_or(|t| t <= now);
                if n.started.len() < cap && !yield_to_replies && spaced {
                    n.started.push_back(now);
                    n.next_slot = Some(now + SECOND / cap as u32);
                    if counted {
                        n.replies_waiting -= 1;
                    }
                    return;
                }
                if n.started.len() < cap && !yield_to_replies {
                    n.next_slot.map_or(Duration::from_millis(1), |t| t.saturating_duration_since(now))
                } else {
                    match n.started.front() {
                        Some(oldest) if n.started.len() >= cap => (*oldest + SECOND).saturating_duration_since(now),
                        _ => Duration::from_millis(2),
                    }
                }
            };
            tokio::time::sleep(wait.max(Duration::from_millis(1))).await;
        }
    }

    /// Whether this node has sent through `number` since it started.
    pub fn knows(&self, number: &str) -> bool {
        self.numbers.lock().unwrap_or_else(|p| p.into_inner()).contains_key(number)
    }

    /// Starts a number's window with sends made before this node started (by a node that died,
    /// or this one before a restart), which Meta still counts: `ago` is how long ago each was.
    pub fn seed(&self, number: &str, ago: impl IntoIterator<Item = Duration>) {
        let now = Instant::now();
        let mut all = self.numbers.lock().unwrap_or_else(|p| p.into_inner());
        let n = all.entry(number.to_owned()).or_default();
        let mut times: Vec<Instant> =
            ago.into_iter().filter(|a| *a < SECOND).filter_map(|a| now.checked_sub(a)).collect();
        times.extend(n.started.drain(..));
        times.sort();
        n.started = times.into();
    }

    /// Meta said the number exceeded its throughput: half speed for a while.
    pub fn throttled(&self, number: &str) {
        let mut all = self.numbers.lock().unwrap_or_else(|p| p.into_inner());
        all.entry(number.to_owned()).or_default().slow_until = Some(Instant::now() + SLOW_FOR);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_keeps_a_margin() {
        assert_eq!(Pacer::capacity(50), 48);
        assert_eq!(Pacer::capacity(80), 77);
        assert_eq!(Pacer::capacity(1000), 970);
        assert_eq!(Pacer::capacity(25), 23);
        assert_eq!(Pacer::capacity(0), 1);
    }

    #[tokio::test]
    async fn no_sliding_second_holds_more_than_the_capacity() {
        let pacer = Pacer::default();
        let start = Instant::now();
        let mut handles = Vec::new();
        for _ in 0..30 {
            let p = pacer.clone();
            handles.push(tokio::spawn(async move {
                p.acquire("n", 10, true).await;
                Instant::now()
            }));
        }
        let mut times = Vec::new();
        for h in handles {
            times.push(h.await.unwrap_or(start));
        }
        times.sort();
        for (i, t) in times.iter().enumerate() {
            let in_window = times[i..].iter().take_while(|u| u.duration_since(*t) < SECOND).count();
            assert!(in_window <= Pacer::capacity(10), "{in_window} sends within a second");
        }
        // 30 sends at 8 a second take a bit over 3 seconds, not much more.
        assert!(times[29].duration_since(start) < Duration::from_millis(4200));
    }
}
