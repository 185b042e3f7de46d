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
            // Digits only: no sign, no list, no spaces (httparse trims the ends).
            if v.is_empty() || v.len() > 18 || !v.iter().all(u8::is_ascii_digit) {
                return RequestRoute::Elsewhere;
            }
            facts.content_length = v.iter().fold(0, |n, d| n * 10 + u64::from(d - b'0'));
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
            (
                &[("Content-Length", "99999999999999999999")],
                1,
                "POST",
                "/a",
            ),
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
}
