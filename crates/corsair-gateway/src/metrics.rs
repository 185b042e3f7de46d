//! Counters for the admin `/metrics` endpoint, in the Prometheus text format: CORS decisions by
//! kind (preflight/actual), result, reason and origin, plus upstream errors and reloads.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Origins beyond this many distinct values are counted under `origin="other"`, so a flood of
/// forged origins cannot grow the label set without bound.
const MAX_ORIGINS: usize = 1000;

/// (kind, result, reason) with the count, for one origin.
type Counts = Vec<((&'static str, bool, &'static str), Arc<AtomicU64>)>;

#[derive(Default)]
pub struct Metrics {
    /// Per origin (looked up without allocating), the counts by kind, result and reason.
    /// Keyed by origin with FNV: cheaper than SipHash per request, and the map is bounded
    /// (MAX_ORIGINS), so hash flooding has nothing to grow.
    decisions: Mutex<fnv::FnvHashMap<String, Counts>>,
    upstream_errors: Mutex<HashMap<&'static str, u64>>,
    reloads: Mutex<(u64, u64)>,
}

impl Metrics {
    pub fn decision(&self, kind: &'static str, allowed: bool, reason: &'static str, origin: &str) {
        self.with_counter(kind, allowed, reason, origin, |n| {
            n.fetch_add(1, Ordering::Relaxed);
        });
    }

    /// The counter for a decision, for a caller that keeps it to count the same decision again
    /// without a lookup (a kept-alive connection's requests mostly come from one origin).
    pub fn counter(
        &self,
        kind: &'static str,
        allowed: bool,
        reason: &'static str,
        origin: &str,
    ) -> Arc<AtomicU64> {
        self.with_counter(kind, allowed, reason, origin, Arc::clone)
    }

    fn with_counter<T>(
        &self,
        kind: &'static str,
        allowed: bool,
        reason: &'static str,
        origin: &str,
        f: impl FnOnce(&Arc<AtomicU64>) -> T,
    ) -> T {
        let mut m = self.decisions.lock().unwrap_or_else(|e| e.into_inner());
        let key = (kind, allowed, reason);
        let counts = match m.get_mut(origin) {
            Some(c) => c,
            None => {
                let label = if m.len() >= MAX_ORIGINS {
                    "other"
                } else {
                    origin
                };
                m.entry(label.to_string()).or_default()
            }
        };
        match counts.iter().find(|(k, _)| *k == key) {
            Some((_, n)) => f(n),
            None => {
                let n = Arc::new(AtomicU64::new(0));
                let r = f(&n);
                counts.push((key, n));
                r
            }
        }
    }

    pub fn upstream_error(&self, kind: &'static str) {
        *self
            .upstream_errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(kind)
            .or_default() += 1;
    }

    pub fn reload(&self, ok: bool) {
        let mut r = self.reloads.lock().unwrap_or_else(|e| e.into_inner());
        if ok {
            r.0 += 1;
        } else {
            r.1 += 1;
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP corsair_cors_requests_total CORS requests by kind, result, reason and \
            origin.\n# TYPE corsair_cors_requests_total counter\n",
        );
        let m = self.decisions.lock().unwrap_or_else(|e| e.into_inner());
        let mut rows: Vec<_> = m
            .iter()
            .flat_map(|(origin, counts)| {
                counts.iter().map(move |((kind, allowed, reason), n)| {
                    (
                        *kind,
                        if *allowed { "allowed" } else { "refused" },
                        *reason,
                        origin.as_str(),
                        n.load(Ordering::Relaxed),
                    )
                })
            })
            .collect();
        rows.sort();
        for (kind, result, reason, origin, n) in rows {
            let _ = writeln!(out, "corsair_cors_requests_total{{kind=\"{kind}\",result=\"{result}\",reason=\"{reason}\",origin=\"{}\"}} \
                {n}", escape(origin));
        }
        let _ = writeln!(
            out,
            "# HELP corsair_access_log_dropped_total Access log lines dropped \
            because the writer could not keep up.\n# TYPE corsair_access_log_dropped_total \
            counter\ncorsair_access_log_dropped_total {}",
            crate::access_log::dropped()
        );
        out.push_str(
            "# HELP corsair_upstream_errors_total Requests the upstream did not \
            answer.\n# TYPE corsair_upstream_errors_total counter\n",
        );
        for (kind, n) in self
            .upstream_errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(out, "corsair_upstream_errors_total{{kind=\"{kind}\"}} {n}");
        }
        let r = *self.reloads.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(
            out,
            "# HELP corsair_policy_reloads_total Policy reloads by result.\n# \
            TYPE corsair_policy_reloads_total \
            counter\ncorsair_policy_reloads_total{{result=\"ok\"}} \
            {}\ncorsair_policy_reloads_total{{result=\"refused\"}} {}",
            r.0, r.1
        );
        out
    }
}

fn escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| match c {
            '\\' => vec!['\\', '\\'],
            '"' => vec!['\\', '"'],
            '\n' => vec!['\\', 'n'],
            c if c.is_control() => vec![],
            c => vec![c],
        })
        .collect()
}
