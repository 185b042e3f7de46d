//! `corsair audit`, sans IO: which Origin mutations and preflights to send to a target, and
//! what the answers reveal. The caller sends [`probes`] (in order, concurrently or not) and
//! hands every answer to [`assess`], which returns every misconfiguration class found, each
//! with a severity from its exploitability, the evidence and the fix in corsair's policy
//! language.
//!
//! A mutation is reported under the root cause that explains it: when the origins one class
//! accepted are all accepted by another class's flawed check (a server that reflects any
//! origin also accepts the prefix and suffix tricks; one that trusts any origin containing
//! the trusted host also accepts `TRUSTED.attacker.example`), the finding is the root cause,
//! whose fix closes them all, and the others are listed as `implied` with their origins in
//! `also_allowed`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

// The browser model and the crates below this one, under the paths this code has always used.
use corsair_model::{browser, fetch, header, host, Origin};

pub mod exposure;

use crate::browser::Browser;
use crate::fetch::{ExchangeKind, Outgoing};
use corsair_model::lna::{self, AddressSpace};
use corsair_model::ResponseHead;
use serde::Serialize;
use url::Url;

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
}

impl Class {
    /// Every class, in report order.
    pub const ALL: [Class; 20] = [
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
            Class::PreflightAuth | Class::PrivateNetworkHeader | Class::InvalidAllowOrigin => None,
            _ => Some(942),
        }
    }

    /// Whether the class is used by an attacker's page sending an origin the server allows (so
    /// each engine's own rules on reaching the target apply).
    fn attacker_sends_origin(self) -> bool {
        !matches!(
            self,
            Class::PreflightAuth
                | Class::PreflightReflect
                | Class::MissingVary
                | Class::PrivateNetworkHeader
                | Class::InvalidAllowOrigin
        )
    }

    /// Whether an attacker needs something to use the class, and what.
    fn attacker(self) -> Attacker {
        match self {
            Class::AnySubdomain => Attacker::Subdomain,
            Class::HttpOriginTrusted => Attacker::Network,
            Class::PortIgnored => Attacker::SameHost,
            _ => Attacker::Anyone,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Attacker {
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

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            _ => Err(format!(
                "'{s}' is not a severity: use info, low, medium, high or critical"
            )),
        }
    }
}

/// What is audited: the URL, the origin it trusts, and the user's headers.
#[derive(Clone, Debug)]
pub struct Subject {
    /// The endpoint.
    pub url: Url,
    /// The origin the endpoint is meant to trust (given, or `https://` + the URL's host).
    pub trusted: String,
    /// Headers sent with every GET probe (a session cookie, a token): the authenticated view.
    pub headers: Vec<(String, String)>,
    scheme: String,
    host: String,
    port: Option<u16>,
    /// The registrable domain of the trusted host, when it has one (not for IP addresses).
    site: Option<String>,
    /// The address space of the address the target was reached at, when known: an attacker's
    /// page on the internet reaches a local or loopback target in Chromium only with the
    /// user's permission (Local Network Access), in Firefox and Safari directly.
    pub target_space: Option<AddressSpace>,
}

impl Subject {
    /// Checks the URL and the trusted origin. Without `trusted`, the trusted origin is
    /// `https://` + the URL's host.
    pub fn new(
        url: &str,
        trusted: Option<&str>,
        headers: Vec<(String, String)>,
    ) -> Result<Subject, String> {
        let url = Url::parse(url).map_err(|e| {
            format!("'{url}' is not a URL ({e}); write it whole, e.g. https://api.example.com/me")
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!(
                "'{url}' must be an http:// or https:// URL with a host"
            ));
        }
        let trusted = match trusted {
            Some(t) => {
                let o =
                    crate::Origin::parse_lenient(t).map_err(|e| format!("--origin '{t}': {e}"))?;
                if o.is_opaque() {
                    return Err("--origin must be the site's own origin, not null".into());
                }
                o.to_string()
            }
            None => format!("https://{}", url.host_str().unwrap_or_default()),
        };
        let t = Url::parse(&trusted).map_err(|e| format!("--origin '{trusted}': {e}"))?;
        let host = t.host_str().unwrap_or_default().to_string();
        let site = crate::host::Host::parse(&host)
            .ok()
            .and_then(|h| h.registrable_domain().map(str::to_string));
        Ok(Subject {
            scheme: t.scheme().to_string(),
            host,
            port: t.port(),
            site,
            url,
            trusted,
            headers,
            target_space: None,
        })
    }

    fn with_host(&self, host: &str) -> String {
        format!("{}://{host}", self.scheme)
    }
}

/// What a probe sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProbeKind {
    /// A GET with an Origin (and the user's headers): the class is found if the origin is
    /// allowed.
    Origin,
    /// A GET with the trusted origin and without the user's headers, to compare the
    /// authenticated and anonymous answers.
    Anonymous,
    /// A preflight from the trusted origin for an ordinary cross-origin API call.
    Preflight,
    /// A preflight from the trusted origin asking for a method and a header nobody allows.
    PreflightReflect,
    /// A preflight from the trusted origin for a GET with Authorization: a method every API
    /// serves, so a 403 to it as well is not a refusal of the method.
    PreflightGet,
}

/// One request of an audit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Probe {
    /// What it sends.
    pub kind: ProbeKind,
    /// The class an allowed answer reveals (`None` for the trusted origin's own probes).
    pub class: Option<Class>,
    /// The Origin header.
    pub origin: String,
    /// How the origin's host stands to the trusted host, known from how the probe was built.
    #[serde(skip)]
    pub relation: Relation,
}

/// How a probe origin's host stands to the trusted host H and its site S (H itself when it has
/// none), set where the probe is built from them: what a server's flawed check would see, so
/// that root causes are told apart without reading the host back as text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Relation {
    /// The host is H.
    pub is_host: bool,
    /// H appears in the host (`xHx.attacker`, `H.attacker`, `sub.H`).
    pub contains_host: bool,
    /// S appears in the host.
    pub contains_site: bool,
    /// The host starts with H.
    pub starts_with_host: bool,
    /// The host ends with S, at a label boundary or not (`attackerS`).
    pub ends_with_site: bool,
    /// The host is part of H (`H` minus a character, S minus a character, H itself).
    pub part_of_host: bool,
    /// The host is S or a name under it, label by label.
    pub within_site: bool,
}

impl Relation {
    /// H itself (another scheme or port).
    const HOST: Relation = Relation {
        is_host: true,
        contains_host: true,
        contains_site: true,
        starts_with_host: true,
        ends_with_site: true,
        part_of_host: true,
        within_site: true,
    };
    /// H followed by other text (`H.attacker`, `H_.attacker`, `Hattacker`).
    const PREFIXED: Relation = Relation {
        contains_host: true,
        contains_site: true,
        starts_with_host: true,
        ..Relation::NONE
    };
    /// A name under S, label by label.
    const UNDER_SITE: Relation = Relation {
        contains_site: true,
        ends_with_site: true,
        within_site: true,
        ..Relation::NONE
    };
    /// Nothing in common.
    const NONE: Relation = Relation {
        is_host: false,
        contains_host: false,
        contains_site: false,
        starts_with_host: false,
        ends_with_site: false,
        part_of_host: false,
        within_site: false,
    };
}

/// The method and header a [`ProbeKind::PreflightReflect`] probe asks for.
pub const PROBE_METHOD: &str = "CORSAIRPROBE";
/// See [`PROBE_METHOD`].
pub const PROBE_HEADER: &str = "x-corsair-probe";

/// Characters a misparsing server may take as the end of the host (CORS-FACTS, PortSwigger).
pub const SPECIAL_CHARS: [&str; 22] = [
    "_", "-", "\"", "{", "}", "+", "^", "%60", "!", "~", "`", ";", "|", "&", "'", "(", ")", "*",
    ",", "$", "=", "%0b",
];

/// Characters that some engines let through in a host label of their own
/// (`https://TRUSTED.$.attacker.example`): nuclei's cors-misconfig payloads, after
/// PortSwigger's research on Safari and Firefox.
pub const LABEL_CHARS: [&str; 14] = [
    "$", "~", "=", "+", "&", "*", ")", "(", "'", "!", ";", ",", "-", "_",
];

/// Shared hosting where anyone can publish a page (and so own an origin). An
/// `Access-Control-Allow-Origin` naming any host under a suffix of the public suffix list's
/// private section is reported too.
pub const THIRD_PARTY: [&str; 12] = [
    "https://corsair-audit.github.io",
    "https://whatever.github.io",
    "https://codepen.io",
    "https://cdpn.io",
    "https://jsfiddle.net",
    "http://jsbin.com",
    "https://jsbin.com",
    "https://repl.it",
    "http://www.webdevout.net",
    "https://stackblitz.com",
    "https://corsair-audit.glitch.me",
    "https://corsair-audit.netlify.app",
];

const ATTACKER: &str = "corsair-attacker.example";

/// The probes for `subject`, in a fixed order.
pub fn probes(s: &Subject) -> Vec<Probe> {
    use Class::*;
    let mut out = Vec::new();
    let mut origin = |class: Option<Class>, origin: String, relation: Relation| {
        if !out
            .iter()
            .any(|p: &Probe| p.origin == origin && p.kind == ProbeKind::Origin)
        {
            out.push(Probe {
                kind: ProbeKind::Origin,
                class,
                origin,
                relation,
            });
        }
    };
    let h = &s.host;
    let none = Relation::NONE;
    origin(None, s.trusted.clone(), Relation::HOST);
    origin(Some(ReflectOrigin), s.with_host(ATTACKER), none);
    origin(Some(NullOrigin), "null".into(), none);
    for host in [
        format!("{h}.{ATTACKER}"),
        format!("{h}corsair-attacker.example"),
    ] {
        origin(Some(PrefixBypass), s.with_host(&host), Relation::PREFIXED);
    }
    // The trusted host inside an attacker's host: a "contains" check.
    let contains_host = Relation {
        contains_host: true,
        contains_site: true,
        ..none
    };
    origin(
        Some(SubstringBypass),
        s.with_host(&format!("x{h}x.{ATTACKER}")),
        contains_host,
    );
    if let Some(site) = &s.site {
        let contains_site = Relation {
            contains_site: true,
            ..none
        };
        if site != h {
            origin(
                Some(SubstringBypass),
                s.with_host(&format!("x{site}x.{ATTACKER}")),
                contains_site,
            );
        }
        let glued = Relation {
            ends_with_site: true,
            contains_host: site == h,
            ..contains_site
        };
        origin(
            Some(SuffixBypass),
            s.with_host(&format!("corsairattacker{site}")),
            glued,
        );
        origin(
            Some(SuffixBypass),
            format!("http://corsairattacker{site}"),
            glued,
        );
        if site != h {
            // An `endsWith(host)` check (Corsy's pre-domain wildcard). Under a registrable
            // domain of the site's own, that name is a subdomain of the site: an attacker needs
            // one, so it is `any-subdomain`, not a name anyone can register.
            let under = Relation {
                contains_host: true,
                ..Relation::UNDER_SITE
            };
            origin(
                Some(AnySubdomain),
                s.with_host(&format!("corsairattacker{h}")),
                under,
            );
        }
        let part = Relation {
            part_of_host: true,
            ..none
        };
        if site.len() > 1 {
            origin(Some(SubstringBypass), s.with_host(&site[1..]), part);
        }
        if h.len() > 1 {
            origin(Some(SubstringBypass), s.with_host(&h[..h.len() - 1]), part);
        }
        // Each dot replaced: the host still ends with S when the dot was before S's labels.
        // (`site_starts` is where S begins in H: S is H's last labels.)
        let site_starts = h.len() - site.len();
        for (i, _) in h.match_indices('.') {
            let mut replaced = h.clone();
            replaced.replace_range(i..i + 1, "x");
            let relation = Relation {
                ends_with_site: i < site_starts,
                contains_site: i < site_starts,
                // Still a name under S when the dot was not the one just before S's labels.
                within_site: i + 1 < site_starts,
                ..none
            };
            origin(Some(UnescapedDot), s.with_host(&replaced), relation);
        }
        // Every dot at once (nuclei's payload).
        origin(Some(UnescapedDot), s.with_host(&h.replace('.', "x")), none);
    }
    for c in SPECIAL_CHARS {
        origin(
            Some(SpecialCharBypass),
            s.with_host(&format!("{h}{c}.{ATTACKER}")),
            Relation::PREFIXED,
        );
    }
    for c in LABEL_CHARS {
        origin(
            Some(SpecialCharBypass),
            s.with_host(&format!("{h}.{c}.{ATTACKER}")),
            Relation::PREFIXED,
        );
    }
    if let Some(site) = &s.site {
        let under_host = Relation {
            contains_host: true,
            ..Relation::UNDER_SITE
        };
        // When H is S, a name under S is also one containing H.
        let under_site = Relation {
            contains_host: *site == *h,
            ..Relation::UNDER_SITE
        };
        origin(
            Some(AnySubdomain),
            s.with_host(&format!("corsair-attacker.{h}")),
            under_host,
        );
        origin(
            Some(AnySubdomain),
            s.with_host(&format!("corsair-attacker.{site}")),
            under_site,
        );
        origin(
            Some(AnySubdomain),
            format!("http://corsair-attacker.{site}"),
            under_site,
        );
    }
    // A development allowance for localhost that is not anchored.
    if h != "localhost" {
        origin(
            Some(LocalhostBypass),
            format!("https://localhost.{ATTACKER}"),
            none,
        );
        origin(
            Some(LocalhostBypass),
            format!("http://localhost.{ATTACKER}"),
            none,
        );
    }
    // The front end is https (whatever the API's own scheme): its http twin is an origin an
    // attacker on the network can serve.
    if s.scheme == "https" {
        origin(
            Some(HttpOriginTrusted),
            format!("http://{h}"),
            Relation::HOST,
        );
    }
    for t in THIRD_PARTY {
        origin(Some(ThirdPartyOrigin), t.to_string(), none);
    }
    let other_port = match s.port {
        Some(p) => p.wrapping_add(1).max(1),
        None => 8443,
    };
    origin(
        Some(PortIgnored),
        format!("{}://{h}:{other_port}", s.scheme),
        Relation::HOST,
    );
    let trusted = |kind: ProbeKind, class: Option<Class>| Probe {
        kind,
        class,
        origin: s.trusted.clone(),
        relation: Relation::HOST,
    };
    if !s.headers.is_empty() {
        out.push(trusted(ProbeKind::Anonymous, None));
    }
    out.push(trusted(ProbeKind::Preflight, Some(PreflightAuth)));
    out.push(trusted(ProbeKind::PreflightReflect, Some(PreflightReflect)));
    out.push(trusted(ProbeKind::PreflightGet, None));
    out
}

impl Probe {
    /// The request to send (the caller adds `Host` and `User-Agent`). Preflights never carry
    /// the user's headers, as browsers never send credentials on them.
    pub fn request(&self, s: &Subject) -> Outgoing {
        let mut headers = vec![("Origin".to_string(), self.origin.clone())];
        let (method, kind) = match self.kind {
            ProbeKind::Origin => {
                headers.extend(s.headers.iter().cloned());
                ("GET", ExchangeKind::Actual)
            }
            ProbeKind::Anonymous => ("GET", ExchangeKind::Actual),
            ProbeKind::Preflight => {
                headers.push(("Access-Control-Request-Method".into(), "PUT".into()));
                headers.push((
                    "Access-Control-Request-Headers".into(),
                    "authorization,content-type".into(),
                ));
                ("OPTIONS", ExchangeKind::Preflight)
            }
            ProbeKind::PreflightReflect => {
                headers.push(("Access-Control-Request-Method".into(), PROBE_METHOD.into()));
                headers.push(("Access-Control-Request-Headers".into(), PROBE_HEADER.into()));
                ("OPTIONS", ExchangeKind::Preflight)
            }
            ProbeKind::PreflightGet => {
                headers.push(("Access-Control-Request-Method".into(), "GET".into()));
                headers.push((
                    "Access-Control-Request-Headers".into(),
                    "authorization".into(),
                ));
                ("OPTIONS", ExchangeKind::Preflight)
            }
        };
        Outgoing {
            kind,
            method: method.to_string(),
            url: s.url.clone(),
            headers,
            body: None,
        }
    }
}

/// The response headers shown as evidence, besides the CORS ones.
const EVIDENCE_HEADERS: [&str; 3] = ["vary", "cache-control", "www-authenticate"];

fn is_evidence(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    crate::header::CORS_RESPONSE_HEADERS
        .iter()
        .chain(&EVIDENCE_HEADERS)
        .any(|h| *h == name)
}

/// What a probe brought back, as evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// The request: method, origin and the CORS request headers.
    pub method: String,
    /// The Origin sent.
    pub origin: String,
    /// The request headers sent (the user's headers shown by name only).
    pub request_headers: Vec<(String, String)>,
    /// The response status.
    pub status: u16,
    /// The CORS, Vary and Cache-Control response headers.
    pub response_headers: Vec<(String, String)>,
}

/// One misconfiguration found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The stable class id.
    pub class: Class,
    /// The audited URL.
    pub url: String,
    /// How bad, from exploitability.
    pub severity: Severity,
    /// A one-line title.
    pub title: String,
    /// Why this severity.
    pub detail: String,
    /// The origin the target was assumed to trust.
    pub trusted_origin: String,
    /// The probe that showed it.
    pub probe: Evidence,
    /// Other probe origins the same answer covers (for a general class).
    pub also_allowed: Vec<String>,
    /// Classes whose probes this root cause explains (its fix closes them too).
    pub implied: Vec<Class>,
    /// What the body exposes (`wildcard-sensitive`): field and detector, never the value.
    pub exposed: Vec<exposure::Exposed>,
    /// The fix, in corsair's policy language.
    pub fix: String,
    /// CWE number.
    pub cwe: Option<u32>,
    /// Whether an attacker's page can use the finding in each engine, for the classes where
    /// that is a question (an origin the attacker's page sends); empty otherwise.
    pub engines: Vec<EngineReach>,
}

/// Whether an attacker's page reads what a finding exposes, in one engine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EngineReach {
    /// The engine.
    pub browser: Browser,
    /// Whether the page reads the answer without anyone's say.
    pub direct: bool,
    /// How, in words.
    pub how: String,
}

impl Finding {
    /// Whether the engines differ on this finding.
    pub fn engines_differ(&self) -> bool {
        self.engines.windows(2).any(|w| w[0].direct != w[1].direct)
    }
}

/// How an attacker's page on the internet (a secure context) fares against a target in
/// `target` space, in each engine: Chromium and Firefox apply Local Network Access (a public
/// page needs the user's permission for a local or loopback target); Safari has no such rule.
/// An attacker on another port of the same host (`same_host`) is in the target's own space.
pub fn engine_reach(target: Option<AddressSpace>, same_host: bool) -> Vec<EngineReach> {
    Browser::ALL
        .iter()
        .map(|&browser| {
            let page = if same_host {
                target.unwrap_or(AddressSpace::Public)
            } else {
                AddressSpace::Public
            };
            let gated = browser.local_network_access().is_some()
                && target.is_some_and(|t| lna::needs_permission(page, t));
            let how = match target {
                Some(t) if gated => format!(
                    "Local Network Access: the target is in the {} address space, so a page on the internet needs the user's {} permission first (the browser asks)",
                    t.name(),
                    lna::Permissions::default().for_space(t).1
                ),
                _ => "the attacker's page reads it directly".to_string(),
            };
            EngineReach {
                browser,
                direct: !gated,
                how,
            }
        })
        .collect()
}

/// A probe's answer: the response head and the start of its body (what `assess` scans for
/// secrets; empty for preflights or when not read).
#[derive(Clone, Debug, Default)]
pub struct Reply {
    /// The status and headers.
    pub head: ResponseHead,
    /// The body's first [`BODY_SAMPLE`] bytes at most.
    pub body: Vec<u8>,
}

impl From<ResponseHead> for Reply {
    fn from(head: ResponseHead) -> Reply {
        Reply {
            head,
            body: Vec::new(),
        }
    }
}

/// How much of a body the caller should read for [`assess`] (the rest is not scanned).
pub const BODY_SAMPLE: usize = 64 * 1024;

/// The answers to one target's probes, in probe order: a reply, or a network error.
pub type Answers<'a> = &'a [(Probe, Result<Reply, String>)];

/// A header's value as a browser reads it: every line of that name, joined with `, `
/// ([`ResponseHead::get`], the reading `check` and the browser model use). Two
/// `Access-Control-Allow-Origin` lines are one list, never the first line alone.
fn header(r: &ResponseHead, name: &str) -> Option<String> {
    r.get(name).map(|j| j.value)
}

fn credentials(r: &ResponseHead) -> bool {
    header(r, "access-control-allow-credentials").as_deref() == Some("true")
}

fn evidence(p: &Probe, s: &Subject, r: &ResponseHead) -> Evidence {
    let out = p.request(s);
    Evidence {
        method: out.method,
        origin: p.origin.clone(),
        request_headers: out
            .headers
            .into_iter()
            .map(|(n, v)| {
                if s.headers.iter().any(|(u, _)| u.eq_ignore_ascii_case(&n)) {
                    (n, "(your value)".to_string())
                } else {
                    (n, v)
                }
            })
            .collect(),
        status: r.status,
        response_headers: r
            .headers
            .iter()
            .filter(|(n, _)| is_evidence(n))
            .map(|(n, v)| (n.clone(), String::from_utf8_lossy(v).into_owned()))
            .collect(),
    }
}

/// Whether a response would be stored by a shared cache without `Vary: Origin`.
fn cacheable_without_vary(r: &ResponseHead) -> bool {
    let vary = r
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("vary"))
        .flat_map(|(_, v)| {
            String::from_utf8_lossy(v)
                .split(',')
                .map(|t| t.trim().to_ascii_lowercase())
                .collect::<Vec<_>>()
        })
        .any(|t| t == "origin" || t == "*");
    let cc = header(r, "cache-control")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let uncacheable = cc.contains("no-store") || cc.contains("private");
    // Statuses a cache may store without explicit freshness (RFC 9111 heuristics).
    let heuristic = matches!(
        r.status,
        200 | 203 | 204 | 206 | 300 | 301 | 308 | 404 | 405 | 410 | 414 | 501
    );
    !vary && !uncacheable && heuristic
}

/// What the answers reveal, most severe first. Network errors are not findings; the caller
/// reports them.
pub fn assess(s: &Subject, answers: Answers<'_>) -> Vec<Finding> {
    let trusted_reply = answers
        .iter()
        .find(|(p, _)| p.kind == ProbeKind::Origin && p.class.is_none())
        .and_then(|(_, r)| r.as_ref().ok());
    let anonymous_reply = answers
        .iter()
        .find(|(p, _)| p.kind == ProbeKind::Anonymous)
        .and_then(|(_, r)| r.as_ref().ok());
    let trusted_get = trusted_reply.map(|r| &r.head);
    let anonymous = anonymous_reply.map(|r| &r.head);
    // What an attacker's page reads behind `*`: the answer without the user's headers.
    let exposed = anonymous_reply
        .or(trusted_reply)
        .map(|r| exposure::scan(&r.body))
        .unwrap_or_default();
    // The user's credentials unlock something: the authenticated and anonymous answers differ.
    let unlocks = match (trusted_get, anonymous) {
        (Some(a), Some(b)) => {
            let key = |r: &ResponseHead| (r.status, header(r, "content-length"), header(r, "etag"));
            key(a) != key(b)
        }
        _ => false,
    };
    let mut found: Vec<Finding> = Vec::new();
    // One finding a class, shown with its most severe probe; the others join `also_allowed`.
    let mut add = |mut f: Finding| {
        if let Some(existing) = found.iter_mut().find(|e| e.class == f.class) {
            if f.severity > existing.severity {
                std::mem::swap(existing, &mut f);
                existing.also_allowed = std::mem::take(&mut f.also_allowed);
            }
            existing.also_allowed.push(f.probe.origin);
        } else {
            found.push(f);
        }
    };
    let finding =
        |class: Class, p: &Probe, r: &ResponseHead, severity: Severity, detail: String| Finding {
            class,
            url: s.url.to_string(),
            severity,
            title: class.title().to_string(),
            detail,
            trusted_origin: s.trusted.clone(),
            probe: evidence(p, s, r),
            also_allowed: Vec::new(),
            implied: Vec::new(),
            exposed: Vec::new(),
            fix: fix(class, s, &p.origin),
            cwe: class.cwe(),
            engines: if class.attacker_sends_origin() {
                engine_reach(s.target_space, class.attacker() == Attacker::SameHost)
            } else {
                Vec::new()
            },
        };

    let mut wildcard: Option<(&Probe, &ResponseHead)> = None;
    let mut invalid: Option<(&Probe, &ResponseHead, String)> = None;
    let mut shared_hosting: Option<(&Probe, &ResponseHead, String)> = None;
    for (p, r) in answers {
        let Ok(Reply { head: r, .. }) = r else {
            continue;
        };
        if p.kind != ProbeKind::Origin {
            continue;
        }
        let acao = header(r, "access-control-allow-origin");
        let acao = acao.as_deref();
        if p.class.is_none() && invalid.is_none() {
            invalid = invalid_allow_origin(r).map(|why| (p, r, why));
        }
        if acao == Some("*") {
            wildcard.get_or_insert((p, r));
            continue;
        }
        // A fixed Access-Control-Allow-Origin naming a page on shared hosting, of another site
        // than the trusted origin's.
        if let Some(v) = acao.filter(|v| *v != p.origin && *v != s.trusted) {
            if shared_hosting.is_none() && on_shared_hosting(v) && !same_site(s, v) {
                shared_hosting = Some((p, r, v.to_string()));
            }
        }
        let Some(class) = p.class else { continue };
        // The origin the server allowed: the one sent, or (Corsy's "broken parser") the one
        // sent with %60 decoded into a backtick.
        let decoded = p.origin.replace("%60", "`");
        let allowed_as = if acao == Some(p.origin.as_str()) {
            p.origin.as_str()
        } else if decoded != p.origin && acao == Some(decoded.as_str()) {
            decoded.as_str()
        } else {
            continue;
        };
        let creds = credentials(r);
        // Only an origin a browser can send is an attack: one whose host the URL standard
        // refuses (`^`, `|`, `%` ...) shows a loose check, nothing more.
        // (What an `Origin` header can carry: a serialised origin, or `null`.)
        let sendable = crate::Origin::parse_serialized(allowed_as).is_ok();
        let severity = match (class.attacker(), creds) {
            _ if !sendable => Severity::Info,
            (Attacker::Anyone, true) if unlocks => Severity::Critical,
            (Attacker::Anyone, true) => Severity::High,
            (Attacker::Subdomain | Attacker::Network, true) => Severity::Medium,
            _ => Severity::Low,
        };
        let who = match class.attacker() {
            Attacker::Anyone if p.origin == "null" => {
                "any page can send Origin: null from a sandboxed iframe"
            }
            Attacker::Anyone => "anyone can own this origin",
            Attacker::Subdomain => "an attacker needs a subdomain takeover or script on one",
            Attacker::Network => "an attacker on the network path can serve the http origin",
            Attacker::SameHost => "an attacker needs a service on another port of the host",
        };
        let what = if creds {
            if unlocks {
                "with credentials, and your headers unlock different data: the user's data is readable"
            } else {
                "with credentials: the user's cookies are sent and the answer is readable"
            }
        } else {
            "without credentials: only what an anonymous request gets is readable"
        };
        let decoded_note = if allowed_as != p.origin {
            format!(
                " (sent as {}: the server decoded %60 into a backtick)",
                p.origin
            )
        } else {
            String::new()
        };
        let detail = if sendable {
            format!("{allowed_as}{decoded_note} is allowed {what}; {who}.")
        } else {
            format!("{} is allowed, but no browser sends that origin (its host is not a valid domain name), so the loose check is not exploitable from a page as it stands.", p.origin)
        };
        add(finding(class, p, r, severity, detail));
    }
    if let Some((p, r, why)) = invalid {
        add(finding(Class::InvalidAllowOrigin, p, r, Severity::Low, format!("The answer to {} carries {why}. Browsers accept only one origin, exactly as the page sent it, or *: every cross-origin read from your own front end fails.", p.origin)));
    }
    if let Some((p, r, v)) = shared_hosting {
        // One fixed name: only its owner reads, unless the name lapses or is not yours.
        let mut f = finding(Class::ThirdPartyOrigin, p, r, Severity::Low, format!("Access-Control-Allow-Origin: {v} is fixed and names a page on shared hosting (a public suffix list private-section domain){}: whoever holds that name reads what it is granted. Check that your organization owns it and keeps it: a lapsed or deleted account's name can be registered by anyone.", if credentials(r) { ", with credentials" } else { "" }));
        f.fix = fix(Class::ThirdPartyOrigin, s, &v);
        add(f);
    }
    if let Some((p, r)) = wildcard {
        let (class, severity, detail) = if credentials(r) {
            (Class::WildcardCredentials, Severity::Low, "Access-Control-Allow-Origin: * with Access-Control-Allow-Credentials: true: browsers refuse credentialed reads, so anonymous data is readable by anyone and credentialed calls from your own pages fail.".to_string())
        } else if !exposed.is_empty() {
            let fields: Vec<String> = exposed
                .iter()
                .map(|e| format!("{} ({})", e.field, e.detector))
                .collect();
            (Class::WildcardSensitive, Severity::Medium, format!("Access-Control-Allow-Origin: * on a body that carries what looks like secrets or personal data: {} (values not shown). Any page reads what this request gets, including what a network position or an IP allowlist grants.", fields.join(", ")))
        } else if unlocks {
            (Class::WildcardSensitive, Severity::Medium, "Access-Control-Allow-Origin: * on an endpoint whose answer changes with your headers: anything granted without cookies (network position, IP allowlists) is readable by any page.".to_string())
        } else {
            (Class::WildcardPublic, Severity::Info, "Access-Control-Allow-Origin: * without credentials: any page can read what an anonymous request gets. Fine for public data.".to_string())
        };
        let mut f = finding(class, p, r, severity, detail);
        if class == Class::WildcardSensitive {
            f.exposed = exposed.clone();
        }
        add(f);
    }

    // Preflights.
    let trusted_allowed = trusted_get
        .and_then(|r| header(r, "access-control-allow-origin"))
        .is_some_and(|v| v == s.trusted || v == "*");
    // The GET preflight refused the same way: not a refusal of PUT (Spring, S3 and others
    // answer a method they do not allow with 403 and no CORS headers).
    let get_preflight_refused = answers.iter().any(|(p, r)| {
        p.kind == ProbeKind::PreflightGet
            && r.as_ref().is_ok_and(|r| {
                r.head.status == 403 && header(&r.head, "access-control-allow-origin").is_none()
            })
    });
    for (p, r) in answers {
        let Ok(Reply { head: r, .. }) = r else {
            continue;
        };
        match p.kind {
            // Refused by authentication: 401 or 407; a 403 asking for credentials, or one
            // without CORS headers where the trusted origin's GET is allowed (so the 403 is not
            // a CORS refusal of that origin) and a preflight for GET is refused alike (so it is
            // not a refusal of PUT either).
            ProbeKind::Preflight
                if r.status == 401
                    || r.status == 407
                    || (r.status == 403
                        && (header(r, "www-authenticate").is_some()
                            || (trusted_allowed
                                && get_preflight_refused
                                && header(r, "access-control-allow-origin").is_none()))) =>
            {
                let bare = if header(r, "access-control-allow-origin").is_none() {
                    " without CORS headers"
                } else {
                    ""
                };
                add(finding(Class::PreflightAuth, p, r, Severity::Low, format!("The preflight got {}{bare}: authentication runs before CORS. Browsers never send credentials on a preflight, so every credentialed call from {} that needs one (PUT, DELETE, JSON bodies, Authorization) fails: the API is unavailable to your own front end.", r.status, p.origin)));
            }
            ProbeKind::PreflightReflect => {
                let methods = header(r, "access-control-allow-methods").unwrap_or_default();
                let headers = header(r, "access-control-allow-headers")
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                let m = methods.split(',').any(|t| t.trim() == PROBE_METHOD);
                let h = headers.split(',').any(|t| t.trim() == PROBE_HEADER);
                if m || h {
                    let echoed = match (m, h) {
                        (true, true) => "method and header",
                        (true, false) => "method",
                        _ => "header",
                    };
                    add(finding(Class::PreflightReflect, p, r, Severity::Low, format!("The preflight answer echoes the requested {echoed} ({PROBE_METHOD}, {PROBE_HEADER}): every method and header an allowed origin asks for is granted.")));
                }
            }
            _ => {}
        }
    }

    // A specific origin echoed on a response a shared cache may store without Vary: Origin.
    if let Some((p, r)) = answers.iter().find_map(|(p, r)| {
        let r = &r.as_ref().ok()?.head;
        (p.kind == ProbeKind::Origin
            && header(r, "access-control-allow-origin").as_deref() == Some(p.origin.as_str())
            && cacheable_without_vary(r))
        .then_some((p, r))
    }) {
        add(finding(Class::MissingVary, p, r, Severity::Low, format!("Access-Control-Allow-Origin: {} depends on the Origin, but the response has no Vary: Origin and may be cached: a shared cache can serve one origin's answer to another (broken CORS, or a cache-poisoned allowance).", p.origin)));
    }

    // The Private Network Access opt-in: dead configuration in current Chromium.
    if let Some((p, r)) = answers.iter().find_map(|(p, r)| {
        let r = &r.as_ref().ok()?.head;
        header(r, "access-control-allow-private-network")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
            .then_some((p, r))
    }) {
        add(finding(Class::PrivateNetworkHeader, p, r, Severity::Info, "The server sends Access-Control-Allow-Private-Network: true, the opt-in of the Private Network Access preflight. Current Chromium (142 and later) no longer sends that preflight: under Local Network Access a public page reaches this machine or the LAN only with the user's permission, and no header grants it. It helps only older Chromium and Electron builds.".to_string()));
    }

    // Each origin probe's relation to the trusted host, by its origin (each is sent once).
    let relation = |origin: &str| {
        answers
            .iter()
            .find(|(p, _)| p.kind == ProbeKind::Origin && p.origin == origin)
            .map_or(Relation::NONE, |(p, _)| p.relation)
    };
    fold(&relation, &mut found);
    found.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.class.cmp(&b.class)));
    found
}

/// Why a response's `Access-Control-Allow-Origin` is no value a browser accepts, if it is not.
fn invalid_allow_origin(r: &ResponseHead) -> Option<String> {
    let values: Vec<String> = r
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("access-control-allow-origin"))
        .map(|(_, v)| String::from_utf8_lossy(v).trim().to_string())
        .collect();
    match values.as_slice() {
        [] => None,
        [v] if v == "*" || v == "null" => None,
        [v] if crate::Origin::parse_serialized(v).is_ok() => None,
        [v] if v.contains(',') || v.contains(' ') => Some(format!(
            "Access-Control-Allow-Origin: {v}, a list of origins"
        )),
        [v] => Some(format!(
            "Access-Control-Allow-Origin: {v}, which is not an origin (scheme://host[:port], nothing after)"
        )),
        many => Some(format!(
            "{} Access-Control-Allow-Origin lines ({}), which browsers join into one list",
            many.len(),
            many.join(" | ")
        )),
    }
}

/// Whether `value` is an origin of the trusted origin's own site (same registrable domain, by
/// the public suffix list, private section included).
fn same_site(s: &Subject, value: &str) -> bool {
    let theirs = crate::Origin::parse_lenient(value).ok().and_then(|o| {
        let host = crate::host::Host::parse(&o.tuple()?.host).ok()?;
        host.registrable_domain().map(str::to_string)
    });
    theirs.is_some() && theirs == s.site
}

/// Whether an allowed origin is a page on shared hosting (a public suffix list private-section
/// domain such as github.io), read from the parsed host.
fn on_shared_hosting(value: &str) -> bool {
    crate::Origin::parse_lenient(value).is_ok_and(|o| {
        o.tuple()
            .is_some_and(|t| match crate::host::Host::parse(&t.host) {
                Ok(crate::host::Host::Domain(d)) => d.on_shared_hosting(),
                _ => false,
            })
    })
}

/// Classes that may be a root cause, most general first.
const ROOTS: [Class; 5] = [
    Class::ReflectOrigin,
    Class::SubstringBypass,
    Class::PrefixBypass,
    Class::SuffixBypass,
    Class::AnySubdomain,
];

/// Every origin a finding's probes got allowed.
fn accepted(f: &Finding) -> impl Iterator<Item = &str> {
    std::iter::once(f.probe.origin.as_str()).chain(f.also_allowed.iter().map(String::as_str))
}

/// Whether the flawed check `root` shows (with the origins it accepted) also accepts an origin
/// whose host stands to the trusted host as `r` says.
fn explains(root: &Finding, relation: &dyn Fn(&str) -> Relation, r: Relation) -> bool {
    match root.class {
        Class::ReflectOrigin => true,
        Class::SubstringBypass => {
            // Which direction(s) the accepted origins showed.
            let shown = |test: fn(Relation) -> bool| accepted(root).map(relation).any(test);
            let contains_host = shown(|a| a.contains_host && !a.is_host);
            let contains_site = shown(|a| a.contains_site && !a.contains_host);
            let within = shown(|a| a.part_of_host && !a.is_host);
            (contains_host && r.contains_host)
                || (contains_site && r.contains_site)
                || (within && r.part_of_host)
        }
        Class::PrefixBypass => r.starts_with_host,
        Class::SuffixBypass => r.ends_with_site,
        Class::AnySubdomain => r.within_site,
        _ => false,
    }
}

/// Loose origin comparisons: one fix (exact comparison, or patterns anchored on label
/// boundaries) closes them all, so the most general one found stands for the others.
const LOOSE: [Class; 5] = [
    Class::SubstringBypass,
    Class::PrefixBypass,
    Class::SuffixBypass,
    Class::UnescapedDot,
    Class::SpecialCharBypass,
];

/// Folds each finding whose accepted origins a root cause's flawed check explains into that
/// root cause: its origins join `also_allowed`, its class `implied`, and the root takes the
/// higher severity. Then the loose comparisons left fold into the most general of them.
fn fold(relation: &dyn Fn(&str) -> Relation, found: &mut Vec<Finding>) {
    for root_class in ROOTS {
        fold_into(found, root_class, |f, root| {
            f.class.attacker_sends_origin()
                && !matches!(
                    f.class,
                    Class::WildcardCredentials | Class::WildcardSensitive | Class::WildcardPublic
                )
                && accepted(f).all(|o| explains(root, relation, relation(o)))
        });
    }
    if let Some(general) = LOOSE
        .into_iter()
        .find(|c| found.iter().any(|f| f.class == *c))
    {
        fold_into(found, general, |f, _| LOOSE.contains(&f.class));
    }
}

/// Folds into the finding of class `root_class` (if any) every other finding `folds` says it
/// covers.
fn fold_into(
    found: &mut Vec<Finding>,
    root_class: Class,
    folds: impl Fn(&Finding, &Finding) -> bool,
) {
    let Some(root) = found.iter().find(|f| f.class == root_class).cloned() else {
        return;
    };
    let mut origins = Vec::new();
    let mut implied = Vec::new();
    // The most severe folded finding, whose evidence the root then shows.
    let mut worst: Option<Finding> = None;
    found.retain(|f| {
        if f.class != root_class && folds(f, &root) {
            origins.extend(accepted(f).map(str::to_string));
            implied.push(f.class);
            implied.extend(f.implied.iter().copied());
            if f.severity > worst.as_ref().map_or(root.severity, |w| w.severity) {
                worst = Some(f.clone());
            }
            false
        } else {
            true
        }
    });
    if let Some(g) = found.iter_mut().find(|f| f.class == root_class) {
        if let Some(w) = worst {
            // Shown with the probe that makes it worst: its severity, detail and evidence.
            origins.retain(|o| *o != w.probe.origin);
            origins.push(std::mem::replace(&mut g.probe, w.probe).origin);
            g.severity = w.severity;
            g.detail = w.detail;
            g.engines = w.engines;
        }
        g.also_allowed.extend(origins);
        g.implied.extend(implied);
        g.implied.sort();
        g.implied.dedup();
    }
}

/// The fix for `class`, in corsair's policy language.
pub fn fix(class: Class, s: &Subject, probe_origin: &str) -> String {
    let trusted = &s.trusted;
    let site = s.site.clone().unwrap_or_else(|| s.host.clone());
    match class {
        Class::ReflectOrigin => format!("List the origins that may read this endpoint instead of echoing the Origin: [policy] origins = [\"{trusted}\"]. corsair serve never echoes an unlisted origin."),
        Class::NullOrigin => "Remove \"null\" from the allowed origins: sandboxed iframes, data: and file: pages all send it, so anyone can. `corsair policy lint` refuses it.".to_string(),
        Class::PrefixBypass | Class::SuffixBypass | Class::SubstringBypass | Class::UnescapedDot | Class::SpecialCharBypass => format!("Compare origins exactly, or with patterns anchored on label boundaries: [policy] origins = [\"{trusted}\", \"https://*.{site}\"]. corsair's patterns never match {probe_origin}."),
        Class::LocalhostBypass => "Trust development origins exactly, and only in development: [policy] origins = [\"http://localhost:5173\"] (with the port). A pattern that only checks the start of the origin also lets https://localhost.attacker.example in.".to_string(),
        Class::InvalidAllowOrigin => format!("Send exactly one origin, the page's own when it is allowed (with Vary: Origin), or \"*\" for public data: [policy] origins = [\"{trusted}\"]. corsair serve and corsair-tower write one origin per answer."),
        Class::AnySubdomain => format!("Trust only the subdomains you run: [policy] origins = [\"{trusted}\"] rather than a pattern over every subdomain of {site}; keep \"https://*.{site}\" only if no subdomain can be taken over or hosts others' content."),
        Class::HttpOriginTrusted => format!("Drop the http:// origin: [policy] origins = [\"{trusted}\"]. corsair refuses plain-http origins with credentials."),
        Class::ThirdPartyOrigin => format!("Remove shared-hosting origins ({probe_origin}) from [policy] origins: anyone can publish a page there."),
        Class::PortIgnored => format!("List each origin with its port: [policy] origins = [\"{trusted}\"]; keep \"host:*\" forms for development only."),
        Class::WildcardCredentials => format!("\"*\" never works with credentials; list the origins: [policy] origins = [\"{trusted}\"], credentials = true. corsair refuses \"*\" with credentials at load."),
        Class::WildcardSensitive => format!("Serve user-specific data to listed origins only: [policy] origins = [\"{trusted}\"] instead of \"*\"."),
        Class::WildcardPublic => format!("Nothing to do for public data. If this endpoint ever serves user data, list the origins: [policy] origins = [\"{trusted}\"]."),
        Class::PreflightReflect => "List what you accept: [policy] methods = [\"GET\", \"POST\"], request_headers = [\"Content-Type\", \"Authorization\"]. corsair never echoes Access-Control-Request-Method or -Headers.".to_string(),
        Class::PreflightAuth => "Answer preflights before authentication: corsair serve and corsair-tower answer them before the service behind them sees the request.".to_string(),
        Class::MissingVary => "Send Vary: Origin whenever Access-Control-Allow-Origin depends on the Origin (corsair always does), or mark the response Cache-Control: private or no-store.".to_string(),
        Class::PrivateNetworkHeader => "Nothing to gain from it in current Chromium: drop it unless you support old Chromium or Electron builds. For pages that must reach a local service, see `corsair explain` on the \"Permission was denied ... address space\" message: the user's permission, the same address space or a dev proxy, targetAddressSpace.".to_string(),
    }
}

#[cfg(test)]
mod tests;
