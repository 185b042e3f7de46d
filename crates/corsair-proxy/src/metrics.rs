//! The counters `/metrics` shows, in the Prometheus text format.

#[allow(unused_imports)]
use super::*;

/// Counters for `/metrics`.
#[derive(Default)]
pub(crate) struct Metrics {
    pub(crate) proxied: AtomicU64,
    pub(crate) preflights: AtomicU64,
    pub(crate) refused_origin: AtomicU64,
    pub(crate) refused_target: AtomicU64,
    pub(crate) refused_address: AtomicU64,
    pub(crate) rate_limited: AtomicU64,
    pub(crate) upstream_errors: AtomicU64,
    pub(crate) redis_errors: AtomicU64,
    pub(crate) reloads_ok: AtomicU64,
    pub(crate) reloads_failed: AtomicU64,
    /// Responses withheld or cut off because they carried an injected secret.
    pub(crate) secret_cuts: Arc<AtomicU64>,
    /// Requests refused because the proxy and the upstream could read them differently.
    pub(crate) ambiguous: AtomicU64,
}

impl Metrics {
    pub(crate) fn render(&self) -> String {
        let mut s = String::from(
            "# HELP corsair_proxy_requests_total Requests by outcome.\n# TYPE \
            corsair_proxy_requests_total counter\n",
        );
        for (name, v) in [
            ("proxied", &self.proxied),
            ("preflight", &self.preflights),
            ("refused_origin", &self.refused_origin),
            ("refused_target", &self.refused_target),
            ("refused_address", &self.refused_address),
            ("rate_limited", &self.rate_limited),
            ("upstream_error", &self.upstream_errors),
            ("ambiguous", &self.ambiguous),
        ] {
            s.push_str(&format!(
                "corsair_proxy_requests_total{{outcome=\"{name}\"}} {}\n",
                v.load(Ordering::Relaxed)
            ));
        }
        s.push_str(&format!(
            "# HELP corsair_proxy_redis_errors_total Rate-limit checks Redis could not answer (the \
                request went on).\n# TYPE corsair_proxy_redis_errors_total \
                counter\ncorsair_proxy_redis_errors_total {}\n",
            self.redis_errors.load(Ordering::Relaxed)
        ));
        s.push_str(&format!(
            "# HELP corsair_proxy_secret_cuts_total Responses withheld or cut off because they \
                carried an injected secret.\n# TYPE corsair_proxy_secret_cuts_total \
                counter\ncorsair_proxy_secret_cuts_total {}\n",
            self.secret_cuts.load(Ordering::Relaxed)
        ));
        s.push_str("# TYPE corsair_proxy_reloads_total counter\n");
        s.push_str(&format!(
            "corsair_proxy_reloads_total{{result=\"ok\"}} \
                {}\ncorsair_proxy_reloads_total{{result=\"failed\"}} {}\n",
            self.reloads_ok.load(Ordering::Relaxed),
            self.reloads_failed.load(Ordering::Relaxed)
        ));
        s
    }
}
