//! The preflight cache (<https://fetch.spec.whatwg.org/#concept-cache>): what a browser
//! remembers from a passed preflight, and when it can skip the next one. Time is a parameter
//! (seconds on any monotonic clock the caller keeps); nothing here reads a clock.

use crate::origin::Origin;
use crate::preflight::Grant;

/// One remembered preflight.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    origin: String,
    url: String,
    credentials: bool,
    methods: Vec<String>,
    headers: Vec<String>,
    expires: u64,
}

/// A browser's preflight cache for one network partition (one top-level site), keyed as Fetch
/// keys it: the serialised origin, the URL and the credentials flag.
#[derive(Clone, Debug, Default)]
pub struct PreflightCache {
    entries: Vec<Entry>,
}

impl PreflightCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Remembers a passed preflight at time `now`, for as long as its max-age allows (nothing
    /// is stored for a max-age of 0).
    pub fn store(
        &mut self,
        origin: &Origin,
        url: &str,
        credentials: bool,
        grant: &Grant,
        now: u64,
    ) {
        let origin = origin.to_string();
        self.entries
            .retain(|e| !(e.origin == origin && e.url == url && e.credentials == credentials));
        if grant.max_age.seconds == 0 {
            return;
        }
        self.entries.push(Entry {
            origin,
            url: url.to_string(),
            credentials,
            methods: grant.methods.clone(),
            headers: grant.headers.clone(),
            expires: now.saturating_add(grant.max_age.seconds),
        });
    }

    /// Whether a request can skip its preflight at time `now`: an unexpired entry for the same
    /// origin, URL and credentials allows its method (exactly, or `*` without credentials) and
    /// every unsafe header name (or `*` without credentials).
    /// (<https://fetch.spec.whatwg.org/#concept-cache-match-method>.)
    pub fn allows(
        &self,
        origin: &Origin,
        url: &str,
        credentials: bool,
        method: &str,
        headers: &[String],
        now: u64,
    ) -> bool {
        let origin = origin.to_string();
        let Some(e) = self.entries.iter().find(|e| {
            e.origin == origin && e.url == url && e.credentials == credentials && now < e.expires
        }) else {
            return false;
        };
        let method_ok = crate::method::is_safelisted(method)
            || e.methods.iter().any(|m| m == method)
            || (!credentials && e.methods.iter().any(|m| m == "*"));
        let headers_ok = headers.iter().all(|h| {
            e.headers.contains(h)
                || (!credentials && e.headers.iter().any(|x| x == "*") && h != "authorization")
        });
        method_ok && headers_ok
    }

    /// Drops expired entries.
    pub fn purge(&mut self, now: u64) {
        self.entries.retain(|e| now < e.expires);
    }

    /// Number of live and expired entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preflight::MaxAge;

    fn grant(methods: &[&str], headers: &[&str], seconds: u64) -> Grant {
        Grant {
            methods: methods.iter().map(|s| s.to_string()).collect(),
            headers: headers.iter().map(|s| s.to_string()).collect(),
            max_age: MaxAge {
                seconds,
                reason: String::new(),
            },
            wildcard_covered_authorization: false,
        }
    }

    #[test]
    fn entries_expire_and_match_exactly() {
        let o = Origin::parse_lenient("https://app.example").unwrap();
        let other = Origin::parse_lenient("https://evil.example").unwrap();
        let mut c = PreflightCache::new();
        c.store(
            &o,
            "https://api/x",
            false,
            &grant(&["PUT"], &["x-a"], 5),
            100,
        );
        let xa = vec!["x-a".to_string()];
        assert!(c.allows(&o, "https://api/x", false, "PUT", &xa, 104));
        assert!(
            !c.allows(&o, "https://api/x", false, "PUT", &xa, 105),
            "expired at 5 s"
        );
        assert!(
            !c.allows(&other, "https://api/x", false, "PUT", &xa, 101),
            "other origin"
        );
        assert!(
            !c.allows(&o, "https://api/y", false, "PUT", &xa, 101),
            "other URL"
        );
        assert!(
            !c.allows(&o, "https://api/x", true, "PUT", &xa, 101),
            "credentials are part of the key"
        );
        assert!(
            !c.allows(&o, "https://api/x", false, "DELETE", &xa, 101),
            "method not listed"
        );
        assert!(
            !c.allows(&o, "https://api/x", false, "put", &xa, 101),
            "methods are case-sensitive"
        );
        assert!(!c.allows(&o, "https://api/x", false, "PUT", &["x-b".to_string()], 101));
        c.purge(200);
        assert!(c.is_empty());
    }

    #[test]
    fn zero_max_age_is_not_stored_and_wildcards_need_no_credentials() {
        let o = Origin::parse_lenient("https://app.example").unwrap();
        let mut c = PreflightCache::new();
        c.store(&o, "u", false, &grant(&["PUT"], &[], 0), 0);
        assert!(c.is_empty());
        c.store(&o, "u", false, &grant(&["*"], &["*"], 60), 0);
        assert!(c.allows(&o, "u", false, "PATCH", &["x-any".to_string()], 1));
        assert!(!c.allows(&o, "u", false, "PATCH", &["authorization".to_string()], 1));
        c.store(&o, "u", true, &grant(&["*"], &["*"], 60), 0);
        assert!(!c.allows(&o, "u", true, "PATCH", &[], 1));
    }
}
