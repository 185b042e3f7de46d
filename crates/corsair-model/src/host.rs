//! Hosts as parsed values: an IPv4 address, an IPv6 address or a domain split into labels
//! (<https://url.spec.whatwg.org/#concept-host>). Every rule about a host (is it loopback, is it a
//! public suffix, is it inside a domain) reads this form, never the text: `127.attacker.example`
//! is a domain whose first label is `127`, not a loopback address.

use core::net::{Ipv4Addr, Ipv6Addr};
use std::fmt;

/// The longest domain name DNS can carry, in ASCII without the root's dot (RFC 1035 §2.3.4).
pub const MAX_DOMAIN_LEN: usize = 253;
/// The longest DNS label (RFC 1035 §2.3.4).
pub const MAX_LABEL_LEN: usize = 63;

/// A parsed host.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Host {
    /// A dotted-quad IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address (written `[...]` in a URL).
    Ipv6(Ipv6Addr),
    /// A domain: lowercase ASCII labels, at least one, none empty.
    Domain(Domain),
}

/// A domain name as lowercase ASCII labels (punycode for non-ASCII), and whether it was
/// written fully qualified, with the root's trailing dot (`example.com.`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Domain {
    name: String,
    fqdn: bool,
}

/// Why a string is not a host a browser could send in an origin.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// The URL host parser refused it.
    #[error("'{0}' is not a host name or address")]
    Invalid(String),
    /// A label is empty: two dots in a row, or a leading or trailing dot.
    #[error("'{0}' has an empty label (two dots in a row, or a dot at the start or end)")]
    EmptyLabel(String),
    /// A label is longer than 63 bytes.
    #[error("'{0}' has a label longer than {MAX_LABEL_LEN} characters, which DNS cannot carry")]
    LabelTooLong(String),
    /// The name is longer than 253 bytes.
    #[error("'{0}' is longer than {MAX_DOMAIN_LEN} characters, which DNS cannot carry")]
    TooLong(String),
}

impl Host {
    /// Parses a host as it appears in a serialised origin (`example.com`, `127.0.0.1`, `[::1]`).
    /// The WHATWG host parser decides what it is; the domain must also be one DNS can resolve
    /// (no empty labels, DNS lengths).
    pub fn parse(text: &str) -> Result<Host, HostError> {
        let parsed = url::Host::parse(text).map_err(|_| HostError::Invalid(text.to_string()))?;
        match parsed {
            url::Host::Ipv4(a) => Ok(Host::Ipv4(a)),
            url::Host::Ipv6(a) => Ok(Host::Ipv6(a)),
            url::Host::Domain(mut d) => {
                // One trailing dot is the root: `example.com.` is a name, and an origin.
                let fqdn = d.len() > 1 && d.ends_with('.');
                if fqdn {
                    d.pop();
                }
                if d.split('.').any(str::is_empty) {
                    return Err(HostError::EmptyLabel(text.to_string()));
                }
                if d.split('.').any(|l| l.len() > MAX_LABEL_LEN) {
                    return Err(HostError::LabelTooLong(text.to_string()));
                }
                if d.len() > MAX_DOMAIN_LEN {
                    return Err(HostError::TooLong(text.to_string()));
                }
                Ok(Host::Domain(Domain { name: d, fqdn }))
            }
        }
    }

    /// Whether connections to this host stay on the machine: `localhost` and every name under
    /// it (RFC 6761 §6.3; browsers resolve them to loopback themselves), 127.0.0.0/8, `::1`, and
    /// IPv4-mapped loopback (`::ffff:127.0.0.1`).
    pub fn is_loopback(&self) -> bool {
        match self {
            Host::Ipv4(a) => a.is_loopback(),
            Host::Ipv6(a) => {
                a.is_loopback() || a.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
            }
            Host::Domain(d) => d.labels().last() == Some("localhost"),
        }
    }

    /// Whether this is an IP address rather than a name.
    pub fn is_ip(&self) -> bool {
        !matches!(self, Host::Domain(_))
    }

    /// The domain, if this is a name.
    pub fn domain(&self) -> Option<&Domain> {
        match self {
            Host::Domain(d) => Some(d),
            _ => None,
        }
    }

    /// The registrable domain (public suffix plus one label) of a name that has one; `None` for
    /// an address, or a name that is itself a public suffix (`com`, `localhost`). The one
    /// reading of the public suffix list on a parsed host: an address's text never reaches it
    /// (the list's default rule would make `127.0.0.1`'s registrable domain `0.1`).
    pub fn registrable_domain(&self) -> Option<&str> {
        match self {
            Host::Domain(d) => d.registrable(),
            _ => None,
        }
    }

    /// Whether two hosts are the same site, as the HTML standard's "schemelessly same site"
    /// says (<https://html.spec.whatwg.org/#schemelessly-same-site>): the same host, or names
    /// with the same registrable domain. Two addresses are the same site only when equal.
    pub fn same_site(&self, other: &Host) -> bool {
        self == other
            || self
                .registrable_domain()
                .is_some_and(|r| other.registrable_domain() == Some(r))
    }

    /// The site this host belongs to, for grouping origins: the registrable domain for a name
    /// under a public suffix (`app.example.com` → `example.com`), the name itself where the
    /// public suffix list has no registrable part (`localhost`, `com`), or the address.
    pub fn site(&self) -> String {
        match self {
            // Every name under localhost is this machine: one site.
            Host::Domain(_) if self.is_loopback() => "localhost".to_string(),
            Host::Domain(d) => self.registrable_domain().unwrap_or(d.as_str()).to_string(),
            other => other.to_string(),
        }
    }
}

impl Domain {
    /// The name, lowercase ASCII, without the root's trailing dot.
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// The labels, left to right (the root's empty label left out).
    pub fn labels(&self) -> impl DoubleEndedIterator<Item = &str> {
        self.name.split('.')
    }

    /// Whether `self` is `other` or a name under it, compared label by label.
    pub fn is_within(&self, other: &Domain) -> bool {
        let mut mine = self.labels().rev();
        other.labels().rev().all(|l| mine.next() == Some(l))
    }

    /// Whether `self` is strictly under `other` (at least one more label).
    pub fn is_under(&self, other: &Domain) -> bool {
        self.is_within(other) && self.labels().count() > other.labels().count()
    }

    /// Whether this name is itself a public suffix (`com`, `co.uk`, `github.io`) by the public
    /// suffix list, or a single label (which the list's default rule makes one).
    pub fn is_public_suffix(&self) -> bool {
        match psl::suffix(self.name.as_bytes()) {
            Some(s) => {
                (s.as_bytes() == self.name.as_bytes() && s.is_known()) || self.labels().count() == 1
            }
            None => true,
        }
    }

    /// Whether the name is under a suffix of the public suffix list's private section
    /// (`github.io`, `netlify.app`, `herokuapp.com`, ...): shared hosting where anyone can
    /// register a name and publish a page.
    pub fn on_shared_hosting(&self) -> bool {
        psl::suffix(self.name.as_bytes()).is_some_and(|s| {
            s.typ() == Some(psl::Type::Private) && s.as_bytes().len() < self.name.len()
        })
    }

    /// The registrable domain (public suffix plus one label), if the name has one.
    pub fn registrable(&self) -> Option<&str> {
        psl::domain_str(&self.name)
    }
}

impl fmt::Display for Host {
    /// The host as serialised in a URL: IPv6 in brackets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ipv4(a) => write!(f, "{a}"),
            Host::Ipv6(a) => write!(f, "[{a}]"),
            Host::Domain(d) => write!(f, "{d}"),
        }
    }
}

impl fmt::Display for Domain {
    /// The name as written in a URL, with the root's dot when it had one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if self.fqdn {
            f.write_str(".")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(s: &str) -> Host {
        Host::parse(s).unwrap()
    }

    #[test]
    fn loopback_is_decided_on_the_parsed_host() {
        for yes in [
            "localhost",
            "app.localhost",
            "a.b.localhost",
            "127.0.0.1",
            "127.1.2.3",
            "[::1]",
            "[::ffff:127.0.0.1]",
            "0x7f.1",
            "localhost.",
            "app.localhost.",
        ] {
            assert!(host(yes).is_loopback(), "{yes}");
        }
        for no in [
            "127.attacker.example",
            "127.0.0.1.nip.io",
            "localhost.attacker.example",
            "mylocalhost",
            "128.0.0.1",
            "[::2]",
            "[::ffff:10.0.0.1]",
            "example.com",
        ] {
            assert!(!host(no).is_loopback(), "{no}");
        }
    }

    #[test]
    fn malformed_domains_are_refused() {
        assert!(matches!(
            Host::parse("example..com"),
            Err(HostError::EmptyLabel(_))
        ));
        assert!(matches!(
            Host::parse("example.com.."),
            Err(HostError::EmptyLabel(_))
        ));
        assert!(matches!(Host::parse("."), Err(HostError::EmptyLabel(_))));
        let fqdn = host("example.com.");
        assert_eq!(fqdn.to_string(), "example.com.");
        assert_eq!(fqdn.site(), "example.com");
        assert!(matches!(
            Host::parse(&format!("{}.com", "a".repeat(64))),
            Err(HostError::LabelTooLong(_))
        ));
        let long = vec!["abcdefghi"; 26].join(".");
        assert!(matches!(Host::parse(&long), Err(HostError::TooLong(_))));
        assert!(Host::parse("exa mple.com").is_err());
    }

    #[test]
    fn within_compares_labels_not_text() {
        let d = |s: &str| host(s).domain().unwrap().clone();
        assert!(d("a.example.com").is_within(&d("example.com")));
        assert!(d("a.example.com").is_under(&d("example.com")));
        assert!(d("example.com").is_within(&d("example.com")));
        assert!(!d("example.com").is_under(&d("example.com")));
        assert!(!d("evilexample.com").is_within(&d("example.com")));
        assert!(!d("example.com.evil.net").is_within(&d("example.com")));
    }

    #[test]
    fn public_suffixes_and_sites() {
        let d = |s: &str| host(s).domain().unwrap().clone();
        for ps in ["com", "co.uk", "github.io", "localhost"] {
            assert!(d(ps).is_public_suffix(), "{ps}");
        }
        assert!(!d("example.com").is_public_suffix());
        assert_eq!(host("a.b.example.co.uk").site(), "example.co.uk");
        assert_eq!(host("127.0.0.1").site(), "127.0.0.1");
        assert_eq!(host("[::1]").site(), "[::1]");
        assert_eq!(host("a.b.localhost").site(), "localhost");
    }

    #[test]
    fn same_site_is_the_registrable_domain_for_names_and_equality_for_addresses() {
        let same = |a: &str, b: &str| host(a).same_site(&host(b));
        assert!(same("app.example.com", "api.example.com"));
        assert!(same("example.co.uk", "a.example.co.uk"));
        assert!(
            !same("a.github.io", "b.github.io"),
            "a private-section suffix"
        );
        assert!(same("127.0.0.1", "127.0.0.1"));
        // Read as text, the public suffix list made both of these "0.1".
        assert!(!same("127.0.0.1", "10.0.0.1"));
        assert!(!same("127.0.0.1", "127.0.0.2"));
        assert!(!same("localhost", "127.0.0.1"));
        assert!(same("a.localhost", "a.localhost"));
        assert!(!same("[::1]", "127.0.0.1"));
        assert_eq!(host("127.0.0.1").registrable_domain(), None);
        assert_eq!(
            host("a.b.example.com").registrable_domain(),
            Some("example.com")
        );
    }
}
