//! The gateway's header work on a response that came from behind it (an upstream, or the inner
//! service of a tower layer): which of its headers go on, whether the decision's headers are
//! added, and whether `Origin` joins `Vary`. One plan for `corsair serve`'s HTTP/1.1 path, its
//! hyper path and corsair-tower, so the three cannot drift apart.
//!
//! The rules, for a response that is not report-only:
//! - `override` (the default): every CORS response header of the upstream is dropped and the
//!   decision's are added, so the policy is the one source of truth, also for origins it refuses
//!   (an upstream that reflects any origin cannot overrule it);
//! - `preserve`: an upstream that sent `Access-Control-Allow-Origin` keeps all of its CORS
//!   headers; one that did not gets the decision's;
//! - a header the decision writes replaces the upstream's of the same name;
//! - `Origin` joins `Vary` when the decision varies on it, or when the upstream's own CORS
//!   headers are kept, unless the upstream's `Vary` already lists `Origin` or `*`
//!   (<https://fetch.spec.whatwg.org/#cors-protocol-and-http-caches>).

use super::decide::Decision;
use super::file::UpstreamCors;
use crate::header::CORS_RESPONSE_HEADERS;

/// What a decision writes on a response, without the values: the CORS header names (a set over
/// [`CORS_RESPONSE_HEADERS`]) and whether it varies on `Origin`. Small and `Copy`, so it can be
/// kept from the request until the response comes back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Writes {
    names: u8,
    vary: bool,
}

impl Writes {
    /// What `d` writes.
    pub fn of(d: &Decision<'_>) -> Writes {
        let mut w = Writes::default();
        for (n, _) in d.headers.iter() {
            if n == "vary" {
                w.vary = true;
            } else if let Some(i) = cors_index(n.as_bytes()) {
                w.names |= 1 << i;
            }
        }
        w
    }

    /// Whether it writes the CORS response header `name` (any case).
    pub fn writes(&self, name: &[u8]) -> bool {
        cors_index(name).is_some_and(|i| self.names & (1 << i) != 0)
    }

    /// Whether it adds `Origin` to `Vary`.
    pub fn varies(&self) -> bool {
        self.vary
    }
}

/// The position of `name` in [`CORS_RESPONSE_HEADERS`], compared without regard to case.
fn cors_index(name: &[u8]) -> Option<usize> {
    // Every CORS response header name is 22 to 32 bytes and starts with 'a'.
    if !(22..=32).contains(&name.len()) || !name[0].eq_ignore_ascii_case(&b'a') {
        return None;
    }
    CORS_RESPONSE_HEADERS
        .iter()
        .position(|c| c.len() == name.len() && c.as_bytes().eq_ignore_ascii_case(name))
}

/// What the upstream's response says, as far as the merge is concerned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Upstream {
    /// It sent `Access-Control-Allow-Origin`.
    pub allow_origin: bool,
    /// Its `Vary` lists `Origin` or `*` (pass `false` when unknown: merging `Vary` then checks).
    pub varies_on_origin: bool,
}

/// The plan for one response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Merge {
    writes: Writes,
    strip: bool,
    add: bool,
    vary_origin: bool,
}

impl Merge {
    /// Plans the merge of a decision's headers (`writes`) into an upstream's response.
    /// Report-only changes nothing.
    pub fn plan(writes: Writes, mode: UpstreamCors, report_only: bool, up: Upstream) -> Merge {
        if report_only {
            return Merge {
                writes,
                strip: false,
                add: false,
                vary_origin: false,
            };
        }
        let add = match mode {
            UpstreamCors::Override => true,
            UpstreamCors::Preserve => !up.allow_origin,
        };
        Merge {
            writes,
            strip: mode == UpstreamCors::Override,
            add,
            vary_origin: !up.varies_on_origin && (!add || writes.vary),
        }
    }

    /// Whether the upstream's header `name` is dropped: a CORS response header under
    /// `override`, or one the decision writes itself.
    pub fn drops(&self, name: &[u8]) -> bool {
        match cors_index(name) {
            Some(i) => self.strip || (self.add && self.writes.names & (1 << i) != 0),
            None => false,
        }
    }

    /// Whether any upstream header can be dropped (so a caller can skip the scan).
    pub fn drops_any(&self) -> bool {
        self.strip || (self.add && self.writes.names != 0)
    }

    /// Whether the decision's headers (all but `Vary`) are added.
    pub fn adds(&self) -> bool {
        self.add
    }

    /// Whether `Origin` joins `Vary`: merged into the upstream's `Vary`, or a line of its own.
    pub fn vary_origin(&self) -> bool {
        self.vary_origin
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{decide, PolicySpec, RequestView};

    fn writes(origin: Option<&str>) -> Writes {
        let p = PolicySpec {
            origins: vec!["https://app.example".into()],
            expose_headers: vec!["X-Total".into()],
            ..Default::default()
        }
        .build()
        .unwrap()
        .0;
        let view = RequestView {
            method: "GET",
            origin: origin.map(str::as_bytes),
            ..Default::default()
        };
        Writes::of(&decide(&p, &view))
    }

    const NONE: Upstream = Upstream {
        allow_origin: false,
        varies_on_origin: false,
    };
    const OWN: Upstream = Upstream {
        allow_origin: true,
        varies_on_origin: false,
    };

    #[test]
    fn override_is_the_one_source_of_truth() {
        let allowed = writes(Some("https://app.example"));
        assert!(allowed.writes(b"Access-Control-Allow-Origin") && allowed.varies());
        let m = Merge::plan(allowed, UpstreamCors::Override, false, OWN);
        assert!(m.adds() && m.vary_origin());
        for n in CORS_RESPONSE_HEADERS {
            assert!(m.drops(n.as_bytes()), "{n}");
        }
        assert!(!m.drops(b"content-type") && !m.drops(b"vary"));
        // A refused origin: the upstream's own ACAO (say, a reflection) is dropped all the same.
        let refused = writes(Some("https://evil.example"));
        let m = Merge::plan(refused, UpstreamCors::Override, false, OWN);
        assert!(m.drops(b"access-control-allow-origin"));
        assert!(m.vary_origin());
    }

    #[test]
    fn preserve_keeps_an_upstream_that_answers_cors_itself() {
        let w = writes(Some("https://app.example"));
        let m = Merge::plan(w, UpstreamCors::Preserve, false, OWN);
        assert!(!m.adds() && !m.drops_any());
        assert!(m.vary_origin(), "its answer depends on Origin");
        let m = Merge::plan(w, UpstreamCors::Preserve, false, NONE);
        assert!(m.adds() && m.drops(b"access-control-allow-origin"));
        assert!(
            !m.drops(b"access-control-max-age"),
            "not written, not stripped"
        );
        let already = Upstream {
            allow_origin: true,
            varies_on_origin: true,
        };
        assert!(!Merge::plan(w, UpstreamCors::Preserve, false, already).vary_origin());
    }

    #[test]
    fn report_only_changes_nothing() {
        let m = Merge::plan(writes(None), UpstreamCors::Override, true, OWN);
        assert!(!m.adds() && !m.drops_any() && !m.vary_origin());
    }
}
