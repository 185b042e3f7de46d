//! The misconfiguration classes audit reports, who can exploit each, and the severities.

#[allow(unused_imports)]
use crate::*;
use serde::Serialize;

/// A misconfiguration class. The ids are stable: JSON, SARIF and `--fail-on` users rely on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Class {
    /// Any origin is echoed back.
    ReflectOrigin,
    /// `Origin: null` is allowed.
    NullOrigin,
    /// `https://TRUSTED.attacker.example` is allowed (a prefix check).
    PrefixBypass,
    /// `https://attackerTRUSTED` is allowed (a suffix check without a dot boundary).
    SuffixBypass,
    /// An origin containing the trusted host (`https://xTRUSTEDx.attacker.example`), or a part
    /// of it, is allowed: a substring check in either direction.
    SubstringBypass,
    /// A dot of the trusted host may be any character (an unescaped `.` in a regex).
    UnescapedDot,
    /// `https://TRUSTED_.attacker.example` and the like are allowed.
    SpecialCharBypass,
    /// Any subdomain of the trusted host or site is allowed.
    AnySubdomain,
    /// `https://localhost.attacker.example` is allowed: a development allowance for
    /// `localhost` that is not anchored.
    LocalhostBypass,
    /// The http:// origin of an https site is allowed.
    HttpOriginTrusted,
    /// Shared hosting (github.io, codepen.io, ...) where anyone can publish is allowed.
    ThirdPartyOrigin,
    /// The trusted host on another port is allowed.
    PortIgnored,
    /// `Access-Control-Allow-Origin: *` with `Access-Control-Allow-Credentials: true`.
    WildcardCredentials,
    /// `*` on a response that carries secrets or personal data, or that differs when the
    /// user's credentials are sent.
    WildcardSensitive,
    /// `*` on what looks like public data (informational).
    WildcardPublic,
    /// The preflight answer echoes any requested method or header.
    PreflightReflect,
    /// The preflight is refused by authentication (browsers never send credentials on it).
    PreflightAuth,
    /// An origin-dependent, cacheable response without `Vary: Origin`.
    MissingVary,
    /// `Access-Control-Allow-Private-Network: true`: the Private Network Access opt-in, which
    /// current Chromium no longer asks for (Local Network Access needs the user's permission).
    PrivateNetworkHeader,
    /// `Access-Control-Allow-Origin` has a value no browser accepts (a list, a path, a
    /// trailing slash): CORS does not work at all for the trusted origin.
    InvalidAllowOrigin,
    /// The trusted origin's answer carries CORS headers and an error answer (a path no app
    /// serves) carries none: the page sees a CORS error instead of every error's status and body.
    ErrorsWithoutCors,
}

impl Class {
    /// Every class, in report order.
    pub const ALL: [Class; 21] = [
        Class::ReflectOrigin,
        Class::NullOrigin,
        Class::PrefixBypass,
        Class::SuffixBypass,
        Class::SubstringBypass,
        Class::UnescapedDot,
        Class::SpecialCharBypass,
        Class::AnySubdomain,
        Class::LocalhostBypass,
        Class::HttpOriginTrusted,
        Class::ThirdPartyOrigin,
        Class::PortIgnored,
        Class::WildcardCredentials,
        Class::WildcardSensitive,
        Class::WildcardPublic,
        Class::PreflightReflect,
        Class::PreflightAuth,
        Class::MissingVary,
        Class::PrivateNetworkHeader,
        Class::InvalidAllowOrigin,
        Class::ErrorsWithoutCors,
    ];

    /// The stable id (`reflect-origin`, ...).
    pub fn id(self) -> &'static str {
        match self {
            Class::ReflectOrigin => "reflect-origin",
            Class::NullOrigin => "null-origin",
            Class::PrefixBypass => "prefix-bypass",
            Class::SuffixBypass => "suffix-bypass",
            Class::SubstringBypass => "substring-bypass",
            Class::UnescapedDot => "unescaped-dot",
            Class::SpecialCharBypass => "special-char-bypass",
            Class::AnySubdomain => "any-subdomain",
            Class::LocalhostBypass => "localhost-bypass",
            Class::HttpOriginTrusted => "http-origin-trusted",
            Class::ThirdPartyOrigin => "third-party-origin",
            Class::PortIgnored => "port-ignored",
            Class::WildcardCredentials => "wildcard-credentials",
            Class::WildcardSensitive => "wildcard-sensitive",
            Class::WildcardPublic => "wildcard-public",
            Class::PreflightReflect => "preflight-reflect",
            Class::PreflightAuth => "preflight-auth",
            Class::MissingVary => "missing-vary",
            Class::PrivateNetworkHeader => "private-network-header",
            Class::InvalidAllowOrigin => "invalid-allow-origin",
            Class::ErrorsWithoutCors => "errors-without-cors",
        }
    }

    /// A one-line title.
    pub fn title(self) -> &'static str {
        match self {
            Class::ReflectOrigin => "Any origin is reflected",
            Class::NullOrigin => "The null origin is trusted",
            Class::PrefixBypass => "Origins that start with the trusted host are trusted",
            Class::SuffixBypass => "Origins that end with the trusted domain are trusted",
            Class::SubstringBypass => {
                "Origins containing the trusted host, or parts of it, are trusted"
            }
            Class::UnescapedDot => "A dot in the trusted host matches any character",
            Class::SpecialCharBypass => {
                "The trusted host followed by a special character is trusted"
            }
            Class::AnySubdomain => "Any subdomain is trusted",
            Class::LocalhostBypass => "Any origin starting with localhost is trusted",
            Class::InvalidAllowOrigin => {
                "Access-Control-Allow-Origin has a value no browser accepts"
            }
            Class::HttpOriginTrusted => "The plain-http twin of the https front end is trusted",
            Class::ThirdPartyOrigin => "A shared-hosting origin anyone can publish on is trusted",
            Class::PortIgnored => "The trusted host on any port is trusted",
            Class::WildcardCredentials => "Wildcard origin together with credentials",
            Class::WildcardSensitive => "Wildcard origin on secrets or personal data",
            Class::WildcardPublic => "Wildcard origin on public data",
            Class::PreflightReflect => "The preflight answer echoes any method or header",
            Class::PreflightAuth => "Preflights are refused by authentication",
            Class::MissingVary => "Origin-dependent response without Vary: Origin",
            Class::PrivateNetworkHeader => {
                "Access-Control-Allow-Private-Network, which current Chromium ignores"
            }
            Class::ErrorsWithoutCors => "Error answers carry no CORS headers",
        }
    }

    /// The CWE it falls under: 942 (permissive cross-domain policy) or 346 (origin validation
    /// error); 524 for the cache problem; none for a preflight refused by authentication.
    pub fn cwe(self) -> Option<u32> {
        match self {
            Class::PrefixBypass
            | Class::SuffixBypass
            | Class::SubstringBypass
            | Class::UnescapedDot
            | Class::SpecialCharBypass
            | Class::LocalhostBypass
            | Class::PortIgnored => Some(346),
            Class::MissingVary => Some(524),
            Class::PreflightAuth
            | Class::PrivateNetworkHeader
            | Class::InvalidAllowOrigin
            | Class::ErrorsWithoutCors => None,
            _ => Some(942),
        }
    }

    /// Whether the class is used by an attacker's page sending an origin the server allows (so
    /// each engine's own rules on reaching the target apply).
    pub(crate) fn attacker_sends_origin(self) -> bool {
        !matches!(
            self,
            Class::PreflightAuth
                | Class::PreflightReflect
                | Class::MissingVary
                | Class::PrivateNetworkHeader
                | Class::InvalidAllowOrigin
                | Class::ErrorsWithoutCors
        )
    }

    /// Whether an attacker needs something to use the class, and what.
    pub(crate) fn attacker(self) -> Attacker {
        match self {
            Class::AnySubdomain => Attacker::Subdomain,
            Class::HttpOriginTrusted => Attacker::Network,
            Class::PortIgnored => Attacker::SameHost,
            _ => Attacker::Anyone,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attacker {
    /// Anyone: a domain of their own, a sandboxed iframe (`null`), a page on shared hosting.
    Anyone,
    /// A takeover of, or script on, a subdomain.
    Subdomain,
    /// A position on the victim's network path.
    Network,
    /// Another service on the same host.
    SameHost,
}

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; nothing to exploit.
    Info,
    /// Exploitable for little (anonymous data) or in unusual conditions.
    Low,
    /// Exploitable with credentials by an attacker who needs a foothold first.
    Medium,
    /// Credentialed reads by anyone.
    High,
    /// Credentialed reads by anyone of data that the user's credentials unlocked.
    Critical,
}

impl Severity {
    /// Every severity, least first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// A name that is no severity's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a severity: use info, low, medium, high or critical")]
pub struct UnknownSeverity(pub String);

impl std::str::FromStr for Severity {
    type Err = UnknownSeverity;
    fn from_str(s: &str) -> Result<Self, UnknownSeverity> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            _ => Err(UnknownSeverity(s.to_string())),
        }
    }
}
