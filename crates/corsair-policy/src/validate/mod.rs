//! Policy validation: every problem at once, each naming the value, what is wrong and the fix.
//! Refused: `*` with credentials, the `null` origin, origins not in serialised form, plain-http
//! origins with credentials (loopback aside), wildcards over a public suffix, forbidden or
//! malformed methods and headers, unanchored or broken regexes.

mod origins;

use super::{Key, Policy, PolicySpec};
use crate::method::{is_forbidden, is_token};
use origins::{origin_regexes, origins, Origins};
use serde::Serialize;

/// How bad a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// The policy is refused.
    Error,
    /// The policy works, but probably not as intended.
    Warning,
}

/// Which value a problem is about, so a file loader can point at its line and column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// Item `index` of a list key (`origins[1]`).
    Item {
        /// The key.
        key: Key,
        /// The item's position in the list.
        index: usize,
    },
    /// A key with one value (`credentials`).
    Value {
        /// The key.
        key: Key,
    },
    /// The policy as a whole.
    Policy,
}

impl Field {
    /// Item `index` of a list key.
    pub fn item(key: Key, index: usize) -> Self {
        Field::Item { key, index }
    }

    /// A key with one value.
    pub fn value(key: Key) -> Self {
        Field::Value { key }
    }
}

/// One problem found in a policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Error or warning.
    pub severity: Level,
    /// The value concerned.
    pub field: Field,
    /// What is wrong.
    pub message: String,
    /// What to write instead.
    pub fix: String,
}

fn err(field: Field, message: String, fix: impl Into<String>) -> Problem {
    Problem {
        severity: Level::Error,
        field,
        message,
        fix: fix.into(),
    }
}

fn warn(field: Field, message: String, fix: impl Into<String>) -> Problem {
    Problem {
        severity: Level::Warning,
        field,
        message,
        fix: fix.into(),
    }
}

/// Refuses a value with spaces around it: the comparison is exact, so the policy would hold a
/// value no browser sends (the loader never trims silently).
fn untrimmed(field: Field, raw: &str, problems: &mut Vec<Problem>) -> bool {
    if raw.trim() == raw {
        return false;
    }
    problems.push(err(
        field,
        format!("'{raw}' has spaces around it"),
        format!("write \"{}\"", raw.trim()),
    ));
    true
}

/// Whether `lower` is a CORS protocol header name (`access-control-*`): response headers the
/// server sends, or the preflight's own request headers, never something a page sets or reads.
fn is_cors_protocol_header(lower: &str) -> bool {
    crate::header::CORS_RESPONSE_HEADERS.contains(&lower)
        || matches!(
            lower,
            "access-control-request-method"
                | "access-control-request-headers"
                | "access-control-request-private-network"
        )
}

/// Validates a spec: one function per key, each returning what the policy keeps of it. Errors
/// make the spec unusable; warnings come back beside the policy.
pub(super) fn build(spec: &PolicySpec) -> Result<(Policy, Vec<Problem>), Vec<Problem>> {
    let mut problems = Vec::new();
    let p = &mut problems;
    if spec.origins.is_empty() && spec.origin_regex.is_empty() {
        p.push(err(
            Field::Policy,
            "no origins are allowed, so every cross-origin request would be refused".into(),
            "list the origins of your web apps: origins = [\"https://app.example.com\"]",
        ));
    }
    let Origins {
        any_origin,
        exact,
        mut patterns,
    } = origins(spec, p);
    patterns.extend(origin_regexes(spec, p));
    let (methods, any_method) = methods(spec, p);
    let (headers, any_header) = request_headers(spec, p);
    let exposed = expose_headers(spec, p);
    let max_age = max_age(spec, p);
    let preflight_status = preflight_status(spec, p);
    if problems.iter().any(|p| p.severity == Level::Error) {
        return Err(problems);
    }
    Ok((
        Policy {
            any_origin,
            exact_list: {
                let mut v: Vec<String> = exact.iter().cloned().collect();
                v.sort();
                v
            },
            exact,
            patterns,
            allow_methods: allow_methods(&methods, any_method),
            allow_headers: allow_headers(&spec.request_headers, any_header),
            allow_headers_named: allow_headers(&spec.request_headers, false),
            expose_headers: (!exposed.is_empty()).then(|| exposed.join(", ")),
            methods,
            any_method,
            headers,
            any_header,
            credentials: spec.credentials,
            preflight_status,
            max_age,
            spec: spec.clone(),
        },
        problems,
    ))
}

/// `methods`: the methods in the case browsers send them, and whether `*` allows any.
fn methods(spec: &PolicySpec, problems: &mut Vec<Problem>) -> (Vec<String>, bool) {
    let mut methods = Vec::new();
    let mut any_method = false;
    for (i, m) in spec.methods.iter().enumerate() {
        if untrimmed(Field::item(Key::Methods, i), m, problems) {
            continue;
        }
        if m == "*" {
            if spec.credentials {
                problems.push(err(Field::item(Key::Methods, i), "'*' in methods with credentials: browsers read it as a method literally named '*'".into(), "list \
                    the methods, e.g. [\"GET\", \"POST\", \"PUT\", \"DELETE\"]"));
            } else {
                any_method = true;
            }
        } else if !is_token(m) {
            problems.push(err(
                Field::item(Key::Methods, i),
                format!("'{m}' is not a valid method name"),
                "use letters, digits and !#$%&'*+-.^_`|~ only",
            ));
        } else if is_forbidden(m) {
            problems.push(err(
                Field::item(Key::Methods, i),
                format!("'{m}' is a forbidden method: browsers never send it"),
                "remove it",
            ));
        } else {
            let normal = crate::method::normalize(m).into_owned();
            if normal != *m {
                problems.push(warn(
                    Field::item(Key::Methods, i),
                    format!(
                        "'{m}' is sent by \
                    browsers as '{normal}', and the comparison is case-sensitive"
                    ),
                    format!("write \"{normal}\""),
                ));
            }
            if !methods.contains(&normal) {
                methods.push(normal);
            }
        }
    }
    if spec.methods.is_empty() {
        methods = vec!["GET".into(), "HEAD".into(), "POST".into()];
    }
    (methods, any_method)
}

/// `request_headers`: the names in lowercase, and whether `*` allows any.
fn request_headers(spec: &PolicySpec, problems: &mut Vec<Problem>) -> (Vec<String>, bool) {
    let mut headers = Vec::new();
    let mut any_header = false;
    for (i, h) in spec.request_headers.iter().enumerate() {
        if untrimmed(Field::item(Key::RequestHeaders, i), h, problems) {
            continue;
        }
        let lower = h.to_ascii_lowercase();
        if h == "*" {
            if spec.credentials {
                problems.push(err(Field::item(Key::RequestHeaders, i), "'*' in request_headers with credentials: browsers read it as a header literally named '*'".into(), "list \
                    the headers, e.g. [\"Content-Type\", \"Authorization\"]"));
            } else {
                any_header = true;
                if !spec
                    .request_headers
                    .iter()
                    .any(|x| x.eq_ignore_ascii_case("authorization"))
                {
                    problems.push(warn(Field::item(Key::RequestHeaders, i), "'*' does not cover Authorization in the Fetch standard (Chromium, Firefox and Safari still let it through, for now)".into(), "add \"Authorization\" \
                        explicitly if clients send it"));
                }
            }
        } else if !is_token(h) {
            problems.push(err(
                Field::item(Key::RequestHeaders, i),
                format!("'{h}' is not a valid header name"),
                "use letters, digits and !#$%&'*+-.^_`|~ only",
            ));
        } else if is_cors_protocol_header(&lower) {
            problems.push(err(Field::item(Key::RequestHeaders, i), format!("'{h}' is a CORS protocol header: the server sends Access-Control-Allow-* and the browser sends Access-Control-Request-* itself; a page that sets it only triggers a preflight"), "remove \
                it here, and remove the code in the page that sets it"));
        } else if crate::header::forbidden(h, "", crate::Browser::Firefox).is_some() {
            problems.push(err(Field::item(Key::RequestHeaders, i), format!("'{h}' is a forbidden request header: pages cannot set it, so allowing it does nothing"), "remove \
                it"));
        } else if !headers.contains(&lower) {
            headers.push(lower);
        }
    }
    (headers, any_header)
}

/// `expose_headers`: the names as written.
fn expose_headers(spec: &PolicySpec, problems: &mut Vec<Problem>) -> Vec<String> {
    let mut exposed = Vec::new();
    for (i, h) in spec.expose_headers.iter().enumerate() {
        if untrimmed(Field::item(Key::ExposeHeaders, i), h, problems) {
            continue;
        }
        let lower = h.to_ascii_lowercase();
        if h == "*" && spec.credentials {
            problems.push(err(
                Field::item(Key::ExposeHeaders, i),
                "'*' in expose_headers with credentials exposes only a header literally named '*'"
                    .into(),
                "list the headers to expose",
            ));
        } else if h != "*" && !is_token(h) {
            problems.push(err(
                Field::item(Key::ExposeHeaders, i),
                format!("'{h}' is not a valid header name"),
                "use letters, digits and !#$%&'*+-.^_`|~ only",
            ));
        } else if matches!(lower.as_str(), "set-cookie" | "set-cookie2") {
            problems.push(err(Field::item(Key::ExposeHeaders, i), format!("'{h}' is a forbidden response header name: browsers never let a page read it, exposed or not"), "remove \
                it; a page reads its cookies through document.cookie (not HttpOnly ones)"));
        } else if is_cors_protocol_header(&lower) {
            problems.push(err(
                Field::item(Key::ExposeHeaders, i),
                format!("'{h}' is a CORS protocol header, not data for the page"),
                "remove it",
            ));
        } else {
            exposed.push(h.clone());
        }
    }
    exposed
}

/// `max_age`: the `Access-Control-Max-Age` value.
fn max_age(spec: &PolicySpec, problems: &mut Vec<Problem>) -> Option<String> {
    match spec.max_age {
        None => None,
        Some(n) if n < 0 => {
            problems.push(err(
                Field::value(Key::MaxAge),
                format!("max_age = {n} is negative"),
                "use 0 (no caching) or a number of seconds",
            ));
            None
        }
        Some(n) => {
            if n > 7200 {
                problems.push(warn(Field::value(Key::MaxAge), format!("max_age = {n}: Chromium caps preflight caching at 7200 s, Safari at 600 s, Firefox at 86400 s"), "7200 \
                    is the most that Chromium honours"));
            }
            Some(n.to_string())
        }
    }
}

/// `preflight_status`: 204 unless set, and 2xx.
fn preflight_status(spec: &PolicySpec, problems: &mut Vec<Problem>) -> u16 {
    let preflight_status = spec.preflight_status.unwrap_or(204);
    if !(200..300).contains(&preflight_status) {
        problems.push(err(Field::value(Key::PreflightStatus), format!("preflight_status = {preflight_status}: browsers fail a preflight unless its status is 2xx"), "use \
            204 (or 200 for old clients)"));
    }
    preflight_status
}

/// `Access-Control-Allow-Methods`: the listed methods, and `*` first when the policy allows any
/// method (only without credentials, where browsers read `*` as a wildcard).
fn allow_methods(methods: &[String], any: bool) -> String {
    let mut items: Vec<&str> = Vec::new();
    if any {
        items.push("*");
    }
    items.extend(methods.iter().map(String::as_str));
    items.join(", ")
}

/// `Access-Control-Allow-Headers`: `*` first when any header is allowed, then every name listed,
/// so that `Authorization`, which `*` never covers in the Fetch standard
/// (<https://fetch.spec.whatwg.org/#cors-non-wildcard-request-header-name>), is named.
fn allow_headers(listed: &[String], any: bool) -> Option<String> {
    let mut items: Vec<&str> = Vec::new();
    if any {
        items.push("*");
    }
    items.extend(listed.iter().map(String::as_str).filter(|h| *h != "*"));
    (!items.is_empty()).then(|| items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(origins: &[&str], credentials: bool) -> PolicySpec {
        PolicySpec {
            origins: origins.iter().map(|s| s.to_string()).collect(),
            credentials,
            ..Default::default()
        }
    }

    fn errors(s: &PolicySpec) -> Vec<String> {
        match s.build() {
            Ok(_) => Vec::new(),
            Err(ps) => ps
                .into_iter()
                .filter(|p| p.severity == Level::Error)
                .map(|p| p.message)
                .collect(),
        }
    }

    #[test]
    fn refuses_the_insecure_classes() {
        let cases: &[(&[&str], bool, &str)] = &[
            (&["*"], true, "'*' with credentials"),
            (&["null"], false, "null"),
            (&["https://app.example.com/"], false, "has a path"),
            (&["https://app.example.com/api"], false, "has a path"),
            (&["https://app.example.com?x=1"], false, "query"),
            (&["https://u:p@app.example.com"], false, "user name"),
            (&["https://app.example.com:443"], false, "default port"),
            (&["https://App.Example.com"], false, "uppercase"),
            (&["https://bücher.example"], false, "non-ASCII"),
            (&["http://app.example.com"], true, "plain http"),
            (&["https://*.github.io"], false, "public suffix"),
            (&["https://*.com"], false, "public suffix"),
            (&["https://*.co.uk"], false, "public suffix"),
            (&["https://a*.example.com"], false, "'*' may only"),
            (&["example.com"], false, "not an origin"),
            (&["ftp://files.example.com"], false, "not an http(s) origin"),
        ];
        for (origins, cred, needle) in cases {
            let e = errors(&spec(origins, *cred));
            assert!(e.iter().any(|m| m.contains(needle)), "{origins:?}: {e:?}");
        }
    }

    #[test]
    fn accepts_the_minimal_file_and_loopback_http() {
        let mut s = spec(
            &[
                "https://app.example.com",
                "https://*.example.com",
                "http://localhost:*",
                "http://127.0.0.1:5173",
            ],
            true,
        );
        s.methods = vec!["GET".into(), "POST".into(), "PUT".into(), "DELETE".into()];
        s.request_headers = vec!["Content-Type".into(), "Authorization".into()];
        s.max_age = Some(7200);
        let (p, warnings) = s.build().unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(p.allows_origin("https://app.example.com"));
        assert!(p.allows_origin("https://a.b.example.com"));
        assert!(p.allows_origin("http://localhost:5173"));
        assert!(!p.allows_origin("https://example.com.evil.net"));
        assert!(!p.allows_origin("null"));
    }

    #[test]
    fn methods_and_headers() {
        let mut s = spec(&["https://a.example"], true);
        s.methods = vec!["TRACE".into(), "GE T".into(), "*".into()];
        s.request_headers = vec!["Cookie".into(), "bad header".into(), "*".into()];
        s.expose_headers = vec!["*".into()];
        s.max_age = Some(-1);
        s.preflight_status = Some(404);
        let e = errors(&s);
        for needle in [
            "forbidden method",
            "not a valid method",
            "'*' in methods",
            "forbidden request header",
            "not a valid header name",
            "'*' in request_headers",
            "'*' in expose_headers",
            "negative",
            "preflight_status",
        ] {
            assert!(e.iter().any(|m| m.contains(needle)), "{needle}: {e:?}");
        }
    }

    #[test]
    fn warnings_do_not_refuse() {
        let mut s = spec(&["https://a.example", "https://a.example"], false);
        s.request_headers = vec!["*".into()];
        s.methods = vec!["patch".into()];
        s.max_age = Some(86400);
        let (_, w) = s.build().unwrap();
        let text: Vec<&str> = w.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(w.len(), 3, "{text:?}");
    }

    #[test]
    fn regexes_are_anchored_and_checked() {
        let mut s = spec(&[], true);
        s.origin_regex = vec![r"https://[a-z]+\.example\.com".into()];
        let (p, w) = s.build().unwrap();
        assert!(w.is_empty());
        assert!(p.allows_origin("https://app.example.com"));
        assert!(
            !p.allows_origin("https://app.example.com.evil.net"),
            "anchored at the end"
        );
        assert!(
            !p.allows_origin("xhttps://app.example.com"),
            "anchored at the start"
        );
        s.origin_regex = vec![r"https://[a-z]+.example.com".into()];
        assert!(
            errors(&s)[0].contains("more than 8 sites"),
            "an unescaped dot matches other sites"
        );
        s.origin_regex = vec![r".*".into()];
        assert!(!errors(&s).is_empty(), "matches null and http");
        s.origin_regex = vec![r"(".into()];
        assert!(errors(&s)[0].contains("not a valid regular expression"));
    }

    fn spec_with(f: impl FnOnce(&mut PolicySpec)) -> PolicySpec {
        let mut s = spec(&[], false);
        f(&mut s);
        s
    }

    /// Issue 11, finding 1: loopback is decided on the parsed host, not on its text.
    #[test]
    fn regression_loopback_is_a_parsed_address() {
        for origin in [
            "http://127.attacker.example",
            "http://*.127.attacker.example",
            "http://127.0.0.1.nip.io",
            "http://localhost.attacker.example",
        ] {
            let e = errors(&spec(&[origin], true));
            assert!(
                e.iter().any(|m| m.contains("plain http")),
                "{origin}: {e:?}"
            );
        }
        for origin in [
            "http://127.0.0.1:5173",
            "http://127.1.2.3",
            "http://[::1]:8080",
            "http://localhost:*",
            "http://app.localhost:3000",
        ] {
            assert!(errors(&spec(&[origin], true)).is_empty(), "{origin}");
        }
    }

    /// Issue 11, finding 2: a regex is judged by what its automaton matches.
    #[test]
    fn regression_regex_text_cannot_hide_plain_http() {
        for re in [r"http://.*|localhost", r"http://(evil\.example|localhost)"] {
            let s = spec_with(|s| {
                s.origin_regex = vec![re.into()];
                s.credentials = true;
            });
            let e = errors(&s);
            assert!(
                e.iter().any(|m| m.contains("matches plain-http origins")),
                "{re}: {e:?}"
            );
        }
        let s = spec_with(|s| {
            s.origin_regex = vec![r"http://(localhost|127\.0\.0\.1)(:[0-9]+)?".into()];
            s.credentials = true;
        });
        assert!(errors(&s).is_empty(), "{:?}", errors(&s));
    }

    /// Issue 11, finding 6: names that can never work, hosts DNS cannot carry, whitespace.
    #[test]
    fn regression_lint_gaps() {
        let cases: Vec<(PolicySpec, &str)> = vec![
            (
                spec_with(|s| {
                    s.origins = vec!["https://a.example".into()];
                    s.expose_headers = vec!["Set-Cookie".into()];
                }),
                "forbidden response header",
            ),
            (
                spec_with(|s| {
                    s.origins = vec!["https://a.example".into()];
                    s.expose_headers = vec!["set-cookie2".into()];
                }),
                "forbidden response header",
            ),
            (
                spec_with(|s| {
                    s.origins = vec!["https://a.example".into()];
                    s.expose_headers = vec!["Access-Control-Allow-Origin".into()];
                }),
                "CORS protocol header",
            ),
            (
                spec_with(|s| {
                    s.origins = vec!["https://a.example".into()];
                    s.request_headers = vec!["Access-Control-Allow-Origin".into()];
                }),
                "CORS protocol header",
            ),
            (spec(&["https://*.127.0.0.1"], false), "IP address"),
            (
                spec(&["https://*.*.example.com"], false),
                "only one leading",
            ),
            (spec(&["https://*"], false), "only one leading"),
            (spec(&["https://x.*.example.com"], false), "'*' may only"),
            (spec(&["https://example..com"], false), "empty label"),
            (spec(&["https://example.com.."], false), "empty label"),
            (spec(&["https://*.example..com"], false), "empty label"),
            (spec(&["http://localhost:0"], false), "port 0"),
            (spec(&["http://*.example.com:0"], false), "port 0"),
            (
                spec(&[&format!("https://{}.com", "a".repeat(64))], false),
                "label longer",
            ),
            (
                spec(
                    &[&format!("https://{}", vec!["abcdefghi"; 26].join("."))],
                    false,
                ),
                "longer than 253",
            ),
            (spec(&[" https://a.example"], false), "spaces around it"),
            (spec(&["https://a.example "], false), "spaces around it"),
            (
                spec_with(|s| {
                    s.origins = vec!["https://a.example".into()];
                    s.methods = vec!["PUT ".into()];
                }),
                "spaces around it",
            ),
            (
                spec_with(|s| {
                    s.origins = vec!["https://a.example".into()];
                    s.request_headers = vec![" X-Token".into()];
                }),
                "spaces around it",
            ),
        ];
        for (s, needle) in cases {
            let e = errors(&s);
            assert!(
                e.iter().any(|m| m.contains(needle)),
                "{needle}: {s:?} gave {e:?}"
            );
        }
    }

    /// Issue 11, finding 7: every name under localhost is loopback, not a public suffix.
    #[test]
    fn regression_localhost_subdomains_are_loopback() {
        for origin in [
            "http://*.localhost:*",
            "https://*.localhost",
            "http://*.localhost",
        ] {
            let (p, w) = spec(&[origin], true)
                .build()
                .unwrap_or_else(|e| panic!("{origin}: {e:?}"));
            assert!(w.is_empty(), "{w:?}");
            assert!(p.allows_origin(&origin.replace("*.", "app.").replace(":*", ":3000")));
        }
    }

    /// Issue 11, findings 3 and 4: the headers a wildcard policy sends.
    #[test]
    fn regression_wildcards_in_allow_lists() {
        let p = spec_with(|s| {
            s.origins = vec!["https://a.example".into()];
            s.methods = vec!["*".into()];
        })
        .build()
        .unwrap()
        .0;
        assert_eq!(p.allow_methods(), "*");
        let p = spec_with(|s| {
            s.origins = vec!["https://a.example".into()];
            s.methods = vec!["*".into(), "PUT".into()];
            s.request_headers = vec!["Authorization".into(), "*".into()];
        })
        .build()
        .unwrap()
        .0;
        assert_eq!(p.allow_methods(), "*, PUT");
        assert_eq!(p.allow_headers(), Some("*, Authorization"));
    }
}
