//! What the answers reveal ([`assess`]): the findings with their evidence and severity, each
//! reported under its root cause, and the fix in corsair's policy language ([`fix`]).

use crate::class::Attacker;
use crate::roots::fold;
#[allow(unused_imports)]
use crate::*;
use serde::Serialize;

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
                    "Local Network Access: the target is in the {} address space, so a page on the \
                        internet needs the user's {} permission first (the browser asks)",
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

/// The answers to one target's probes, in probe order: a reply, or the transport failure
/// (named as Chromium names it) that stood in for one.
pub type Answers<'a> = &'a [(Probe, Result<Reply, crate::fetch::NetError>)];

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
                "with credentials, and your headers unlock different data: the user's data is \
                    readable"
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
            format!(
                "{} is allowed, but no browser sends that origin (its host is not a valid \
                domain name), so the loose check is not exploitable from a page as it stands.",
                p.origin
            )
        };
        add(finding(class, p, r, severity, detail));
    }
    if let Some((p, r, why)) = invalid {
        add(finding(
            Class::InvalidAllowOrigin,
            p,
            r,
            Severity::Low,
            format!(
                "The answer to {} \
            carries {why}. Browsers accept only one origin, exactly as the page sent it, or *: \
            every cross-origin read from your own front end fails.",
                p.origin
            ),
        ));
    }
    if let Some((p, r, v)) = shared_hosting {
        // One fixed name: only its owner reads, unless the name lapses or is not yours.
        let mut f = finding(Class::ThirdPartyOrigin, p, r, Severity::Low, format!("Access-Control-Allow-Origin: {v} is fixed and names a page on shared hosting (a public suffix list private-section domain){}: whoever holds that name reads what it is granted. Check that your organization owns it and keeps it: a lapsed or deleted account's name can be registered by anyone.", if credentials(r) { ", \
            with credentials" } else { "" }));
        f.fix = fix(Class::ThirdPartyOrigin, s, &v);
        add(f);
    }
    if let Some((p, r)) = wildcard {
        let (class, severity, detail) = if credentials(r) {
            (
                Class::WildcardCredentials,
                Severity::Low,
                "Access-Control-Allow-Origin: * with \
                Access-Control-Allow-Credentials: true: browsers refuse credentialed reads, so \
                anonymous data is readable by anyone and credentialed calls from your own pages \
                fail."
                    .to_string(),
            )
        } else if !exposed.is_empty() {
            let fields: Vec<String> = exposed
                .iter()
                .map(|e| format!("{} ({})", e.field, e.detector))
                .collect();
            (
                Class::WildcardSensitive,
                Severity::Medium,
                format!(
                    "Access-Control-Allow-Origin: * \
                on a body that carries what looks like secrets or personal data: {} (values not \
                shown). Any page reads what this request gets, including what a network position \
                or an IP allowlist grants.",
                    fields.join(", ")
                ),
            )
        } else if unlocks {
            (
                Class::WildcardSensitive,
                Severity::Medium,
                "Access-Control-Allow-Origin: * on an \
                endpoint whose answer changes with your headers: anything granted without cookies \
                (network position, IP allowlists) is readable by any page."
                    .to_string(),
            )
        } else {
            (
                Class::WildcardPublic,
                Severity::Info,
                "Access-Control-Allow-Origin: * without \
                credentials: any page can read what an anonymous request gets. Fine for public \
                data."
                    .to_string(),
            )
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
                add(finding(
                    Class::PreflightAuth,
                    p,
                    r,
                    Severity::Low,
                    format!(
                        "The preflight got \
                    {}{bare}: authentication runs before CORS. Browsers never send credentials on \
                    a preflight, so every credentialed call from {} that needs one (PUT, DELETE, \
                    JSON bodies, Authorization) fails: the API is unavailable to your own front \
                    end.",
                        r.status, p.origin
                    ),
                ));
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
                    add(finding(
                        Class::PreflightReflect,
                        p,
                        r,
                        Severity::Low,
                        format!(
                            "The \
                        preflight answer echoes the requested {echoed} ({PROBE_METHOD}, \
                        {PROBE_HEADER}): every method and header an allowed origin asks for is \
                        granted."
                        ),
                    ));
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
        add(finding(
            Class::MissingVary,
            p,
            r,
            Severity::Low,
            format!(
                "Access-Control-Allow-Origin: \
            {} depends on the Origin, but the response has no Vary: Origin and may be cached: a \
            shared cache can serve one origin's answer to another (broken CORS, or a \
            cache-poisoned allowance).",
                p.origin
            ),
        ));
    }

    // CORS on success only: the trusted origin's GET is granted, an error answer is not. The
    // page sees "blocked by CORS policy" for every 404, 401 and 500 instead of the error.
    let granted = |r: &ResponseHead| {
        r.status < 400
            && header(r, "access-control-allow-origin").is_some_and(|v| v == "*" || v == s.trusted)
    };
    if trusted_get.is_some_and(granted) {
        if let Some((p, r)) = answers.iter().find_map(|(p, r)| {
            let r = &r.as_ref().ok()?.head;
            (p.kind == ProbeKind::ErrorPath
                && r.status >= 400
                && header(r, "access-control-allow-origin").is_none())
            .then_some((p, r))
        }) {
            add(finding(
                Class::ErrorsWithoutCors,
                p,
                r,
                Severity::Low,
                format!(
                    "{} answers {} without Access-Control-Allow-Origin, while {} grants {}: a page \
                    of that origin sees a CORS error instead of the status and body of every \
                    error the stack answers this way (a missing route here; usually also \
                    authentication refusals, crashes and the proxy's own errors).",
                    s.error_url(),
                    r.status,
                    s.url,
                    s.trusted
                ),
            ));
        }
    }

    // The Private Network Access opt-in: dead configuration in current Chromium.
    if let Some((p, r)) = answers.iter().find_map(|(p, r)| {
        let r = &r.as_ref().ok()?.head;
        header(r, "access-control-allow-private-network")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
            .then_some((p, r))
    }) {
        add(finding(
            Class::PrivateNetworkHeader,
            p,
            r,
            Severity::Info,
            "The server sends \
            Access-Control-Allow-Private-Network: true, the opt-in of the Private Network Access \
            preflight. Current Chromium (142 and later) no longer sends that preflight: under \
            Local Network Access a public page reaches this machine or the LAN only with the \
            user's permission, and no header grants it. It helps only older Chromium and Electron \
            builds."
                .to_string(),
        ));
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
            "Access-Control-Allow-Origin: {v}, which is not an origin (scheme://host[:port], \
                nothing after)"
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
