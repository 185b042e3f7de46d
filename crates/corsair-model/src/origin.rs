//! Origins: parse, serialise and compare them as browsers do
//! (<https://html.spec.whatwg.org/multipage/browsers.html#origin>,
//! <https://html.spec.whatwg.org/multipage/browsers.html#ascii-serialisation-of-an-origin>).
//!
//! Parsing goes through the WHATWG URL parser (the `url` crate), so hosts come out lowercased,
//! IDNA-encoded to ASCII, IPv4 in dotted-decimal and IPv6 compressed, with the default port elided.

use serde::Serialize;
use std::fmt;
use url::{Host, Url};

/// An origin: a (scheme, host, port) tuple, or an opaque origin that serialises as `null`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    /// An opaque origin (a sandboxed iframe, a `data:` URL, a cross-origin redirect's taint).
    Opaque,
    /// A tuple origin.
    Tuple(TupleOrigin),
}

/// The (scheme, host, port) of a tuple origin, already in canonical form.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct TupleOrigin {
    /// Lowercase scheme, without `:`.
    pub scheme: String,
    /// Host as serialised in a URL: ASCII (punycode) domain, dotted IPv4, or `[v6]`.
    pub host: String,
    /// The port, or `None` when it is the scheme's default.
    pub port: Option<u16>,
    /// The port the connection really uses (the scheme's default when `port` is `None`).
    pub effective_port: Option<u16>,
}

/// One of the three parts of an origin tuple.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Part {
    /// The scheme (`http` vs `https`).
    Scheme,
    /// The host (`example.com` vs `www.example.com`).
    Host,
    /// The port (`:3000` vs `:8080`; an absent port means the scheme's default).
    Port,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Scheme => "scheme",
            Part::Host => "host",
            Part::Port => "port",
        })
    }
}

/// Why a string is not an origin.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OriginError {
    /// The input is empty.
    #[error("the origin is empty: give a URL such as https://app.example.com")]
    Empty,
    /// The URL parser refused the input.
    #[error(
        "'{input}' is not a URL ({reason}): write it as scheme://host[:port], e.g. \
        https://app.example.com"
    )]
    Invalid {
        /// What was given.
        input: String,
        /// What the URL parser said.
        reason: String,
    },
    /// The input is a host (and port) without a scheme: `localhost:5173` would otherwise be
    /// read as a URL whose scheme is `localhost`, whose origin is `null`.
    #[error("'{input}' has no scheme, so it is not an origin; did you mean {suggestion}?")]
    MissingScheme {
        /// What was given.
        input: String,
        /// The origin it most likely means (`http://` for loopback hosts, else `https://`).
        suggestion: String,
    },
    /// The input names an origin but is not its serialisation, which is what browsers send.
    #[error(
        "'{input}' {problems}, so it is not an origin as browsers send it; did you mean \
        {canonical}?"
    )]
    NotSerialized {
        /// What was given.
        input: String,
        /// What is wrong with it, in words.
        problems: String,
        /// The serialised origin.
        canonical: String,
    },
}

/// The origin `text` means when a user left out the scheme (`localhost:5173`,
/// `app.example.com`), if it reads as `host[:port][/path]`.
fn without_scheme(text: &str) -> Option<String> {
    let url = Url::parse(&format!("http://{text}")).ok()?;
    let host = crate::host::Host::parse(url.host_str()?).ok()?;
    let scheme = if host.is_loopback() { "http" } else { "https" };
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    Some(format!("{scheme}://{host}{port}"))
}

/// Something in an origin string that a browser would never send in an `Origin` header: the
/// string still names an origin, but not in its serialised form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "problem")]
pub enum Spelling {
    /// A path, even just `/`.
    Path,
    /// A `?query`.
    Query,
    /// A `#fragment`.
    Fragment,
    /// `user:password@`.
    Userinfo,
    /// `:443` on https or `:80` on http.
    DefaultPort,
    /// Uppercase letters in the scheme or host.
    Uppercase,
    /// A non-ASCII host not written in punycode.
    NonAscii,
    /// Anything else the serialisation changes (IPv4 shorthand, IPv6 zeros).
    NotCanonical,
}

impl Spelling {
    /// What is wrong, in words.
    pub fn describe(&self) -> &'static str {
        match self {
            Spelling::Path => "has a path (an origin has none, not even a trailing '/')",
            Spelling::Query => "has a query string",
            Spelling::Fragment => "has a fragment",
            Spelling::Userinfo => "has a user name or password",
            Spelling::DefaultPort => "spells out the scheme's default port",
            Spelling::Uppercase => {
                "has uppercase letters (browsers send scheme and host in lowercase)"
            }
            Spelling::NonAscii => "has a non-ASCII host (browsers send it in punycode)",
            Spelling::NotCanonical => "is not in canonical form",
        }
    }
}

impl Origin {
    /// The origin of a URL, as a browser computes it: `http(s)`, `ws(s)` and `ftp` URLs give a
    /// tuple; every other scheme (`data:`, `file:`, `about:`) gives an opaque origin.
    pub fn of_url(url: &Url) -> Origin {
        match url.origin() {
            url::Origin::Opaque(_) => Origin::Opaque,
            url::Origin::Tuple(scheme, host, port) => {
                let default = default_port(&scheme);
                let host = match host {
                    Host::Domain(d) => d,
                    Host::Ipv4(a) => a.to_string(),
                    Host::Ipv6(a) => format!("[{a}]"),
                };
                Origin::Tuple(TupleOrigin {
                    scheme,
                    host,
                    port: if Some(port) == default {
                        None
                    } else {
                        Some(port)
                    },
                    effective_port: Some(port),
                })
            }
        }
    }

    /// Parses anything a user may type for an origin: `null`, a serialised origin, or a whole URL
    /// (whose path and query are ignored). Use [`Origin::spelling`] to learn what was normalised.
    pub fn parse_lenient(input: &str) -> Result<Origin, OriginError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(OriginError::Empty);
        }
        if trimmed == "null" {
            return Ok(Origin::Opaque);
        }
        let missing_scheme = || {
            without_scheme(trimmed).map(|suggestion| OriginError::MissingScheme {
                input: trimmed.to_string(),
                suggestion,
            })
        };
        let url = match Url::parse(trimmed) {
            Ok(u) => u,
            Err(url::ParseError::RelativeUrlWithoutBase) => {
                return Err(missing_scheme().unwrap_or_else(|| OriginError::Invalid {
                    input: trimmed.to_string(),
                    reason: url::ParseError::RelativeUrlWithoutBase.to_string(),
                }))
            }
            Err(e) => {
                return Err(OriginError::Invalid {
                    input: trimmed.to_string(),
                    reason: e.to_string(),
                })
            }
        };
        // `localhost:5173` parses as scheme `localhost` with path `5173`: a port where a path
        // would be means the scheme was left out.
        if url.cannot_be_a_base() && !matches!(url.scheme(), "tel" | "mailto" | "sms" | "urn") {
            let rest = url.path();
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0 && matches!(rest.as_bytes().get(digits), None | Some(b'/')) {
                if let Some(e) = missing_scheme() {
                    return Err(e);
                }
            }
        }
        Ok(Origin::of_url(&url))
    }

    /// Parses an origin as browsers send it in the `Origin` header: a serialised tuple origin or
    /// the literal `null`, nothing else. Anything that names an origin in another spelling (a
    /// path, a trailing slash, upper case, a default port, spaces) is an error that names the
    /// serialised form, so a typo never turns into a different origin silently.
    pub fn parse_serialized(input: &str) -> Result<Origin, OriginError> {
        if input == "null" {
            return Ok(Origin::Opaque);
        }
        let (origin, spelling) = Origin::spelling(input)?;
        let mut problems: Vec<&str> = Vec::new();
        if input.trim() != input {
            problems.push("has spaces around it");
        }
        problems.extend(spelling.iter().map(Spelling::describe));
        if origin.is_opaque() {
            problems.push("has an opaque origin (only the literal null stands for one)");
        }
        if problems.is_empty() {
            return Ok(origin);
        }
        Err(OriginError::NotSerialized {
            input: input.to_string(),
            problems: problems.join(", "),
            canonical: origin.to_string(),
        })
    }

    /// The differences between how `input` is written and the origin's serialisation, each a
    /// reason a strict comparison (`Access-Control-Allow-Origin`, an allowlist) would fail.
    pub fn spelling(input: &str) -> Result<(Origin, Vec<Spelling>), OriginError> {
        let origin = Origin::parse_lenient(input)?;
        let trimmed = input.trim();
        let serial = origin.to_string();
        if serial == trimmed {
            return Ok((origin, Vec::new()));
        }
        let url = Url::parse(trimmed).map_err(|e| OriginError::Invalid {
            input: trimmed.to_string(),
            reason: e.to_string(),
        })?;
        let mut out = Vec::new();
        let after_scheme = trimmed.split_once("://").map(|x| x.1).unwrap_or("");
        let authority_end = after_scheme
            .find(['/', '?', '#'])
            .unwrap_or(after_scheme.len());
        let authority = &after_scheme[..authority_end];
        let rest = &after_scheme[authority_end..];
        if rest.starts_with('/') {
            out.push(Spelling::Path);
        }
        if url.query().is_some() {
            out.push(Spelling::Query);
        }
        if url.fragment().is_some() {
            out.push(Spelling::Fragment);
        }
        if authority.contains('@') {
            out.push(Spelling::Userinfo);
        }
        let host_port = authority.rsplit('@').next().unwrap_or("");
        if let Some(p) = port_text(host_port) {
            if url.port().is_none() && !p.is_empty() {
                out.push(Spelling::DefaultPort);
            }
        }
        let scheme_text = trimmed.split("://").next().unwrap_or("");
        if scheme_text.bytes().any(|b| b.is_ascii_uppercase())
            || host_port.bytes().any(|b| b.is_ascii_uppercase())
        {
            out.push(Spelling::Uppercase);
        }
        if !host_port.is_ascii() {
            out.push(Spelling::NonAscii);
        }
        if out.is_empty() {
            out.push(Spelling::NotCanonical);
        }
        Ok((origin, out))
    }

    /// Whether the origin is potentially trustworthy, so a page on it is a secure context
    /// (<https://w3c.github.io/webappsec-secure-contexts/#is-origin-trustworthy>): https, or a
    /// loopback host (decided on the parsed host).
    pub fn is_potentially_trustworthy(&self) -> bool {
        self.tuple().is_some_and(|t| {
            t.scheme == "https" || crate::host::Host::parse(&t.host).is_ok_and(|h| h.is_loopback())
        })
    }

    /// Whether this is an opaque origin.
    pub fn is_opaque(&self) -> bool {
        matches!(self, Origin::Opaque)
    }

    /// The tuple, unless opaque.
    pub fn tuple(&self) -> Option<&TupleOrigin> {
        match self {
            Origin::Opaque => None,
            Origin::Tuple(t) => Some(t),
        }
    }

    /// Whether two origins are the same origin
    /// (<https://html.spec.whatwg.org/multipage/browsers.html#same-origin>). Two opaque origins
    /// built from text are never known to be the same one, so this says `false` for them.
    pub fn same_origin(&self, other: &Origin) -> bool {
        match (self, other) {
            (Origin::Tuple(a), Origin::Tuple(b)) => self.differences(other).is_empty() && a == b,
            _ => false,
        }
    }

    /// Which parts differ between two tuple origins (empty when they are the same origin).
    /// An opaque origin differs from everything in every part.
    pub fn differences(&self, other: &Origin) -> Vec<Part> {
        match (self, other) {
            (Origin::Tuple(a), Origin::Tuple(b)) => {
                let mut parts = Vec::new();
                if a.scheme != b.scheme {
                    parts.push(Part::Scheme);
                }
                if a.host != b.host {
                    parts.push(Part::Host);
                }
                if a.effective_port != b.effective_port {
                    parts.push(Part::Port);
                }
                parts
            }
            _ => vec![Part::Scheme, Part::Host, Part::Port],
        }
    }
}

/// The default port of a special scheme (<https://url.spec.whatwg.org/#default-port>).
fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "ftp" => Some(21),
        _ => None,
    }
}

/// The text after the host's last `:` when it is a port (IPv6 brackets respected).
fn port_text(host_port: &str) -> Option<&str> {
    let after_bracket = match host_port.rfind(']') {
        Some(i) => &host_port[i + 1..],
        None => host_port,
    };
    after_bracket.rfind(':').map(|i| &after_bracket[i + 1..])
}

impl fmt::Display for Origin {
    /// The ASCII serialisation a browser puts in the `Origin` header.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Opaque => f.write_str("null"),
            Origin::Tuple(t) => {
                write!(f, "{}://{}", t.scheme, t.host)?;
                if let Some(p) = t.port {
                    write!(f, ":{p}")?;
                }
                Ok(())
            }
        }
    }
}

impl Serialize for Origin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ser(s: &str) -> String {
        Origin::parse_lenient(s).unwrap().to_string()
    }

    #[test]
    fn serialises_like_browsers() {
        assert_eq!(
            ser("https://Example.COM:443/path?q#f"),
            "https://example.com"
        );
        assert_eq!(ser("http://example.com:80"), "http://example.com");
        assert_eq!(ser("http://example.com:8080/"), "http://example.com:8080");
        assert_eq!(
            ser("https://bücher.example"),
            "https://xn--bcher-kva.example"
        );
        assert_eq!(ser("http://0x7f.1/"), "http://127.0.0.1");
        assert_eq!(ser("http://[0:0:0:0:0:0:0:1]:3000"), "http://[::1]:3000");
        assert_eq!(ser("null"), "null");
        assert_eq!(ser("data:text/plain,hi"), "null");
        assert_eq!(ser("file:///etc/hosts"), "null");
    }

    #[test]
    fn rejects_non_urls() {
        assert_eq!(Origin::parse_lenient(""), Err(OriginError::Empty));
        assert!(matches!(
            Origin::parse_lenient("example.com"),
            Err(OriginError::MissingScheme { .. })
        ));
        assert!(matches!(
            Origin::parse_lenient("http://exa mple.com"),
            Err(OriginError::Invalid { .. })
        ));
        assert!(matches!(
            Origin::parse_lenient("http://"),
            Err(OriginError::Invalid { .. })
        ));
    }

    #[test]
    fn same_origin_names_the_differing_part() {
        let a = Origin::parse_lenient("https://example.com").unwrap();
        let cases = [
            ("https://example.com:443/x", vec![]),
            ("http://example.com", vec![Part::Scheme, Part::Port]),
            ("https://www.example.com", vec![Part::Host]),
            ("https://example.com:8443", vec![Part::Port]),
        ];
        for (other, parts) in cases {
            let b = Origin::parse_lenient(other).unwrap();
            assert_eq!(a.differences(&b), parts, "{other}");
            assert_eq!(a.same_origin(&b), parts.is_empty(), "{other}");
        }
        assert!(!Origin::Opaque.same_origin(&Origin::Opaque));
    }

    #[test]
    fn spelling_reports_what_a_browser_would_not_send() {
        let check = |s: &str| Origin::spelling(s).unwrap().1;
        assert!(check("https://example.com").is_empty());
        assert_eq!(check("https://example.com/"), vec![Spelling::Path]);
        assert_eq!(
            check("https://example.com:443"),
            vec![Spelling::DefaultPort]
        );
        assert_eq!(check("https://Example.com"), vec![Spelling::Uppercase]);
        assert_eq!(check("https://u:p@example.com"), vec![Spelling::Userinfo]);
        assert_eq!(check("https://example.com?x"), vec![Spelling::Query]);
        assert_eq!(check("https://bücher.example"), vec![Spelling::NonAscii]);
        assert_eq!(check("http://[::0:1]"), vec![Spelling::NotCanonical]);
    }

    /// Issue 11, finding 9: a typo in an origin is an error naming the likely origin.
    #[test]
    fn regression_an_origin_without_scheme_is_an_error() {
        for (input, suggestion) in [
            ("localhost:5173", "http://localhost:5173"),
            ("localhost", "http://localhost"),
            ("127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("app.example.com", "https://app.example.com"),
            ("app.example.com:8443/x", "https://app.example.com:8443"),
        ] {
            assert_eq!(
                Origin::parse_lenient(input),
                Err(OriginError::MissingScheme {
                    input: input.into(),
                    suggestion: suggestion.into()
                }),
                "{input}"
            );
        }
        assert_eq!(ser("data:text/plain,hi"), "null");
        assert_eq!(ser("about:blank"), "null");
        assert_eq!(ser("tel:123"), "null");
    }

    #[test]
    fn regression_only_the_serialised_form_is_an_origin() {
        for (input, canonical) in [
            ("https://app.example.com/", "https://app.example.com"),
            ("https://App.example.com", "https://app.example.com"),
            ("https://app.example.com:443", "https://app.example.com"),
            ("https://app.example.com/path", "https://app.example.com"),
            (" https://app.example.com", "https://app.example.com"),
            ("data:text/plain,x", "null"),
        ] {
            match Origin::parse_serialized(input) {
                Err(OriginError::NotSerialized { canonical: c, .. }) => {
                    assert_eq!(c, canonical, "{input}")
                }
                other => panic!("{input}: {other:?}"),
            }
        }
        assert_eq!(Origin::parse_serialized("null"), Ok(Origin::Opaque));
        assert_eq!(
            Origin::parse_serialized("http://localhost:5173")
                .unwrap()
                .to_string(),
            "http://localhost:5173"
        );
        assert!(matches!(
            Origin::parse_serialized("localhost:5173"),
            Err(OriginError::MissingScheme { .. })
        ));
    }
}
