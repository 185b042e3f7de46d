//! Request and response heads (RFC 9112 §2-5), parsed once with httparse and kept as offsets
//! into a copy of their bytes, so a head outlives the read buffer it came from: no reparse, no
//! shared buffer to allocate.

use crate::request::{route_request, RequestFacts, RequestRoute};

/// Most header lines in a request or response head (hyper's limit too).
pub const MAX_HEADERS: usize = 100;

/// Where a slice of a head lies in its bytes.
type Span = (u32, u32);

/// A parsed head: a request's method, target and headers, or a response's status, reason and
/// headers.
#[derive(Clone, Debug, Default)]
pub struct Head {
    bytes: Vec<u8>,
    /// The method of a request, the reason phrase of a response.
    first: Span,
    /// The target of a request.
    target: Span,
    /// A response's status code.
    code: u16,
    /// The minor HTTP version.
    version: u8,
    headers: Vec<(Span, Span)>,
}

impl Head {
    /// Copies `src[..len]` and the offsets of the parts httparse found in it.
    fn fill(
        &mut self,
        src: &[u8],
        len: usize,
        first: &[u8],
        target: &[u8],
        headers: &[httparse::Header<'_>],
    ) {
        let base = src.as_ptr() as usize;
        let span = |s: &[u8]| -> Span {
            if s.is_empty() {
                (0, 0)
            } else {
                ((s.as_ptr() as usize - base) as u32, s.len() as u32)
            }
        };
        self.first = span(first);
        self.target = span(target);
        self.headers.clear();
        self.headers.extend(
            headers
                .iter()
                .map(|h| (span(h.name.as_bytes()), span(h.value))),
        );
        self.bytes.clear();
        self.bytes.extend_from_slice(&src[..len]);
    }

    #[inline]
    fn get(&self, s: Span) -> &[u8] {
        &self.bytes[s.0 as usize..(s.0 + s.1) as usize]
    }

    /// A part httparse checked to be a token or ASCII text.
    #[inline]
    fn str(&self, s: Span) -> &str {
        std::str::from_utf8(self.get(s)).unwrap_or("")
    }

    /// A request's method.
    #[inline]
    pub fn method(&self) -> &str {
        self.str(self.first)
    }

    /// A request's target (origin-form on the proxy path: the path and query).
    #[inline]
    pub fn target(&self) -> &str {
        self.str(self.target)
    }

    /// A response's reason phrase, as sent.
    #[inline]
    pub fn reason(&self) -> &[u8] {
        self.get(self.first)
    }

    /// A response's status code.
    #[inline]
    pub fn code(&self) -> u16 {
        self.code
    }

    /// The minor HTTP/1 version.
    #[inline]
    pub fn version(&self) -> u8 {
        self.version
    }

    /// (name, value) pairs in order; names are tokens, compared with [`crate::name_is`].
    #[inline]
    pub fn headers(&self) -> impl Iterator<Item = (&[u8], &[u8])> + Clone + '_ {
        self.headers
            .iter()
            .map(|&(n, v)| (self.get(n), self.get(v)))
    }
}

fn uninit_headers<'b>() -> [std::mem::MaybeUninit<httparse::Header<'b>>; MAX_HEADERS] {
    [const { std::mem::MaybeUninit::uninit() }; MAX_HEADERS]
}

/// What the start of a client's read buffer holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestParse {
    /// A whole request head of `len` bytes that the proxy path takes, now in the [`Head`].
    Ready {
        /// The head's length in bytes, to consume from the buffer.
        len: usize,
        /// What the head says of the body and the connection.
        facts: RequestFacts,
    },
    /// Not all of the head has arrived.
    Partial,
    /// A request for another implementation (HTTP/2's preface, or a head
    /// [`route_request`] sends elsewhere).
    Elsewhere,
    /// Not HTTP/1, or a smuggling attempt: 400.
    Malformed,
    /// Over `max_head` bytes or [`MAX_HEADERS`] lines: 431.
    TooLarge,
}

/// Parses the request head at the start of `buf` into `head`; `max_head` is the largest head
/// accepted, in bytes.
pub fn parse_request(buf: &[u8], max_head: usize, head: &mut Head) -> RequestParse {
    let mut hs = uninit_headers();
    let mut req = httparse::Request::new(&mut []);
    match req.parse_with_uninit_headers(buf, &mut hs) {
        Ok(httparse::Status::Complete(n)) if n > max_head => RequestParse::TooLarge,
        Ok(httparse::Status::Complete(len)) => {
            let (method, target) = (req.method.unwrap_or(""), req.path.unwrap_or(""));
            let route = route_request(
                req.version.unwrap_or(0),
                method,
                target,
                req.headers.iter().map(|h| (h.name.as_bytes(), h.value)),
            );
            match route {
                RequestRoute::Take(facts) => {
                    head.fill(buf, len, method.as_bytes(), target.as_bytes(), req.headers);
                    RequestParse::Ready { len, facts }
                }
                RequestRoute::Elsewhere => RequestParse::Elsewhere,
                RequestRoute::Refuse => RequestParse::Malformed,
            }
        }
        Ok(httparse::Status::Partial) if buf.len() > max_head => RequestParse::TooLarge,
        Ok(httparse::Status::Partial) => RequestParse::Partial,
        Err(httparse::Error::TooManyHeaders) => RequestParse::TooLarge,
        // HTTP/2 with prior knowledge ("PRI * HTTP/2.0").
        Err(httparse::Error::Version) if buf.starts_with(b"PRI ") => RequestParse::Elsewhere,
        Err(_) => RequestParse::Malformed,
    }
}

/// What the start of an upstream connection's read buffer holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseParse {
    /// An interim 1xx answer (not 101) of `len` bytes, to skip.
    Interim(usize),
    /// A final response head of `len` bytes, now in the [`Head`].
    Ready(usize),
    /// Not all of the head has arrived.
    Partial,
    /// Not an HTTP/1 response, or a head over `max_head` bytes: 502.
    NotHttp,
}

/// Parses the response head at the start of `buf` into `head`.
pub fn parse_response(buf: &[u8], max_head: usize, head: &mut Head) -> ResponseParse {
    let mut hs = uninit_headers();
    let mut resp = httparse::Response::new(&mut []);
    let parsed = httparse::ParserConfig::default()
        .parse_response_with_uninit_headers(&mut resp, buf, &mut hs);
    match parsed {
        Ok(httparse::Status::Complete(n)) => match resp.code {
            Some(c) if (100..200).contains(&c) && c != 101 => ResponseParse::Interim(n),
            Some(c) => {
                let reason = resp.reason.unwrap_or("");
                head.fill(buf, n, reason.as_bytes(), b"", resp.headers);
                head.code = c;
                head.version = resp.version.unwrap_or(0);
                ResponseParse::Ready(n)
            }
            None => ResponseParse::NotHttp,
        },
        Ok(httparse::Status::Partial) if buf.len() <= max_head => ResponseParse::Partial,
        _ => ResponseParse::NotHttp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_head_is_kept_after_its_buffer() {
        let mut head = Head::default();
        let wire =
            b"GET /a?b=1 HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\n\r\nNEXT".to_vec();
        let r = parse_request(&wire, 8192, &mut head);
        let len = wire.len() - 4;
        assert_eq!(
            r,
            RequestParse::Ready {
                len,
                facts: RequestFacts {
                    content_length: 0,
                    close: false
                }
            }
        );
        drop(wire);
        assert_eq!((head.method(), head.target()), ("GET", "/a?b=1"));
        let headers: Vec<_> = head.headers().collect();
        assert_eq!(
            headers,
            [
                (&b"Host"[..], &b"x"[..]),
                (b"Origin", b"https://app.example")
            ]
        );
    }

    #[test]
    fn request_heads_are_routed_or_refused() {
        let mut head = Head::default();
        let mut parse = |wire: &[u8], max| parse_request(wire, max, &mut head);
        assert_eq!(
            parse(b"GET / HTTP/1.1\r\nHost: x\r\n", 8192),
            RequestParse::Partial
        );
        assert_eq!(
            parse(b"GET / HTTP/1.1\r\nHost: x\r\n", 10),
            RequestParse::TooLarge
        );
        assert_eq!(
            parse(b"GET / HTTP/1.1\r\nHost: xxxxxxxxxxxx\r\n\r\n", 20),
            RequestParse::TooLarge
        );
        assert_eq!(
            parse(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 8192),
            RequestParse::Elsewhere
        );
        assert_eq!(
            parse(b"GET / HTTP/1.0\r\n\r\n", 8192),
            RequestParse::Elsewhere
        );
        assert_eq!(parse(b"\x16\x03\x01 hello", 8192), RequestParse::Malformed);
        assert_eq!(
            parse(
                b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
                8192
            ),
            RequestParse::Malformed
        );
        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            many.extend_from_slice(format!("x-{i}: 1\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(parse(&many, 1 << 20), RequestParse::TooLarge);
    }

    #[test]
    fn response_heads_skip_interim_answers() {
        let mut head = Head::default();
        let wire =
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Here\r\nContent-Length: 0\r\n\r\n";
        let ResponseParse::Interim(n) = parse_response(wire, 1024, &mut head) else {
            panic!("100 is interim")
        };
        assert_eq!(
            parse_response(&wire[n..], 1024, &mut head),
            ResponseParse::Ready(wire.len() - n)
        );
        assert_eq!(
            (head.code(), head.reason(), head.version()),
            (404, &b"Not Here"[..], 1)
        );
        assert_eq!(
            parse_response(b"HTTP/1.1 101 Switching\r\n\r\n", 1024, &mut head),
            ResponseParse::Ready(26),
            "101 is final: the caller refuses it"
        );
        assert_eq!(
            parse_response(b"HTTP/1.1 200 OK\r\n", 1024, &mut head),
            ResponseParse::Partial
        );
        assert_eq!(
            parse_response(b"HTTP/1.1 200 OK\r\n", 8, &mut head),
            ResponseParse::NotHttp
        );
        assert_eq!(
            parse_response(b"SSH-2.0-OpenSSH\r\n", 1024, &mut head),
            ResponseParse::NotHttp
        );
    }
}
