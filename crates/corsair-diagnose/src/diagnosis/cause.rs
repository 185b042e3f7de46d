//! Naming the cause: who answered the failed response (the app, a proxy, an authentication
//! layer, a cache, a framework's own CORS refusal) and why, from its status, headers and body;
//! transport failures; the holes a green verdict's probes find.

use super::probe::{ProbeKind, REFLECTION_WARNING, UNRELATED_ORIGIN};
use super::{layers, simple, Diagnosis, Kind, Role, Seen};
use crate::failure::{Failure, FailureKind};
use corsair_model::fetch::{Exchange, ExchangeKind, NetError};
use corsair_model::ResponseHead;
use url::Url;

/// Whether `head` carries any CORS response header.
pub(super) fn has_cors(head: &ResponseHead) -> bool {
    head.headers
        .iter()
        .any(|(n, _)| n.to_ascii_lowercase().starts_with("access-control-"))
}

/// `Name: value` of a header, named as it is usually written.
fn line(head: &ResponseHead, name: &str) -> Option<String> {
    head.get(name)
        .map(|j| format!("{}: {}", corsair_model::header::written(name), j.value))
}

pub(super) fn network(e: &NetError) -> Diagnosis {
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

/// A 407 from a server reached directly: Chromium fails it as `ERR_UNEXPECTED_PROXY_AUTH`.
pub(super) fn proxy_auth(x: &Exchange) -> Diagnosis {
    let preflight = x.request.kind == ExchangeKind::Preflight;
    let mut evidence = vec![format!("{} {} -> 407", x.request.method, x.request.url)];
    if let Some(l) = x
        .response
        .as_ref()
        .and_then(|r| line(r, "proxy-authenticate"))
    {
        evidence.push(l);
    }
    evidence.push("net::ERR_UNEXPECTED_PROXY_AUTH (Chromium prints no CORS message)".into());
    let mut d = simple(
        if preflight {
            Kind::PreflightAuth
        } else {
            Kind::AuthWall
        },
        format!(
            "The {} was answered 407 Proxy Authentication Required by a server reached \
            directly (no proxy in use): Chromium treats that as a network error, whatever the \
            CORS headers say. Something in front of the app asks for proxy credentials{}.",
            if preflight { "preflight" } else { "request" },
            if preflight {
                ", and a preflight never carries credentials"
            } else {
                ""
            }
        ),
        evidence,
        "Answer authentication failures with 401 (and WWW-Authenticate), not 407, and let \
        preflights through before authentication.",
    );
    d.ruled_out.push(
        "the CORS headers: Chromium never reads a 407 from a server it reached directly".into(),
    );
    d
}

/// A green verdict that also lets an unrelated origin or `null` read with credentials.
pub(super) fn reflection(seen: &Seen) -> Option<Diagnosis> {
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

/// The failed response, named by who answered and why.
pub(super) fn cause(seen: &Seen, f: &Failure, e: &Exchange, resp: &ResponseHead) -> Diagnosis {
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
    macro_rules! d {
        ($kind:expr, $summary:expr, $remedy:expr $(,)?) => {
            simple($kind, $summary, evidence.clone(), $remedy)
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
        out.ruled_out.push(
            "the policy: the response the browser stopped at is a redirect, not the resource"
                .into(),
        );
        return out;
    }

    // The last server of a cross-origin redirect chain, asked with 'Origin: null'.
    if let Some(first) = f
        .initial_url
        .as_ref()
        .filter(|_| f.sent_origin == "null" && origin != "null")
    {
        let target = e.request.url.to_string();
        let mut out = d!(
            Kind::RedirectNullOrigin,
            format!(
                "{first} redirected to {target}, another origin, which makes the browser send \
                'Origin: null' from then on; {who} at {target} does not allow null (and should \
                not: any sandboxed page sends null)."
            ),
            "Call the final URL directly, so no cross-origin redirect happens.",
        );
        out.evidence.insert(
            0,
            format!("Origin: null (sent by the browser after the redirect from {first})"),
        );
        out.redirect_reason = Url::parse(first)
            .ok()
            .map(|a| redirect_reason(&a, &e.request.url));
        out.final_url = Some(target);
        out.ruled_out.push(format!(
            "the allowlist: {origin} was never sent to {}, only null",
            e.request.url.origin().ascii_serialization()
        ));
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
        // The headers are there, the status is not ok: who refused OPTIONS, and why.
        PreflightInvalidStatus
            if matches!(resp.status, 401 | 403 | 407) || resp.get("www-authenticate").is_some() =>
        {
            d!(
                Kind::PreflightAuth,
                format!("{who} answered the preflight {status}: authentication ran before CORS could answer it, and preflights never carry credentials (the CORS headers are added, the status is not ok)."),
                "Answer OPTIONS preflights with 204 before authentication runs.",
            )
        }
        PreflightInvalidStatus if matches!(resp.status, 404 | 405 | 501) => d!(
            Kind::OptionsNotRouted,
            format!("{who} answered the preflight {status}: CORS headers are added to every answer, but nothing answers OPTIONS for this URL (the app has no OPTIONS route, and the layer adding the headers passes the preflight on)."),
            "Answer OPTIONS preflights with 204 in the layer that adds the CORS headers, before routing.",
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
