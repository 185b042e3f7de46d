//! Allowed-origin patterns: exact origins, subdomain wildcards on label boundaries, any-port
//! forms, and explicitly requested regular expressions, always anchored.
//!
//! Matching works on the `Origin` header's bytes as sent (a serialised origin,
//! <https://html.spec.whatwg.org/multipage/browsers.html#ascii-serialisation-of-an-origin>),
//! without allocating.

use regex::Regex;

/// One allowed-origin rule.
#[derive(Clone, Debug)]
pub enum OriginPattern {
    /// Exactly this serialised origin.
    Exact(String),
    /// `scheme://*.suffix[:port]`: any subdomain of `suffix`, at any depth, but not `suffix`
    /// itself. `port` is `None` for the scheme's default port, `Some(None)` for any port.
    Subdomain {
        /// `https`.
        scheme: String,
        /// `example.com` (lowercase ASCII).
        suffix: String,
        /// The port rule.
        port: PortRule,
    },
    /// `scheme://host:*`: this host on any port (typically `http://localhost:*`).
    AnyPort {
        /// `http`.
        scheme: String,
        /// `localhost`.
        host: String,
    },
    /// A regular expression over the whole serialised origin (compiled anchored: `^(?:re)$`).
    Regex(Regex),
}

/// Which ports a subdomain pattern accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortRule {
    /// Only the scheme's default port (no `:port` in the origin).
    Default,
    /// Only this port.
    Exact(u16),
    /// Any port.
    Any,
}

impl OriginPattern {
    /// Whether the serialised origin `origin` matches.
    pub fn matches(&self, origin: &str) -> bool {
        match self {
            OriginPattern::Exact(o) => o == origin,
            OriginPattern::Subdomain {
                scheme,
                suffix,
                port,
            } => {
                let Some(rest) = strip_scheme(origin, scheme) else {
                    return false;
                };
                let (host, p) = split_port(rest);
                let port_ok = match port {
                    PortRule::Default => p.is_none(),
                    PortRule::Exact(n) => p.and_then(|x| x.parse::<u16>().ok()) == Some(*n),
                    PortRule::Any => p.is_none_or(is_port),
                };
                port_ok && under(host, suffix)
            }
            OriginPattern::AnyPort { scheme, host } => {
                let Some(rest) = strip_scheme(origin, scheme) else {
                    return false;
                };
                let (h, p) = split_port(rest);
                h == host && p.is_none_or(is_port)
            }
            OriginPattern::Regex(r) => r.is_match(origin),
        }
    }
}

/// Whether a port as written in an origin is a number.
fn is_port(p: &str) -> bool {
    !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())
}

fn strip_scheme<'a>(origin: &'a str, scheme: &str) -> Option<&'a str> {
    origin.strip_prefix(scheme)?.strip_prefix("://")
}

/// Splits `host[:port]`, minding IPv6 brackets.
fn split_port(rest: &str) -> (&str, Option<&str>) {
    let search_from = rest.rfind(']').map_or(0, |i| i + 1);
    match rest[search_from..].rfind(':') {
        Some(i) => (&rest[..search_from + i], Some(&rest[search_from + i + 1..])),
        None => (rest, None),
    }
}

/// Whether `host` is a name strictly under `suffix`: it splits, at a dot, into one or more
/// labels and then exactly the suffix's labels (compared as one run, since the split is on a
/// label boundary); the labels in front must be real DNS labels: letters, digits, hyphens (a
/// serialised origin never has anything else, but a forged header might). No allocation.
fn under(host: &str, suffix: &str) -> bool {
    let Some(dot) = host.len().checked_sub(suffix.len() + 1) else {
        return false;
    };
    let (front, rest) = (host.as_bytes().get(..dot), host.as_bytes().get(dot..));
    let (Some(front), Some(rest)) = (front, rest) else {
        return false;
    };
    rest[0] == b'.'
        && &rest[1..] == suffix.as_bytes()
        && front.split(|&b| b == b'.').all(|l| {
            !l.is_empty()
                && l.iter()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(port: PortRule) -> OriginPattern {
        OriginPattern::Subdomain {
            scheme: "https".into(),
            suffix: "example.com".into(),
            port,
        }
    }

    #[test]
    fn subdomains_on_label_boundaries_at_any_depth_not_the_apex() {
        let p = sub(PortRule::Default);
        for ok in [
            "https://a.example.com",
            "https://a.b.example.com",
            "https://x-1.example.com",
        ] {
            assert!(p.matches(ok), "{ok}");
        }
        for bad in [
            "https://example.com",
            "https://evilexample.com",
            "https://a.example.com.evil.net",
            "http://a.example.com",
            "https://a.example.com:8443",
            "https://.example.com",
            "https://a..example.com",
            "https://a_b.example.com",
            "https://a.example.co",
        ] {
            assert!(!p.matches(bad), "{bad}");
        }
        assert!(sub(PortRule::Any).matches("https://a.example.com:8443"));
        assert!(sub(PortRule::Any).matches("https://a.example.com"));
        assert!(sub(PortRule::Exact(8443)).matches("https://a.example.com:8443"));
        assert!(!sub(PortRule::Exact(8443)).matches("https://a.example.com:9443"));
    }

    #[test]
    fn any_port_and_exact() {
        let p = OriginPattern::AnyPort {
            scheme: "http".into(),
            host: "localhost".into(),
        };
        assert!(p.matches("http://localhost:5173") && p.matches("http://localhost"));
        assert!(
            !p.matches("http://localhost.evil.com:1")
                && !p.matches("https://localhost:1")
                && !p.matches("http://localhost:")
        );
        let e = OriginPattern::Exact("https://app.example.com".into());
        assert!(e.matches("https://app.example.com") && !e.matches("https://app.example.com.evil"));
    }

    #[test]
    fn ipv6_ports() {
        assert_eq!(split_port("[::1]:8080"), ("[::1]", Some("8080")));
        assert_eq!(split_port("[::1]"), ("[::1]", None));
    }
}
