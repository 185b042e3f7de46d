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

pub mod secret;

pub use secret::{Leak, Scanner, Secrets};

use crate::host::{Domain, Host};
use crate::policy::{Policy, PolicySpec, Severity};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
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
    pub severity: Severity,
    /// The key, e.g. `targets[1]`.
    pub key: String,
    /// What is wrong.
    pub message: String,
    /// What to write instead.
    pub fix: String,
}

fn error(key: impl Into<String>, message: impl Into<String>, fix: impl Into<String>) -> Lint {
    Lint {
        severity: Severity::Error,
        key: key.into(),
        message: message.into(),
        fix: fix.into(),
    }
}

/// An upstream the proxy may reach: a scheme, a host (exact, or every name under a domain) and
/// a port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
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

impl Target {
    /// Parses a `targets` item: `https://api.example.com`, `https://*.partner.example:8443`.
    pub fn parse(text: &str) -> Result<Target, TargetError> {
        let t = text.trim();
        let item = || t.to_string();
        if t == "*" {
            return Ok(Target {
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
        Ok(Target {
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
    #[error("'{0}' covers every name under a public suffix; name the registrable domain, e.g. https://*.example.com")]
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
    pub targets: Vec<Target>,
    /// `(host, port)` exceptions to the guard.
    pub allow_private: Vec<(String, u16)>,
    /// The per-client limit.
    pub rate: Option<Rate>,
    /// `redis://` URL for shared limits.
    pub redis: Option<String>,
    /// Headers to inject, by target; values come from the caller.
    pub inject: Vec<(Target, String, String)>,
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

/// Checks `[proxy]` and builds the relay. `env` looks an environment variable up (for
/// `value_env`). Errors make the file unusable; warnings come back beside the relay.
pub fn build(
    spec: &RelaySpec,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Relay, Vec<Lint>), Vec<Lint>> {
    let mut lints = Vec::new();
    if spec.origins.is_empty() {
        lints.push(error(
            "origins",
            "no page may use the proxy",
            "list the pages' origins, e.g. origins = [\"https://app.example.com\"]",
        ));
    }
    let policy_spec = PolicySpec {
        origins: spec.origins.clone(),
        methods: METHODS.iter().map(|m| m.to_string()).collect(),
        // Any header, and Authorization by name: `*` does not cover it in the Fetch standard.
        request_headers: spec
            .request_headers
            .clone()
            .unwrap_or_else(|| vec!["*".into(), "Authorization".into()]),
        max_age: Some(600),
        ..Default::default()
    };
    let policy = match policy_spec.build() {
        Ok((p, warnings)) => {
            for w in warnings {
                lints.push(Lint {
                    severity: Severity::Warning,
                    key: field_name(&w.field),
                    message: w.message,
                    fix: w.fix,
                });
            }
            Some(p)
        }
        Err(problems) => {
            for p in problems
                .into_iter()
                .filter(|p| p.severity == Severity::Error)
            {
                lints.push(error(field_name(&p.field), p.message, p.fix));
            }
            None
        }
    };
    let mut targets = Vec::new();
    for (i, t) in spec.targets.iter().enumerate() {
        match Target::parse(t) {
            Ok(t) if t.is_any() && !spec.dangerously_open_relay => lints.push(error(
                format!("targets[{i}]"),
                "'*' lets any page on `origins` reach any server through the proxy: an open relay",
                "list the APIs, e.g. targets = [\"https://api.example.com\"], or set dangerously_open_relay = true if that is really meant",
            )),
            Ok(t) => targets.push(t),
            Err(e) => lints.push(error(format!("targets[{i}]"), e.to_string(), "write an origin: https://api.example.com or https://*.example.com")),
        }
    }
    if spec.targets.is_empty() {
        lints.push(error(
            "targets",
            "the proxy may reach nothing",
            "list the APIs it may reach, e.g. targets = [\"https://api.example.com\"]",
        ));
    }
    let mut allow_private = Vec::new();
    for (i, a) in spec.allow_private.iter().enumerate() {
        match a
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
        {
            Some((h, p)) if !h.is_empty() => {
                let host = h
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_ascii_lowercase();
                // An exemption applies to a target URL's own host and port: one that no target
                // can name (an address where the target is named by host) exempts nothing.
                let named = ["http", "https"].iter().any(|scheme| {
                    let shown = if host.contains(':') {
                        format!("[{host}]")
                    } else {
                        host.clone()
                    };
                    Url::parse(&format!("{scheme}://{shown}:{p}/"))
                        .is_ok_and(|u| targets.iter().any(|t| t.matches(&u)))
                });
                if !named && !targets.is_empty() {
                    lints.push(error(
                        format!("allow_private[{i}]"),
                        format!("'{a}' matches no target, so it exempts nothing"),
                        format!(
                            "name a target's host and port as it is written in targets ({})",
                            spec.targets.join(", ")
                        ),
                    ));
                }
                allow_private.push((host, p));
            }
            _ => lints.push(error(
                format!("allow_private[{i}]"),
                format!("'{a}' is not HOST:PORT"),
                "write the host and port the target URL names, e.g. \"localhost:8080\"",
            )),
        }
    }
    let rate = match spec.rate_limit.as_deref().map(Rate::parse) {
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => {
            lints.push(error(
                "rate_limit",
                e.to_string(),
                "e.g. rate_limit = \"120/minute\"",
            ));
            None
        }
        None => None,
    };
    if let Some(r) = &spec.redis {
        match Url::parse(r) {
            Ok(u) if matches!(u.scheme(), "redis" | "rediss") && u.host_str().is_some() => {}
            _ => lints.push(error(
                "redis",
                format!("'{r}' is not a redis:// URL"),
                "e.g. redis = \"redis://127.0.0.1:6379/0\"",
            )),
        }
        if rate.is_none() {
            lints.push(Lint {
                severity: Severity::Warning,
                key: "redis".into(),
                message: "redis is set but there is no rate_limit to share".into(),
                fix: "add rate_limit, or remove redis".into(),
            });
        }
    }
    let any_origin = spec.origins.iter().any(|o| o.trim() == "*");
    let mut inject = Vec::new();
    for (i, j) in spec.inject.iter().enumerate() {
        let key = format!("inject[{i}]");
        if any_origin {
            lints.push(error(
                &key,
                "a secret injected for every origin ('*') is a secret any web page can spend",
                "list the pages' origins instead of '*'",
            ));
        }
        let target = match Target::parse(&j.target) {
            Ok(t) if !t.is_any() => t,
            Ok(_) => {
                lints.push(error(
                    format!("{key}.target"),
                    "a secret for any target ('*') would go to every server",
                    "name the API the secret is for",
                ));
                continue;
            }
            Err(e) => {
                lints.push(error(
                    format!("{key}.target"),
                    e.to_string(),
                    "one of the targets, e.g. \"https://api.example.com\"",
                ));
                continue;
            }
        };
        let url = Url::parse(&format!(
            "{}://{}:{}/",
            target.scheme,
            match &target.host {
                TargetHost::Exact(h) => h.clone(),
                TargetHost::Under(d) => format!("x.{}", d.as_str()),
                TargetHost::Any => String::new(),
            },
            target.port
        ))
        .ok();
        if !url
            .as_ref()
            .is_some_and(|u| targets.iter().any(|t| t.matches(u)))
        {
            lints.push(error(
                format!("{key}.target"),
                format!("'{}' is not on targets", j.target),
                "add it to targets, or fix the name",
            ));
        }
        if crate::header::validate(&j.header, "x").is_err()
            || is_hop_by_hop(&j.header)
            || j.header.eq_ignore_ascii_case("host")
        {
            lints.push(error(
                format!("{key}.header"),
                format!("'{}' cannot be injected", j.header),
                "a request header name such as \"Authorization\" or \"X-Api-Key\"",
            ));
            continue;
        }
        match env(&j.value_env) {
            Some(v) if !v.is_empty() && crate::header::validate(&j.header, &v).is_ok() => {
                // The credential, without an auth scheme: what an echo would carry.
                let credential = v.split_once(' ').map_or(v.as_str(), |(_, c)| c.trim());
                if credential.len() < secret::MIN_SECRET_LEN {
                    lints.push(error(
                        format!("{key}.value_env"),
                        format!(
                            "${} is {} bytes: too short to tell apart from ordinary text in a response, so the proxy could not keep it from the page",
                            j.value_env,
                            credential.len()
                        ),
                        format!(
                            "use a credential of at least {} bytes",
                            secret::MIN_SECRET_LEN
                        ),
                    ));
                    continue;
                }
                inject.push((target, j.header.clone(), v))
            }
            Some(_) => lints.push(error(
                format!("{key}.value_env"),
                format!("${} is empty or not a valid header value", j.value_env),
                "set it to the secret, one line",
            )),
            None => lints.push(error(
                format!("{key}.value_env"),
                format!("${} is not set", j.value_env),
                format!("export {}=... before starting the proxy", j.value_env),
            )),
        }
    }
    let mut limit = |v: Option<u64>, key: &str, default: u64| match v {
        Some(0) => {
            lints.push(error(
                key,
                "0 refuses every body",
                format!("remove it for the default ({default}), or give a size in bytes"),
            ));
            default
        }
        Some(n) => n,
        None => default,
    };
    let max_body_bytes = limit(spec.max_body_bytes, "max_body_bytes", 1 << 20);
    let max_response_bytes = limit(spec.max_response_bytes, "max_response_bytes", 10 << 20);
    let timeout = spec.timeout.unwrap_or(30.0);
    if !(timeout > 0.0 && timeout <= 3600.0) {
        lints.push(error(
            "timeout",
            format!("{timeout} s is not a timeout"),
            "seconds between 0 and 3600, e.g. timeout = 30",
        ));
    }
    let max_redirects = spec.max_redirects.unwrap_or(5);
    if max_redirects > 20 {
        lints.push(error(
            "max_redirects",
            format!("{max_redirects} redirects is more than a browser follows (20)"),
            "at most 20",
        ));
    }
    if lints.iter().any(|l| l.severity == Severity::Error) {
        return Err(lints);
    }
    let policy = policy.expect("no error means a policy");
    Ok((
        Relay {
            policy,
            targets,
            allow_private,
            rate,
            redis: spec.redis.clone(),
            secrets: std::sync::Arc::new(Secrets::new(inject.iter().map(|(_, _, v)| v.as_str()))),
            inject,
            max_body_bytes,
            max_response_bytes,
            timeout,
            max_redirects,
        },
        lints,
    ))
}

/// A policy problem's place, in `[proxy]`'s names.
fn field_name(f: &crate::policy::Field) -> String {
    use crate::policy::{Field, Key};
    let name = |k: Key| match k {
        Key::RequestHeaders => "request_headers".to_string(),
        k => k.name().to_string(),
    };
    match f {
        Field::Item { key, index } => format!("{}[{index}]", name(*key)),
        Field::Value { key } => name(*key),
        Field::Policy => "proxy".into(),
    }
}

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

/// The range an address is in when the proxy must not connect to it, or `None` for a public
/// unicast address. Reads the parsed address: IPv4-mapped, IPv4-compatible, NAT64 and 6to4
/// forms are judged by the IPv4 address they carry.
pub fn forbidden_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, ..) => "0.0.0.0/8 (this network, unspecified)",
        (10, ..) => "10.0.0.0/8 (private, RFC 1918)",
        (100, 64..=127, _) => "100.64.0.0/10 (carrier-grade NAT)",
        (127, ..) => "127.0.0.0/8 (loopback)",
        (169, 254, _) => "169.254.0.0/16 (link-local, cloud metadata)",
        (172, 16..=31, _) => "172.16.0.0/12 (private, RFC 1918)",
        (192, 0, 0) => "192.0.0.0/24 (IETF protocol assignments)",
        (192, 0, 2) => "192.0.2.0/24 (documentation)",
        (192, 88, 99) => "192.88.99.0/24 (6to4 relay anycast)",
        (192, 168, _) => "192.168.0.0/16 (private, RFC 1918)",
        (198, 18..=19, _) => "198.18.0.0/15 (benchmarking)",
        (198, 51, 100) => "198.51.100.0/24 (documentation)",
        (203, 0, 113) => "203.0.113.0/24 (documentation)",
        (224..=239, ..) => "224.0.0.0/4 (multicast)",
        (255, 255, 255) if ip.is_broadcast() => "255.255.255.255 (broadcast)",
        (240..=255, ..) => "240.0.0.0/4 (reserved)",
        _ => return None,
    })
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    let embedded =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if ip.is_unspecified() {
        return Some("::/128 (unspecified)");
    }
    if ip.is_loopback() {
        return Some("::1/128 (loopback)");
    }
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4)
            .map(|_| "::ffff:0:0/96 (IPv4-mapped form of a forbidden IPv4 address)");
    }
    match s {
        // IPv4-compatible (deprecated): ::a.b.c.d.
        [0, 0, 0, 0, 0, 0, hi, lo] => forbidden_v4(embedded(hi, lo))
            .map(|_| "::/96 (IPv4-compatible form of a forbidden IPv4 address)")
            .or(Some("::/96 (IPv4-compatible, deprecated)")),
        // NAT64 well-known prefix: judged by the IPv4 address it carries.
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => forbidden_v4(embedded(hi, lo))
            .map(|_| "64:ff9b::/96 (NAT64 form of a forbidden IPv4 address)"),
        [0x64, 0xff9b, 1, ..] => Some("64:ff9b:1::/48 (local-use NAT64)"),
        // 6to4: 2002:AABB:CCDD::/48 carries AA.BB.CC.DD.
        [0x2002, hi, lo, ..] => forbidden_v4(embedded(hi, lo))
            .map(|_| "2002::/16 (6to4 form of a forbidden IPv4 address)"),
        [0x2001, 0, ..] => Some("2001::/32 (Teredo)"),
        [0x2001, 0xdb8, ..] => Some("2001:db8::/32 (documentation)"),
        [0x100, 0, 0, 0, ..] => Some("100::/64 (discard-only)"),
        [first, ..] if first & 0xfe00 == 0xfc00 => Some("fc00::/7 (unique local)"),
        [first, ..] if first & 0xffc0 == 0xfe80 => Some("fe80::/10 (link-local)"),
        [first, ..] if first & 0xffc0 == 0xfec0 => Some("fec0::/10 (site-local, deprecated)"),
        [first, ..] if first & 0xff00 == 0xff00 => Some("ff00::/8 (multicast)"),
        _ => None,
    }
}

/// Hop-by-hop headers (RFC 9110 §7.6.1), never forwarded.
pub fn is_hop_by_hop(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

/// Whether a page's request header goes upstream: not hop-by-hop, not `Host`, and none of the
/// headers that belong to the page's own origin (`Cookie`, `Origin`, `Referer`) or to CORS.
pub fn forwards_request_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    !(is_hop_by_hop(&n)
        || matches!(
            n.as_str(),
            "host"
                | "cookie"
                | "cookie2"
                | "origin"
                | "referer"
                | "content-length"
                | "forwarded"
                | "x-forwarded-for"
                | "x-forwarded-host"
                | "x-forwarded-proto"
                // Client-address headers an upstream may trust as much as X-Forwarded-For.
                | "x-real-ip"
                | "true-client-ip"
                | "x-client-ip"
                | "cf-connecting-ip"
        )
        || n.starts_with("access-control-request-")
        || n.starts_with("sec-"))
}

/// Whether an upstream response header goes back to the page: not hop-by-hop, no cookies, none
/// of the upstream's own CORS headers (the proxy's policy sets those), and none that act on the
/// proxy's whole origin rather than on this response (`Clear-Site-Data` could log the page's
/// users out of a site the proxy shares, `Strict-Transport-Security`, reporting endpoints,
/// `Alt-Svc`, a service worker's scope).
pub fn forwards_response_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    !(is_hop_by_hop(&n)
        || matches!(
            n.as_str(),
            "set-cookie"
                | "set-cookie2"
                | "content-length"
                | "x-content-type-options"
                | "content-security-policy"
                | "clear-site-data"
                | "strict-transport-security"
                | "nel"
                | "report-to"
                | "reporting-endpoints"
                | "alt-svc"
                | "refresh"
                | "service-worker-allowed"
        )
        || n.starts_with("access-control-"))
}

/// A fixed-window rate limiter over `now_ms` (any monotonic clock the caller has). It keeps
/// one counter per key; `sweep` drops windows that ended.
#[derive(Debug)]
pub struct Limiter {
    rate: Rate,
    windows: HashMap<String, (u64, u32)>,
}

impl Limiter {
    /// A limiter for `rate`.
    pub fn new(rate: Rate) -> Limiter {
        Limiter {
            rate,
            windows: HashMap::new(),
        }
    }

    /// Counts one request for `key` at `now_ms`: `Ok(remaining)`, or `Err(ms until the window
    /// ends)` when the budget is spent.
    pub fn hit(&mut self, key: &str, now_ms: u64) -> Result<u32, u64> {
        let window = now_ms / self.rate.per_ms;
        let e = self.windows.entry(key.to_string()).or_insert((window, 0));
        if e.0 != window {
            *e = (window, 0);
        }
        if e.1 >= self.rate.count {
            return Err((window + 1) * self.rate.per_ms - now_ms);
        }
        e.1 += 1;
        Ok(self.rate.count - e.1)
    }

    /// Drops counters of windows that have ended; call now and then to bound memory.
    pub fn sweep(&mut self, now_ms: u64) {
        let window = now_ms / self.rate.per_ms;
        self.windows.retain(|_, (w, _)| *w == window);
    }

    /// How many clients are counted.
    pub fn len(&self) -> usize {
        self.windows.len()
    }

    /// Whether no client is counted.
    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relay(toml_text: &str) -> Result<(Relay, Vec<Lint>), Vec<Lint>> {
        let spec: RelaySpec = toml::from_str(toml_text).unwrap();
        build(&spec, &|k| {
            (k == "TOKEN").then(|| "s3cret-token".to_string())
        })
    }

    #[test]
    fn the_guard_reads_addresses_not_text() {
        let no = |s: &str| forbidden_range(s.parse().unwrap());
        for ip in [
            "127.0.0.1",
            "127.9.9.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "239.255.255.250",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.2.5",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "192.0.0.8",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::7f00:1",
            "64:ff9b:1::1",
            "2002:7f00:1::1",
            "2002:a9fe:a9fe::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "2001:0:4136:e378::1",
            "100::1",
            "::127.0.0.1",
        ] {
            assert!(no(ip).is_some(), "{ip} must be refused");
        }
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "192.169.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert_eq!(no(ip), None, "{ip} is public");
        }
        assert_eq!(
            no("169.254.169.254"),
            Some("169.254.0.0/16 (link-local, cloud metadata)")
        );
    }

    #[test]
    fn targets_match_by_parsed_host_scheme_and_port() {
        let t = Target::parse("https://*.partner.example").unwrap();
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(t.matches(&u("https://a.partner.example/x")));
        assert!(t.matches(&u("https://b.a.partner.example/")));
        assert!(
            !t.matches(&u("https://partner.example/")),
            "the domain itself is not under it"
        );
        assert!(!t.matches(&u("https://partner.example.evil.net/")));
        assert!(!t.matches(&u("https://evilpartner.example/")));
        assert!(!t.matches(&u("http://a.partner.example/")), "scheme");
        assert!(!t.matches(&u("https://a.partner.example:8443/")), "port");
        let t = Target::parse("https://api.example.com").unwrap();
        assert!(t.matches(&u("https://api.example.com:443/v1?q=1")));
        assert!(!t.matches(&u("https://api.example.com.evil.net/")));
        assert!(!t.matches(&u("https://xapi.example.com/")));
        let e = Target::parse("api.example.com").unwrap_err();
        assert!(matches!(e, TargetError::NoScheme(_)));
        assert!(e
            .to_string()
            .contains("did you mean 'https://api.example.com'"));
        let e = Target::parse("https://api.example.com/v1").unwrap_err();
        assert_eq!(
            e,
            TargetError::Path(
                "https://api.example.com/v1".into(),
                "https://api.example.com".into()
            )
        );
        assert!(e.to_string().contains("has a path"));
        let e = Target::parse("https://*.com").unwrap_err();
        assert!(matches!(e, TargetError::PublicSuffix(_)), "{e}");
        assert!(matches!(Rate::parse("0/minute"), Err(RateError::Zero(_))));
        assert!(Target::parse("ftp://x.example").is_err());
    }

    #[test]
    fn targets_are_read_from_the_path() {
        let t = target_of("/https://api.example.com/items?q=1").unwrap();
        assert_eq!(t.as_str(), "https://api.example.com/items?q=1");
        assert_eq!(
            target_of("/https:/api.example.com/x").unwrap().as_str(),
            "https://api.example.com/x"
        );
        assert!(matches!(target_of("/"), Err(Refusal::NoTarget { .. })));
        assert!(matches!(
            target_of("/api.example.com/x"),
            Err(Refusal::BadTarget { .. })
        ));
        assert!(matches!(
            target_of("/file:///etc/passwd"),
            Err(Refusal::BadTarget { .. })
        ));
        assert!(matches!(
            target_of("/https://u:p@api.example.com/"),
            Err(Refusal::BadTarget { .. })
        ));
        // Found by the relay fuzz target: a literal '*' host would read back as a wildcard.
        assert!(matches!(
            target_of("/https://*.api.example.com/"),
            Err(Refusal::BadTarget { .. })
        ));
    }

    #[test]
    fn the_lint_refuses_open_relays_and_spendable_secrets() {
        let e = relay("origins = [\"https://app.example.com\"]\ntargets = [\"*\"]\n").unwrap_err();
        assert!(e[0].message.contains("open relay"), "{e:?}");
        assert!(relay("origins = [\"https://app.example.com\"]\ntargets = [\"*\"]\ndangerously_open_relay = true\n").is_ok());
        let e = relay("origins = [\"*\"]\ntargets = [\"https://api.example.com\"]\n[[inject]]\ntarget = \"https://api.example.com\"\nheader = \"Authorization\"\nvalue_env = \"TOKEN\"\n").unwrap_err();
        assert!(
            e.iter()
                .any(|l| l.message.contains("any web page can spend")),
            "{e:?}"
        );
        let e = relay("origins = [\"https://app.example.com\"]\ntargets = [\"https://api.example.com\"]\n[[inject]]\ntarget = \"https://api.example.com\"\nheader = \"Authorization\"\nvalue_env = \"MISSING\"\n").unwrap_err();
        assert!(
            e.iter().any(|l| l.message.contains("$MISSING is not set")),
            "{e:?}"
        );
        let e = relay("origins = [\"app.example.com\"]\ntargets = [\"https://api.example.com\"]\nrate_limit = \"fast\"\n").unwrap_err();
        assert!(e.iter().any(|l| l.key.starts_with("origins")), "{e:?}");
        assert!(e.iter().any(|l| l.key == "rate_limit"), "{e:?}");
        // An exemption that no target names exempts nothing: an error with the fix.
        let e = relay("origins = [\"https://app.example.com\"]\ntargets = [\"https://api.internal:8443\"]\nallow_private = [\"10.0.0.5:8443\", \"api.internal:443\"]\n").unwrap_err();
        let dead: Vec<&str> = e
            .iter()
            .filter(|l| l.message.contains("matches no target"))
            .map(|l| l.key.as_str())
            .collect();
        assert_eq!(dead, ["allow_private[0]", "allow_private[1]"], "{e:?}");
        assert!(e[0].fix.contains("https://api.internal:8443"), "{e:?}");
        assert!(relay("origins = [\"https://app.example.com\"]\ntargets = [\"https://api.internal:8443\", \"http://[::1]:9000\", \"https://*.corp.test\"]\nallow_private = [\"api.internal:8443\", \"[::1]:9000\", \"db.corp.test:443\"]\n").is_ok());
        let (r, _) = relay("origins = [\"https://app.example.com\"]\ntargets = [\"https://api.example.com\", \"http://localhost:8080\"]\nallow_private = [\"localhost:8080\"]\n[[inject]]\ntarget = \"https://api.example.com\"\nheader = \"X-Api-Key\"\nvalue_env = \"TOKEN\"\n").unwrap();
        let u = Url::parse("https://api.example.com/x").unwrap();
        assert_eq!(
            r.injected(&u).collect::<Vec<_>>(),
            [("X-Api-Key", "s3cret-token")]
        );
        assert!(r.echoes_secret(b"Bearer s3cret-token"));
        assert!(
            r.policy.allows_origin("https://app.example.com")
                && !r.policy.allows_origin("https://evil.example")
        );
        // allow_private lifts the guard for that host and port only.
        let local = Url::parse("http://localhost:8080/").unwrap();
        assert!(r
            .check_address(&local, "127.0.0.1".parse().unwrap())
            .is_ok());
        let other = Url::parse("http://localhost:8081/").unwrap();
        assert!(matches!(
            r.check_address(&other, "127.0.0.1".parse().unwrap()),
            Err(Refusal::PrivateAddress { .. })
        ));
    }

    #[test]
    fn the_limiter_counts_per_key_and_window() {
        let mut l = Limiter::new(Rate::parse("2/second").unwrap());
        assert_eq!(l.hit("a", 0), Ok(1));
        assert_eq!(l.hit("a", 10), Ok(0));
        assert_eq!(l.hit("a", 400), Err(600));
        assert_eq!(l.hit("b", 400), Ok(1));
        assert_eq!(l.hit("a", 1000), Ok(1));
        l.sweep(2500);
        assert!(l.is_empty());
        assert_eq!(
            Rate::parse("120/minute").unwrap(),
            Rate {
                count: 120,
                per_ms: 60_000
            }
        );
        assert!(Rate::parse("0/minute").is_err() && Rate::parse("12 per minute").is_err());
    }

    #[test]
    fn headers_cross_as_a_cors_proxy_needs() {
        for h in [
            "Cookie",
            "Origin",
            "Referer",
            "Host",
            "Connection",
            "Sec-Fetch-Mode",
            "Access-Control-Request-Method",
            "X-Forwarded-For",
            "X-Real-IP",
            "True-Client-IP",
        ] {
            assert!(!forwards_request_header(h), "{h}");
        }
        for h in ["Authorization", "Content-Type", "Accept", "X-Api-Version"] {
            assert!(forwards_request_header(h), "{h}");
        }
        for h in [
            "Set-Cookie",
            "Access-Control-Allow-Origin",
            "Transfer-Encoding",
            "Clear-Site-Data",
            "Strict-Transport-Security",
            "Report-To",
            "NEL",
            "Alt-Svc",
        ] {
            assert!(!forwards_response_header(h), "{h}");
        }
        assert!(forwards_response_header("Content-Type") && forwards_response_header("ETag"));
        // The upstream's Vary goes on (the proxy adds Origin to it): a cache must not reuse an
        // answer across the headers it depends on.
        assert!(forwards_response_header("Vary"));
    }
}
