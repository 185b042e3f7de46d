//! The error catalogue: for every [`FailureKind`], the exact console text each browser prints,
//! the cause in one sentence, and what to change.
//!
//! Chromium's wording is `third_party/blink/renderer/platform/loader/cors/cors_error_string.cc`
//! (checked against the installed Chromium by the browser differential test); Firefox's is
//! `dom/locales/en-US/chrome/security/security.properties`; Safari's is WebKit's
//! `CrossOriginAccessControl.cpp`.

use crate::browser::Browser;
use crate::failure::{Failure, FailureKind, Stage};
use crate::request::RequestApi;
use crate::response::encode_hint;

const NO_CORS_HINT: &str = " Have the server send the header with a valid value.";
const XHR_CREDENTIALS: &str =
    " The credentials mode of requests initiated by the XMLHttpRequest is controlled by the \
        withCredentials attribute.";

/// The console message `browser` prints for `failure` when the page used `api`.
pub fn console_message(failure: &Failure, api: RequestApi, browser: Browser) -> String {
    match browser {
        Browser::Chromium => chromium(failure, api),
        Browser::Firefox => firefox(failure),
        Browser::Safari => safari(failure, api),
    }
}

/// Whether Chromium puts "Response to preflight request doesn't pass access control check: "
/// before the body (`IsPreflightError`): only for the access-check kinds, the status and the
/// redirect, not for the method/header/parse failures.
fn chromium_preflight_prefix(f: &Failure) -> bool {
    f.stage == Stage::Preflight
        && (f.kind.is_access_check()
            || matches!(
                f.kind,
                FailureKind::PreflightInvalidStatus | FailureKind::PreflightDisallowedRedirect
            ))
}

fn chromium(f: &Failure, api: RequestApi) -> String {
    let resource = api.chromium_resource();
    let hint = encode_hint(f.hint.as_deref().unwrap_or(""));
    let mut s = format!("Access to {resource} at '{}' ", f.url);
    if let Some(initial) = &f.initial_url {
        s.push_str(&format!("(redirected from '{initial}') "));
    }
    s.push_str(&format!(
        "from origin '{}' has been blocked by CORS policy: ",
        f.page_origin
    ));
    if chromium_preflight_prefix(f) {
        s.push_str("Response to preflight request doesn't pass access control check: ");
    }
    let fetch_hint = if api == RequestApi::Fetch {
        NO_CORS_HINT
    } else {
        ""
    };
    let xhr_hint = if api == RequestApi::Xhr {
        XHR_CREDENTIALS
    } else {
        ""
    };
    let body = match f.kind {
        FailureKind::WildcardOriginNotAllowed => format!(
            "The value of the \
            'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when \
            the request's credentials mode is 'include'.{xhr_hint}"
        ),
        FailureKind::MissingAllowOriginHeader => "No 'Access-Control-Allow-Origin' header is \
            present on the requested resource."
            .to_string(),
        FailureKind::MultipleAllowOriginValues => format!(
            "The 'Access-Control-Allow-Origin' \
            header contains multiple values '{hint}', but only one is allowed.{fetch_hint}"
        ),
        FailureKind::InvalidAllowOriginValue => format!(
            "The 'Access-Control-Allow-Origin' header \
            contains the invalid value '{hint}'.{fetch_hint}"
        ),
        FailureKind::AllowOriginMismatch => format!(
            "The 'Access-Control-Allow-Origin' header has \
            a value '{hint}' that is not equal to the supplied origin.{fetch_hint}"
        ),
        FailureKind::InvalidAllowCredentials => format!(
            "The value of the \
            'Access-Control-Allow-Credentials' header in the response is '{hint}' which must be \
            'true' when the request's credentials mode is 'include'.{xhr_hint}"
        ),
        FailureKind::PreflightInvalidStatus => "It does not have HTTP ok status.".to_string(),
        FailureKind::PreflightDisallowedRedirect => "Redirect is not allowed for a preflight \
            request."
            .to_string(),
        FailureKind::InvalidAllowMethods => "Cannot parse Access-Control-Allow-Methods response \
            header field in preflight response."
            .to_string(),
        FailureKind::InvalidAllowHeaders => "Cannot parse Access-Control-Allow-Headers response \
            header field in preflight response."
            .to_string(),
        FailureKind::MethodNotAllowed => format!(
            "Method {hint} is not allowed by \
            Access-Control-Allow-Methods in preflight response."
        ),
        FailureKind::HeaderNotAllowed => format!(
            "Request header field {hint} is not allowed by \
            Access-Control-Allow-Headers in preflight response."
        ),
        // Chromium 156 leaves the location out of this message (it prints '').
        FailureKind::RedirectContainsCredentials => "Redirect location '' contains a username and \
            password, which is disallowed for cross-origin requests."
            .to_string(),
    };
    s.push_str(&body);
    s
}

/// Firefox's line for a request that got no usable response (a network error, a refused
/// redirect, a refusal before sending): "CORS request did not succeed" with no status.
pub(crate) fn firefox_not_succeeded(url: &str) -> String {
    format!(
        "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote \
        resource at {url}. (Reason: CORS request did not succeed). Status code: (null)."
    )
}

fn firefox(f: &Failure) -> String {
    let url = &f.url;
    let status = f.status.map(|s| s.to_string()).unwrap_or_default();
    // Firefox prints a header's bytes as UTF-8 ('é'), where the value holds them one per char.
    let utf8 = f.hint.as_deref().map(|h| {
        let bytes: Option<Vec<u8>> = h.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect();
        match bytes {
            Some(b) => String::from_utf8_lossy(&b).into_owned(),
            None => h.to_string(),
        }
    });
    let hint = utf8.as_deref().unwrap_or("");
    let prefix = format!(
        "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote \
            resource at {url}. (Reason: "
    );
    let reason = match f.kind {
        // This one names the URL in quotes.
        FailureKind::WildcardOriginNotAllowed => format!(
            "Cross-Origin Request Blocked: The Same \
            Origin Policy disallows reading the remote resource at ‘{url}’. (Reason: Credential is \
            not supported if the CORS header ‘Access-Control-Allow-Origin’ is ‘*’)."
        ),
        FailureKind::MissingAllowOriginHeader => format!(
            "CORS header \
            ‘Access-Control-Allow-Origin’ missing). Status code: {status}."
        ),
        FailureKind::MultipleAllowOriginValues if f.allow_origin_lines > 1 => "Multiple CORS \
            header ‘Access-Control-Allow-Origin’ not allowed)."
            .to_string(),
        FailureKind::MultipleAllowOriginValues
        | FailureKind::InvalidAllowOriginValue
        | FailureKind::AllowOriginMismatch => {
            format!("CORS header ‘Access-Control-Allow-Origin’ does not match ‘{hint}’).")
        }
        FailureKind::InvalidAllowCredentials => "expected ‘true’ in CORS header \
            ‘Access-Control-Allow-Credentials’)."
            .to_string(),
        FailureKind::PreflightInvalidStatus => format!(
            "CORS preflight response did not succeed). \
            Status code: {status}."
        ),
        FailureKind::PreflightDisallowedRedirect => {
            "CORS request external redirect not allowed).".to_string()
        }
        FailureKind::InvalidAllowMethods => format!(
            "invalid token ‘{hint}’ in CORS header \
            ‘Access-Control-Allow-Methods’)."
        ),
        FailureKind::InvalidAllowHeaders => format!(
            "invalid token ‘{hint}’ in CORS header \
            ‘Access-Control-Allow-Headers’)."
        ),
        FailureKind::MethodNotAllowed => "Did not find method in CORS header \
            ‘Access-Control-Allow-Methods’)."
            .to_string(),
        FailureKind::HeaderNotAllowed => format!(
            "header ‘{hint}’ is not allowed according to \
            header ‘Access-Control-Allow-Headers’ from CORS preflight response)."
        ),
        FailureKind::RedirectContainsCredentials => "CORS request did not succeed). Status code: \
            (null)."
            .to_string(),
    };
    // Firefox logs more after some reasons (observed in Firefox 153 by the Firefox
    // differential): a failed preflight is followed by "CORS request did not succeed" with no
    // status, a redirected preflight first by "CORS preflight response did not succeed" with
    // the redirect's status, and so is a request whose failing response is a redirect.
    let failed = firefox_not_succeeded(url);
    let first = if f.kind == FailureKind::WildcardOriginNotAllowed {
        reason
    } else {
        format!("{prefix}{reason}")
    };
    match (f.kind, f.stage) {
        (FailureKind::RedirectContainsCredentials, _) => first,
        (FailureKind::PreflightDisallowedRedirect, Stage::Preflight) => format!(
            "{first}\n{prefix}CORS preflight response did not succeed). Status code: \
                {status}.\n{failed}"
        ),
        (_, Stage::Preflight) => format!("{first}\n{failed}"),
        // A redirect, not any 3xx: a 304 gets the reason line only (WPT's send-conditional-cors).
        (_, Stage::Actual) if matches!(f.status, Some(301 | 302 | 303 | 307 | 308)) => {
            format!("{first}\n{failed}")
        }
        _ => first,
    }
}

/// The console text `browser` words a network error with itself, when it does: WebKit reports
/// a 21st redirect as an access-control error (`NetworkLoadChecker::checkRedirection`, observed
/// by the WebKit differential), naming the URL that redirected last.
pub fn network_console(browser: Browser, code: &str, url: &str, api: RequestApi) -> Option<String> {
    match (browser, code) {
        (Browser::Safari, "ERR_TOO_MANY_REDIRECTS") => Some(safari_second_line(
            "Load cannot follow more than 20 redirections".to_string(),
            url,
            api,
        )),
        _ => None,
    }
}

/// What each engine logs when a redirect points to `target`, whose scheme is not HTTP(S), as
/// observed on the Web Platform Tests' redirect-schemes and redirect-location cases: Chromium
/// names the schemes it supports for CORS (and logs nothing for `data:`, `about:` and `blob:`,
/// which it refuses without a CORS message), WebKit refuses a "non CORS scheme" (a `blob:`
/// URL as a local resource), Firefox logs nothing.
pub fn unsafe_redirect_console(
    browser: Browser,
    target: &str,
    url: &str,
    initial: &str,
    origin: &str,
    api: RequestApi,
) -> Option<String> {
    let scheme = target
        .split(':')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match browser {
        Browser::Chromium => {
            const SUPPORTED: [&str; 8] = [
                "chrome",
                "chrome-experimental-site-token-provider",
                "chrome-extension",
                "chrome-untrusted",
                "data",
                "http",
                "https",
                "isolated-app",
            ];
            if SUPPORTED.contains(&scheme.as_str()) || matches!(scheme.as_str(), "about" | "blob") {
                return None;
            }
            Some(format!(
                "Access to {} at '{target}' (redirected from '{initial}') from origin '{origin}' \
                has been blocked by CORS policy: Cross origin requests are only supported for \
                protocol schemes: {}.",
                api.chromium_resource(),
                SUPPORTED.join(", ")
            ))
        }
        Browser::Safari => {
            let first = if scheme == "blob" {
                format!("Not allowed to load local resource: {target}")
            } else {
                format!(
                    "Cross-origin redirection to {target} denied by Cross-Origin Resource \
                    Sharing policy: not allowed to follow a cross-origin CORS redirection with \
                    non CORS scheme"
                )
            };
            Some(safari_second_line(first, url, api))
        }
        Browser::Firefox => None,
    }
}

/// WebKit's reason line followed by the line the loader of `api` adds, when it adds one
/// (observed by the WebKit differentials): fetch, XHR and images name the URL, a classic script
/// says it was denied, a module script and a stylesheet add nothing.
fn safari_second_line(first: String, url: &str, api: RequestApi) -> String {
    let second = match api {
        RequestApi::Fetch => format!("Fetch API cannot load {url} due to access control checks."),
        RequestApi::Xhr => {
            format!("XMLHttpRequest cannot load {url} due to access control checks.")
        }
        RequestApi::Image => format!("Cannot load image {url} due to access control checks."),
        RequestApi::Script => {
            "Cross-origin script load denied by Cross-Origin Resource Sharing policy.".to_string()
        }
        _ => return first,
    };
    format!("{first}\n{second}")
}

fn safari(f: &Failure, api: RequestApi) -> String {
    let hint = f.hint.as_deref().unwrap_or("");
    let status = f.status.unwrap_or(0);
    let first = match f.kind {
        FailureKind::WildcardOriginNotAllowed => {
            "Cannot use wildcard in Access-Control-Allow-Origin when credentials flag is true."
                .to_string()
        }
        FailureKind::MultipleAllowOriginValues if hint.contains(',') => {
            "Access-Control-Allow-Origin cannot contain more than one origin.".to_string()
        }
        FailureKind::MissingAllowOriginHeader
        | FailureKind::MultipleAllowOriginValues
        | FailureKind::InvalidAllowOriginValue
        | FailureKind::AllowOriginMismatch => {
            format!(
                "Origin {} is not allowed by Access-Control-Allow-Origin. Status code: {status}",
                f.sent_origin
            )
        }
        FailureKind::InvalidAllowCredentials => {
            "Credentials flag is true, but Access-Control-Allow-Credentials is not \"true\"."
                .to_string()
        }
        FailureKind::PreflightInvalidStatus => {
            format!("Preflight response is not successful. Status code: {status}")
        }
        FailureKind::PreflightDisallowedRedirect => {
            "Preflight response is not successful. Status code: 3xx"
                .replace("3xx", &status.to_string())
        }
        FailureKind::InvalidAllowMethods => {
            format!("Header Access-Control-Allow-Methods has an invalid value: {hint}")
        }
        FailureKind::InvalidAllowHeaders => {
            format!("Header Access-Control-Allow-Headers has an invalid value: {hint}")
        }
        FailureKind::MethodNotAllowed => {
            format!("Method {hint} is not allowed by Access-Control-Allow-Methods.")
        }
        FailureKind::HeaderNotAllowed => {
            format!("Request header field {hint} is not allowed by Access-Control-Allow-Headers.")
        }
        FailureKind::RedirectContainsCredentials => {
            format!("redirection URL {hint} has credentials")
        }
    };
    // A refused redirect is worded by `NetworkLoadChecker::checkRedirection`.
    let first = match &f.redirect_to {
        Some(to) if f.stage == Stage::Actual => format!(
            "Cross-origin redirection to {to} denied by Cross-Origin Resource Sharing policy: \
                {first}"
        ),
        _ => first,
    };
    // The second line names the URL whose response failed (the redirect's own for a refused
    // redirect, the last hop's otherwise), not the one the page asked for.
    safari_second_line(first, &f.url, api)
}

/// The cause in one sentence, naming the values involved.
pub fn cause(f: &Failure) -> String {
    let hint = f.hint.as_deref().unwrap_or("");
    let which = match f.stage {
        Stage::Preflight => "the preflight (OPTIONS) response",
        Stage::Actual => "the response",
    };
    let origin = &f.sent_origin;
    match f.kind {
        FailureKind::WildcardOriginNotAllowed => format!("The request is sent with credentials \
            (cookies, HTTP auth) and {which} answers 'Access-Control-Allow-Origin: *'; a wildcard \
            never grants access to a credentialed request."),
        FailureKind::MissingAllowOriginHeader if f.stage == Stage::Preflight && !(200..300).contains(&f.status.unwrap_or(200)) => {
            let status = f.status.unwrap_or(0);
            let who = match status {
                401 | 403 => "authentication or an access rule rejected it before CORS could \
                    answer (a preflight never carries cookies or Authorization)",
                404 | 405 | 501 => "the route or framework does not handle OPTIONS",
                _ => "something in front of the CORS handling answered it",
            };
            format!("The preflight (OPTIONS) was answered with status {status} and no \
                Access-Control-Allow-Origin: {who}.")
        }
        FailureKind::MissingAllowOriginHeader => format!("{} carries no Access-Control-Allow-Origin header, so the server did not grant {origin} access{}.", capital(which), f.status.map(|s| format!(" \
            (status {s})")).unwrap_or_default()),
        FailureKind::MultipleAllowOriginValues => format!("{} lists several origins in \
            Access-Control-Allow-Origin ('{hint}'); the header must hold exactly one origin, so \
            the server has to pick the one that asked.", capital(which)),
        FailureKind::InvalidAllowOriginValue => format!("{} sends Access-Control-Allow-Origin \
            '{hint}', which is not an origin at all.", capital(which)),
        FailureKind::AllowOriginMismatch => format!("{} allows '{hint}', but the request came from \
            '{origin}'; the comparison is exact, byte for byte (scheme, host, port, no trailing \
            slash).", capital(which)),
        FailureKind::InvalidAllowCredentials => if hint.is_empty() {
            format!("The request is sent with credentials, and {which} lacks \
                'Access-Control-Allow-Credentials: true'.")
        } else {
            format!("The request is sent with credentials, and {which} says \
                'Access-Control-Allow-Credentials: {hint}'; only the exact lowercase value 'true' \
                counts.")
        },
        FailureKind::PreflightInvalidStatus => format!("The preflight (OPTIONS) was answered with \
            {}; a preflight must get a 2xx, usually because the route does not handle OPTIONS or \
            authentication runs before CORS.", status_words(f.status)),
        FailureKind::PreflightDisallowedRedirect => format!("The preflight (OPTIONS) was answered \
            with a redirect ({}); browsers never follow redirects on a preflight (often \
            http->https, a trailing-slash redirect, or a login redirect).", status_words(f.status)),
        FailureKind::InvalidAllowMethods => format!("The preflight's Access-Control-Allow-Methods \
            is not a comma-separated list of method names (bad item '{hint}')."),
        FailureKind::InvalidAllowHeaders => format!("The preflight's Access-Control-Allow-Headers \
            is not a comma-separated list of header names (bad item '{hint}')."),
        FailureKind::MethodNotAllowed => format!("The request uses method {hint}, and the \
            preflight's Access-Control-Allow-Methods does not list it (matching is case-sensitive; \
            '*' does not apply with credentials)."),
        FailureKind::HeaderNotAllowed => format!("The request sets header '{hint}', and the \
            preflight's Access-Control-Allow-Headers does not list it ('*' covers nothing when \
            credentials are sent, and never Authorization in the Fetch standard)."),
        FailureKind::RedirectContainsCredentials => format!("A redirect points to '{hint}', a URL \
            with a user name or password, which a cross-origin request may not follow."),
    }
}

fn status_words(status: Option<u16>) -> String {
    match status {
        Some(s) => format!("status {s}"),
        None => "a status outside 200-299".to_string(),
    }
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(kind: FailureKind, stage: Stage, hint: Option<&str>) -> Failure {
        Failure {
            kind,
            stage,
            hint: hint.map(str::to_string),
            status: Some(404),
            allow_origin_lines: 1,
            url: "http://api.test/x".into(),
            initial_url: None,
            redirect_to: None,
            page_origin: "http://app.test".into(),
            sent_origin: "http://app.test".into(),
        }
    }

    #[test]
    fn every_kind_has_a_message_for_every_browser_and_api() {
        for kind in FailureKind::ALL {
            for stage in [Stage::Preflight, Stage::Actual] {
                let f = failure(kind, stage, Some("x"));
                for b in Browser::ALL {
                    for api in RequestApi::ALL {
                        let m = console_message(&f, api, b);
                        // Safari's reason alone (an element's line) can be short.
                        assert!(m.len() > 20, "{kind:?} {b} {m}");
                    }
                }
                assert!(!cause(&f).is_empty());
            }
        }
    }

    #[test]
    fn chromium_wording() {
        let f = failure(
            FailureKind::MissingAllowOriginHeader,
            Stage::Preflight,
            None,
        );
        assert_eq!(
            console_message(&f, RequestApi::Fetch, Browser::Chromium),
            "Access to fetch at 'http://api.test/x' from origin 'http://app.test' has been blocked \
                by CORS policy: Response to preflight request doesn't pass access control check: \
                No 'Access-Control-Allow-Origin' header is present on the requested resource."
        );
        let mut f = failure(FailureKind::MethodNotAllowed, Stage::Preflight, Some("PUT"));
        f.initial_url = Some("http://api.test/start".into());
        assert_eq!(
            console_message(&f, RequestApi::Xhr, Browser::Chromium),
            "Access to XMLHttpRequest at 'http://api.test/x' (redirected from \
                'http://api.test/start') from origin 'http://app.test' has been blocked by CORS \
                policy: Method PUT is not allowed by Access-Control-Allow-Methods in preflight \
                response."
        );
        let f = failure(
            FailureKind::AllowOriginMismatch,
            Stage::Actual,
            Some("http://é"),
        );
        assert!(
            console_message(&f, RequestApi::Fetch, Browser::Chromium).ends_with(
                "has a value 'http://\\u00E9' that is not equal to the supplied origin. \
                Have the server send the header with a valid value."
            )
        );
    }

    #[test]
    fn firefox_wording() {
        let f = failure(FailureKind::MissingAllowOriginHeader, Stage::Actual, None);
        assert_eq!(
            console_message(&f, RequestApi::Fetch, Browser::Firefox),
            "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote \
                resource at http://api.test/x. (Reason: CORS header ‘Access-Control-Allow-Origin’ \
                missing). Status code: 404."
        );
    }
}
