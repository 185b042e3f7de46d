//! Which request heads corsair's own proxy path takes (RFC 9112 §6.1-6.3 for requests).

use crate::{name_is, tokens};

/// A request the proxy path takes: its body's length and whether the client asked to close.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestFacts {
    /// The body's length (0: none).
    pub content_length: u64,
    /// `Connection: close`.
    pub close: bool,
}

/// What to do with a request head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestRoute {
    /// The proxy path takes it.
    Take(RequestFacts),
    /// Another implementation's (HTTP/1.0, absolute-form or `*` targets, a fragment, `CONNECT`, chunked
    /// bodies, `Expect`, `Upgrade`, `Connection` options, repeated `Content-Length`).
    Elsewhere,
    /// Both `Content-Length` and `Transfer-Encoding`: how request smuggling starts; 400.
    Refuse,
}

/// Routes a request head: `minor` is the HTTP/1 minor version.
pub fn route_request<'a>(
    minor: u8,
    method: &str,
    target: &str,
    headers: impl Iterator<Item = (&'a [u8], &'a [u8])> + Clone,
) -> RequestRoute {
    let has = |name: &str| headers.clone().any(|(n, _)| name_is(n, name));
    if has("transfer-encoding") && has("content-length") {
        return RequestRoute::Refuse;
    }
    // A fragment (`#`) is never sent by browsers; hyper drops it before routing.
    if minor != 1 || !target.starts_with('/') || target.contains('#') || method == "CONNECT" {
        return RequestRoute::Elsewhere;
    }
    let mut facts = RequestFacts {
        content_length: 0,
        close: false,
    };
    let mut lengths = 0;
    for (n, v) in headers {
        if name_is(n, "content-length") {
            lengths += 1;
            // Digits only: no sign, no list, no spaces (httparse trims the ends). A number too
            // large for 64 bits is refused here (400): hyper would answer 431.
            if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
                return RequestRoute::Elsewhere;
            }
            match v.iter().try_fold(0u64, |n, d| {
                n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
            }) {
                Some(n) => facts.content_length = n,
                None => return RequestRoute::Refuse,
            }
        } else if name_is(n, "transfer-encoding") || name_is(n, "expect") || name_is(n, "upgrade") {
            return RequestRoute::Elsewhere;
        } else if name_is(n, "connection") {
            for t in tokens(v) {
                if t.eq_ignore_ascii_case(b"close") {
                    facts.close = true;
                } else if !t.eq_ignore_ascii_case(b"keep-alive") {
                    return RequestRoute::Elsewhere;
                }
            }
        }
    }
    if lengths > 1 {
        return RequestRoute::Elsewhere;
    }
    RequestRoute::Take(facts)
}

/// A request a gateway refuses before deciding on it: the status and a one-line text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The status to answer with.
    pub status: u16,
    /// The answer's body: `corsair: ` and what is wrong, one line.
    pub text: &'static str,
}

const fn refuse(status: u16, text: &'static str) -> Option<Refusal> {
    Some(Refusal { status, text })
}

/// Whether a gateway must refuse a request whatever its policy says, because it cannot decide
/// on it consistently with what the upstream would see:
/// - `CONNECT`: a tunnel, never proxied (405);
/// - `Host` missing, repeated or not a `host[:port]` in an HTTP/1.1 request (RFC 9112 §3.2:
///   400), or, over HTTP/2 (`authority` given), a `host` that differs from `:authority`;
/// - two `Origin` or `Access-Control-Request-Method` fields: the decision reads one, the
///   upstream would get both;
/// - a `Connection` option naming a field the decision reads (`Origin`, `Host`,
///   `Access-Control-Request-*`): a hop-by-hop strip would remove it after the decision;
/// - a `Content-Length` of digits too large for 64 bits;
/// - a transfer coding other than one `chunked` (501, as nginx answers): hyper decodes only
///   `chunked`, so a body sent as `gzip, chunked` would go upstream still gzipped but labelled
///   plain chunked.
///
/// `authority` is the HTTP/2 `:authority`, `None` for HTTP/1.1.
pub fn refusal<'a>(
    method: &str,
    authority: Option<&[u8]>,
    headers: impl Iterator<Item = (&'a [u8], &'a [u8])>,
) -> Option<Refusal> {
    if method.eq_ignore_ascii_case("CONNECT") {
        return refuse(405, "corsair: CONNECT is not proxied\n");
    }
    let (mut hosts, mut origins, mut methods, mut chunked) = (0, 0, 0, 0);
    let mut host: Option<&[u8]> = None;
    for (n, v) in headers {
        if name_is(n, "host") {
            hosts += 1;
            host = Some(v);
        } else if name_is(n, "origin") {
            origins += 1;
        } else if name_is(n, "access-control-request-method") {
            methods += 1;
        } else if name_is(n, "connection") {
            let decided = [
                "origin",
                "host",
                "access-control-request-method",
                "access-control-request-headers",
            ];
            if tokens(v).any(|t| decided.iter().any(|d| name_is(t, d))) {
                return refuse(
                    400,
                    "corsair: Connection names a field the CORS decision reads\n",
                );
            }
        } else if name_is(n, "transfer-encoding") {
            for coding in tokens(v) {
                if !name_is(coding, "chunked") {
                    return refuse(
                        501,
                        "corsair: only the chunked transfer coding is supported\n",
                    );
                }
                chunked += 1;
            }
        } else if name_is(n, "content-length")
            && v.iter().all(u8::is_ascii_digit)
            && !v.is_empty()
            && std::str::from_utf8(v)
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
                .is_none()
        {
            return refuse(400, "corsair: Content-Length is too large\n");
        }
    }
    if chunked > 1 {
        return refuse(400, "corsair: chunked applied more than once\n");
    }
    if origins > 1 || methods > 1 {
        return refuse(
            400,
            "corsair: more than one Origin or Access-Control-Request-Method\n",
        );
    }
    match (authority, host) {
        (_, Some(_)) if hosts > 1 => refuse(400, "corsair: more than one Host\n"),
        (None, None) => refuse(400, "corsair: no Host\n"),
        (_, Some(h)) if !is_authority(h) => refuse(400, "corsair: Host is not a host[:port]\n"),
        (Some(a), Some(h)) if !a.eq_ignore_ascii_case(h) => {
            refuse(400, "corsair: host differs from :authority\n")
        }
        _ => None,
    }
}

/// Whether a gateway must refuse a request target whose path the upstream could resolve to
/// another route than the gateway chose it by: a dot segment (`.` or `..`, also written `%2e`
/// or followed by `;parameters`, as Tomcat and Jetty resolve `/public/..;/admin` to `/admin`),
/// or a backslash (some servers read it as `/`). Browsers resolve dot segments and turn `\`
/// into `/` before they send a URL, and so does curl, so no client a policy serves sends
/// either (400).
#[inline]
pub fn path_refusal(target: &[u8]) -> Option<Refusal> {
    // One pass to the query: most paths have no `.`, `%` or `\` at all.
    let mut end = target.len();
    let mut suspect = false;
    for (i, &b) in target.iter().enumerate() {
        match b {
            b'?' | b'#' => {
                end = i;
                break;
            }
            b'.' | b'%' | b'\\' => suspect = true,
            _ => {}
        }
    }
    if !suspect {
        return None;
    }
    dot_or_backslash(&target[..end])
}

fn dot_or_backslash(path: &[u8]) -> Option<Refusal> {
    if path.contains(&b'\\') {
        return refuse(400, "corsair: the path has a backslash\n");
    }
    let dot_segment = path.split(|&b| b == b'/').any(|segment| {
        // The segment as a server resolving dot segments reads it: parameters dropped, `%2e`
        // decoded.
        let name = match segment.iter().position(|&b| b == b';') {
            Some(i) => &segment[..i],
            None => segment,
        };
        let mut dots = 0;
        let mut rest = name;
        while !rest.is_empty() {
            if rest[0] == b'.' {
                rest = &rest[1..];
            } else if rest.len() >= 3
                && rest[0] == b'%'
                && rest[1] == b'2'
                && rest[2] | 0x20 == b'e'
            {
                rest = &rest[3..];
            } else {
                return false;
            }
            dots += 1;
        }
        dots == 1 || dots == 2
    });
    if dot_segment {
        return refuse(
            400,
            "corsair: the path has a dot segment (. or ..): send it resolved\n",
        );
    }
    None
}

/// `host[:port]` as RFC 9110 §7.2 allows it: a reg-name or IPv4 (unreserved, sub-delims and
/// `%`), or a bracketed IPv6 literal, then an optional port of digits.
fn is_authority(v: &[u8]) -> bool {
    let (host, port) = if v.first() == Some(&b'[') {
        match v.iter().position(|&b| b == b']') {
            Some(i) => (&v[..=i], &v[i + 1..]),
            None => return false,
        }
    } else {
        match v.iter().position(|&b| b == b':') {
            Some(i) => (&v[..i], &v[i..]),
            None => (v, &v[v.len()..]),
        }
    };
    let port_ok = port.is_empty()
        || (port[0] == b':' && port.len() <= 6 && port[1..].iter().all(u8::is_ascii_digit));
    let host_ok = if host.first() == Some(&b'[') {
        host.len() > 2
            && host[1..host.len() - 1]
                .iter()
                .all(|&b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
    } else {
        !host.is_empty()
            && host
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=%".contains(&b))
    };
    host_ok && port_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(head: &[(&str, &str)], minor: u8, method: &str, target: &str) -> RequestRoute {
        route_request(
            minor,
            method,
            target,
            head.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())),
        )
    }

    #[test]
    fn only_plain_http11_requests_take_the_proxy_path() {
        assert_eq!(
            route(
                &[("Host", "x"), ("Connection", "keep-alive, close")],
                1,
                "GET",
                "/a"
            ),
            RequestRoute::Take(RequestFacts {
                content_length: 0,
                close: true
            })
        );
        assert_eq!(
            route(&[("Content-Length", "12")], 1, "POST", "/a"),
            RequestRoute::Take(RequestFacts {
                content_length: 12,
                close: false
            })
        );
        assert_eq!(
            route(
                &[("Content-Length", "3"), ("Transfer-Encoding", "chunked")],
                1,
                "POST",
                "/a"
            ),
            RequestRoute::Refuse
        );
        assert_eq!(
            route(
                &[("Content-Length", "99999999999999999999")],
                1,
                "POST",
                "/a"
            ),
            RequestRoute::Refuse
        );
        assert_eq!(
            route(
                &[("Content-Length", "18446744073709551615")],
                1,
                "POST",
                "/a"
            ),
            RequestRoute::Take(RequestFacts {
                content_length: u64::MAX,
                close: false
            })
        );
        type Case<'a> = (&'a [(&'a str, &'a str)], u8, &'a str, &'a str);
        let elsewhere: &[Case] = &[
            (&[], 0, "GET", "/a"),
            (&[], 1, "GET", "http://x/a"),
            (&[], 1, "GET", "/admin#x"),
            (&[], 1, "OPTIONS", "*"),
            (&[], 1, "CONNECT", "x:443"),
            (&[("Transfer-Encoding", "chunked")], 1, "POST", "/a"),
            (
                &[("Content-Length", "3"), ("Content-Length", "3")],
                1,
                "POST",
                "/a",
            ),
            (&[("Content-Length", "+3")], 1, "POST", "/a"),
            (&[("Content-Length", "3, 3")], 1, "POST", "/a"),
            (&[("Expect", "100-continue")], 1, "POST", "/a"),
            (
                &[("Connection", "Upgrade"), ("Upgrade", "websocket")],
                1,
                "GET",
                "/ws",
            ),
            (&[("Connection", "x-private")], 1, "GET", "/a"),
        ];
        for (head, minor, method, target) in elsewhere {
            assert_eq!(
                route(head, *minor, method, target),
                RequestRoute::Elsewhere,
                "{head:?} {minor} {method} {target}"
            );
        }
    }

    #[test]
    fn paths_the_upstream_could_route_elsewhere_are_refused() {
        let refused = |t: &str| path_refusal(t.as_bytes()).map(|r| r.status);
        for ok in [
            "/",
            "/items?page=..",
            "/a.b/c..d/...",
            "/v1.2/items",
            "/%2e%2e%2e",
            "/.well-known/openid-configuration",
            "/a;b/c",
            "/file.tar.gz",
        ] {
            assert_eq!(refused(ok), None, "{ok}");
        }
        for bad in [
            "/public/../admin",
            "/public/..;/admin",
            "/public/..;jsessionid=x/admin",
            "/public/%2e%2e/admin",
            "/public/.%2E/admin",
            "/public/./admin",
            "/public/%2e/admin",
            "/public/..",
            "/public\\..\\admin",
            "/a\\b",
        ] {
            assert_eq!(refused(bad), Some(400), "{bad}");
        }
    }

    #[test]
    fn refusals_before_any_decision() {
        let r = |method: &str, authority: Option<&str>, h: &[(&str, &str)]| {
            refusal(
                method,
                authority.map(str::as_bytes),
                h.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())),
            )
            .map(|r| r.status)
        };
        let host = ("Host", "api.example.com");
        assert_eq!(r("GET", None, &[host]), None);
        assert_eq!(r("GET", None, &[("Host", "api.example.com:8443")]), None);
        assert_eq!(r("GET", None, &[("Host", "[::1]:8080")]), None);
        assert_eq!(r("CONNECT", None, &[host]), Some(405));
        let te = |v| ("Transfer-Encoding", v);
        assert_eq!(r("POST", None, &[host, te("chunked")]), None);
        assert_eq!(r("POST", None, &[host, te(" Chunked ")]), None);
        assert_eq!(r("POST", None, &[host, te("gzip, chunked")]), Some(501));
        assert_eq!(
            r("POST", None, &[host, te("gzip"), te("chunked")]),
            Some(501)
        );
        assert_eq!(r("POST", None, &[host, te("chunked, chunked")]), Some(400));
        assert_eq!(
            r("POST", None, &[host, te("chunked"), te("chunked")]),
            Some(400)
        );
        assert_eq!(r("GET", None, &[]), Some(400));
        assert_eq!(r("GET", None, &[host, host]), Some(400));
        for bad in ["", "a b", "a/b", "user@a", "a:b", "[::1", "a:123456"] {
            assert_eq!(r("GET", None, &[("Host", bad)]), Some(400), "{bad:?}");
        }
        assert_eq!(
            r(
                "GET",
                None,
                &[host, ("Origin", "https://a"), ("Origin", "https://b")]
            ),
            Some(400)
        );
        assert_eq!(
            r(
                "OPTIONS",
                None,
                &[
                    host,
                    ("Access-Control-Request-Method", "PUT"),
                    ("Access-Control-Request-Method", "GET")
                ]
            ),
            Some(400)
        );
        assert_eq!(
            r("GET", None, &[host, ("Connection", "keep-alive, Origin")]),
            Some(400)
        );
        assert_eq!(
            r(
                "GET",
                None,
                &[host, ("Connection", "access-control-request-headers")]
            ),
            Some(400)
        );
        assert_eq!(
            r(
                "GET",
                None,
                &[host, ("Connection", "keep-alive, x-private")]
            ),
            None
        );
        assert_eq!(
            r(
                "POST",
                None,
                &[host, ("Content-Length", "18446744073709551615")]
            ),
            None
        );
        assert_eq!(
            r(
                "POST",
                None,
                &[host, ("Content-Length", "18446744073709551616")]
            ),
            Some(400)
        );
        assert_eq!(
            r(
                "POST",
                None,
                &[host, ("Content-Length", "99999999999999999999999")]
            ),
            Some(400)
        );
        // HTTP/2: :authority stands for Host; a host that differs is refused.
        assert_eq!(r("GET", Some("api.example.com"), &[]), None);
        assert_eq!(r("GET", Some("api.example.com"), &[host]), None);
        assert_eq!(
            r("GET", Some("api.example.com"), &[("host", "evil.example")]),
            Some(400)
        );
    }
}
