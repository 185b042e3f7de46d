//! What a proxy needs to know of an upstream's response head, and how its body is delimited
//! (RFC 9112 §6.3).

use crate::{name_is, tokens};

/// How a response body is delimited (RFC 9112 §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No body: a `HEAD` answer, 1xx, 204, 304.
    None,
    /// `Content-Length`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Until the upstream closes the connection.
    UntilClose,
}

/// What a proxy needs to know of an upstream's response head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseFacts<'a> {
    /// How its body is delimited.
    pub framing: Framing,
    /// The upstream's connection cannot carry another request (it said close, spoke
    /// HTTP/1.0, or sent both framings).
    pub close: bool,
    /// It sent `Access-Control-Allow-Origin`.
    pub allow_origin: bool,
    /// Some `Vary` lists `Origin` (or `*`).
    pub varies_on_origin: bool,
    /// How many `Vary` lines.
    pub vary_lines: usize,
    /// It sent `Date`.
    pub date: bool,
    /// Header names its `Connection` header lists (hop-by-hop, never forwarded).
    pub connection_options: Vec<&'a [u8]>,
}

/// Reads an upstream's response head; `Err` when its framing is ambiguous (conflicting
/// `Content-Length` values), which a proxy answers with 502.
pub fn inspect_response<'a>(
    status: u16,
    minor: u8,
    head_request: bool,
    headers: impl Iterator<Item = (&'a [u8], &'a [u8])>,
) -> Result<ResponseFacts<'a>, &'static str> {
    let mut facts = ResponseFacts {
        framing: Framing::UntilClose,
        close: minor != 1,
        allow_origin: false,
        varies_on_origin: false,
        vary_lines: 0,
        date: false,
        connection_options: Vec::new(),
    };
    let (mut encoded, mut chunked, mut length, mut bad_length) = (false, false, None, false);
    for (n, v) in headers {
        if name_is(n, "transfer-encoding") {
            encoded = true;
            // Chunked must be the last coding; anything else is delimited by the close.
            chunked = tokens(v)
                .last()
                .is_some_and(|t| t.eq_ignore_ascii_case(b"chunked"));
        } else if name_is(n, "content-length") {
            let parsed = (!v.is_empty() && v.len() <= 18 && v.iter().all(u8::is_ascii_digit))
                .then(|| v.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')));
            match parsed {
                Some(l) if length.is_none_or(|old| old == l) => length = Some(l),
                _ => bad_length = true,
            }
        } else if name_is(n, "connection") {
            for t in tokens(v) {
                if t.eq_ignore_ascii_case(b"close") {
                    facts.close = true;
                } else if !t.eq_ignore_ascii_case(b"keep-alive") {
                    facts.connection_options.push(t);
                }
            }
        } else if name_is(n, "access-control-allow-origin") {
            facts.allow_origin = true;
        } else if name_is(n, "vary") {
            facts.vary_lines += 1;
            if tokens(v).any(|t| t == b"*" || t.eq_ignore_ascii_case(b"origin")) {
                facts.varies_on_origin = true;
            }
        } else if name_is(n, "date") {
            facts.date = true;
        }
    }
    facts.framing = if head_request || status == 204 || status == 304 || status < 200 {
        Framing::None
    } else if encoded {
        // Both framings: the chunked one wins, and the connection is not trusted again.
        facts.close |= length.is_some() || bad_length;
        if chunked {
            Framing::Chunked
        } else {
            Framing::UntilClose
        }
    } else if bad_length {
        return Err("conflicting or malformed Content-Length headers");
    } else {
        length.map_or(Framing::UntilClose, Framing::Length)
    };
    if facts.framing == Framing::UntilClose {
        facts.close = true;
    }
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inspect<'a>(
        status: u16,
        head: bool,
        headers: &'a [(&'a str, &'a str)],
    ) -> Result<ResponseFacts<'a>, &'static str> {
        inspect_response(
            status,
            1,
            head,
            headers.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())),
        )
    }

    #[test]
    fn response_framing_follows_rfc_9112() {
        let f = |status, head, h| inspect(status, head, h).unwrap().framing;
        assert_eq!(
            f(200, false, &[("Content-Length", "5")]),
            Framing::Length(5)
        );
        assert_eq!(f(200, true, &[("Content-Length", "5")]), Framing::None);
        assert_eq!(f(204, false, &[]), Framing::None);
        assert_eq!(f(304, false, &[("Content-Length", "5")]), Framing::None);
        assert_eq!(
            f(200, false, &[("Transfer-Encoding", "gzip, chunked")]),
            Framing::Chunked
        );
        assert_eq!(
            f(200, false, &[("Transfer-Encoding", "chunked, gzip")]),
            Framing::UntilClose
        );
        assert_eq!(f(200, false, &[]), Framing::UntilClose);
        assert_eq!(
            f(
                200,
                false,
                &[("Content-Length", "5"), ("Content-Length", "5")]
            ),
            Framing::Length(5)
        );
        assert!(inspect(
            200,
            false,
            &[("Content-Length", "5"), ("Content-Length", "6")]
        )
        .is_err());
        assert!(inspect(200, false, &[("Content-Length", "-1")]).is_err());
        // Both framings: chunked wins, and the connection is not reused.
        let both = inspect(
            200,
            false,
            &[("Content-Length", "5"), ("Transfer-Encoding", "chunked")],
        )
        .unwrap();
        assert_eq!((both.framing, both.close), (Framing::Chunked, true));
        let r = inspect(
            200,
            false,
            &[
                ("Content-Length", "2"),
                ("Connection", "keep-alive, X-Private"),
                ("Vary", "Accept-Encoding"),
                ("Vary", "origin"),
                ("Access-Control-Allow-Origin", "*"),
            ],
        )
        .unwrap();
        assert!(!r.close && r.allow_origin && r.varies_on_origin && !r.date);
        assert_eq!(
            (r.vary_lines, r.connection_options),
            (2, vec![&b"X-Private"[..]])
        );
        assert!(
            inspect(
                200,
                false,
                &[("Connection", "close"), ("Content-Length", "0")]
            )
            .unwrap()
            .close
        );
        assert!(
            inspect_response(200, 0, false, std::iter::empty())
                .unwrap()
                .close
        );
    }
}
