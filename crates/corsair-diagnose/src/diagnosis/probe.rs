//! The extra requests the diagnosis sends: safe ones only (GET, HEAD, OPTIONS), planned from
//! the outcome; the caller sends them and hands back the answers.

use super::failed;
use crate::failure::Stage;
use corsair_model::fetch::{ExchangeKind, NetError, Outcome, Outgoing};
use corsair_model::request::Mode;
use corsair_model::ResponseHead;
use serde::Serialize;
use url::Url;

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

pub(super) fn is_safe(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS")
}

fn header(name: &str, value: impl Into<String>) -> (String, String) {
    (name.to_string(), value.into())
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
