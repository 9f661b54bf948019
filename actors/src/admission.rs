//! Admission to the database. The pool has a fixed number of connections, and its own queue of
//! waiters has no bound but a timeout: under a burst (or when commits slow down) every request
//! would queue there and fail only after that timeout, and work that needs the database would
//! pile up behind it for as long. Here the work asks first: at most `capacity` units that use the
//! database run at once (fewer than the pool holds, so the sweepers always find a connection),
//! a request waits in a queue of known size for a bounded time and is otherwise refused at once
//! (the API answers 503 with `Retry-After`), and background work (bot turns) waits its turn in
//! the same fair queue without a deadline, never more than `capacity` at a time.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Why a request was not admitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the server is busy: {waiting} requests are already waiting for the database")]
    Full { waiting: usize },
    #[error("the server is busy: no database capacity came free within {0:?}")]
    TimedOut(Duration),
}

pub struct Admission {
    /// One permit per unit of work allowed to use the database at once.
    permits: Arc<Semaphore>,
    capacity: usize,
    /// Requests waiting for a permit now (background work is not counted: it never gives up).
    waiting: AtomicUsize,
    /// Most requests that may wait; the next one is refused at once.
    queue: usize,
    /// Longest a request waits before it is refused.
    max_wait: Duration,
}

/// Held while a unit of work uses the database; dropping it lets the next one in.
pub struct Pass {
    _permit: OwnedSemaphorePermit,
}

/// The admission's load: what runs and what waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    pub capacity: usize,
    pub running: usize,
    pub waiting: usize,
    pub queue: usize,
}

/// Takes a waiter off the count however its wait ends (admitted, timed out, or dropped).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Admission {
    pub fn new(capacity: usize, queue: usize, max_wait: Duration) -> Admission {
        let capacity = capacity.max(1);
        Admission {
            permits: Arc::new(Semaphore::new(capacity)),
            capacity,
            waiting: AtomicUsize::new(0),
            queue,
            max_wait,
        }
    }

    /// Admission for a database pool of `pool` connections: one is always left to the work that
    /// does not pass here (sweepers, the bus's read-backs, actors applying what a turn decided).
    pub fn for_pool(pool: u32, queue: usize, max_wait: Duration) -> Admission {
        Admission::new((pool as usize).saturating_sub(1).max(1), queue, max_wait)
    }

    /// A request's pass: at once when capacity is free, after a wait in the queue otherwise;
    /// refused at once when the queue is full, or when the wait would exceed `max_wait`.
    pub async fn request(&self) -> Result<Pass, Refused> {
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return Ok(Pass { _permit: permit });
        }
        let before = self.waiting.fetch_add(1, Ordering::AcqRel);
        let _waiting = Waiting(&self.waiting);
        if before >= self.queue {
            return Err(Refused::Full { waiting: before });
        }
        match tokio::time::timeout(self.max_wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(Pass { _permit: permit }),
            // The semaphore is never closed; treat it like a full queue if it ever were.
            Ok(Err(_)) => Err(Refused::Full { waiting: before }),
            Err(_) => Err(Refused::TimedOut(self.max_wait)),
        }
    }

    /// Background work's pass: it waits as long as it takes, in the same fair queue as requests.
    pub async fn background(&self) -> Pass {
        loop {
            if let Ok(permit) = self.permits.clone().acquire_owned().await {
                return Pass { _permit: permit };
            }
            // Never closed; should it be, yield rather than spin.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub fn load(&self) -> Load {
        Load {
            capacity: self.capacity,
            running: self.capacity - self.permits.available_permits(),
            waiting: self.waiting.load(Ordering::Acquire),
            queue: self.queue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn requests_beyond_the_queue_are_refused_at_once_and_waiters_time_out() {
        let gate = Arc::new(Admission::new(1, 1, Duration::from_millis(100)));
        let held = gate.request().await.ok();
        assert!(held.is_some());
        // One may wait; it times out since the pass is never given back.
        let waiter = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.request().await.err() })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(gate.load().waiting, 1);
        let started = std::time::Instant::now();
        assert_eq!(gate.request().await.err(), Some(Refused::Full { waiting: 1 }));
        assert!(started.elapsed() < Duration::from_millis(50), "a full queue refuses at once");
        assert_eq!(waiter.await.ok().flatten(), Some(Refused::TimedOut(Duration::from_millis(100))));
        assert_eq!(gate.load().waiting, 0);
        drop(held);
        assert!(gate.request().await.is_ok());
    }

    #[tokio::test]
    async fn a_released_pass_admits_the_next_in_line_and_background_work_waits_its_turn() {
        let gate = Arc::new(Admission::new(1, 8, Duration::from_secs(5)));
        let first = gate.request().await.ok();
        let background = {
            let gate = gate.clone();
            tokio::spawn(async move {
                let _pass = gate.background().await;
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!background.is_finished());
        drop(first);
        assert!(tokio::time::timeout(Duration::from_secs(1), background).await.is_ok());
        assert_eq!(gate.load().running, 0);
    }
}
