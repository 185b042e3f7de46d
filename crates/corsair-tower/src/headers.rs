//! Turning a decision into response headers without allocating: the policy's header values are
//! built once, the echoed origin is the request's own `HeaderValue` (a reference-counted clone).

use corsair_model::header::CORS_RESPONSE_HEADERS;
use corsair_policy::{Decision, Merge, Policy, Upstream, UpstreamCors, Writes, PREFLIGHT_VARY};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use std::collections::BTreeSet;
use std::sync::Mutex;

/// A policy with its header values prepared.
#[derive(Clone, Debug)]
pub struct PolicyHeaders {
    policy: Policy,
    /// A preflight answer's headers for an allowed origin, but `Access-Control-Allow-Origin`:
    /// cloned and completed per preflight rather than built header by header.
    preflight: HeaderMap,
    allow_methods: HeaderValue,
    allow_headers: Option<HeaderValue>,
    allow_headers_named: Option<HeaderValue>,
    expose_headers: Option<HeaderValue>,
    max_age: Option<HeaderValue>,
}

const SLOTS: usize = 4;

/// Headers to add to the inner service's response, held until it comes back.
#[derive(Clone, Debug, Default)]
pub struct Pending {
    items: [Option<(HeaderName, HeaderValue)>; SLOTS],
    writes: Writes,
}

/// A policy's header value, kept for the life of the process: each distinct value is stored
/// once (so reloading policies any number of times keeps a set bounded by the distinct values
/// ever configured), and copying it into a response touches no reference count.
static INTERNED: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());

fn value(s: &str) -> HeaderValue {
    // Policy values are tokens, numbers and origins, validated when the policy was built:
    // visible ASCII, which is what `from_static` accepts.
    if !s.bytes().all(|b| (32..127).contains(&b) || b == b'\t') {
        return HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static(""));
    }
    let mut set = INTERNED.lock().unwrap_or_else(|e| e.into_inner());
    let interned: &'static str = match set.get(s) {
        Some(v) => v,
        None => {
            let leaked: &'static str = Box::leak(s.to_owned().into_boxed_str());
            set.insert(leaked);
            leaked
        }
    };
    HeaderValue::from_static(interned)
}

impl PolicyHeaders {
    /// Prepares `policy`'s header values.
    pub fn new(policy: Policy) -> Self {
        let mut preflight = HeaderMap::with_capacity(8);
        // Room for the origin first, so the clone keeps the order browsers' traces show.
        preflight.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        if policy.credentials() {
            preflight.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        preflight.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            value(policy.allow_methods()),
        );
        if let Some(h) = policy.allow_headers() {
            preflight.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, value(h));
        }
        if let Some(m) = policy.max_age() {
            preflight.insert(header::ACCESS_CONTROL_MAX_AGE, value(m));
        }
        preflight.insert(header::VARY, HeaderValue::from_static(PREFLIGHT_VARY));
        PolicyHeaders {
            allow_methods: value(policy.allow_methods()),
            allow_headers: policy.allow_headers().map(value),
            allow_headers_named: policy.allow_headers_named().map(value),
            expose_headers: policy.expose_headers().map(value),
            max_age: policy.max_age().map(value),
            preflight,
            policy,
        }
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    fn header_for(
        &self,
        name: &'static str,
        v: &str,
        origin: Option<&HeaderValue>,
    ) -> Option<(HeaderName, HeaderValue)> {
        let pair = match name {
            "access-control-allow-origin" if v == "*" => (
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            ),
            "access-control-allow-origin" => (header::ACCESS_CONTROL_ALLOW_ORIGIN, origin?.clone()),
            "access-control-allow-credentials" => (
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            ),
            "access-control-allow-methods" => (
                header::ACCESS_CONTROL_ALLOW_METHODS,
                self.allow_methods.clone(),
            ),
            // The decision picks the policy's list, or its names alone for refused headers.
            "access-control-allow-headers" if Some(v) == self.policy.allow_headers() => (
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                self.allow_headers.clone()?,
            ),
            "access-control-allow-headers" => (
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                self.allow_headers_named.clone()?,
            ),
            "access-control-expose-headers" => (
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                self.expose_headers.clone()?,
            ),
            "access-control-max-age" => (header::ACCESS_CONTROL_MAX_AGE, self.max_age.clone()?),
            _ => return None,
        };
        Some(pair)
    }

    /// Writes a preflight answer's headers.
    pub fn write(&self, d: &Decision<'_>, req: &HeaderMap, out: &mut HeaderMap) {
        self.write_for(d, req.get(header::ORIGIN), out);
    }

    /// [`write`](Self::write) with the request's `Origin` value already found (see
    /// [`crate::view_with_origin`]).
    pub fn write_for(&self, d: &Decision<'_>, origin: Option<&HeaderValue>, out: &mut HeaderMap) {
        // An allowed preflight gets the prepared answer; a refused one is written header by
        // header, since its Allow-Headers may differ (see `Policy::allow_headers_named`).
        if d.allowed && d.rule.is_some() && out.is_empty() {
            if let Some((n, v)) = d
                .headers
                .get("access-control-allow-origin")
                .and_then(|v| self.header_for("access-control-allow-origin", v, origin))
            {
                *out = self.preflight.clone();
                out.insert(n, v);
                return;
            }
        }
        for (name, v) in d.headers.iter() {
            if name == "vary" {
                out.insert(
                    header::VARY,
                    HeaderValue::from_static(if v == PREFLIGHT_VARY {
                        PREFLIGHT_VARY
                    } else {
                        "Origin"
                    }),
                );
            } else if let Some((n, hv)) = self.header_for(name, v, origin) {
                out.insert(n, hv);
            }
        }
    }

    /// The headers an actual response will get, taken from the request now.
    pub fn pending(&self, d: &Decision<'_>, req: &HeaderMap) -> Pending {
        self.pending_for(d, req.get(header::ORIGIN))
    }

    /// [`pending`](Self::pending) with the request's `Origin` value already found (see
    /// [`crate::view_with_origin`]).
    pub fn pending_for(&self, d: &Decision<'_>, origin: Option<&HeaderValue>) -> Pending {
        let mut p = Pending {
            writes: Writes::of(d),
            ..Pending::default()
        };
        let mut i = 0;
        for (name, v) in d.headers.iter() {
            if name == "vary" {
                continue;
            } else if let Some(pair) = self.header_for(name, v, origin) {
                if i < SLOTS {
                    p.items[i] = Some(pair);
                    i += 1;
                }
            }
        }
        p
    }
}

impl Pending {
    /// Whether the decision allowed the origin (so CORS headers will be added).
    pub fn grants(&self) -> bool {
        self.items[0].is_some()
    }

    /// Merges the headers into a response with the policy as the one source of truth
    /// (`upstream_cors = "override"`): the response's own CORS headers are removed, the
    /// decision's added, `Vary` merged.
    pub fn apply(&mut self, out: &mut HeaderMap) {
        self.apply_with(UpstreamCors::Override, out);
    }

    /// Merges the headers into a response as [`Merge`] plans it for `mode`.
    pub fn apply_with(&mut self, mode: UpstreamCors, out: &mut HeaderMap) {
        // One pass over a response's few names costs less than hashed lookups.
        let (mut allow_origin, mut cors, mut vary) = (false, false, false);
        for name in out.keys() {
            if name == header::ACCESS_CONTROL_ALLOW_ORIGIN {
                allow_origin = true;
            } else if name == header::VARY {
                vary = true;
            }
            cors |= name.as_str().starts_with("access-control-");
        }
        let upstream = Upstream {
            allow_origin,
            // Unknown here: merge_vary looks.
            varies_on_origin: false,
        };
        let plan = Merge::plan(self.writes, mode, false, upstream);
        if cors && plan.drops_any() {
            for name in CORS_RESPONSE_HEADERS {
                if plan.drops(name.as_bytes()) {
                    out.remove(name);
                }
            }
        }
        if plan.adds() {
            for (n, v) in self.items.iter_mut().filter_map(Option::take) {
                out.insert(n, v);
            }
        }
        if plan.vary_origin() {
            if vary {
                merge_vary(out, "Origin");
            } else {
                out.insert(header::VARY, HeaderValue::from_static("Origin"));
            }
        }
    }
}

/// Adds `token` to `Vary` unless it is there already (or `Vary: *`).
pub fn merge_vary(out: &mut HeaderMap, token: &'static str) {
    let mut existing = out.get_all(header::VARY).iter().peekable();
    if existing.peek().is_none() {
        out.insert(header::VARY, HeaderValue::from_static(token));
        return;
    }
    let mut joined = Vec::new();
    for v in existing {
        let b = v.as_bytes();
        if b.split(|&c| c == b',').any(|t| {
            let t = t.trim_ascii();
            t == b"*" || t.eq_ignore_ascii_case(token.as_bytes())
        }) {
            return;
        }
        if !joined.is_empty() {
            joined.extend_from_slice(b", ");
        }
        joined.extend_from_slice(b);
    }
    joined.extend_from_slice(b", ");
    joined.extend_from_slice(token.as_bytes());
    if let Ok(v) = HeaderValue::from_bytes(&joined) {
        out.insert(header::VARY, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use corsair_policy::PolicySpec;

    fn policy(max_age: i64) -> Policy {
        PolicySpec {
            origins: vec!["https://app.example.com".into()],
            methods: vec!["GET".into(), "PUT".into()],
            request_headers: vec!["X-Intern-Test".into()],
            expose_headers: vec!["X-Intern-Count".into()],
            max_age: Some(max_age),
            ..Default::default()
        }
        .build()
        .unwrap()
        .0
    }

    #[test]
    fn policy_values_are_stored_once_however_often_a_policy_is_built() {
        let first = PolicyHeaders::new(policy(600));
        let before = INTERNED.lock().unwrap().len();
        for _ in 0..100 {
            let again = PolicyHeaders::new(policy(600));
            assert_eq!(
                again.expose_headers.as_ref().unwrap().as_bytes().as_ptr(),
                first.expose_headers.as_ref().unwrap().as_bytes().as_ptr(),
                "the same value is shared, not copied"
            );
        }
        assert_eq!(
            INTERNED.lock().unwrap().len(),
            before,
            "reloads add nothing"
        );
        // A new value is stored once.
        let _ = PolicyHeaders::new(policy(601));
        let _ = PolicyHeaders::new(policy(601));
        assert_eq!(INTERNED.lock().unwrap().len(), before + 1);
        assert_eq!(
            value("not\u{e9}ascii").to_str().ok(),
            None,
            "non-ASCII is not interned"
        );
    }
}
