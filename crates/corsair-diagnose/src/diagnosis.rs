//! From a verdict to its root cause. The browser model says which check failed; this says why:
//! an error page, a redirect, an authentication layer, a proxy, a cache, a framework's own
//! refusal, or the policy. It reads the recorded exchanges and the answers to a few extra
//! requests that are safe to send ([`probes`]: the failed request again when its method is
//! safe, to read the body; a preflight that asks what the server allows; on a green verdict,
//! the same request from an unrelated origin and from `null`), and names the cause with the
//! evidence it rests on and what it ruled out ([`diagnose`]).
//!
//! Sans IO: the caller sends the probes and hands back the answers.

mod cause;
pub mod layers;
mod probe;
mod remedy;
#[cfg(test)]
mod tests;

pub use cause::redirect_reason;
use cause::{cause, network, reflection};
pub use probe::{probes, Answer, Probe, ProbeKind, REFLECTION_WARNING, UNRELATED_ORIGIN};
pub use remedy::{is_path_cause, path_mechanism};

use corsair_model::fetch::{Exchange, ExchangeKind, Outcome};
use corsair_model::ResponseHead;
pub use layers::{Layer, Role};
use serde::Serialize;

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

    /// Every layer seen on every response, outermost first (the failed one read with its
    /// body, when the probe fetched it).
    fn layers(&self) -> Vec<Layer> {
        let mut all = Vec::new();
        let exchanges = &self.outcome.exchanges;
        let last = exchanges.iter().rposition(|e| e.response.is_some());
        for (i, e) in exchanges.iter().enumerate() {
            if let Some(r) = &e.response {
                let body = if Some(i) == last { self.body() } else { &[] };
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
        match failed(outcome) {
            Some(x) if e.code == "ERR_UNEXPECTED_PROXY_AUTH" => cause::proxy_auth(x),
            _ => network(e),
        }
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

pub(super) fn simple(
    kind: Kind,
    summary: String,
    evidence: Vec<String>,
    remedy: &str,
) -> Diagnosis {
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

/// The exchange whose response failed (the last one with a response).
fn failed(outcome: &Outcome) -> Option<&Exchange> {
    outcome
        .exchanges
        .iter()
        .rev()
        .find(|e| e.response.is_some())
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
