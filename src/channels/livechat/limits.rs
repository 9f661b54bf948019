//! Rate limits of the widget's writes: per visitor and per IP address (per inbox), in fixed
//! windows on this node. A cluster behind a load balancer multiplies the per-IP allowance by
//! its nodes at worst; a visitor's requests usually stick to one node.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::domain::{Error, Result};

/// One counter per key in the current window.
pub struct Window {
    span: Duration,
    allowed: u32,
    counts: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Window {
    pub fn new(span: Duration, allowed: u32) -> Window {
        Window { span, allowed, counts: Mutex::new(HashMap::new()) }
    }

    /// Counts one write for `key`; over the allowance → `Limited` with the seconds left.
    pub fn hit(&self, key: &str, what: &str) -> Result<()> {
        let now = Instant::now();
        let mut counts = self.counts.lock().map_err(|_| Error::Internal("rate limiter poisoned".into()))?;
        if counts.len() > 100_000 {
            counts.retain(|_, (start, _)| now.duration_since(*start) < self.span);
        }
        let entry = counts.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.span {
            *entry = (now, 0);
        }
        if entry.1 >= self.allowed {
            let left = self.span.saturating_sub(now.duration_since(entry.0)).as_secs().max(1);
            return Err(Error::Limited {
                message: format!("too many messages from this {what}; try again in {left} s"),
                retry_after: left,
            });
        }
        entry.1 += 1;
        Ok(())
    }
}

/// The widget's two limits.
pub struct Limits {
    pub visitor: Window,
    pub ip: Window,
}

impl Limits {
    /// `per_visitor` and `per_ip` writes per 10 seconds.
    pub fn new(per_visitor: u32, per_ip: u32) -> Limits {
        let span = Duration::from_secs(10);
        Limits { visitor: Window::new(span, per_visitor), ip: Window::new(span, per_ip) }
    }

    /// Counts a write by `contact_id` from `ip` in `inbox_id`.
    pub fn check(&self, inbox_id: &str, contact_id: &str, ip: &str) -> Result<()> {
        self.visitor.hit(contact_id, "visitor")?;
        self.ip.hit(&format!("{inbox_id}/{ip}"), "address")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allowance_then_limited_with_retry_after() {
        let w = Window::new(Duration::from_secs(10), 2);
        assert!(w.hit("a", "visitor").is_ok());
        assert!(w.hit("a", "visitor").is_ok());
        match w.hit("a", "visitor") {
            Err(Error::Limited { retry_after, .. }) => assert!((1..=10).contains(&retry_after)),
            other => panic!("not limited: {other:?}"),
        }
        assert!(w.hit("b", "visitor").is_ok(), "another key has its own allowance");
    }
}
