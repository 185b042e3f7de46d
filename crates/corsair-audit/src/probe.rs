//! What is audited (the [`Subject`]) and what is sent to it: the Origin mutations and
//! preflights ([`probes`]), each with the relation of its origin to the trusted one.

#[allow(unused_imports)]
use crate::*;
use serde::Serialize;
use url::Url;

/// Why a target cannot be audited.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubjectError {
    /// The URL does not parse.
    #[error("'{url}' is not a URL ({reason}); write it whole, e.g. https://api.example.com/me")]
    NotUrl {
        /// The text given.
        url: String,
        /// The parser's reason.
        reason: url::ParseError,
    },
    /// Not an http(s) URL with a host.
    #[error("'{0}' must be an http:// or https:// URL with a host")]
    NotHttp(String),
    /// The trusted origin (`--origin`) is no origin.
    #[error("--origin '{origin}': {reason}")]
    Origin {
        /// The text given.
        origin: String,
        /// Why it is none.
        reason: String,
    },
    /// The trusted origin is `null`.
    #[error("--origin must be the site's own origin, not null")]
    NullOrigin,
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
    pub(crate) scheme: String,
    pub(crate) host: String,
    pub(crate) port: Option<u16>,
    /// The registrable domain of the trusted host, when it has one (not for IP addresses).
    pub(crate) site: Option<String>,
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
    ) -> Result<Subject, SubjectError> {
        let url = Url::parse(url).map_err(|reason| SubjectError::NotUrl {
            url: url.to_string(),
            reason,
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(SubjectError::NotHttp(url.to_string()));
        }
        let trusted = match trusted {
            Some(t) => {
                let o = crate::Origin::parse_lenient(t).map_err(|e| SubjectError::Origin {
                    origin: t.to_string(),
                    reason: e.to_string(),
                })?;
                if o.is_opaque() {
                    return Err(SubjectError::NullOrigin);
                }
                o.to_string()
            }
            None => format!("https://{}", url.host_str().unwrap_or_default()),
        };
        let t = Url::parse(&trusted).map_err(|e| SubjectError::Origin {
            origin: trusted.clone(),
            reason: e.to_string(),
        })?;
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

    /// Where the [`ProbeKind::ErrorPath`] probe goes: the URL's path with
    /// [`MISSING_SEGMENT`] appended, without the query.
    pub fn error_url(&self) -> Url {
        let mut u = self.url.clone();
        let path = u.path();
        let joined = if path.ends_with('/') {
            format!("{path}{MISSING_SEGMENT}")
        } else {
            format!("{path}/{MISSING_SEGMENT}")
        };
        u.set_path(&joined);
        u.set_query(None);
        u.set_fragment(None);
        u
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
    /// A GET from the trusted origin (with the user's headers) to a path under the URL that no
    /// app serves ([`Subject::error_url`]): does its error answer carry CORS headers?
    ErrorPath,
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
    pub(crate) const NONE: Relation = Relation {
        is_host: false,
        contains_host: false,
        contains_site: false,
        starts_with_host: false,
        ends_with_site: false,
        part_of_host: false,
        within_site: false,
    };
}

/// The path segment the [`ProbeKind::ErrorPath`] probe appends: a name no app serves.
pub const MISSING_SEGMENT: &str = "corsair-audit-no-such-path";

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
    use crate::Class::*;
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
    out.push(trusted(ProbeKind::ErrorPath, Some(ErrorsWithoutCors)));
    out
}

impl Probe {
    /// The request to send (the caller adds `Host` and `User-Agent`). Preflights never carry
    /// the user's headers, as browsers never send credentials on them.
    pub fn request(&self, s: &Subject) -> Outgoing {
        let mut headers = vec![("Origin".to_string(), self.origin.clone())];
        let (method, kind) = match self.kind {
            ProbeKind::Origin | ProbeKind::ErrorPath => {
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
            url: if self.kind == ProbeKind::ErrorPath {
                s.error_url()
            } else {
                s.url.clone()
            },
            headers,
            body: None,
        }
    }
}
