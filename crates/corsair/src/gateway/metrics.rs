//! Counters for the admin `/metrics` endpoint, in the Prometheus text format: CORS decisions by
//! kind (preflight/actual), result, reason and origin, plus upstream errors and reloads.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Origins beyond this many distinct values are counted under `origin="other"`, so a flood of
/// forged origins cannot grow the label set without bound.
const MAX_ORIGINS: usize = 1000;

/// (kind, result, reason, origin).
type DecisionKey = (&'static str, &'static str, &'static str, String);

#[derive(Default)]
pub struct Metrics {
    decisions: Mutex<HashMap<DecisionKey, u64>>,
    upstream_errors: Mutex<HashMap<&'static str, u64>>,
    reloads: Mutex<(u64, u64)>,
}

impl Metrics {
    pub fn decision(&self, kind: &'static str, allowed: bool, reason: &'static str, origin: &str) {
        let mut m = self.decisions.lock().unwrap_or_else(|e| e.into_inner());
        let result = if allowed { "allowed" } else { "refused" };
        let key = (kind, result, reason, origin.to_string());
        if let Some(v) = m.get_mut(&key) {
            *v += 1;
            return;
        }
        let distinct = m.len();
        let key = if distinct >= MAX_ORIGINS {
            (kind, result, reason, "other".to_string())
        } else {
            key
        };
        *m.entry(key).or_default() += 1;
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
        out.push_str("# HELP corsair_cors_requests_total CORS requests by kind, result, reason and origin.\n# TYPE corsair_cors_requests_total counter\n");
        let m = self.decisions.lock().unwrap_or_else(|e| e.into_inner());
        let mut rows: Vec<_> = m.iter().collect();
        rows.sort();
        for ((kind, result, reason, origin), n) in rows {
            let _ = writeln!(out, "corsair_cors_requests_total{{kind=\"{kind}\",result=\"{result}\",reason=\"{reason}\",origin=\"{}\"}} {n}", escape(origin));
        }
        out.push_str("# HELP corsair_upstream_errors_total Requests the upstream did not answer.\n# TYPE corsair_upstream_errors_total counter\n");
        for (kind, n) in self
            .upstream_errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(out, "corsair_upstream_errors_total{{kind=\"{kind}\"}} {n}");
        }
        let r = *self.reloads.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(out, "# HELP corsair_policy_reloads_total Policy reloads by result.\n# TYPE corsair_policy_reloads_total counter\ncorsair_policy_reloads_total{{result=\"ok\"}} {}\ncorsair_policy_reloads_total{{result=\"refused\"}} {}", r.0, r.1);
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
