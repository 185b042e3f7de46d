//! HTTP/1.1 message framing (RFC 9112 §6) for `corsair serve`'s own proxy path: which requests
//! that path takes, how an upstream response's body is delimited, and a strict chunked decoder
//! that re-encodes what it reads. Headers come in as (name, value) byte pairs as a parser such
//! as httparse found them (names are tokens, values have no CR or LF).

/// Whether header name `a` is `b` (given in lowercase).
pub fn name_is(a: &[u8], b: &str) -> bool {
    a.len() == b.len() && a.eq_ignore_ascii_case(b.as_bytes())
}

fn tokens(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(<[u8]>::trim_ascii)
        .filter(|t| !t.is_empty())
}

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

/// A chunked body reader that re-encodes the data it reads for the other side (extensions and
/// trailers are dropped). Strict: CRLF line ends, at most 16 hex digits a size, extensions and
/// trailers at most 16 KiB in all.
#[derive(Debug, Default)]
pub struct Chunked {
    state: ChunkState,
    size: u64,
    digits: u8,
    skipped: usize,
}

#[derive(Debug, Default, PartialEq)]
enum ChunkState {
    #[default]
    Size,
    Ext,
    SizeLf,
    Data,
    DataCr,
    DataLf,
    TrailerStart,
    Trailer,
    TrailerLf,
    FinalLf,
    Done,
}

/// Bytes of chunk extensions and trailers a body may carry.
pub const MAX_CHUNK_EXTRA: usize = 16 * 1024;

impl Chunked {
    /// Reads what it can of `input`, appending the re-encoded chunks to `out`. Returns how many
    /// bytes it used and whether the body is complete (the bytes after it are the next
    /// message's).
    pub fn decode(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(usize, bool), &'static str> {
        use ChunkState::*;
        let mut i = 0;
        while i < input.len() {
            if self.state == Data {
                let n = ((input.len() - i) as u64).min(self.size) as usize;
                out.extend_from_slice(&input[i..i + n]);
                i += n;
                self.size -= n as u64;
                if self.size == 0 {
                    out.extend_from_slice(b"\r\n");
                    self.state = DataCr;
                }
                continue;
            }
            let b = input[i];
            i += 1;
            self.state = match (&self.state, b) {
                (Size, b) if b.is_ascii_hexdigit() => {
                    if self.digits == 16 {
                        return Err("a chunk size over 16 hex digits");
                    }
                    self.digits += 1;
                    let d = (b as char).to_digit(16).unwrap_or(0);
                    self.size = (self.size << 4) | u64::from(d);
                    Size
                }
                (Size, b';' | b' ' | b'\t') if self.digits > 0 => Ext,
                (Size, b'\r') if self.digits > 0 => SizeLf,
                (Size, _) => return Err("a malformed chunk size"),
                (Ext, b'\r') => SizeLf,
                (Ext, b'\n') => return Err("a bare LF in a chunk extension"),
                (Ext, _) => {
                    self.skip()?;
                    Ext
                }
                (SizeLf, b'\n') => {
                    self.digits = 0;
                    if self.size == 0 {
                        TrailerStart
                    } else {
                        out.extend_from_slice(format!("{:x}\r\n", self.size).as_bytes());
                        Data
                    }
                }
                (DataCr, b'\r') => DataLf,
                (DataLf, b'\n') => Size,
                (TrailerStart, b'\r') => FinalLf,
                (TrailerStart | Trailer, b'\n') => return Err("a bare LF in the trailers"),
                (Trailer, b'\r') => TrailerLf,
                (TrailerStart | Trailer, _) => {
                    self.skip()?;
                    Trailer
                }
                (TrailerLf, b'\n') => TrailerStart,
                (FinalLf, b'\n') => {
                    out.extend_from_slice(b"0\r\n\r\n");
                    self.state = Done;
                    return Ok((i, true));
                }
                _ => return Err("malformed chunked framing"),
            };
        }
        Ok((i, self.state == Done))
    }

    fn skip(&mut self) -> Result<(), &'static str> {
        self.skipped += 1;
        if self.skipped > MAX_CHUNK_EXTRA {
            return Err("chunk extensions or trailers over 16 KiB");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_split(input: &[u8]) -> Result<(bool, Vec<u8>, usize), &'static str> {
        // Byte by byte, as the worst split of reads would deliver it.
        let mut dec = Chunked::default();
        let mut out = Vec::new();
        for (i, b) in input.iter().enumerate() {
            let (used, done) = dec.decode(std::slice::from_ref(b), &mut out)?;
            assert_eq!(used, 1);
            if done {
                return Ok((true, out, input.len() - i - 1));
            }
        }
        Ok((false, out, 0))
    }

    #[test]
    fn chunked_bodies_are_decoded_and_re_encoded_whatever_the_reads() {
        let (done, out, left) =
            decode_split(b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nx-trailer: 1\r\n\r\nNEXT")
                .unwrap();
        assert!(done);
        assert_eq!(out, b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
        assert_eq!(left, 4, "bytes after the body are the next message's");
        let mut out = Vec::new();
        let whole = b"A\r\n0123456789\r\n0\r\n\r\nGET";
        assert_eq!(
            Chunked::default().decode(whole, &mut out),
            Ok((whole.len() - 3, true))
        );
        assert_eq!(out, b"a\r\n0123456789\r\n0\r\n\r\n");
        assert!(
            !decode_split(b"5\r\nhel").unwrap().0,
            "an unfinished body is not done"
        );
    }

    #[test]
    fn malformed_chunked_framing_is_refused() {
        for bad in [
            &b"x\r\nhello\r\n0\r\n\r\n"[..],
            b"\r\n",
            b"5\nhello\r\n0\r\n\r\n",
            b"5\r\nhelloXX0\r\n\r\n",
            b"11111111111111111\r\n",
            b"-5\r\nhello\r\n",
            b"0\r\nbad\ntrailer\r\n\r\n",
        ] {
            assert!(
                decode_split(bad).is_err(),
                "{:?} should be refused",
                String::from_utf8_lossy(bad)
            );
        }
        let mut long_ext = b"1;".to_vec();
        long_ext.extend(std::iter::repeat_n(b'a', MAX_CHUNK_EXTRA + 1));
        assert!(decode_split(&long_ext).is_err());
    }

    /// A small deterministic generator for the randomized tests.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n) as usize
        }
    }

    /// The data of a chunked body this decoder wrote (plain sizes, no extensions).
    fn unframe(mut b: &[u8]) -> Vec<u8> {
        let mut data = Vec::new();
        loop {
            let eol = b.windows(2).position(|w| w == b"\r\n").unwrap();
            let n = usize::from_str_radix(std::str::from_utf8(&b[..eol]).unwrap(), 16).unwrap();
            if n == 0 {
                return data;
            }
            data.extend_from_slice(&b[eol + 2..eol + 2 + n]);
            b = &b[eol + 2 + n + 2..];
        }
    }

    #[test]
    fn random_chunked_bodies_decode_the_same_however_they_are_split() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..500 {
            let mut wire = Vec::new();
            let mut data = Vec::new();
            for _ in 0..rng.below(6) {
                let n = 1 + rng.below(3000);
                let chunk: Vec<u8> = (0..n).map(|_| rng.below(256) as u8).collect();
                let size = if rng.below(2) == 0 {
                    format!("{n:x}")
                } else {
                    format!("{n:X}")
                };
                wire.extend_from_slice(size.as_bytes());
                if rng.below(3) == 0 {
                    wire.extend_from_slice(b";name=\"va;lue\"");
                }
                wire.extend_from_slice(b"\r\n");
                wire.extend_from_slice(&chunk);
                wire.extend_from_slice(b"\r\n");
                data.extend_from_slice(&chunk);
            }
            wire.extend_from_slice(b"0\r\n");
            if rng.below(2) == 0 {
                wire.extend_from_slice(b"x-checksum: 1\r\n");
            }
            wire.extend_from_slice(b"\r\n");
            let mut dec = Chunked::default();
            let mut out = Vec::new();
            let mut rest = &wire[..];
            let mut done = false;
            while !rest.is_empty() {
                let n = 1 + rng.below(rest.len() as u64);
                let (used, d) = dec.decode(&rest[..n], &mut out).unwrap();
                assert!(used == n || d);
                rest = &rest[n..];
                done = d;
            }
            assert!(done);
            let mut again = Vec::new();
            assert_eq!(
                Chunked::default().decode(&out, &mut again),
                Ok((out.len(), true))
            );
            assert_eq!(again, out, "a re-encoding is its own re-encoding");
            assert_eq!(unframe(&out), data);
        }
    }

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
