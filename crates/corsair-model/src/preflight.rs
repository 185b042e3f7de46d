//! The preflight: the request the browser sends first, and the checks on its response
//! (<https://fetch.spec.whatwg.org/#cors-preflight-fetch>,
//! <https://fetch.spec.whatwg.org/#http-access-control-max-age>).

use crate::browser::Browser;
use crate::check::{cors_check, CheckError};
use crate::failure::FailureKind;
use crate::method::is_token;
use crate::origin::Origin;
use crate::response::ResponseHead;
use serde::Serialize;

/// What the preflight asks about.
#[derive(Clone, Debug)]
pub struct Ask<'a> {
    /// The origin sent.
    pub origin: &'a Origin,
    /// The normalised method of the actual request.
    pub method: &'a str,
    /// Its CORS-unsafe header names (lowercase, sorted).
    pub headers: &'a [String],
    /// The same names in the order the browser checks them, spelled as it prints them (see
    /// [`crate::header::check_order`]); empty means sorted order.
    pub check_order: &'a [String],
    /// Whether the actual request includes credentials.
    pub credentials: bool,
}

/// The headers of the preflight request, in the order Chromium sends them (`Accept: */*`,
/// `Access-Control-Request-Method`, `Access-Control-Request-Headers` as lowercase names joined by
/// `,` without spaces, omitted when empty). `Origin` and the `Sec-Fetch-*` headers are added by
/// the caller.
pub fn request_headers(ask: &Ask<'_>) -> Vec<(String, String)> {
    let mut h = vec![
        ("Accept".to_string(), "*/*".to_string()),
        (
            "Access-Control-Request-Method".to_string(),
            ask.method.to_string(),
        ),
    ];
    if !ask.headers.is_empty() {
        h.push((
            "Access-Control-Request-Headers".to_string(),
            ask.headers.join(","),
        ));
    }
    h
}

/// How long a browser caches a preflight result, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MaxAge {
    /// Seconds the result is cached (0: not cached).
    pub seconds: u64,
    /// Where the number comes from.
    pub reason: String,
}

/// Parses `Access-Control-Max-Age` as `browser` does: Chromium and WebKit fall back to 5 s on a
/// value they cannot parse and clamp to their cap; Chromium turns a negative value into 0; Firefox
/// caches nothing for a value with any non-digit.
pub fn max_age(value: Option<&str>, browser: Browser) -> MaxAge {
    let default = browser.default_max_age();
    let cap = browser.max_age_cap();
    let Some(v) = value else {
        return MaxAge {
            seconds: default,
            reason: format!(
                "no Access-Control-Max-Age: {} uses its default of {default} s",
                browser
            ),
        };
    };
    let parsed: Option<i128> = match browser {
        Browser::Firefox => {
            if v.is_empty() {
                None
            } else if v.bytes().all(|b| b.is_ascii_digit()) {
                v.parse::<i128>().ok().or(Some(i128::MAX))
            } else {
                return MaxAge {
                    seconds: 0,
                    reason: format!(
                        "Access-Control-Max-Age '{v}' is not a number: firefox caches nothing"
                    ),
                };
            }
        }
        _ => {
            let digits = v.strip_prefix(['-', '+']).unwrap_or(v);
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                Some(
                    v.parse::<i128>()
                        .unwrap_or(if v.starts_with('-') { -1 } else { i128::MAX }),
                )
            } else {
                None
            }
        }
    };
    match parsed {
        None => MaxAge {
            seconds: default,
            reason: format!(
                "Access-Control-Max-Age '{v}' is not an integer: {browser} uses its \
                default of {default} s"
            ),
        },
        Some(n) if n < 0 => MaxAge {
            seconds: 0,
            reason: format!("Access-Control-Max-Age '{v}' is negative: not cached"),
        },
        Some(n) if n > cap as i128 => MaxAge {
            seconds: cap,
            reason: format!("Access-Control-Max-Age {v} is capped by {browser} at {cap} s"),
        },
        Some(n) => MaxAge {
            seconds: n as u64,
            reason: format!("Access-Control-Max-Age: {n}"),
        },
    }
}

/// What a passed preflight allows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Grant {
    /// Methods listed (case kept; matching is case-sensitive).
    pub methods: Vec<String>,
    /// Header names listed, lowercased.
    pub headers: Vec<String>,
    /// How long the result is cached.
    pub max_age: MaxAge,
    /// Whether `*` in Allow-Headers was taken to cover `Authorization` (a browser quirk).
    pub wildcard_covered_authorization: bool,
}

/// A failed preflight: the kind and the offending value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreflightError {
    /// What failed.
    pub kind: FailureKind,
    /// The value that failed.
    pub hint: Option<String>,
    /// Number of `Access-Control-Allow-Origin` header lines.
    pub allow_origin_lines: usize,
}

impl From<CheckError> for PreflightError {
    fn from(e: CheckError) -> Self {
        PreflightError {
            kind: e.kind,
            hint: e.hint,
            allow_origin_lines: e.allow_origin_lines,
        }
    }
}

fn err(kind: FailureKind, hint: Option<String>) -> PreflightError {
    PreflightError {
        kind,
        hint,
        allow_origin_lines: 0,
    }
}

/// An item of an `Access-Control-Allow-Methods`/`-Headers` list that is not a token: the
/// item, as the engines quote it in their console message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a token")]
pub struct NotAToken(pub String);

/// Splits an `Access-Control-Allow-Methods`/`-Headers` value: items separated by `,`, trimmed
/// of spaces and tabs, empty items skipped, each a token. Returns the first bad item on failure.
pub fn parse_list(value: &str) -> Result<Vec<String>, NotAToken> {
    let mut out = Vec::new();
    for item in value.split(',') {
        let item = item.trim_matches([' ', '\t']);
        if item.is_empty() {
            continue;
        }
        if !is_token(item) {
            return Err(NotAToken(item.to_string()));
        }
        out.push(item.to_string());
    }
    Ok(out)
}

/// Checks a preflight response (not a redirect: the caller refuses those first). Chromium's
/// order: the CORS check, the status, parsing Allow-Methods then Allow-Headers, the method, the
/// headers. WebKit checks the status before the CORS check.
pub fn check_response(
    resp: &ResponseHead,
    ask: &Ask<'_>,
    browser: Browser,
) -> Result<Grant, PreflightError> {
    let status_err = || err(FailureKind::PreflightInvalidStatus, None);
    if browser.preflight_status_first() && !resp.is_ok() {
        return Err(status_err());
    }
    cors_check(resp, ask.origin, ask.credentials, browser)?;
    if !resp.is_ok() {
        return Err(status_err());
    }
    // The offending value as the engine quotes it: the token (Chromium, Firefox), or the whole
    // header (WebKit; WPT's cors-preflight-response-validation).
    let quoted = |value: &str, bad: NotAToken| {
        if browser.quotes_whole_allow_list() {
            value.to_string()
        } else {
            bad.0
        }
    };
    let methods = match resp.get("access-control-allow-methods") {
        Some(j) => parse_list(&j.value).map_err(|bad| {
            err(
                FailureKind::InvalidAllowMethods,
                Some(quoted(&j.value, bad)),
            )
        })?,
        None => Vec::new(),
    };
    let headers: Vec<String> = match resp.get("access-control-allow-headers") {
        Some(j) => parse_list(&j.value)
            .map_err(|bad| {
                err(
                    FailureKind::InvalidAllowHeaders,
                    Some(quoted(&j.value, bad)),
                )
            })?
            .into_iter()
            .map(|h| h.to_ascii_lowercase())
            .collect(),
        None => Vec::new(),
    };
    let method_ok = crate::method::is_safelisted(ask.method)
        || methods.iter().any(|m| m == ask.method)
        || (!ask.credentials && methods.iter().any(|m| m == "*"));
    if !method_ok {
        return Err(err(
            FailureKind::MethodNotAllowed,
            Some(ask.method.to_string()),
        ));
    }
    let wildcard = !ask.credentials && headers.iter().any(|h| h == "*");
    let mut wildcard_covered_authorization = false;
    let order = if ask.check_order.is_empty() {
        ask.headers
    } else {
        ask.check_order
    };
    for name in order {
        if headers.contains(&name.to_ascii_lowercase()) {
            continue;
        }
        if wildcard {
            if !name.eq_ignore_ascii_case("authorization") {
                continue;
            }
            if browser.wildcard_covers_authorization() {
                wildcard_covered_authorization = true;
                continue;
            }
        }
        return Err(err(FailureKind::HeaderNotAllowed, Some(name.clone())));
    }
    let max_age = max_age(
        resp.get("access-control-max-age")
            .map(|j| j.value)
            .as_deref(),
        browser,
    );
    Ok(Grant {
        methods,
        headers,
        max_age,
        wildcard_covered_authorization,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use FailureKind::*;

    const O: &str = "https://app.example";

    fn run(
        status: u16,
        headers: &[(&str, &str)],
        method: &str,
        req_headers: &[&str],
        credentials: bool,
        browser: Browser,
    ) -> Result<Grant, FailureKind> {
        let resp = ResponseHead::new(
            status,
            headers.iter().map(|(n, v)| (n.to_string(), v.to_string())),
        );
        let origin = Origin::parse_lenient(O).unwrap();
        let hs: Vec<String> = req_headers.iter().map(|s| s.to_string()).collect();
        let ask = Ask {
            origin: &origin,
            method,
            headers: &hs,
            check_order: &[],
            credentials,
        };
        check_response(&resp, &ask, browser).map_err(|e| e.kind)
    }

    #[test]
    fn request_headers_are_formatted_like_chromium() {
        let origin = Origin::parse_lenient(O).unwrap();
        let hs = vec!["content-type".to_string(), "x-a".to_string()];
        let h = request_headers(&Ask {
            origin: &origin,
            method: "PUT",
            headers: &hs,
            check_order: &[],
            credentials: false,
        });
        assert_eq!(
            h[2],
            (
                "Access-Control-Request-Headers".into(),
                "content-type,x-a".into()
            )
        );
        let h = request_headers(&Ask {
            origin: &origin,
            method: "PUT",
            headers: &[],
            check_order: &[],
            credentials: false,
        });
        assert_eq!(h.len(), 2);
    }

    #[test]
    fn chromium_checks_origin_before_status() {
        assert_eq!(
            run(404, &[], "PUT", &[], false, Browser::Chromium).unwrap_err(),
            MissingAllowOriginHeader
        );
        assert_eq!(
            run(404, &[], "PUT", &[], false, Browser::Safari).unwrap_err(),
            PreflightInvalidStatus
        );
        assert_eq!(
            run(
                500,
                &[("access-control-allow-origin", O)],
                "PUT",
                &[],
                false,
                Browser::Chromium
            )
            .unwrap_err(),
            PreflightInvalidStatus
        );
    }

    #[test]
    fn methods_match_case_sensitively_and_star_only_without_credentials() {
        let acao = ("access-control-allow-origin", O);
        let acac = ("access-control-allow-credentials", "true");
        let c = Browser::Chromium;
        assert!(run(
            204,
            &[acao, ("access-control-allow-methods", "PUT")],
            "PUT",
            &[],
            false,
            c
        )
        .is_ok());
        assert_eq!(
            run(
                204,
                &[acao, ("access-control-allow-methods", "put")],
                "PUT",
                &[],
                false,
                c
            )
            .unwrap_err(),
            MethodNotAllowed
        );
        assert_eq!(
            run(
                204,
                &[acao, ("access-control-allow-methods", "PATCH")],
                "patch",
                &[],
                false,
                c
            )
            .unwrap_err(),
            MethodNotAllowed
        );
        assert!(run(204, &[acao], "POST", &[], false, c).is_ok());
        assert!(run(
            204,
            &[acao, ("access-control-allow-methods", "*")],
            "DELETE",
            &[],
            false,
            c
        )
        .is_ok());
        assert_eq!(
            run(
                204,
                &[acao, acac, ("access-control-allow-methods", "*")],
                "DELETE",
                &[],
                true,
                c
            )
            .unwrap_err(),
            MethodNotAllowed
        );
        assert_eq!(
            run(
                204,
                &[acao, ("access-control-allow-methods", "PU T")],
                "PUT",
                &[],
                false,
                c
            )
            .unwrap_err(),
            InvalidAllowMethods
        );
        assert!(run(
            204,
            &[acao, ("access-control-allow-methods", "GET,,PUT, ")],
            "PUT",
            &[],
            false,
            c
        )
        .is_ok());
    }

    #[test]
    fn headers_match_case_insensitively_and_authorization_is_special() {
        let acao = ("access-control-allow-origin", O);
        let c = Browser::Chromium;
        assert!(run(
            204,
            &[acao, ("access-control-allow-headers", "X-Token")],
            "GET",
            &["x-token"],
            false,
            c
        )
        .is_ok());
        assert_eq!(
            run(
                204,
                &[acao, ("access-control-allow-headers", "x-other")],
                "GET",
                &["x-token"],
                false,
                c
            )
            .unwrap_err(),
            HeaderNotAllowed
        );
        assert!(run(
            204,
            &[acao, ("access-control-allow-headers", "*")],
            "GET",
            &["x-token"],
            false,
            c
        )
        .is_ok());
        assert!(
            run(
                204,
                &[acao, ("access-control-allow-headers", "*")],
                "GET",
                &["authorization"],
                false,
                c
            )
            .unwrap()
            .wildcard_covered_authorization
        );
        let g = run(
            204,
            &[acao, ("access-control-allow-headers", "*")],
            "GET",
            &["authorization"],
            false,
            Browser::Firefox,
        )
        .unwrap();
        assert!(g.wildcard_covered_authorization);
        assert_eq!(
            run(
                204,
                &[acao, ("access-control-allow-headers", "x;y")],
                "GET",
                &["x"],
                false,
                c
            )
            .unwrap_err(),
            InvalidAllowHeaders
        );
    }

    #[test]
    fn max_age_per_browser() {
        use Browser::*;
        let s = |v: Option<&str>, b| max_age(v, b).seconds;
        assert_eq!(s(None, Chromium), 5);
        assert_eq!(s(None, Firefox), 0, "observed in Firefox 153");
        assert_eq!(s(Some("600"), Chromium), 600);
        assert_eq!(s(Some("86400"), Chromium), 7200);
        assert_eq!(s(Some("86400"), Firefox), 86400);
        assert_eq!(s(Some("99999999999999999999999"), Firefox), 86400);
        assert_eq!(s(Some("86400"), Safari), 600);
        assert_eq!(s(Some("abc"), Chromium), 5);
        assert_eq!(s(Some("abc"), Firefox), 0);
        assert_eq!(s(Some("-1"), Chromium), 0);
        assert_eq!(s(Some("0"), Chromium), 0);
        assert_eq!(s(Some(" 10"), Chromium), 5);
    }
}
