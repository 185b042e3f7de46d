//! The per-client rate limiter, over a clock the caller gives.

use super::Rate;
use std::collections::HashMap;

/// A fixed-window rate limiter over `now_ms` (any monotonic clock the caller has). It keeps
/// one counter per key; `sweep` drops windows that ended.
#[derive(Debug)]
pub struct Limiter {
    rate: Rate,
    windows: HashMap<String, (u64, u32)>,
}

impl Limiter {
    /// A limiter for `rate`.
    pub fn new(rate: Rate) -> Limiter {
        Limiter {
            rate,
            windows: HashMap::new(),
        }
    }

    /// Counts one request for `key` at `now_ms`: `Ok(remaining)`, or `Err(ms until the window
    /// ends)` when the budget is spent.
    pub fn hit(&mut self, key: &str, now_ms: u64) -> Result<u32, u64> {
        let window = now_ms / self.rate.per_ms;
        let e = self.windows.entry(key.to_string()).or_insert((window, 0));
        if e.0 != window {
            *e = (window, 0);
        }
        if e.1 >= self.rate.count {
            return Err((window + 1) * self.rate.per_ms - now_ms);
        }
        e.1 += 1;
        Ok(self.rate.count - e.1)
    }

    /// Drops counters of windows that have ended; call now and then to bound memory.
    pub fn sweep(&mut self, now_ms: u64) {
        let window = now_ms / self.rate.per_ms;
        self.windows.retain(|_, (w, _)| *w == window);
    }

    /// How many clients are counted.
    pub fn len(&self) -> usize {
        self.windows.len()
    }

    /// Whether no client is counted.
    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }
}
