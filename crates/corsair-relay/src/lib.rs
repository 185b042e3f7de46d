//! The CORS relay behind `corsair proxy`: a proxy for APIs the user does not own that is no open
//! relay. Everything it decides without a socket is here: the `[proxy]` table and its lint,
//! which pages may use it (`origins`, the same syntax and rules as a policy's), which upstreams
//! it may reach (`targets`), the SSRF guard over resolved addresses, the rate limiter (given the
//! time by the caller), and which headers cross in each direction.
//!
//! Request form (CORS Anywhere's): `GET http://PROXY/https://api.example.com/path?q`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

// The browser model and the crates below this one, under the paths this code has always used.
use corsair_model::{header, host};
use corsair_policy as policy;

mod guard;
mod headers;
mod limiter;
mod lint;
pub mod secret;

pub use guard::forbidden_range;
pub use headers::{forwards_request_header, forwards_response_header, is_hop_by_hop};
pub use limiter::Limiter;
pub use lint::build;

pub use secret::{Leak, Scanner, Secrets};

use crate::host::{Domain, Host};
use crate::policy::{Level, Policy};
use core::net::IpAddr;
use serde::{Deserialize, Serialize};
use url::Url;

/// `[proxy]` as written in the file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RelaySpec {
    /// Pages that may use the proxy (a policy's `origins` syntax).
    pub origins: Vec<String>,
    /// Upstreams it may reach: `https://api.example.com`, `https://*.partner.example`, with an
    /// optional port.
    pub targets: Vec<String>,
    /// `HOST:PORT` exceptions to the private-address guard (development and tests).
    pub allow_private: Vec<String>,
    /// Requests per client (origin and IP), e.g. `120/minute`.
    pub rate_limit: Option<String>,
    /// `redis://HOST:PORT/DB`: limits shared by every replica.
    pub redis: Option<String>,
    /// Secrets added server-side.
    pub inject: Vec<InjectSpec>,
    /// Request headers pages may send (besides the CORS-safelisted ones); default: any.
    pub request_headers: Option<Vec<String>>,
    /// Largest request body, in bytes (default 1 MiB).
    pub max_body_bytes: Option<u64>,
    /// Largest response body, in bytes (default 10 MiB).
    pub max_response_bytes: Option<u64>,
    /// Seconds for the upstream's answer, connection included (default 30).
    pub timeout: Option<f64>,
    /// Redirects followed (default 5; each one checked like the first target).
    pub max_redirects: Option<u32>,
    /// Allow `targets = ["*"]`: any upstream. The guard still applies.
    pub dangerously_open_relay: bool,
}

/// One `[[proxy.inject]]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InjectSpec {
    /// The target it applies to (one of `targets`' forms).
    pub target: String,
    /// The header to set.
    pub header: String,
    /// The environment variable holding the value.
    pub value_env: String,
}

/// A problem in the `[proxy]` table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Lint {
    /// Error or warning.
    pub severity: Level,
    /// The key, e.g. `targets[1]`.
    pub key: String,
    /// What is wrong.
    pub message: String,
    /// What to write instead.
    pub fix: String,
}

fn error(key: impl Into<String>, message: impl Into<String>, fix: impl Into<String>) -> Lint {
    Lint {
        severity: Level::Error,
        key: key.into(),
        message: message.into(),
        fix: fix.into(),
    }
}

/// An upstream the proxy may reach: a scheme, a host (exact, or every name under a domain) and
/// a port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowedTarget {
    scheme: String,
    host: TargetHost,
    port: u16,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum TargetHost {
    /// Any host (`*`, with `dangerously_open_relay`).
    Any,
    /// This host exactly (a name or an address, as a URL serialises it).
    Exact(String),
    /// Any name under this domain (`*.partner.example`), not the domain itself.
    Under(Domain),
}

impl AllowedTarget {
    /// Parses a `targets` item: `https://api.example.com`, `https://*.partner.example:8443`.
    pub fn parse(text: &str) -> Result<AllowedTarget, TargetError> {
        let t = text.trim();
        let item = || t.to_string();
        if t == "*" {
            return Ok(AllowedTarget {
                scheme: String::new(),
                host: TargetHost::Any,
                port: 0,
            });
        }
        if !t.contains("://") {
            return Err(TargetError::NoScheme(item()));
        }
        let (wild, rest) = match t.split_once("://*.") {
            Some((scheme, rest)) => (true, format!("{scheme}://{rest}")),
            None => (false, t.to_string()),
        };
        let url = Url::parse(&rest).map_err(|e| TargetError::NotAUrl(item(), e))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(TargetError::Scheme(item(), url.scheme().to_string()));
        }
        if url.path() != "/"
            || url.query().is_some()
            || url.fragment().is_some()
            || rest.ends_with('/')
        {
            return Err(TargetError::Path(
                item(),
                url.origin().ascii_serialization(),
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(TargetError::Credentials(item()));
        }
        let host_text = url.host_str().unwrap_or_default().to_string();
        let host = if wild {
            match Host::parse(&host_text) {
                Ok(Host::Domain(d)) if !d.is_public_suffix() => TargetHost::Under(d),
                Ok(Host::Domain(_)) => return Err(TargetError::PublicSuffix(item())),
                _ => return Err(TargetError::WildcardNotDomain(item())),
            }
        } else {
            TargetHost::Exact(host_text)
        };
        Ok(AllowedTarget {
            scheme: url.scheme().to_string(),
            host,
            port: url.port_or_known_default().unwrap_or(0),
        })
    }

    /// Whether `url` is on this target.
    pub fn matches(&self, url: &Url) -> bool {
        let host = url.host_str().unwrap_or_default();
        match &self.host {
            TargetHost::Any => matches!(url.scheme(), "http" | "https"),
            _ if url.scheme() != self.scheme || url.port_or_known_default() != Some(self.port) => {
                false
            }
            TargetHost::Exact(h) => h == host,
            TargetHost::Under(d) => match Host::parse(host) {
                Ok(Host::Domain(name)) => name.is_under(d),
                _ => false,
            },
        }
    }

    /// Whether this is `*`.
    pub fn is_any(&self) -> bool {
        self.host == TargetHost::Any
    }
}

/// A rate: `count` requests per `per_ms` milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Rate {
    /// Requests allowed in a window.
    pub count: u32,
    /// The window, in milliseconds.
    pub per_ms: u64,
}

impl Rate {
    /// Parses `120/minute`, `10/second`, `1000/hour`, `5000/day` (also `s`, `m`, `h`, `d`).
    pub fn parse(text: &str) -> Result<Rate, RateError> {
        let usage = || RateError::NotARate(text.to_string());
        let (n, unit) = text.trim().split_once('/').ok_or_else(usage)?;
        let count: u32 = n.trim().parse().map_err(|_| usage())?;
        if count == 0 {
            return Err(RateError::Zero(text.to_string()));
        }
        let per_ms = match unit.trim() {
            "second" | "s" | "sec" => 1_000,
            "minute" | "m" | "min" => 60_000,
            "hour" | "h" => 3_600_000,
            "day" | "d" => 86_400_000,
            _ => return Err(usage()),
        };
        Ok(Rate { count, per_ms })
    }
}

/// Why a `targets` item is refused (each message ends with the fix).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// No `scheme://`.
    #[error("'{0}' has no scheme; did you mean 'https://{0}'?")]
    NoScheme(String),
    /// Not a URL at all.
    #[error("'{0}' is not a URL ({1})")]
    NotAUrl(String, url::ParseError),
    /// A scheme other than http and https.
    #[error("'{0}' uses '{1}'; targets are http:// or https://")]
    Scheme(String, String),
    /// A path, query or fragment: a target is an origin (the second field).
    #[error("'{0}' has a path; a target is an origin (scheme, host, port): write '{1}'")]
    Path(String, String),
    /// A user name or password in the URL.
    #[error("'{0}' has a user name or password; use [[proxy.inject]] for credentials")]
    Credentials(String),
    /// `*.` over a public suffix.
    #[error(
        "'{0}' covers every name under a public suffix; name the registrable domain, e.g. \
        https://*.example.com"
    )]
    PublicSuffix(String),
    /// `*.` before something that is not a domain name.
    #[error("'{0}': a wildcard needs a domain name after '*.'")]
    WildcardNotDomain(String),
}

/// Why a `rate_limit` is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RateError {
    /// Not `COUNT/UNIT`.
    #[error(
        "'{0}' is not a rate; write COUNT/UNIT, e.g. \"120/minute\" (second, minute, hour, day)"
    )]
    NotARate(String),
    /// A count of 0.
    #[error("'{0}' allows nothing; remove rate_limit to have no limit, or give a count above 0")]
    Zero(String),
}

/// A validated `[proxy]`.
#[derive(Clone, Debug)]
pub struct Relay {
    /// The CORS policy pages get: the origins, any method, the headers.
    pub policy: Policy,
    /// Where the proxy may go.
    pub targets: Vec<AllowedTarget>,
    /// `(host, port)` exceptions to the guard.
    pub allow_private: Vec<(String, u16)>,
    /// The per-client limit.
    pub rate: Option<Rate>,
    /// `redis://` URL for shared limits.
    pub redis: Option<String>,
    /// Headers to inject, by target; values come from the caller.
    pub inject: Vec<(AllowedTarget, String, String)>,
    /// Every form of the injected values, searched in what goes back to the page.
    pub secrets: std::sync::Arc<Secrets>,
    /// Largest request body.
    pub max_body_bytes: u64,
    /// Largest response body.
    pub max_response_bytes: u64,
    /// Seconds for the upstream's answer.
    pub timeout: f64,
    /// Redirects followed.
    pub max_redirects: u32,
}

/// The methods a page may use through the proxy.
pub const METHODS: [&str; 6] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

/// Why a request is refused before anything is sent upstream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "error", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Refusal {
    /// The path does not carry a target URL.
    NoTarget {
        /// What to write.
        usage: String,
    },
    /// The target URL does not parse or is not http(s).
    BadTarget {
        /// The text.
        target: String,
        /// Why.
        reason: String,
    },
    /// The target is not on `targets`.
    TargetNotAllowed {
        /// The target's origin.
        target: String,
        /// The rule.
        rule: String,
    },
    /// The target resolves to an address the guard refuses.
    PrivateAddress {
        /// The target's host.
        host: String,
        /// The address.
        address: String,
        /// The range it is in.
        range: &'static str,
    },
}

impl Refusal {
    /// The HTTP status to answer with.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::NoTarget { .. } | Refusal::BadTarget { .. } => 400,
            _ => 403,
        }
    }
}

/// Reads the target from a request's path and query: `/https://api.example.com/x?q`.
pub fn target_of(path_and_query: &str) -> Result<Url, Refusal> {
    let raw = path_and_query.strip_prefix('/').unwrap_or(path_and_query);
    if raw.is_empty() {
        return Err(Refusal::NoTarget {
            usage: "request /https://api.example.com/path: the target URL follows the proxy's own"
                .into(),
        });
    }
    // Some clients collapse `//` in paths: `https:/api.example.com`.
    let fixed = match raw.split_once(":/") {
        Some((scheme, rest)) if !rest.starts_with('/') && matches!(scheme, "http" | "https") => {
            format!("{scheme}://{rest}")
        }
        _ => raw.to_string(),
    };
    let url = Url::parse(&fixed).map_err(|e| Refusal::BadTarget {
        target: raw.to_string(),
        reason: format!("{e}; write the whole URL, e.g. /https://api.example.com/items"),
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Refusal::BadTarget {
            target: raw.to_string(),
            reason: "only http:// and https:// URLs with a host".into(),
        });
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Refusal::BadTarget {
            target: raw.to_string(),
            reason: "a user name or password in the URL is refused; use [[proxy.inject]]".into(),
        });
    }
    // URLs allow `*` in a host; no server has one, and in `targets` it means a wildcard.
    if url.host_str().is_some_and(|h| h.contains('*')) {
        return Err(Refusal::BadTarget {
            target: raw.to_string(),
            reason: "'*' is not part of a host name".into(),
        });
    }
    Ok(url)
}

impl Relay {
    /// Whether the proxy may reach `url` (before its addresses are known).
    pub fn check_target(&self, url: &Url) -> Result<(), Refusal> {
        if self.targets.iter().any(|t| t.matches(url)) {
            return Ok(());
        }
        Err(Refusal::TargetNotAllowed {
            target: url.origin().ascii_serialization(),
            rule: "the target is not on [proxy] targets".into(),
        })
    }

    /// The guard over one resolved address of `url`'s host.
    pub fn check_address(&self, url: &Url, ip: IpAddr) -> Result<(), Refusal> {
        let host = url
            .host_str()
            .unwrap_or_default()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let port = url.port_or_known_default().unwrap_or(0);
        if self
            .allow_private
            .iter()
            .any(|(h, p)| *h == host && *p == port)
        {
            return Ok(());
        }
        match forbidden_range(ip) {
            None => Ok(()),
            Some(range) => Err(Refusal::PrivateAddress {
                host,
                address: ip.to_string(),
                range,
            }),
        }
    }

    /// Headers to inject into a request to `url`.
    pub fn injected<'a>(&'a self, url: &'a Url) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.inject
            .iter()
            .filter(move |(t, _, _)| t.matches(url))
            .map(|(_, h, v)| (h.as_str(), v.as_str()))
    }

    /// Whether a response header (its name or value) would carry an injected secret back to the
    /// page, in any of its forms (see [`secret`]).
    pub fn echoes_secret(&self, value: &[u8]) -> bool {
        self.secrets.found_in(value)
    }
}

#[cfg(test)]
mod tests;
