//! Decisions: for one request (method, `Origin`, `Access-Control-Request-Method`,
//! `Access-Control-Request-Headers`), whether CORS applies, whether to answer a preflight here,
//! the exact headers to send, and which rule decided and why. The allowed path does not
//! allocate: header values are borrowed from the policy or the request.
//!
//! Implements the server side of <https://fetch.spec.whatwg.org/#http-cors-protocol>.

use super::Policy;
use serde::Serialize;

/// The longest `Access-Control-Request-Headers` value examined. Browsers send one name per
/// non-safelisted header, so a few hundred bytes is plenty; a megabyte of commas is refused
/// without being scanned.
pub const MAX_REQUEST_HEADERS_LEN: usize = 4096;

/// The parts of a request a CORS decision reads.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestView<'r> {
    /// The request method.
    pub method: &'r str,
    /// The `Origin` header, if any.
    pub origin: Option<&'r [u8]>,
    /// `Access-Control-Request-Method`, if any.
    pub request_method: Option<&'r [u8]>,
    /// `Access-Control-Request-Headers`, if any.
    pub request_headers: Option<&'r [u8]>,
}

/// What kind of request it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequestKind {
    /// No `Origin` header: not a CORS request; pass it on untouched (but for `Vary`).
    NotCors,
    /// A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`): answer it here.
    Preflight,
    /// A CORS request: pass it on and add the headers to the response.
    Actual,
}

/// Which rule let the origin in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "rule", content = "index")]
pub enum Rule {
    /// `origins = ["*"]` (without credentials).
    AnyOrigin,
    /// An exact origin.
    ExactOrigin,
    /// The i-th subdomain or any-port pattern.
    OriginPattern(usize),
    /// The i-th regular expression.
    OriginRegex(usize),
}

/// Why a decision came out as it did; a stable label for logs and metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Reason {
    /// Allowed.
    Allowed,
    /// Not a CORS request.
    NoOrigin,
    /// The origin matches no rule.
    OriginNotAllowed,
    /// The `Origin` header is not text.
    InvalidOrigin,
    /// The preflight asks for a method the policy does not allow.
    MethodNotAllowed,
    /// The preflight asks for a header the policy does not allow.
    HeaderNotAllowed,
    /// `Access-Control-Request-Headers` is longer than [`MAX_REQUEST_HEADERS_LEN`].
    RequestHeadersTooLong,
}

impl Reason {
    /// The stable label.
    pub fn id(self) -> &'static str {
        match self {
            Reason::Allowed => "allowed",
            Reason::NoOrigin => "no-origin",
            Reason::OriginNotAllowed => "origin-not-allowed",
            Reason::InvalidOrigin => "invalid-origin",
            Reason::MethodNotAllowed => "method-not-allowed",
            Reason::HeaderNotAllowed => "header-not-allowed",
            Reason::RequestHeadersTooLong => "request-headers-too-long",
        }
    }

    /// A sentence for logs.
    pub fn describe(self) -> &'static str {
        match self {
            Reason::Allowed => "allowed by the policy",
            Reason::NoOrigin => "no Origin header: not a CORS request",
            Reason::OriginNotAllowed => "the origin is not in the policy's allowlist",
            Reason::InvalidOrigin => "the Origin header is not valid text",
            Reason::MethodNotAllowed => "the preflight asks for a method the policy does not allow",
            Reason::HeaderNotAllowed => "the preflight asks for a header the policy does not allow",
            Reason::RequestHeadersTooLong => {
                "Access-Control-Request-Headers is too long to be a browser's"
            }
        }
    }
}

const MAX_HEADERS: usize = 7;

/// The response headers a decision adds: at most seven, borrowed from the policy or the request.
#[derive(Clone, Copy, Debug)]
pub struct HeaderSet<'a> {
    items: [(&'static str, &'a str); MAX_HEADERS],
    len: usize,
}

impl<'a> HeaderSet<'a> {
    fn new() -> Self {
        HeaderSet {
            items: [("", ""); MAX_HEADERS],
            len: 0,
        }
    }

    fn push(&mut self, name: &'static str, value: &'a str) {
        self.items[self.len] = (name, value);
        self.len += 1;
    }

    /// (lowercase name, value) pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &'a str)> + '_ {
        self.items[..self.len].iter().copied()
    }

    /// The value for a (lowercase) name.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// How many headers.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A decision and its trace.
#[derive(Clone, Copy, Debug)]
pub struct Decision<'a> {
    /// What kind of request.
    pub kind: RequestKind,
    /// Whether the policy allows it.
    pub allowed: bool,
    /// Why.
    pub reason: Reason,
    /// Which rule allowed the origin.
    pub rule: Option<Rule>,
    /// The origin, as sent.
    pub origin: Option<&'a str>,
    /// For a preflight: the status to answer with.
    pub status: u16,
    /// Headers to add to the response (for a preflight, the whole answer's headers).
    pub headers: HeaderSet<'a>,
}

/// `Vary` for a preflight answer: it depends on all three request headers.
pub const PREFLIGHT_VARY: &str =
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

/// Decides what to do with one request.
pub fn decide<'a>(policy: &'a Policy, req: &RequestView<'a>) -> Decision<'a> {
    let preflight = req.method == "OPTIONS" && req.request_method.is_some();
    let mut d = Decision {
        kind: if preflight {
            RequestKind::Preflight
        } else {
            RequestKind::Actual
        },
        allowed: false,
        reason: Reason::Allowed,
        rule: None,
        origin: None,
        status: if preflight { 403 } else { 0 },
        headers: HeaderSet::new(),
    };
    let vary: &'static str = if preflight { PREFLIGHT_VARY } else { "Origin" };
    let Some(origin) = req.origin else {
        d.kind = RequestKind::NotCors;
        d.reason = Reason::NoOrigin;
        if policy.any_origin {
            // The same answer for every request, so a shared cache can store this one and serve
            // it to a later CORS request (https://fetch.spec.whatwg.org/#cors-protocol-and-http-caches).
            d.headers.push("access-control-allow-origin", "*");
            if let Some(e) = &policy.expose_headers {
                d.headers.push("access-control-expose-headers", e);
            }
        } else {
            // A cache must not serve this response to a CORS request from another origin.
            d.headers.push("vary", "Origin");
        }
        return d;
    };
    let Ok(origin) = std::str::from_utf8(origin) else {
        d.reason = Reason::InvalidOrigin;
        if policy.any_origin {
            // Every response alike, as for a request without `Origin`.
            d.headers.push("access-control-allow-origin", "*");
        }
        d.headers.push("vary", vary);
        return d;
    };
    d.origin = Some(origin);
    let Some(rule) = policy.match_origin(origin) else {
        d.reason = Reason::OriginNotAllowed;
        d.headers.push("vary", vary);
        return d;
    };
    d.rule = Some(rule);
    let acao = if policy.any_origin && !policy.credentials {
        "*"
    } else {
        origin
    };
    d.headers.push("access-control-allow-origin", acao);
    if policy.credentials {
        d.headers.push("access-control-allow-credentials", "true");
    }
    if !preflight {
        if let Some(e) = &policy.expose_headers {
            d.headers.push("access-control-expose-headers", e);
        }
        if !policy.any_origin {
            d.headers.push("vary", "Origin");
        }
        d.allowed = true;
        return d;
    }
    d.status = policy.preflight_status;
    d.reason = check_request(policy, req);
    d.allowed = d.reason == Reason::Allowed;
    d.headers
        .push("access-control-allow-methods", &policy.allow_methods);
    // A header the policy refuses is refused by every browser: engines that still let `*`
    // cover `Authorization` (against the standard) get the names alone.
    let allow_headers = if d.reason == Reason::HeaderNotAllowed {
        &policy.allow_headers_named
    } else {
        &policy.allow_headers
    };
    if let Some(h) = allow_headers {
        d.headers.push("access-control-allow-headers", h);
    }
    if let Some(m) = &policy.max_age {
        d.headers.push("access-control-max-age", m);
    }
    d.headers.push("vary", PREFLIGHT_VARY);
    d
}

/// Checks a preflight's requested method and headers against the policy.
fn check_request(policy: &Policy, req: &RequestView<'_>) -> Reason {
    let method = req.request_method.unwrap_or_default();
    let method_ok = matches!(method, b"GET" | b"HEAD" | b"POST")
        || policy.any_method
        || policy.methods.iter().any(|m| m.as_bytes() == method);
    if !method_ok {
        return Reason::MethodNotAllowed;
    }
    let Some(list) = req.request_headers else {
        return Reason::Allowed;
    };
    if list.len() > MAX_REQUEST_HEADERS_LEN {
        return Reason::RequestHeadersTooLong;
    }
    for item in list.split(|&b| b == b',') {
        let name = item.trim_ascii();
        if name.is_empty() {
            continue;
        }
        // The policy's names are lowercase, and browsers send lowercase names: an exact
        // comparison settles almost every case before the case-insensitive one.
        let listed = policy.headers.iter().any(|h| h.as_bytes() == name)
            || (name.iter().any(u8::is_ascii_uppercase)
                && policy
                    .headers
                    .iter()
                    .any(|h| h.as_bytes().eq_ignore_ascii_case(name)));
        if listed || (policy.any_header && !name.eq_ignore_ascii_case(b"authorization")) {
            continue;
        }
        return Reason::HeaderNotAllowed;
    }
    Reason::Allowed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicySpec;

    fn policy(origins: &[&str], credentials: bool, methods: &[&str], headers: &[&str]) -> Policy {
        PolicySpec {
            origins: origins.iter().map(|s| s.to_string()).collect(),
            methods: methods.iter().map(|s| s.to_string()).collect(),
            request_headers: headers.iter().map(|s| s.to_string()).collect(),
            expose_headers: vec!["X-Total-Count".into()],
            credentials,
            max_age: Some(600),
            ..Default::default()
        }
        .build()
        .unwrap()
        .0
    }

    fn view<'a>(
        method: &'a str,
        origin: Option<&'a str>,
        acrm: Option<&'a str>,
        acrh: Option<&'a str>,
    ) -> RequestView<'a> {
        RequestView {
            method,
            origin: origin.map(str::as_bytes),
            request_method: acrm.map(str::as_bytes),
            request_headers: acrh.map(str::as_bytes),
        }
    }

    /// (policy, request) → expected headers, as a table.
    #[test]
    fn table() {
        let p = policy(
            &["https://app.example.com", "https://*.example.com"],
            true,
            &["GET", "POST", "PUT", "DELETE"],
            &["Content-Type", "Authorization"],
        );
        const APP: &str = "https://app.example.com";
        type Row<'a> = (
            RequestView<'a>,
            RequestKind,
            bool,
            Reason,
            &'a [(&'a str, &'a str)],
        );
        let rows: Vec<Row> = vec![
            (
                view("GET", None, None, None),
                RequestKind::NotCors,
                false,
                Reason::NoOrigin,
                &[("vary", "Origin")],
            ),
            (
                view("GET", Some(APP), None, None),
                RequestKind::Actual,
                true,
                Reason::Allowed,
                &[
                    ("access-control-allow-origin", APP),
                    ("access-control-allow-credentials", "true"),
                    ("access-control-expose-headers", "X-Total-Count"),
                    ("vary", "Origin"),
                ],
            ),
            (
                view("GET", Some("https://deep.sub.example.com"), None, None),
                RequestKind::Actual,
                true,
                Reason::Allowed,
                &[
                    (
                        "access-control-allow-origin",
                        "https://deep.sub.example.com",
                    ),
                    ("access-control-allow-credentials", "true"),
                    ("access-control-expose-headers", "X-Total-Count"),
                    ("vary", "Origin"),
                ],
            ),
            (
                view("GET", Some("https://evil.com"), None, None),
                RequestKind::Actual,
                false,
                Reason::OriginNotAllowed,
                &[("vary", "Origin")],
            ),
            (
                view("GET", Some("null"), None, None),
                RequestKind::Actual,
                false,
                Reason::OriginNotAllowed,
                &[("vary", "Origin")],
            ),
            (
                view(
                    "OPTIONS",
                    Some(APP),
                    Some("PUT"),
                    Some("content-type,authorization"),
                ),
                RequestKind::Preflight,
                true,
                Reason::Allowed,
                &[
                    ("access-control-allow-origin", APP),
                    ("access-control-allow-credentials", "true"),
                    ("access-control-allow-methods", "GET, POST, PUT, DELETE"),
                    (
                        "access-control-allow-headers",
                        "Content-Type, Authorization",
                    ),
                    ("access-control-max-age", "600"),
                    ("vary", PREFLIGHT_VARY),
                ],
            ),
            (
                view("OPTIONS", Some(APP), Some("PATCH"), None),
                RequestKind::Preflight,
                false,
                Reason::MethodNotAllowed,
                &[
                    ("access-control-allow-origin", APP),
                    ("access-control-allow-credentials", "true"),
                    ("access-control-allow-methods", "GET, POST, PUT, DELETE"),
                    (
                        "access-control-allow-headers",
                        "Content-Type, Authorization",
                    ),
                    ("access-control-max-age", "600"),
                    ("vary", PREFLIGHT_VARY),
                ],
            ),
            (
                view("OPTIONS", Some(APP), Some("put"), None),
                RequestKind::Preflight,
                false,
                Reason::MethodNotAllowed,
                &[
                    ("access-control-allow-origin", APP),
                    ("access-control-allow-credentials", "true"),
                    ("access-control-allow-methods", "GET, POST, PUT, DELETE"),
                    (
                        "access-control-allow-headers",
                        "Content-Type, Authorization",
                    ),
                    ("access-control-max-age", "600"),
                    ("vary", PREFLIGHT_VARY),
                ],
            ),
            (
                view("OPTIONS", Some("https://evil.com"), Some("GET"), None),
                RequestKind::Preflight,
                false,
                Reason::OriginNotAllowed,
                &[("vary", PREFLIGHT_VARY)],
            ),
            (
                view("OPTIONS", Some(APP), None, None),
                RequestKind::Actual,
                true,
                Reason::Allowed,
                &[
                    ("access-control-allow-origin", APP),
                    ("access-control-allow-credentials", "true"),
                    ("access-control-expose-headers", "X-Total-Count"),
                    ("vary", "Origin"),
                ],
            ),
        ];
        for (i, (req, kind, allowed, reason, headers)) in rows.iter().enumerate() {
            let d = decide(&p, req);
            assert_eq!(
                (d.kind, d.allowed, d.reason),
                (*kind, *allowed, *reason),
                "row {i}"
            );
            let got: Vec<(&str, &str)> = d.headers.iter().collect();
            assert_eq!(&got, headers, "row {i}");
        }
        assert_eq!(
            decide(
                &p,
                &view("OPTIONS", Some(APP), Some("GET"), Some("x-other"))
            )
            .reason,
            Reason::HeaderNotAllowed
        );
        assert_eq!(
            decide(&p, &view("OPTIONS", Some(APP), Some("GET"), None)).status,
            204
        );
    }

    #[test]
    fn any_origin_without_credentials_is_a_static_star() {
        let p = policy(&["*"], false, &["*"], &["*"]);
        let d = decide(
            &p,
            &view("GET", Some("https://whoever.example"), None, None),
        );
        assert_eq!(d.headers.get("access-control-allow-origin"), Some("*"));
        assert_eq!(d.headers.get("vary"), None);
        // Issue 11, finding 5: the same ACAO without an Origin, so a shared cache cannot store
        // an answer without it and serve it to a CORS request.
        let d = decide(&p, &view("GET", None, None, None));
        assert_eq!(d.kind, RequestKind::NotCors);
        assert_eq!(d.headers.get("access-control-allow-origin"), Some("*"));
        assert_eq!(
            d.headers.get("access-control-expose-headers"),
            Some("X-Total-Count")
        );
        assert_eq!(d.headers.get("vary"), None);
        // Issue 11, finding 3: methods = ["*"] answers with a wildcard, not an empty list.
        let d = decide(
            &p,
            &view("OPTIONS", Some("https://x.example"), Some("DELETE"), None),
        );
        assert!(d.allowed);
        assert_eq!(d.headers.get("access-control-allow-methods"), Some("*"));
        let d = decide(
            &p,
            &view(
                "OPTIONS",
                Some("https://x.example"),
                Some("PATCH"),
                Some("x-anything"),
            ),
        );
        assert!(d.allowed);
        let d = decide(
            &p,
            &view(
                "OPTIONS",
                Some("https://x.example"),
                Some("GET"),
                Some("authorization"),
            ),
        );
        assert_eq!(
            d.reason,
            Reason::HeaderNotAllowed,
            "'*' does not cover Authorization"
        );
    }

    #[test]
    fn request_headers_parsing_is_bounded() {
        let p = policy(&["https://a.example"], false, &[], &["x-a"]);
        let commas = ",".repeat(1 << 20);
        let d = decide(
            &p,
            &view(
                "OPTIONS",
                Some("https://a.example"),
                Some("GET"),
                Some(&commas),
            ),
        );
        assert_eq!(d.reason, Reason::RequestHeadersTooLong);
        let ok = " x-a , ,X-A,";
        assert!(
            decide(
                &p,
                &view("OPTIONS", Some("https://a.example"), Some("GET"), Some(ok))
            )
            .allowed
        );
    }

    #[test]
    fn invalid_origin_bytes_are_refused() {
        let p = policy(&["https://a.example"], false, &[], &[]);
        let req = RequestView {
            method: "GET",
            origin: Some(&[0xff, 0xfe]),
            ..Default::default()
        };
        assert_eq!(decide(&p, &req).reason, Reason::InvalidOrigin);
        let any = policy(&["*"], false, &[], &[]);
        let d = decide(&any, &req);
        assert_eq!(d.headers.get("access-control-allow-origin"), Some("*"));
    }
}
