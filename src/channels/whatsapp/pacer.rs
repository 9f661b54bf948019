//! Meta's throughput limit per phone number (80 messages a second by default, up to 1,000),
//! kept on our side: every send through a number waits here for a slot, so a campaign never
//! trips the limit, however late the network or a busy machine delivers a send.
//!
//! Meta counts a send when it arrives, which is somewhere between the moment we start it and the
//! moment its answer is back. So a slot is held from the start of a send until a second after its
//! answer: a send starts only while fewer than the capacity are in flight or answered within the
//! last second. Whatever the delays, no second at Meta can then hold more than the capacity (the
//! last send to start of any such second found every other one in flight or recently answered).
//! The price is the round trip: a number runs at `capacity / (1 s + round trip)`.
//!
//! Sends are also spread evenly over the second; conversation replies go before bulk (campaign)
//! sends; after Meta says 130429 (throughput exceeded) the number runs at half speed for a while.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a number runs at half speed after Meta throttled it.
const SLOW_FOR: Duration = Duration::from_secs(10);
const SECOND: Duration = Duration::from_secs(1);

#[derive(Default)]
struct Number {
    /// When the sends answered in the last second were answered, oldest first.
    answered: VecDeque<Instant>,
    /// Sends started and not answered yet.
    in_flight: usize,
    /// Conversation replies waiting for a slot: bulk sends let them go first.
    replies_waiting: usize,
    slow_until: Option<Instant>,
    /// The earliest start of the next send: sends are spread evenly over the second.
    next_slot: Option<Instant>,
}

impl Number {
    fn held(&mut self, now: Instant) -> usize {
        while self.answered.front().is_some_and(|t| now.duration_since(*t) >= SECOND) {
            self.answered.pop_front();
        }
        self.in_flight + self.answered.len()
    }
}

/// The slots of every number this node sends through.
#[derive(Clone, Default)]
pub struct Pacer {
    numbers: Arc<Mutex<HashMap<String, Number>>>,
}

/// A send under way: dropping it (when the answer is back, or the send given up) starts the
/// second it still counts for.
#[must_use = "the slot is held until the send is answered"]
pub struct Slot {
    pacer: Pacer,
    number: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut all = self.pacer.numbers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = all.get_mut(&self.number) {
            n.in_flight = n.in_flight.saturating_sub(1);
            n.answered.push_back(Instant::now());
        }
    }
}

impl Pacer {
    /// Sends that may be held at once (in flight or answered within the second) for a number
    /// allowed `per_second`: one under the limit, as a margin for Meta's rounding of its second.
    pub fn capacity(per_second: u32) -> usize {
        (per_second as usize).saturating_sub(1).max(1)
    }

    /// Waits for a slot to send through `number`, allowed `per_second`; hold the slot until the
    /// send is answered.
    pub async fn acquire(&self, number: &str, per_second: u32, bulk: bool) -> Slot {
        let mut counted = false;
        loop {
            let wait = {
                let mut all = self.numbers.lock().unwrap_or_else(|p| p.into_inner());
                let n = all.entry(number.to_owned()).or_default();
                let now = Instant::now();
                let held = n.held(now);
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
                if held < cap && !yield_to_replies && spaced {
                    n.in_flight += 1;
                    // From the slot this send was due at, not from now: a timer that wakes a
                    // little late must not stretch every gap (at 200/s a millisecond late per
                    // send is a sixth of the rate); after a pause it starts afresh.
                    let spacing = SECOND / cap as u32;
                    let due = n.next_slot.map_or(now, |t| Ord::max(t, now.checked_sub(spacing).unwrap_or(now)));
                    n.next_slot = Some(due + spacing);
                    if counted {
                        n.replies_waiting -= 1;
                    }
                    return Slot { pacer: self.clone(), number: number.to_owned() };
                }
                if held < cap && !yield_to_replies {
                    n.next_slot.map_or(Duration::from_millis(1), |t| t.saturating_duration_since(now))
                } else {
                    match n.answered.front() {
                        // Full: the oldest answer frees the first slot (an answer on its way only
                        // starts a second of its own).
                        Some(oldest) if held >= cap => (*oldest + SECOND).saturating_duration_since(now),
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
    /// or this one before a restart), which Meta still counts: `ago` is how long ago each was
    /// answered.
    pub fn seed(&self, number: &str, ago: impl IntoIterator<Item = Duration>) {
        let now = Instant::now();
        let mut all = self.numbers.lock().unwrap_or_else(|p| p.into_inner());
        let n = all.entry(number.to_owned()).or_default();
        let mut times: Vec<Instant> =
            ago.into_iter().filter(|a| *a < SECOND).filter_map(|a| now.checked_sub(a)).collect();
        times.extend(n.answered.drain(..));
        times.sort();
        n.answered = times.into();
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
    fn capacity_keeps_a_margin_of_one() {
        assert_eq!(Pacer::capacity(50), 49);
        assert_eq!(Pacer::capacity(80), 79);
        assert_eq!(Pacer::capacity(2), 1);
        assert_eq!(Pacer::capacity(0), 1);
    }

    /// The busiest sliding second of these times.
    fn busiest(times: &mut [Instant]) -> usize {
        times.sort();
        (0..times.len())
            .map(|i| times[i..].iter().take_while(|u| u.duration_since(times[i]) < SECOND).count())
            .max()
            .unwrap_or(0)
    }

    /// Sends that reach "Meta" at any moment of their round trip, some answered at once and some
    /// after a stall of up to 400 ms (a busy machine): no second at the receiver ever holds more
    /// than the capacity.
    #[tokio::test]
    async fn no_second_at_the_receiver_holds_more_than_the_capacity_whatever_the_delays() {
        let pacer = Pacer::default();
        let start = Instant::now();
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let mut handles = Vec::new();
        for i in 0..40u64 {
            let (p, arrivals) = (pacer.clone(), arrivals.clone());
            handles.push(tokio::spawn(async move {
                let slot = p.acquire("n", 10, true).await;
                // A fixed, varied pattern: every third send stalls before it arrives, the others
                // arrive at once and some of those are answered late.
                let (before, after) = match i % 3 {
                    0 => (400, 0),
                    1 => (0, 300),
                    _ => (0, 0),
                };
                tokio::time::sleep(Duration::from_millis(before)).await;
                arrivals.lock().unwrap().push(Instant::now());
                tokio::time::sleep(Duration::from_millis(after)).await;
                drop(slot);
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
        let mut times = arrivals.lock().unwrap().clone();
        assert_eq!(times.len(), 40);
        let most = busiest(&mut times);
        assert!(most <= Pacer::capacity(10), "{most} arrivals within a second");
        // 40 sends at 9 a second with round trips of up to 400 ms: about 40 / 9 × 1.25 s.
        assert!(start.elapsed() < Duration::from_secs(9), "{:?}", start.elapsed());
    }

    #[tokio::test]
    async fn replies_go_before_waiting_bulk_sends() {
        let pacer = Pacer::default();
        // Fill the number's second with bulk sends.
        for _ in 0..Pacer::capacity(5) {
            drop(pacer.acquire("n", 5, true).await);
        }
        let order = Arc::new(Mutex::new(Vec::new()));
        let bulk = {
            let (p, order) = (pacer.clone(), order.clone());
            tokio::spawn(async move {
                let _slot = p.acquire("n", 5, true).await;
                order.lock().unwrap().push("bulk");
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let reply = {
            let (p, order) = (pacer.clone(), order.clone());
            tokio::spawn(async move {
                let _slot = p.acquire("n", 5, false).await;
                order.lock().unwrap().push("reply");
            })
        };
        bulk.await.unwrap();
        reply.await.unwrap();
        assert_eq!(*order.lock().unwrap(), ["reply", "bulk"]);
    }
}
