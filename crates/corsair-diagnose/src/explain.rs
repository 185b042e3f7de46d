//! Reading a pasted console error back into a [`FailureKind`]: Chromium's wording (fetch or
//! XHR, with or without the "Access to ... has been blocked by CORS policy:" prefix), Firefox's
//! ("Cross-Origin Request Blocked: ... (Reason: ...)", curly or straight quotes) and Safari's.
//! Every message the catalogue writes is read back to its kind (tested).

use crate::browser::Browser;
use crate::failure::{Failure, FailureKind, Stage};
use crate::request::RequestApi;
use regex::Regex;
use serde::Serialize;
use std::sync::OnceLock;

mod block;
pub mod lna;

pub use block::{block, Block};

/// One error found in the text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Explained {
    /// What went wrong.
    pub kind: FailureKind,
    /// Other kinds the same words can mean (Safari says the same for a missing and a wrong
    /// `Access-Control-Allow-Origin`).
    pub or_kinds: Vec<FailureKind>,
    /// Which browser's wording it is.
    pub browser: Browser,
    /// Whether the preflight failed, when the message says.
    pub stage: Option<Stage>,
    /// fetch or XHR, when the message says.
    pub api: Option<RequestApi>,
    /// The URL concerned, when the message names it.
    pub url: Option<String>,
    /// The URL first requested, when a redirect is mentioned.
    pub initial_url: Option<String>,
    /// Where a refused redirect led, when the message says (WebKit's "Cross-origin redirection
    /// to URL denied").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_to: Option<String>,
    /// The page's origin, when the message names it.
    pub origin: Option<String>,
    /// The offending value (origin, method, header, status), when the message names it.
    pub hint: Option<String>,
    /// The status code, when the message gives it.
    pub status: Option<u16>,
}

impl Explained {
    /// A [`Failure`] with what the message tells, for the catalogue's cause and fix.
    pub fn to_failure(&self) -> Failure {
        Failure {
            kind: self.kind,
            stage: self.stage.unwrap_or(Stage::Actual),
            hint: self.hint.clone(),
            status: self.status,
            allow_origin_lines: 1,
            url: self.url.clone().unwrap_or_else(|| "(the URL)".into()),
            initial_url: self.initial_url.clone(),
            redirect_to: self.redirect_to.clone(),
            page_origin: self
                .origin
                .clone()
                .unwrap_or_else(|| "(your page's origin)".into()),
            sent_origin: self
                .origin
                .clone()
                .unwrap_or_else(|| "(your page's origin)".into()),
        }
    }
}

/// Whether the text reports a failure below CORS: the browser got no usable response at all
/// (Chromium's `net::ERR_...`, Firefox's "CORS request did not succeed", "Failed to fetch" alone).
pub fn is_network_failure(text: &str) -> bool {
    block(text).is_none()
        && (text.contains("CORS request did not succeed")
            || (text.contains("net::ERR_") && !text.contains("blocked by CORS policy"))
            || is_redirect_loop(text))
}

/// Whether the text reports more than 20 redirects (Chromium's `net::ERR_TOO_MANY_REDIRECTS`,
/// WebKit's "Load cannot follow more than 20 redirections"): a redirect loop, not a header.
pub fn is_redirect_loop(text: &str) -> bool {
    text.contains("ERR_TOO_MANY_REDIRECTS")
        || text.contains("Load cannot follow more than 20 redirections")
}

/// The JavaScript error a page sees for every CORS failure and every network failure alike: the
/// browser keeps the reason from the page and writes it to the console.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct BareError {
    /// The words matched.
    pub message: &'static str,
    /// The browser that writes it, when only one does.
    pub browser: Option<Browser>,
    /// Where that browser shows the reason.
    pub reason_in: &'static str,
}

/// The bare errors pages see, with where each browser puts the real reason.
const BARE: &[BareError] = &[
    BareError {
        message: "Failed to fetch",
        browser: Some(Browser::Chromium),
        reason_in:
            "DevTools' Console, a red line above it starting \"Access to fetch at\" (a CORS \
            error) or naming net::ERR_... (a network error); the Network panel shows the request \
            as \"CORS error\" or \"(failed)\"",
    },
    BareError {
        message: "NetworkError when attempting to fetch resource",
        browser: Some(Browser::Firefox),
        reason_in: "the Web Console, a line starting \"Cross-Origin Request Blocked\" with a \
            (Reason: ...) at its end",
    },
    BareError {
        message: "Load failed",
        browser: Some(Browser::Safari),
        reason_in: "Web Inspector's Console, a line such as \"Origin ... is not allowed by \
            Access-Control-Allow-Origin.\" before \"Fetch API cannot load ...\"",
    },
    BareError {
        message: "Network Error",
        browser: None,
        reason_in:
            "the browser's console (axios and XMLHttpRequest report status 0 for every CORS \
            and network failure): the line the browser wrote about the same request",
    },
];

/// Whether the text is only the error the page's JavaScript sees (`TypeError: Failed to
/// fetch`, `NetworkError when attempting to fetch resource.`, `Load failed`, axios's `Network
/// Error`), which says nothing of the reason.
pub fn bare_error(text: &str) -> Option<BareError> {
    let text = text.to_ascii_lowercase();
    BARE.iter()
        .find(|b| text.contains(&b.message.to_ascii_lowercase()))
        .copied()
}

/// A readable list of the messages `explain` knows, for an unrecognised input.
pub const KNOWN: &[&str] = &[
    "No 'Access-Control-Allow-Origin' header is present on the requested resource.",
    "The value of the 'Access-Control-Allow-Origin' header in the response must not be the \
        wildcard '*' when the request's credentials mode is 'include'.",
    "The 'Access-Control-Allow-Origin' header contains multiple values '...', but only one is \
        allowed.",
    "The 'Access-Control-Allow-Origin' header contains the invalid value '...'.",
    "The 'Access-Control-Allow-Origin' header has a value '...' that is not equal to the supplied \
        origin.",
    "The value of the 'Access-Control-Allow-Credentials' header in the response is '...' which \
        must be 'true' ...",
    "Response to preflight request doesn't pass access control check: It does not have HTTP ok \
        status.",
    "Redirect is not allowed for a preflight request.",
    "Cannot parse Access-Control-Allow-Methods / -Headers response header field in preflight \
        response.",
    "Method X is not allowed by Access-Control-Allow-Methods in preflight response.",
    "Request header field X is not allowed by Access-Control-Allow-Headers in preflight response.",
    "Redirect location '...' contains a username and password ...",
    "Firefox: Cross-Origin Request Blocked: ... (Reason: CORS header 'Access-Control-Allow-Origin' \
        missing / does not match / ...)",
    "Safari: Origin X is not allowed by Access-Control-Allow-Origin. / Preflight response is not \
        successful. / ... due to access control checks.",
];

struct Pattern {
    re: Regex,
    kind: FailureKind,
    or_kinds: &'static [FailureKind],
    browser: Browser,
    /// Which capture group holds the hint, if any.
    hint: Option<usize>,
}

/// A quote as the browsers write it, or none: a shell eats quotes from an unquoted argument.
const Q: &str = "['‘’`]?";

fn patterns() -> &'static [Pattern] {
    static P: OnceLock<Vec<Pattern>> = OnceLock::new();
    P.get_or_init(|| {
        use FailureKind::*;
        let p = |re: &str, kind, or_kinds: &'static [FailureKind], browser, hint| Pattern {
            re: Regex::new(&re.replace('Q', Q)).expect("explain patterns are valid"),
            kind,
            or_kinds,
            browser,
            hint,
        };
        let c = Browser::Chromium;
        let f = Browser::Firefox;
        let s = Browser::Safari;
        vec![
            p(r"must not be the wildcard Q\*Q when the request.?s credentials mode is QincludeQ", WildcardOriginNotAllowed, &[], c, None),
            p(r"No QAccess-Control-Allow-OriginQ header is present on the requested resource", MissingAllowOriginHeader, &[], c, None),
            p(r"QAccess-Control-Allow-OriginQ header contains multiple values Q(.*?)Q, but only one is allowed", MultipleAllowOriginValues, &[], c, Some(1)),
            p(r"QAccess-Control-Allow-OriginQ header contains the invalid value Q(.*?)Q\.", InvalidAllowOriginValue, &[], c, Some(1)),
            p(r"QAccess-Control-Allow-OriginQ header has a value Q(.*?)Q that is not equal to the supplied origin", AllowOriginMismatch, &[], c, Some(1)),
            p(r"QAccess-Control-Allow-CredentialsQ header in the response is Q(.*?)Q which must be QtrueQ", InvalidAllowCredentials, &[], c, Some(1)),
            p(r"It does not have HTTP ok status", PreflightInvalidStatus, &[], c, None),
            p(r"Redirect is not allowed for a preflight request", PreflightDisallowedRedirect, &[], c, None),
            p(r"Cannot parse Access-Control-Allow-Methods response header field", InvalidAllowMethods, &[], c, None),
            p(r"Cannot parse Access-Control-Allow-Headers response header field", InvalidAllowHeaders, &[], c, None),
            p(r"Method (\S+) is not allowed by Access-Control-Allow-Methods in preflight response", MethodNotAllowed, &[], c, Some(1)),
            p(r"Request header field (\S+) is not allowed by Access-Control-Allow-Headers in preflight response", HeaderNotAllowed, &[], c, Some(1)),
            // Chromium's deprecation warning: the request still passes today, and will not.
            p(r"(Authorization) will not be covered by the wildcard symbol \(\*\) in CORS Access-Control-Allow-Headers handling", HeaderNotAllowed, &[], c, Some(1)),
            p(r"Redirect location Q(.*?)Q contains a username and password", RedirectContainsCredentials, &[], c, Some(1)),
            // Firefox (security.properties)
            p(r"Reason: Credential is not supported if the CORS header QAccess-Control-Allow-OriginQ is Q\*Q", WildcardOriginNotAllowed, &[], f, None),
            p(r"Reason: CORS header QAccess-Control-Allow-OriginQ missing", MissingAllowOriginHeader, &[], f, None),
            p(r"Reason: Multiple CORS header QAccess-Control-Allow-OriginQ not allowed", MultipleAllowOriginValues, &[], f, None),
            p(r"Reason: CORS header QAccess-Control-Allow-OriginQ does not match Q(.*?)Q\)", AllowOriginMismatch, &[InvalidAllowOriginValue, MultipleAllowOriginValues], f, Some(1)),
            p(r"Reason: expected QtrueQ in CORS header QAccess-Control-Allow-CredentialsQ", InvalidAllowCredentials, &[], f, None),
            p(r"Reason: CORS preflight response did not succeed", PreflightInvalidStatus, &[], f, None),
            p(r"Reason: CORS request external redirect not allowed", PreflightDisallowedRedirect, &[], f, None),
            p(r"Reason: invalid token Q(.*?)Q in CORS header QAccess-Control-Allow-MethodsQ", InvalidAllowMethods, &[], f, Some(1)),
            p(r"Reason: invalid token Q(.*?)Q in CORS header QAccess-Control-Allow-HeadersQ", InvalidAllowHeaders, &[], f, Some(1)),
            p(r"Reason: Did not find method in CORS header QAccess-Control-Allow-MethodsQ", MethodNotAllowed, &[], f, None),
            p(r"Reason: header Q(.*?)Q is not allowed according to header QAccess-Control-Allow-HeadersQ", HeaderNotAllowed, &[], f, Some(1)),
            // Safari (WebKit)
            p(r"Cannot use wildcard in Access-Control-Allow-Origin when credentials flag is true", WildcardOriginNotAllowed, &[], s, None),
            p(r"Access-Control-Allow-Origin cannot contain more than one origin", MultipleAllowOriginValues, &[], s, None),
            p(r"Origin (\S+) is not allowed by Access-Control-Allow-Origin\.", AllowOriginMismatch, &[MissingAllowOriginHeader, InvalidAllowOriginValue, MultipleAllowOriginValues], s, None),
            p(r#"Credentials flag is true, but Access-Control-Allow-Credentials is not "?true"?"#, InvalidAllowCredentials, &[], s, None),
            p(r"Preflight response is not successful\. Status code: (\d+)", PreflightInvalidStatus, &[PreflightDisallowedRedirect], s, None),
            p(r"Header Access-Control-Allow-Methods has an invalid value: (.*)", InvalidAllowMethods, &[], s, Some(1)),
            p(r"Header Access-Control-Allow-Headers has an invalid value: (.*)", InvalidAllowHeaders, &[], s, Some(1)),
            p(r"Method (\S+) is not allowed by Access-Control-Allow-Methods\.", MethodNotAllowed, &[], s, Some(1)),
            p(r"Request header field (\S+) is not allowed by Access-Control-Allow-Headers\.", HeaderNotAllowed, &[], s, Some(1)),
            p(r"redirection URL (\S+) has credentials", RedirectContainsCredentials, &[], s, Some(1)),
        ]
    })
}

fn chromium_prefix() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        // Quotes optional: a shell eats them from an unquoted argument.
        Regex::new(r"Access to (\w+(?: stylesheet)?) at '?([^'\s]*)'? (?:\(redirected from '?([^'\s]*)'?\) )?from origin '?([^'\s]*)'? has been blocked by CORS policy: (Response to preflight request doesn.?t pass access control check: )?")
            .expect("valid")
    })
}

fn firefox_url() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(r"disallows reading the remote resource at [‘']?(\S+?)[’']?\. \(Reason")
            .expect("valid")
    })
}

fn status_code() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"Status code: (\d{3})").expect("valid"))
}

/// WebKit's second line: the loader's own, after the reason (fetch, XHR, an image, a classic
/// script).
fn safari_url() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(r"(?:(Fetch API|XMLHttpRequest) cannot load (\S+) due to access control checks|Cannot load (image) (\S+) due to access control checks|Cross-origin (script) load denied by Cross-Origin Resource Sharing policy)")
            .expect("valid")
    })
}

/// WebKit's words before the reason when it refuses to follow a redirect.
fn safari_redirect() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(
            r"Cross-origin redirection to (\S+) denied by Cross-Origin Resource Sharing policy: ",
        )
        .expect("valid")
    })
}

/// Every CORS error in `text`, in order. Lines that belong together (Safari's two lines) are
/// read as one error.
pub fn explain(text: &str) -> Vec<Explained> {
    let mut out: Vec<Explained> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(caps) = safari_url().captures(line) {
            // Safari's second line: it completes the error before it.
            if let Some(last) = out
                .last_mut()
                .filter(|e| e.browser == Browser::Safari && e.url.is_none() && e.api.is_none())
            {
                last.url = caps.get(2).or(caps.get(4)).map(|m| m.as_str().to_string());
                last.api = Some(
                    match caps
                        .get(1)
                        .or(caps.get(3))
                        .or(caps.get(5))
                        .map(|m| m.as_str())
                    {
                        Some("XMLHttpRequest") => RequestApi::Xhr,
                        Some("image") => RequestApi::Image,
                        Some("script") => RequestApi::Script,
                        _ => RequestApi::Fetch,
                    },
                );
            }
            continue;
        }
        let Some(p) = patterns().iter().find(|p| p.re.is_match(line)) else {
            continue;
        };
        let caps = p.re.captures(line).expect("matched");
        let mut e = Explained {
            kind: p.kind,
            or_kinds: p.or_kinds.to_vec(),
            browser: p.browser,
            stage: None,
            api: None,
            url: None,
            initial_url: None,
            redirect_to: None,
            origin: None,
            hint: p
                .hint
                .and_then(|i| caps.get(i))
                .map(|m| m.as_str().to_string()),
            status: status_code().captures(line).and_then(|c| c[1].parse().ok()),
        };
        match p.browser {
            Browser::Chromium => {
                if let Some(c) = chromium_prefix().captures(line) {
                    e.api = Some(match &c[1] {
                        "XMLHttpRequest" => RequestApi::Xhr,
                        "font" => RequestApi::Font,
                        "image" => RequestApi::Image,
                        "script" => RequestApi::Script,
                        "CSS stylesheet" => RequestApi::Stylesheet,
                        _ => RequestApi::Fetch,
                    });
                    e.url = Some(c[2].to_string());
                    e.initial_url = c.get(3).map(|m| m.as_str().to_string());
                    e.origin = Some(c[4].to_string());
                    e.stage = Some(
                        if c.get(5).is_some()
                            || !e.kind.is_access_check()
                                && e.kind != FailureKind::RedirectContainsCredentials
                        {
                            Stage::Preflight
                        } else {
                            Stage::Actual
                        },
                    );
                } else if line.contains("Response to preflight request")
                    || matches!(
                        e.kind,
                        FailureKind::MethodNotAllowed
                            | FailureKind::HeaderNotAllowed
                            | FailureKind::InvalidAllowMethods
                            | FailureKind::InvalidAllowHeaders
                            | FailureKind::PreflightInvalidStatus
                            | FailureKind::PreflightDisallowedRedirect
                    )
                {
                    e.stage = Some(Stage::Preflight);
                }
                if line.contains("withCredentials attribute") {
                    e.api = Some(RequestApi::Xhr);
                }
            }
            Browser::Firefox => {
                e.url = firefox_url().captures(line).map(|c| c[1].to_string());
                // Firefox logs several lines for one request; the first gives the reason, the
                // next ones (the preflight's status, "did not succeed") belong to it.
                if let Some(last) = out.last() {
                    if last.browser == Browser::Firefox && last.url.is_some() && last.url == e.url {
                        continue;
                    }
                }
            }
            Browser::Safari => {
                if let Some(c) = safari_redirect().captures(line) {
                    e.redirect_to = Some(c[1].to_string());
                    e.stage = Some(Stage::Actual);
                }
                if e.kind == FailureKind::AllowOriginMismatch {
                    e.origin = caps.get(1).map(|m| m.as_str().to_string());
                }
                if e.kind == FailureKind::PreflightInvalidStatus {
                    e.stage = Some(Stage::Preflight);
                }
            }
        }
        out.push(e);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use corsair_model::catalogue::console_message;

    /// Every message the catalogue writes, for every browser and API, is read back to its kind.
    #[test]
    fn the_catalogue_round_trips() {
        for kind in FailureKind::ALL {
            for stage in [Stage::Preflight, Stage::Actual] {
                for browser in Browser::ALL {
                    // Firefox reports a redirect to user:pass@ only as "CORS request did not
                    // succeed", its message for any network failure; explain reads that as one.
                    if browser == Browser::Firefox
                        && kind == FailureKind::RedirectContainsCredentials
                    {
                        continue;
                    }
                    for api in RequestApi::ALL {
                        let f = Failure {
                            kind,
                            stage,
                            hint: Some(match kind {
                                FailureKind::MethodNotAllowed => "PUT".into(),
                                FailureKind::HeaderNotAllowed => "x-token".into(),
                                FailureKind::MultipleAllowOriginValues => {
                                    "https://a, https://b".into()
                                }
                                _ => "https://other.example".into(),
                            }),
                            status: Some(if kind == FailureKind::PreflightDisallowedRedirect {
                                301
                            } else {
                                404
                            }),
                            allow_origin_lines: if kind == FailureKind::MultipleAllowOriginValues {
                                2
                            } else {
                                1
                            },
                            url: "https://api.example/items".into(),
                            initial_url: None,
                            redirect_to: None,
                            page_origin: "https://app.example".into(),
                            sent_origin: "https://app.example".into(),
                        };
                        let quoted = console_message(&f, api, browser);
                        // As pasted, and as a shell leaves it when the argument was not
                        // quoted: every quote eaten.
                        let eaten: String = quoted
                            .chars()
                            .filter(|c| !matches!(c, '\'' | '‘' | '’' | '"'))
                            .collect();
                        for message in [quoted, eaten] {
                            let found = explain(&message);
                            assert_eq!(found.len(), 1, "{browser} {kind:?}: {message}");
                            let e = &found[0];
                            assert!(
                                e.kind == kind || e.or_kinds.contains(&kind),
                                "{browser} {api:?} {kind:?} read as {:?}: {message}",
                                e.kind
                            );
                            assert_eq!(e.browser, browser);
                            if browser == Browser::Chromium {
                                assert_eq!(e.url.as_deref(), Some("https://api.example/items"));
                                assert_eq!(e.origin.as_deref(), Some("https://app.example"));
                                // A module script's message says "script".
                                let read_as = if api == RequestApi::Module {
                                    RequestApi::Script
                                } else {
                                    api
                                };
                                assert_eq!(e.api, Some(read_as));
                                let preflight_words =
                                    message.contains("Response to preflight request");
                                if preflight_words {
                                    assert_eq!(e.stage, Some(Stage::Preflight), "{message}");
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn bare_javascript_errors_are_told_apart_from_cors_lines() {
        for (text, browser) in [
            ("TypeError: Failed to fetch", Some(Browser::Chromium)),
            (
                "Uncaught (in promise) TypeError: Failed to fetch\n    at app.js:12:5",
                Some(Browser::Chromium),
            ),
            (
                "TypeError: NetworkError when attempting to fetch resource.",
                Some(Browser::Firefox),
            ),
            ("TypeError: Load failed", Some(Browser::Safari)),
            ("AxiosError: Network Error", None),
        ] {
            assert!(explain(text).is_empty(), "{text}");
            let b = bare_error(text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(b.browser, browser, "{text}");
            assert!(!b.reason_in.is_empty());
        }
        assert_eq!(
            bare_error("Access to fetch at 'x' from origin 'y' has been blocked"),
            None
        );
        // A whole console block: the CORS line is found among the others.
        let block = "GET https://api.example/items net::ERR_FAILED 200 (OK)\nAccess to fetch at \
            'https://api.example/items' from origin 'https://app.example' has been blocked by CORS \
            policy: No 'Access-Control-Allow-Origin' header is present on the requested \
            resource.\nUncaught (in promise) TypeError: Failed to fetch\n    at load (app.js:3:9)";
        let found = explain(block);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].kind, FailureKind::MissingAllowOriginHeader);
        assert_eq!(found[0].origin.as_deref(), Some("https://app.example"));
    }

    #[test]
    fn real_world_variants() {
        let cases: &[(&str, FailureKind)] = &[
            // Older Chromium, with the no-cors advice and a redirect.
            ("Access to fetch at 'https://api.x.io/v1' (redirected from 'http://api.x.io/v1') from \
                origin 'http://localhost:3000' has been blocked by CORS policy: No \
                'Access-Control-Allow-Origin' header is present on the requested resource. If an \
                opaque response serves your needs, set the request's mode to 'no-cors' to fetch \
                the resource with CORS disabled.", FailureKind::MissingAllowOriginHeader),
            // Just the body, as people paste it.
            ("Response to preflight request doesn't pass access control check: It does not have \
                HTTP ok status.", FailureKind::PreflightInvalidStatus),
            ("Request header field authorization is not allowed by Access-Control-Allow-Headers in \
                preflight response.", FailureKind::HeaderNotAllowed),
            // Firefox with straight quotes and a status code.
            ("Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote \
                resource at https://api.x.io/v1. (Reason: CORS header \
                'Access-Control-Allow-Origin' missing). Status code: 404.", FailureKind::MissingAllowOriginHeader),
            ("Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote \
                resource at https://api.x.io/v1. (Reason: CORS header \
                ‘Access-Control-Allow-Origin’ does not match ‘https://app.x.io/’).", FailureKind::AllowOriginMismatch),
            // Safari, both lines.
            ("[Error] Origin http://localhost:3000 is not allowed by Access-Control-Allow-Origin. \
                Status code: 200\n[Error] Fetch API cannot load https://api.x.io/v1 due to access \
                control checks.", FailureKind::AllowOriginMismatch),
            // XHR with its credentials sentence.
            ("Access to XMLHttpRequest at 'https://api.x.io/' from origin 'https://app.x.io' has \
                been blocked by CORS policy: The value of the 'Access-Control-Allow-Origin' header \
                in the response must not be the wildcard '*' when the request's credentials mode \
                is 'include'. The credentials mode of requests initiated by the XMLHttpRequest is \
                controlled by the withCredentials attribute.", FailureKind::WildcardOriginNotAllowed),
        ];
        for (text, kind) in cases {
            let found = explain(&format!(
                "GET https://api.x.io/v1 net::ERR_FAILED 200 \
                (OK)\n{text}\nUncaught (in promise) TypeError: Failed to fetch"
            ));
            assert_eq!(found.len(), 1, "{text}");
            assert_eq!(found[0].kind, *kind, "{text}");
        }
        let e = &explain(cases[0].0)[0];
        assert_eq!(e.initial_url.as_deref(), Some("http://api.x.io/v1"));
        assert_eq!(e.origin.as_deref(), Some("http://localhost:3000"));
        let e = &explain(cases[3].0)[0];
        assert_eq!(
            (e.status, e.url.as_deref()),
            (Some(404), Some("https://api.x.io/v1"))
        );
        let e = &explain(cases[5].0)[0];
        assert_eq!(e.url.as_deref(), Some("https://api.x.io/v1"));
        assert!(explain("TypeError: Failed to fetch").is_empty());
    }

    /// WebKit's whole output, as the WebKit differentials saw it: each reason line with the
    /// loader's line after it is one error, with its API and URL.
    #[test]
    fn webkit_multi_line_output_is_one_error_per_request() {
        let text = "Cross-origin redirection to http://api.test/final denied by Cross-Origin Resource Sharing policy: Origin http://app.test is not allowed by Access-Control-Allow-Origin. Status code: 302
Fetch API cannot load http://api.test/start due to access control checks.
Origin http://app.test is not allowed by Access-Control-Allow-Origin. Status code: 200
Cannot load image http://api.test/i due to access control checks.
Cannot use wildcard in Access-Control-Allow-Origin when credentials flag is true.
Cross-origin script load denied by Cross-Origin Resource Sharing policy.
Request header field X-Zeta is not allowed by Access-Control-Allow-Headers.
XMLHttpRequest cannot load http://api.test/x due to access control checks.
Access-Control-Allow-Origin cannot contain more than one origin.";
        let found = explain(text);
        let got: Vec<(FailureKind, Option<RequestApi>, Option<&str>)> = found
            .iter()
            .map(|e| (e.kind, e.api, e.url.as_deref()))
            .collect();
        use FailureKind::*;
        assert_eq!(
            got,
            [
                (
                    AllowOriginMismatch,
                    Some(RequestApi::Fetch),
                    Some("http://api.test/start")
                ),
                (
                    AllowOriginMismatch,
                    Some(RequestApi::Image),
                    Some("http://api.test/i")
                ),
                (WildcardOriginNotAllowed, Some(RequestApi::Script), None),
                (
                    HeaderNotAllowed,
                    Some(RequestApi::Xhr),
                    Some("http://api.test/x")
                ),
                (MultipleAllowOriginValues, None, None),
            ]
        );
        assert_eq!(
            found[0].redirect_to.as_deref(),
            Some("http://api.test/final")
        );
        assert_eq!(found[0].stage, Some(Stage::Actual));
        assert_eq!(found[3].hint.as_deref(), Some("X-Zeta"));
        let looped = "Load cannot follow more than 20 redirections\nFetch API cannot load \
            http://api.test/hop20 due to access control checks.";
        assert!(explain(looped).is_empty());
        assert!(is_network_failure(looped) && is_redirect_loop(looped));
    }
}
