//! From a verdict to its root cause. The browser model says which check failed; this says why:
//! an error page, a redirect, an authentication layer, a proxy, a cache, a framework's own
//! refusal, or the policy. It reads the recorded exchanges and the answers to a few extra
//! requests that are safe to send ([`probes`]: the failed request again when its method is
//! safe, to read the body; a preflight that asks what the server allows; on a green verdict,
//! the same request from an unrelated origin and from `null`), and names the cause with the
//! evidence it rests on and what it ruled out ([`diagnose`]).
//!
//! Sans IO: the caller sends the probes and hands back the answers.

pub mod layers;
#[cfg(test)]
mod tests;

use crate::failure::{Failure, FailureKind, Stage};
use corsair_model::fetch::{Exchange, ExchangeKind, NetError, Outcome, Outgoing};
use corsair_model::request::Mode;
use corsair_model::ResponseHead;
pub use layers::{Layer, Role};
use serde::Serialize;
use url::Url;

/// The root cause, as a stable id (the list is in the README's table of causes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Kind {
    /// The app's error path (a crash, an error handler) answered without the CORS headers its
    /// normal answers carry.
    AppError,
    /// A proxy, gateway, CDN or load balancer in front of the app answered with its own error.
    ProxyError,
    /// An authentication layer answered the request before CORS ran.
    AuthWall,
    /// The preflight was answered 401/403: authentication runs before CORS, and preflights never
    /// carry credentials.
    PreflightAuth,
    /// The URL is not routed (404/405, 501).
    MissingRoute,
    /// `OPTIONS` is not routed: the preflight met a 404, 405 or 501.
    OptionsNotRouted,
    /// A redirect without CORS headers on the way (trailing slash, https, host, login).
    Redirect,
    /// A redirect to another origin made the request's origin `null`.
    RedirectNullOrigin,
    /// Two layers each add `Access-Control-Allow-Origin`.
    DuplicateHeader,
    /// A framework's CORS middleware refused the preflight itself (its status and body say so).
    FrameworkRefusal,
    /// A shared cache answered with the headers it stored for another origin.
    CachedOtherOrigin,
    /// The server sends CORS headers, but not for this origin.
    OriginNotAllowed,
    /// The server sends no CORS headers at all.
    CorsNotConfigured,
    /// `Access-Control-Allow-Origin: *` on a request with credentials.
    WildcardWithCredentials,
    /// Credentials sent, and `Access-Control-Allow-Credentials: true` missing.
    CredentialsNotAllowed,
    /// The method is not in `Access-Control-Allow-Methods`.
    MethodNotAllowed,
    /// A request header is not in `Access-Control-Allow-Headers`.
    HeaderNotAllowed,
    /// A CORS header's value is malformed (a list, a trailing slash, a bad token).
    MalformedHeader,
    /// A redirect's URL carries a user name or password.
    RedirectWithCredentials,
    /// The connection was refused: nothing listens there.
    ConnectionRefused,
    /// The host name does not resolve.
    NameNotResolved,
    /// The TLS handshake failed (certificate, protocol).
    Tls,
    /// No answer in time.
    Timeout,
    /// Another transport failure.
    Unreachable,
    /// Local Network Access refused to connect.
    LocalNetworkAccess,
    /// The request works, and the server also grants any origin (or `null`) with credentials.
    InsecureReflection,
}

impl Kind {
    /// The stable id (as in JSON).
    pub fn id(self) -> &'static str {
        match self {
            Kind::AppError => "app-error",
            Kind::ProxyError => "proxy-error",
            Kind::AuthWall => "auth-wall",
            Kind::PreflightAuth => "preflight-auth",
            Kind::MissingRoute => "missing-route",
            Kind::OptionsNotRouted => "options-not-routed",
            Kind::Redirect => "redirect",
            Kind::RedirectNullOrigin => "redirect-null-origin",
            Kind::DuplicateHeader => "duplicate-header",
            Kind::FrameworkRefusal => "framework-refusal",
            Kind::CachedOtherOrigin => "cached-other-origin",
            Kind::OriginNotAllowed => "origin-not-allowed",
            Kind::CorsNotConfigured => "cors-not-configured",
            Kind::WildcardWithCredentials => "wildcard-with-credentials",
            Kind::CredentialsNotAllowed => "credentials-not-allowed",
            Kind::MethodNotAllowed => "method-not-allowed",
            Kind::HeaderNotAllowed => "header-not-allowed",
            Kind::MalformedHeader => "malformed-header",
            Kind::RedirectWithCredentials => "redirect-with-credentials",
            Kind::ConnectionRefused => "connection-refused",
            Kind::NameNotResolved => "name-not-resolved",
            Kind::Tls => "tls",
            Kind::Timeout => "timeout",
            Kind::Unreachable => "unreachable",
            Kind::LocalNetworkAccess => "local-network-access",
            Kind::InsecureReflection => "insecure-reflection",
        }
    }
}

/// Why an extra request is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProbeKind {
    /// The failed request again (its method is safe), to read the start of the body.
    Again,
    /// A preflight that asks for what the request needs: does the server do CORS at all, and
    /// what does it allow (`Access-Control-Allow-Methods`, `-Headers`)?
    Support,
    /// The request from an unrelated origin: does the server grant any origin?
    Unrelated,
    /// The request with `Origin: null`.
    NullOrigin,
}

/// An extra request to send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Probe {
    /// Why.
    pub kind: ProbeKind,
    /// What to send (never a method other than GET, HEAD or OPTIONS).
    pub request: Outgoing,
}

/// A probe's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Answer {
    /// Which probe.
    pub kind: ProbeKind,
    /// The response head, or the transport failure.
    pub response: Result<ResponseHead, NetError>,
    /// The start of the body (empty when not read).
    #[serde(skip)]
    pub body: Vec<u8>,
}

/// How the insecure-reflection finding starts, in words.
pub const REFLECTION_WARNING: &str = "The request works, but the server also answers";

/// The origin the unrelated-origin probe sends: a name no allowlist has.
pub const UNRELATED_ORIGIN: &str = "https://unrelated-origin.corsair.invalid";

/// The root cause of a verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    /// The cause, as a stable id.
    pub kind: Kind,
    /// The cause in a sentence or two.
    pub summary: String,
    /// What it rests on: header lines, statuses, probe answers.
    pub evidence: Vec<String>,
    /// The other causes it ruled out, and why.
    pub ruled_out: Vec<String>,
    /// The layers seen, outermost first.
    pub layers: Vec<Layer>,
    /// Why the server redirects (`trailing-slash`, `https`, `host`, `login`, `other`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_reason: Option<&'static str>,
    /// The URL to call instead, when a redirect led there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub final_url: Option<String>,
    /// What to change, in the words of the layer that must change.
    pub remedy: String,
    /// The `corsair gen` target (`--stack`) of the layer to change, when one was recognised.
    pub stack: Option<&'static str>,
}

fn is_safe(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS")
}

fn header(name: &str, value: impl Into<String>) -> (String, String) {
    (name.to_string(), value.into())
}

/// The exchange whose response failed (the last one with a response).
fn failed(outcome: &Outcome) -> Option<&Exchange> {
    outcome
        .exchanges
        .iter()
        .rev()
        .find(|e| e.response.is_some())
}

/// A preflight for `outcome`'s request to `url`, from `origin`.
fn preflight_for(outcome: &Outcome, url: &Url, origin: &str) -> Outgoing {
    let r = &outcome.request;
    let method = if crate::method::is_safelisted(&r.method) {
        "GET".to_string()
    } else {
        r.method.clone()
    };
    let mut headers = vec![
        header("Origin", origin),
        header("Access-Control-Request-Method", method),
    ];
    if !r.unsafe_headers.is_empty() {
        headers.push(header(
            "Access-Control-Request-Headers",
            r.unsafe_headers.join(","),
        ));
    }
    headers.push(header("Accept", "*/*"));
    // What the browser adds to its own requests (Referer, Sec-Fetch-*), as it sent them.
    if let Some(first) = outcome.exchanges.first() {
        for (n, v) in &first.request.headers {
            let lower = n.to_ascii_lowercase();
            if lower == "referer" || lower.starts_with("sec-fetch-") {
                headers.push((n.clone(), v.clone()));
            }
        }
    }
    Outgoing {
        kind: ExchangeKind::Preflight,
        method: "OPTIONS".into(),
        url: url.clone(),
        headers,
        body: None,
    }
}

/// The extra requests worth sending for `outcome`. Only GET, HEAD and OPTIONS; with
/// `preflight_only`, only OPTIONS.
pub fn probes(outcome: &Outcome, preflight_only: bool) -> Vec<Probe> {
    let r = &outcome.request;
    if !outcome.cross_origin || r.mode != Mode::Cors || outcome.lna_blocked().is_some() {
        return Vec::new();
    }
    let mut out = Vec::new();
    if outcome.allowed {
        // The same request from origins no allowlist has: GET or HEAD as the page sent it,
        // otherwise the preflight of the request.
        for (kind, origin) in [
            (ProbeKind::Unrelated, UNRELATED_ORIGIN),
            (ProbeKind::NullOrigin, "null"),
        ] {
            let request = match outcome
                .exchanges
                .iter()
                .find(|e| e.request.kind == ExchangeKind::Actual)
            {
                Some(e)
                    if matches!(e.request.method.as_str(), "GET" | "HEAD") && !preflight_only =>
                {
                    let mut req = e.request.clone();
                    for h in req.headers.iter_mut() {
                        if h.0.eq_ignore_ascii_case("origin") {
                            h.1 = origin.to_string();
                        }
                    }
                    req
                }
                _ => preflight_for(outcome, &r.url, origin),
            };
            out.push(Probe { kind, request });
        }
        return out;
    }
    let Some(f) = &outcome.failure else {
        return out;
    };
    if let Some(e) = failed(outcome) {
        if is_safe(&e.request.method) && (!preflight_only || e.request.method == "OPTIONS") {
            out.push(Probe {
                kind: ProbeKind::Again,
                request: e.request.clone(),
            });
        }
    }
    // Does the server do CORS for this request at all? Ask with a preflight when the browser
    // sent none that was answered.
    let preflighted = outcome
        .exchanges
        .iter()
        .any(|e| e.request.kind == ExchangeKind::Preflight && e.response.is_some());
    if !preflighted && f.stage == Stage::Actual {
        out.push(Probe {
            kind: ProbeKind::Support,
            request: preflight_for(outcome, &r.url, &r.origin.to_string()),
        });
    }
    out
}

/// Whether `head` carries any CORS response header.
fn has_cors(head: &ResponseHead) -> bool {
    head.headers
        .iter()
        .any(|(n, _)| n.to_ascii_lowercase().starts_with("access-control-"))
}

/// `Name: value` of a header, named as it is usually written.
fn line(head: &ResponseHead, name: &str) -> Option<String> {
    let written: String = name
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-");
    let written = written.replace("Www-", "WWW-");
    head.get(name).map(|j| format!("{written}: {}", j.value))
}

/// What the diagnosis reads: the recorded exchanges and the probes' answers.
struct Seen<'a> {
    outcome: &'a Outcome,
    answers: &'a [Answer],
}

impl Seen<'_> {
    fn answer(&self, kind: ProbeKind) -> Option<(&ResponseHead, &[u8])> {
        self.answers
            .iter()
            .find(|a| a.kind == kind)
            .and_then(|a| a.response.as_ref().ok().map(|r| (r, a.body.as_slice())))
    }

    /// The body of the failed response, when the probe read it.
    fn body(&self) -> &[u8] {
        self.answer(ProbeKind::Again).map_or(&[], |a| a.1)
    }

    /// Every layer seen on every response, outermost first.
    fn layers(&self) -> Vec<Layer> {
        let mut all = Vec::new();
        let last = failed(self.outcome).map(|e| e as *const Exchange);
        for e in &self.outcome.exchanges {
            if let Some(r) = &e.response {
                let body = if Some(e as *const Exchange) == last {
                    self.body()
                } else {
                    &[]
                };
                layers::merge(&mut all, layers::of(r, body));
            }
        }
        for a in self.answers {
            if let Ok(r) = &a.response {
                layers::merge(&mut all, layers::of(r, &a.body));
            }
        }
        all
    }

    /// Whether the server granted this origin anywhere (a preflight or the support probe).
    fn cors_works_elsewhere(&self, origin: &str) -> Option<String> {
        let grants = |r: &ResponseHead| {
            r.get("access-control-allow-origin")
                .is_some_and(|v| v.value == origin || v.value == "*")
        };
        for e in &self.outcome.exchanges {
            if let Some(r) = &e.response {
                if e.request.kind == ExchangeKind::Preflight && grants(r) {
                    return Some(format!(
                        "the preflight (OPTIONS {}) was answered {} with Access-Control-Allow-Origin: {}",
                        e.request.url,
                        r.status,
                        r.get("access-control-allow-origin").map(|j| j.value).unwrap_or_default()
                    ));
                }
            }
        }
        let (r, _) = self.answer(ProbeKind::Support)?;
        grants(r).then(|| {
            format!(
                "a preflight sent to the same URL was answered {} with Access-Control-Allow-Origin: {}",
                r.status,
                r.get("access-control-allow-origin").map(|j| j.value).unwrap_or_default()
            )
        })
    }
}

/// The root cause of `outcome`, from its exchanges and the probes' answers; `None` when the
/// request was allowed and no probe found a hole.
pub fn diagnose(outcome: &Outcome, answers: &[Answer]) -> Option<Diagnosis> {
    let seen = Seen { outcome, answers };
    let layers = seen.layers();
    let mut d = if outcome.allowed {
        reflection(&seen)?
    } else if let Some(b) = outcome.lna_blocked() {
        simple(
            Kind::LocalNetworkAccess,
            b.cause_in(&outcome.request.origin.to_string(), outcome.browser),
            vec![],
            "Grant the permission, or serve the API from the space the page is in (see the fix).",
        )
    } else if let Some(e) = &outcome.net_error {
        network(e)
    } else {
        let f = outcome.failure.as_ref()?;
        let e = failed(outcome)?;
        let resp = e.response.as_ref()?;
        cause(&seen, f, e, resp)
    };
    if d.stack.is_none() {
        d.stack = default_stack(d.kind, &layers);
    }
    d.layers = layers;
    Some(d)
}

fn mk(kind: Kind, summary: String, remedy: &str, evidence: &[String]) -> Diagnosis {
    simple(kind, summary, evidence.to_vec(), remedy)
}

fn simple(kind: Kind, summary: String, evidence: Vec<String>, remedy: &str) -> Diagnosis {
    Diagnosis {
        kind,
        summary,
        evidence,
        ruled_out: Vec::new(),
        layers: Vec::new(),
        redirect_reason: None,
        final_url: None,
        remedy: remedy.to_string(),
        stack: None,
    }
}

fn network(e: &NetError) -> Diagnosis {
    let evidence = vec![format!("{}: {}", e.code, e.detail)];
    let (kind, summary, remedy) = match e.code.as_str() {
        "ERR_CONNECTION_REFUSED" => (
            Kind::ConnectionRefused,
            "Nothing accepts connections at that address and port: the server is not running, \
            listens on another port, or on another interface (127.0.0.1 vs ::1, or 0.0.0.0)."
                .to_string(),
            "Start the server, or fix the URL's port; CORS headers play no part yet.",
        ),
        "ERR_NAME_NOT_RESOLVED" => (
            Kind::NameNotResolved,
            "The host name does not resolve.".to_string(),
            "Fix the host name, or its DNS record (or --resolve HOST:PORT:ADDR to test).",
        ),
        "ERR_TIMED_OUT" | "ERR_CONNECTION_TIMED_OUT" => (
            Kind::Timeout,
            "No answer in time: a firewall drops the packets, or the server hangs.".to_string(),
            "Check that the server answers at all (curl -v), then its firewall.",
        ),
        c if c.starts_with("ERR_CERT") || c.starts_with("ERR_SSL") => (
            Kind::Tls,
            "The TLS handshake failed: the browser does not trust the certificate, or the \
            protocols do not match. The page sees this as a CORS-less network error."
                .to_string(),
            "Serve a certificate the browser trusts (for local development: mkcert), or \
            --cacert FILE to check with your own CA.",
        ),
        _ => (
            Kind::Unreachable,
            format!("The browser got no response: {}.", e.detail),
            "Make the server reachable; CORS headers play no part yet.",
        ),
    };
    simple(kind, summary, evidence, remedy)
}

/// A green verdict that also lets an unrelated origin or `null` read with credentials.
fn reflection(seen: &Seen) -> Option<Diagnosis> {
    for (kind, origin) in [
        (ProbeKind::Unrelated, UNRELATED_ORIGIN),
        (ProbeKind::NullOrigin, "null"),
    ] {
        let Some((r, _)) = seen.answer(kind) else {
            continue;
        };
        let acao = r.get("access-control-allow-origin").map(|j| j.value);
        let acac = r
            .get("access-control-allow-credentials")
            .is_some_and(|j| j.value == "true");
        if acao.as_deref() == Some(origin) && acac {
            let mut d = simple(
                Kind::InsecureReflection,
                format!(
                    "{REFLECTION_WARNING} 'Origin: {origin}' with \
                    Access-Control-Allow-Origin: {origin} and Access-Control-Allow-Credentials: \
                    true: it reflects {} with credentials, so any web page can read this \
                    user's data (audit class origin-reflection{}).",
                    if origin == "null" {
                        "null"
                    } else {
                        "any origin"
                    },
                    if origin == "null" { "/null-origin" } else { "" }
                ),
                vec![
                    format!("probe with Origin: {origin}"),
                    format!("< {} Access-Control-Allow-Origin: {origin}", r.status),
                    "Access-Control-Allow-Credentials: true".to_string(),
                ],
                "Check the Origin against an allowlist before echoing it (corsair gen writes \
                that for each stack), and never allow null.",
            );
            d.ruled_out.push(
                "a deliberate public API: it would answer '*' without credentials".to_string(),
            );
            return Some(d);
        }
    }
    None
}

/// Why a redirect happens, from the URL it left and the one it points to.
pub fn redirect_reason(from: &Url, to: &Url) -> &'static str {
    let login = |u: &Url| {
        let p = u.path().to_ascii_lowercase();
        [
            "login", "signin", "sign-in", "sign_in", "auth", "sso", "oauth", "saml", "cas/",
            "account",
        ]
        .iter()
        .any(|w| p.contains(w))
            || u.query_pairs().any(|(k, _)| {
                matches!(
                    k.as_ref(),
                    "next" | "return" | "returnto" | "return_to" | "redirect" | "redirect_uri"
                )
            })
    };
    if from.scheme() == "http" && to.scheme() == "https" && from.host_str() == to.host_str() {
        return "https";
    }
    if login(to) && !login(from) {
        return "login";
    }
    if from.host_str() == to.host_str() && from.scheme() == to.scheme() {
        let (a, b) = (from.path(), to.path());
        if a.trim_end_matches('/') == b.trim_end_matches('/') && a != b {
            return "trailing-slash";
        }
    }
    if let (Some(a), Some(b)) = (from.host_str(), to.host_str()) {
        let bare = |h: &str| h.trim_start_matches("www.").to_ascii_lowercase();
        if a != b && bare(a) == bare(b) {
            return "host";
        }
    }
    "other"
}

fn default_stack(kind: Kind, layers: &[Layer]) -> Option<&'static str> {
    let outer = layers
        .iter()
        .find(|l| l.role == Role::Proxy && l.target.is_some());
    let inner = layers
        .iter()
        .rev()
        .find(|l| matches!(l.role, Role::Framework | Role::Server) && l.target.is_some());
    match kind {
        Kind::ProxyError | Kind::AuthWall => outer.or(inner),
        _ => inner.or(outer),
    }
    .and_then(|l| l.target)
}

/// The failed response, named by who answered and why.
fn cause(seen: &Seen, f: &Failure, e: &Exchange, resp: &ResponseHead) -> Diagnosis {
    let origin = seen.outcome.request.origin.to_string();
    let here = layers::of(resp, seen.body());
    let who = if here.is_empty() {
        "the server".to_string()
    } else {
        layers::words(&here)
    };
    let status = resp.status;
    let stage = match e.request.kind {
        ExchangeKind::Preflight => "preflight",
        ExchangeKind::Actual => "request",
    };
    let mut evidence = vec![format!(
        "{} {} -> {status}",
        e.request.method, e.request.url
    )];
    for n in [
        "server",
        "via",
        "x-powered-by",
        "www-authenticate",
        "location",
        "content-type",
    ] {
        if let Some(l) = line(resp, n) {
            evidence.push(l);
        }
    }
    if !has_cors(resp) {
        evidence.push("no Access-Control-* header on that response".into());
    }
    let body = String::from_utf8_lossy(seen.body());
    let works = seen.cors_works_elsewhere(&origin);
    let mut ruled_out = Vec::new();
    macro_rules! d {
        ($kind:expr, $summary:expr, $remedy:expr $(,)?) => {
            mk($kind, $summary, $remedy, &evidence)
        };
    }

    // A redirect on the way.
    if let Some(loc) = resp.redirect_location() {
        let to = e.request.url.join(&loc).ok();
        let reason = to
            .as_ref()
            .map_or("other", |t| redirect_reason(&e.request.url, t));
        let why = match reason {
            "https" => "it upgrades http to https",
            "trailing-slash" => "the path's trailing slash differs from the route's",
            "host" => "it canonicalises the host name (www or not)",
            "login" => "it sends an unauthenticated caller to a login page",
            _ => "the server moved the resource",
        };
        let target = to.as_ref().map_or(loc.clone(), |t| t.to_string());
        let mut out = if f.kind == FailureKind::RedirectContainsCredentials {
            d!(
                Kind::RedirectWithCredentials,
                format!("{who} redirects to a URL with a user name or password ({target}); browsers refuse to follow it in CORS."),
                "Redirect to a URL without user:password@, and send credentials in an Authorization header.",
            )
        } else if f.sent_origin == "null" && reason != "login" {
            d!(
                Kind::RedirectNullOrigin,
                format!(
                    "The request was redirected to another origin ({target}), which makes the \
                    browser send 'Origin: null' from then on; the last server does not allow null."
                ),
                "Call the final URL directly, so no cross-origin redirect happens.",
            )
        } else {
            let hop = if e.request.kind == ExchangeKind::Preflight {
                "Browsers never follow a redirect on a preflight."
            } else {
                "The redirect itself carries no Access-Control-Allow-Origin, so the browser stops there."
            };
            d!(
                Kind::Redirect,
                format!("{who} answered the {stage} with {status} to {target}: {why}. {hop}"),
                &format!("Call {target} directly from the page (the URL the server redirects to)."),
            )
        };
        out.redirect_reason = Some(reason);
        out.final_url = Some(target);
        if reason == "login" {
            out.kind = Kind::AuthWall;
            out.remedy = "Let CORS run before authentication, and answer an unauthenticated API call with 401 (with CORS headers) instead of redirecting to a login page.".into();
        }
        ruled_out.push(
            "the policy: the response the browser stopped at is a redirect, not the resource"
                .into(),
        );
        out.ruled_out = ruled_out;
        return out;
    }

    // A framework's own CORS refusal names itself in its body: Starlette's "Disallowed CORS
    // origin, method, headers", Spring's "Invalid CORS request".
    let refusal = body.trim();
    let settings: Vec<&str> = if let Some(rest) = refusal.strip_prefix("Disallowed CORS ") {
        rest.split(", ")
            .filter_map(|w| match w {
                "origin" => Some("allow_origins"),
                "method" => Some("allow_methods (its default is GET only)"),
                "headers" => Some("allow_headers (its default is none beyond the safelisted ones)"),
                _ => None,
            })
            .collect()
    } else if refusal == "Invalid CORS request" {
        vec!["CorsConfiguration (allowedOrigins, allowedMethods, allowedHeaders)"]
    } else {
        Vec::new()
    };
    if !settings.is_empty() {
        evidence.push(format!("the body says \"{refusal}\""));
        let which = settings.join(" and ");
        return d!(
            Kind::FrameworkRefusal,
            format!(
                "{who}'s CORS middleware refused the {stage} itself ({status}, \"{refusal}\"): \
                the request needs what its {which} leaves out."
            ),
            &format!("Add what the request needs to {which}, keeping what is there."),
        );
    }

    if !resp.is_ok() && !has_cors(resp) {
        // An error status without CORS headers: who answered, and why.
        let proxy_answered = here
            .iter()
            .any(|l| matches!(l.role, Role::Proxy | Role::Cdn))
            && !here
                .iter()
                .any(|l| matches!(l.role, Role::Framework | Role::Server));
        let has_auth = resp.get("www-authenticate").is_some();
        let mut out = if e.request.kind == ExchangeKind::Preflight
            && matches!(status, 401 | 403 | 407)
        {
            d!(
                Kind::PreflightAuth,
                format!(
                    "{who} answered the preflight {status}: authentication runs before CORS, and \
                    a preflight never carries cookies or Authorization, so it can never pass."
                ),
                "Answer OPTIONS preflights before authentication: put the CORS layer first (before the auth middleware, auth_basic, or Spring Security).",
            )
        } else if e.request.kind == ExchangeKind::Preflight && matches!(status, 404 | 405 | 501) {
            d!(
                Kind::OptionsNotRouted,
                format!(
                    "{who} answered the preflight {status}: nothing handles OPTIONS on this URL, \
                    so the CORS layer never saw it (it is missing, or sits behind the router)."
                ),
                "Let the CORS layer answer OPTIONS for every URL, before routing (not only for the routes you declared).",
            )
        } else if matches!(status, 401 | 403 | 407) || has_auth {
            d!(
                Kind::AuthWall,
                format!(
                    "{who} refused the request with {status}{} before CORS headers were added: \
                    the authentication layer answers on its own, without the CORS layer's headers, \
                    so the page cannot even read the 401.",
                    if has_auth { " and WWW-Authenticate" } else { "" }
                ),
                "Add the CORS headers to the authentication layer's refusals too (put CORS before it; nginx: add_header ... always), and send the credentials the API expects.",
            )
        } else if matches!(status, 404 | 405 | 501) {
            d!(
                Kind::MissingRoute,
                format!("{who} answered {status}: no route for {} {} (a typo in the path, the API's base URL, or a trailing slash); the error answer has no CORS headers.", e.request.method, e.request.url.path()),
                "Call the URL the API serves; and let CORS headers be added to error answers too, so the page can read them.",
            )
        } else if proxy_answered || matches!(status, 502..=504) {
            d!(
                Kind::ProxyError,
                format!(
                    "{who} answered {status} itself: the app behind it is down, crashed or \
                    timed out, and the proxy's own error page has no CORS headers."
                ),
                "Fix the upstream (it is not answering), and make the proxy add CORS headers to its own errors too (nginx: add_header ... always; Apache: Header always set).",
            )
        } else {
            d!(
                Kind::AppError,
                format!(
                    "{who} answered {status}: the app's error path (an unhandled exception, an \
                    error handler) answers without the CORS headers its normal answers carry, so \
                    the page cannot read the error."
                ),
                "Fix the error itself (see the server's log), and move the CORS layer where it also covers errors and crashes (see the fix for your stack).",
            )
        };
        if let Some(w) = &works {
            out.evidence.push(w.clone());
            out.ruled_out
                .push(format!("the policy: the server does allow {origin} ({w})"));
        }
        if !matches!(out.kind, Kind::PreflightAuth | Kind::OptionsNotRouted) && !body.is_empty() {
            let snippet: String = body.trim().chars().take(120).collect();
            out.evidence.push(format!("the body starts \"{snippet}\""));
        }
        return out;
    }

    // A 2xx (or an error with CORS headers): the headers themselves.
    use FailureKind::*;
    let acao = resp.get("access-control-allow-origin");
    if let Some(l) = line(resp, "access-control-allow-origin") {
        evidence.push(l);
    }
    if let Some(l) = line(resp, "vary") {
        evidence.push(l);
    }
    let mut out = match f.kind {
        MultipleAllowOriginValues if acao.as_ref().is_some_and(|a| a.lines > 1) => {
            let named = if here.len() > 1 {
                format!(" ({} both answer here)", layers::words(&here))
            } else {
                String::new()
            };
            d!(
                Kind::DuplicateHeader,
                format!(
                    "Access-Control-Allow-Origin came on {} header lines: two layers each add it{named}, e.g. a proxy and the app.",
                    acao.as_ref().map_or(2, |a| a.lines)
                ),
                "Let one layer add CORS headers: remove them from the proxy (or from the app), not from both.",
            )
        }
        AllowOriginMismatch => {
            let cached = layers::cache_line(resp);
            let varies = resp
                .get("vary")
                .is_some_and(|v| v.value.split(',').any(|t| t.trim().eq_ignore_ascii_case("origin") || t.trim() == "*"));
            match cached {
                Some(c) if !varies => {
                    evidence.push(c.clone());
                    d!(
                        Kind::CachedOtherOrigin,
                        format!(
                            "A shared cache answered ({c}) with the Access-Control-Allow-Origin it stored for another origin ({}): the server's answers depend on Origin but carry no 'Vary: Origin', so the cache serves one origin's answer to all.",
                            f.hint.as_deref().unwrap_or("?")
                        ),
                        "Send 'Vary: Origin' on every answer whose CORS headers depend on the Origin (refused ones too), and purge the cache.",
                    )
                }
                _ => d!(
                    Kind::OriginNotAllowed,
                    format!(
                        "The server allows one fixed origin ({}), not {origin}: the allowlist lacks this page's origin (often the dev server's).",
                        f.hint.as_deref().unwrap_or("?")
                    ),
                    &format!("Add {origin} to the allowed origins, and echo the caller's origin from the list instead of a fixed value."),
                ),
            }
        }
        MissingAllowOriginHeader => {
            let other_cors = has_cors(resp)
                || resp.get("vary").is_some_and(|v| v.value.to_ascii_lowercase().contains("origin"))
                || seen.answer(ProbeKind::Support).is_some_and(|(r, _)| has_cors(r));
            if other_cors {
                d!(
                    Kind::OriginNotAllowed,
                    format!("The server does CORS (it sends CORS headers or varies on Origin), but not for {origin}: the origin is not on its allowlist (often the dev server's origin, or http vs https, or a port)."),
                    &format!("Add {origin} to the allowed origins."),
                )
            } else {
                d!(
                    Kind::CorsNotConfigured,
                    format!("{who} sends no CORS header to {origin}, on this {stage} or on a preflight: CORS is not configured for this URL, or {origin} is not on its allowlist (flask-cors, like many, sends nothing at all to an origin it refuses), or a layer in front strips the headers."),
                    &format!("Configure CORS for {origin} on the server (add it to the allowlist if there is one; see the fix for your stack)."),
                )
            }
        }
        WildcardOriginNotAllowed => d!(
            Kind::WildcardWithCredentials,
            "The server answers 'Access-Control-Allow-Origin: *', which browsers never accept for a request with credentials (cookies, Authorization).".into(),
            "Echo the caller's origin from an allowlist with Access-Control-Allow-Credentials: true and Vary: Origin, or drop credentials on the client.",
        ),
        InvalidAllowCredentials => d!(
            Kind::CredentialsNotAllowed,
            "The request carries credentials, and the server does not answer 'Access-Control-Allow-Credentials: true'.".into(),
            "Turn on credentials in the CORS configuration (with an explicit origin list), or send the request without credentials.",
        ),
        MethodNotAllowed => d!(
            Kind::MethodNotAllowed,
            format!("The preflight's Access-Control-Allow-Methods does not list {}.", f.hint.as_deref().unwrap_or("the method")),
            "Add the method to the allowed methods (keeping the ones already there).",
        ),
        HeaderNotAllowed => d!(
            Kind::HeaderNotAllowed,
            format!("The preflight's Access-Control-Allow-Headers does not list {}.", f.hint.as_deref().unwrap_or("the header")),
            "Add the header to the allowed headers (keeping the ones already there).",
        ),
        PreflightDisallowedRedirect | PreflightInvalidStatus => d!(
            Kind::AppError,
            format!("{who} answered the preflight {status}."),
            "Answer OPTIONS preflights with 204 before routing and authentication.",
        ),
        RedirectContainsCredentials => d!(
            Kind::RedirectWithCredentials,
            "A redirect's URL carries a user name or password.".into(),
            "Redirect to a URL without user:password@.",
        ),
        MultipleAllowOriginValues | InvalidAllowOriginValue | InvalidAllowMethods | InvalidAllowHeaders => d!(
            Kind::MalformedHeader,
            format!("A CORS header's value is malformed ({}).", f.hint.as_deref().unwrap_or("")),
            "Send exactly one origin, as the browser sends it (no trailing slash), and header and method lists as comma-separated tokens.",
        ),
    };
    if !resp.is_ok() {
        out.evidence.push(format!(
            "the {stage} was answered {status}, with CORS headers: the error path is covered"
        ));
    }
    out.ruled_out.push(format!(
        "an error page, a redirect or an auth layer: the {stage} was answered {status}"
    ));
    out
}

/// What the server already allows, from every preflight answer seen (the browser's and the
/// support probe's).
pub fn observed(outcome: &Outcome, answers: &[Answer]) -> crate::fix::Observed {
    let mut o = crate::fix::Observed::default();
    for e in &outcome.exchanges {
        if let (ExchangeKind::Preflight, Some(r)) = (e.request.kind, &e.response) {
            o.read(r);
        }
    }
    for a in answers {
        if let (ProbeKind::Support, Ok(r)) = (a.kind, &a.response) {
            o.read(r);
        }
    }
    o
}

/// Whether the cause is not the policy but the path an answer took (an error page, an auth
/// layer, a redirect, a proxy): the fix is where the CORS layer sits, not what it allows.
pub fn is_path_cause(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::AppError
            | Kind::ProxyError
            | Kind::AuthWall
            | Kind::PreflightAuth
            | Kind::MissingRoute
            | Kind::OptionsNotRouted
            | Kind::Redirect
            | Kind::RedirectNullOrigin
            | Kind::DuplicateHeader
            | Kind::CachedOtherOrigin
    )
}

/// How the stack (a `corsair gen` target) keeps CORS headers on errors, crashes and
/// authentication refusals: where the CORS layer must sit.
pub fn error_path_mechanism(stack: &str) -> Option<&'static str> {
    Some(match stack {
        "starlette" => "Starlette/FastAPI: wrap the whole app, app = CORSMiddleware(app, ...), so it sits outside ServerErrorMiddleware; app.add_middleware(CORSMiddleware) sits inside it, and a crash's 500 goes out without CORS headers.",
        "express" => "Express: app.use(cors(...)) before authentication and every route, so the headers are set before anything can fail; error handlers must keep them (do not reset headers, and call next(err) or answer with res.status(...)).",
        "flask" => "Flask: CORS(app) from flask-cors adds the headers in after_request, which also runs for error handlers and an unhandled exception's 500 (not with the debugger on); do not answer errors from a WSGI middleware outside Flask.",
        "django" => "Django: corsheaders.middleware.CorsMiddleware first in MIDDLEWARE, above CommonMiddleware and authentication, so every response (errors included) passes through it.",
        "spring" => "Spring: the CorsFilter before Spring Security (http.cors() with a CorsConfigurationSource), so preflights and 401s get CORS headers.",
        "nginx" => "nginx: add_header ... always (without always, nginx adds headers to 2xx and 3xx answers only, not to errors or its own 502), and answer OPTIONS before auth_basic or auth_request.",
        "apache" => "Apache: Header always set ... (the default onsuccess table skips errors and the proxy's own 502).",
        "caddy" => "Caddy: the same header directives inside handle_errors, and the CORS handling before authentication.",
        "axum" | "tower-http" => "axum: the CORS layer outermost on the router (the last .layer call), with CatchPanicLayer inside it, so a panic's 500 carries the headers.",
        "envoy" | "traefik" | "gateway-api" | "ingress-nginx" => "Let the proxy answer CORS (its CORS filter or middleware) for every answer, its own errors included.",
        _ => return None,
    })
}
