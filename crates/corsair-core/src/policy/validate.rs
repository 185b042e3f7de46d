//! Policy validation: every problem at once, each naming the value, what is wrong and the fix.
//! Refused: `*` with credentials, the `null` origin, origins not in serialised form, plain-http
//! origins with credentials (loopback aside), wildcards over a public suffix, forbidden or
//! malformed methods and headers, unanchored or broken regexes.

use super::pattern::{OriginPattern, PortRule};
use super::{Policy, PolicySpec};
use crate::method::{is_forbidden, is_token};
use crate::origin::Origin;
use serde::Serialize;

/// How bad a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The policy is refused.
    Error,
    /// The policy works, but probably not as intended.
    Warning,
}

/// Which value a problem is about, so a file loader can point at its line and column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "key", content = "index")]
pub enum Field {
    /// `origins[i]`.
    Origins(usize),
    /// `origin_regex[i]`.
    OriginRegex(usize),
    /// `methods[i]`.
    Methods(usize),
    /// `request_headers[i]`.
    RequestHeaders(usize),
    /// `expose_headers[i]`.
    ExposeHeaders(usize),
    /// `credentials`.
    Credentials,
    /// `max_age`.
    MaxAge,
    /// `preflight_status`.
    PreflightStatus,
    /// The policy as a whole.
    Policy,
}

/// One problem found in a policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// The value concerned.
    pub field: Field,
    /// What is wrong.
    pub message: String,
    /// What to write instead.
    pub fix: String,
}

fn err(field: Field, message: String, fix: impl Into<String>) -> Problem {
    Problem {
        severity: Severity::Error,
        field,
        message,
        fix: fix.into(),
    }
}

fn warn(field: Field, message: String, fix: impl Into<String>) -> Problem {
    Problem {
        severity: Severity::Warning,
        field,
        message,
        fix: fix.into(),
    }
}

/// Whether `host` is a loopback name or address, where plain http is as safe as it gets.
fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.ends_with(".localhost")
        || host.starts_with("127.")
        || host == "[::1]"
}

/// Parses one `origins` entry into a pattern, or says why it cannot be one.
fn origin_pattern(
    i: usize,
    raw: &str,
    spec: &PolicySpec,
    problems: &mut Vec<Problem>,
) -> Option<OriginPattern> {
    let field = Field::Origins(i);
    if raw == "null" {
        problems.push(err(field, "the origin 'null' is shared by every sandboxed iframe, data: URL and local file, so anyone can send it".into(), "remove it; give the sandboxed page a real origin instead"));
        return None;
    }
    if raw.contains('*') {
        return wildcard_pattern(i, raw, spec, problems);
    }
    let (origin, spelling) = match Origin::spelling(raw) {
        Ok(x) => x,
        Err(e) => {
            problems.push(err(
                field,
                format!("'{raw}' is not an origin: {e}"),
                "write scheme://host[:port], e.g. https://app.example.com",
            ));
            return None;
        }
    };
    let Some(t) = origin.tuple() else {
        problems.push(err(
            field,
            format!("'{raw}' has an opaque origin (null)"),
            "use an http:// or https:// origin",
        ));
        return None;
    };
    if !matches!(t.scheme.as_str(), "http" | "https") {
        problems.push(err(
            field,
            format!("'{raw}' is not an http(s) origin"),
            "browsers only make CORS requests from http:// and https:// pages",
        ));
        return None;
    }
    if !spelling.is_empty() {
        let what: Vec<&str> = spelling.iter().map(|s| s.describe()).collect();
        problems.push(err(
            field,
            format!(
                "'{raw}' {}; browsers send '{origin}' and the comparison is exact",
                what.join(", ")
            ),
            format!("write \"{origin}\""),
        ));
        return None;
    }
    insecure_check(field, &t.scheme, &t.host, raw, spec, problems);
    Some(OriginPattern::Exact(origin.to_string()))
}

fn insecure_check(
    field: Field,
    scheme: &str,
    host: &str,
    raw: &str,
    spec: &PolicySpec,
    problems: &mut Vec<Problem>,
) {
    if scheme == "http"
        && spec.credentials
        && !is_loopback(host)
        && !spec.dangerously_allow_insecure_origins
    {
        problems.push(err(
            field,
            format!("'{raw}' is plain http and credentials are allowed: anyone on the network path can impersonate that origin and read users' data"),
            "serve that site over https and list the https origin, or set dangerously_allow_insecure_origins = true if you accept the risk",
        ));
    }
}

fn wildcard_pattern(
    i: usize,
    raw: &str,
    spec: &PolicySpec,
    problems: &mut Vec<Problem>,
) -> Option<OriginPattern> {
    let field = Field::Origins(i);
    let usage = "write https://*.example.com (any subdomain), https://*.example.com:* (any port too) or http://localhost:* (any port)";
    let Some((scheme, rest)) = raw.split_once("://") else {
        problems.push(err(
            field,
            format!("'{raw}' is not an origin pattern"),
            usage,
        ));
        return None;
    };
    if !matches!(scheme, "http" | "https") {
        problems.push(err(
            field,
            format!("'{raw}' is not an http(s) origin pattern"),
            usage,
        ));
        return None;
    }
    if rest.contains(['/', '?', '#', '@']) {
        problems.push(err(
            field,
            format!("'{raw}' has a path, query or user info; an origin has none"),
            usage,
        ));
        return None;
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (h, Some(p)),
        _ => (rest, None),
    };
    if host.bytes().any(|b| b.is_ascii_uppercase()) {
        problems.push(err(
            field,
            format!("'{raw}' has uppercase letters; browsers send hosts in lowercase"),
            format!("write \"{}\"", raw.to_ascii_lowercase()),
        ));
        return None;
    }
    let port_rule = match port {
        None => PortRule::Default,
        Some("*") => PortRule::Any,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if (scheme == "https" && n == 443) || (scheme == "http" && n == 80) => {
                problems.push(err(
                    field,
                    format!("'{raw}' spells out the default port; browsers never send it"),
                    format!("write \"{scheme}://{host}\""),
                ));
                return None;
            }
            Ok(n) => PortRule::Exact(n),
            Err(_) => {
                problems.push(err(field, format!("'{raw}' has the port '{p}'"), usage));
                return None;
            }
        },
    };
    if let Some(suffix) = host.strip_prefix("*.") {
        if suffix.contains('*') || suffix.is_empty() {
            problems.push(err(
                field,
                format!("'{raw}': only one leading '*.' is supported"),
                usage,
            ));
            return None;
        }
        let ascii = match url::Url::parse(&format!("{scheme}://{suffix}")) {
            Ok(u) if u.host_str().is_some() => u.host_str().unwrap_or_default().to_string(),
            _ => {
                problems.push(err(
                    field,
                    format!("'{raw}': '{suffix}' is not a host name"),
                    usage,
                ));
                return None;
            }
        };
        if ascii != suffix {
            problems.push(err(
                field,
                format!("'{raw}': browsers send the host as '{ascii}'"),
                format!("write \"{scheme}://*.{ascii}\""),
            ));
            return None;
        }
        if is_public_suffix(suffix) {
            problems.push(err(
                field,
                format!("'{raw}' trusts every site under the public suffix '{suffix}': anyone can register a subdomain there"),
                format!("list your own sites, e.g. \"{scheme}://yourname.{suffix}\""),
            ));
            return None;
        }
        insecure_check(field, scheme, suffix, raw, spec, problems);
        return Some(OriginPattern::Subdomain {
            scheme: scheme.into(),
            suffix: suffix.into(),
            port: port_rule,
        });
    }
    if host.contains('*') {
        problems.push(err(field, format!("'{raw}': a '*' may only stand for whole leading labels ('*.example.com') or the port (':*')"), usage));
        return None;
    }
    if port_rule != PortRule::Any {
        problems.push(err(
            field,
            format!("'{raw}' is not an origin pattern"),
            usage,
        ));
        return None;
    }
    match Origin::spelling(&format!("{scheme}://{host}")) {
        Ok((o, sp)) if sp.is_empty() && o.tuple().is_some() => {
            insecure_check(field, scheme, host, raw, spec, problems);
            Some(OriginPattern::AnyPort {
                scheme: scheme.into(),
                host: host.into(),
            })
        }
        _ => {
            problems.push(err(
                field,
                format!("'{raw}': '{host}' is not a host as browsers send it"),
                usage,
            ));
            None
        }
    }
}

/// Whether `domain` is itself a public suffix (`com`, `github.io`, `co.uk`), by the public
/// suffix list.
fn is_public_suffix(domain: &str) -> bool {
    match psl::suffix(domain.as_bytes()) {
        Some(s) => s.as_bytes() == domain.as_bytes() && s.is_known() || !domain.contains('.'),
        None => true,
    }
}

fn join(items: &[String]) -> String {
    items.join(", ")
}

pub(super) fn build(spec: &PolicySpec) -> Result<(Policy, Vec<Problem>), Vec<Problem>> {
    let mut problems = Vec::new();
    let mut any_origin = false;
    let mut exact = std::collections::HashSet::new();
    let mut patterns = Vec::new();
    if spec.origins.is_empty() && spec.origin_regex.is_empty() {
        problems.push(err(
            Field::Policy,
            "no origins are allowed, so every cross-origin request would be refused".into(),
            "list the origins of your web apps: origins = [\"https://app.example.com\"]",
        ));
    }
    for (i, raw) in spec.origins.iter().enumerate() {
        let raw = raw.trim();
        if raw == "*" {
            if spec.credentials {
                problems.push(err(Field::Origins(i), "'*' with credentials = true: browsers refuse a wildcard on credentialed requests, and reflecting any origin instead would let every site read your users' data".into(), "list the origins that may call with credentials, or set credentials = false for public data"));
            } else {
                any_origin = true;
            }
            continue;
        }
        match origin_pattern(i, raw, spec, &mut problems) {
            Some(OriginPattern::Exact(o)) if !exact.insert(o.clone()) => {
                problems.push(warn(
                    Field::Origins(i),
                    format!("'{o}' is listed twice"),
                    "remove the duplicate",
                ));
            }
            Some(OriginPattern::Exact(_)) => {}
            Some(p) => patterns.push(p),
            None => {}
        }
    }
    for (i, re) in spec.origin_regex.iter().enumerate() {
        let anchored = format!("^(?:{})$", re.trim_start_matches('^').trim_end_matches('$'));
        match regex::Regex::new(&anchored) {
            Ok(r) => {
                if has_unescaped_dot(re) {
                    problems.push(warn(Field::OriginRegex(i), format!("'{re}' has an unescaped '.', which matches any character ('wwwXexample.com')"), "escape dots in host names: \\\\."));
                }
                if spec.credentials && r.is_match("null") {
                    problems.push(err(
                        Field::OriginRegex(i),
                        format!("'{re}' matches the origin 'null'"),
                        "make the expression require a scheme, e.g. ^https://",
                    ));
                }
                if spec.credentials
                    && !spec.dangerously_allow_insecure_origins
                    && r.is_match("http://a.example")
                    && !re.contains("localhost")
                {
                    problems.push(err(
                        Field::OriginRegex(i),
                        format!("'{re}' matches plain-http origins and credentials are allowed"),
                        "require https://",
                    ));
                }
                patterns.push(OriginPattern::Regex(r));
            }
            Err(e) => problems.push(err(
                Field::OriginRegex(i),
                format!("'{re}' is not a valid regular expression: {e}"),
                "fix the expression (it is anchored for you: ^(?:...)$)",
            )),
        }
    }
    let mut methods = Vec::new();
    let mut any_method = false;
    for (i, m) in spec.methods.iter().enumerate() {
        let m = m.trim();
        if m == "*" {
            if spec.credentials {
                problems.push(err(Field::Methods(i), "'*' in methods with credentials: browsers read it as a method literally named '*'".into(), "list the methods, e.g. [\"GET\", \"POST\", \"PUT\", \"DELETE\"]"));
            } else {
                any_method = true;
            }
        } else if !is_token(m) {
            problems.push(err(
                Field::Methods(i),
                format!("'{m}' is not a valid method name"),
                "use letters, digits and !#$%&'*+-.^_`|~ only",
            ));
        } else if is_forbidden(m) {
            problems.push(err(
                Field::Methods(i),
                format!("'{m}' is a forbidden method: browsers never send it"),
                "remove it",
            ));
        } else {
            let normal = crate::method::normalize(m).into_owned();
            if normal != m {
                problems.push(warn(Field::Methods(i), format!("'{m}' is sent by browsers as '{normal}', and the comparison is case-sensitive"), format!("write \"{normal}\"")));
            }
            if !methods.contains(&normal) {
                methods.push(normal);
            }
        }
    }
    if spec.methods.is_empty() {
        methods = vec!["GET".into(), "HEAD".into(), "POST".into()];
    }
    let mut headers = Vec::new();
    let mut any_header = false;
    for (i, h) in spec.request_headers.iter().enumerate() {
        let h = h.trim();
        if h == "*" {
            if spec.credentials {
                problems.push(err(Field::RequestHeaders(i), "'*' in request_headers with credentials: browsers read it as a header literally named '*'".into(), "list the headers, e.g. [\"Content-Type\", \"Authorization\"]"));
            } else {
                any_header = true;
                if !spec
                    .request_headers
                    .iter()
                    .any(|x| x.eq_ignore_ascii_case("authorization"))
                {
                    problems.push(warn(Field::RequestHeaders(i), "'*' does not cover Authorization in the Fetch standard (Chromium and Firefox still let it through, for now)".into(), "add \"Authorization\" explicitly if clients send it"));
                }
            }
        } else if !is_token(h) {
            problems.push(err(
                Field::RequestHeaders(i),
                format!("'{h}' is not a valid header name"),
                "use letters, digits and !#$%&'*+-.^_`|~ only",
            ));
        } else if crate::header::forbidden(h, "", crate::Browser::Firefox).is_some() {
            problems.push(err(Field::RequestHeaders(i), format!("'{h}' is a forbidden request header: pages cannot set it, so allowing it does nothing"), "remove it"));
        } else {
            let lower = h.to_ascii_lowercase();
            if !headers.contains(&lower) {
                headers.push(lower);
            }
        }
    }
    for (i, h) in spec.expose_headers.iter().enumerate() {
        let h = h.trim();
        if h == "*" && spec.credentials {
            problems.push(err(
                Field::ExposeHeaders(i),
                "'*' in expose_headers with credentials exposes only a header literally named '*'"
                    .into(),
                "list the headers to expose",
            ));
        } else if h != "*" && !is_token(h) {
            problems.push(err(
                Field::ExposeHeaders(i),
                format!("'{h}' is not a valid header name"),
                "use letters, digits and !#$%&'*+-.^_`|~ only",
            ));
        }
    }
    let max_age = match spec.max_age {
        None => None,
        Some(n) if n < 0 => {
            problems.push(err(
                Field::MaxAge,
                format!("max_age = {n} is negative"),
                "use 0 (no caching) or a number of seconds",
            ));
            None
        }
        Some(n) => {
            if n > 7200 {
                problems.push(warn(Field::MaxAge, format!("max_age = {n}: Chromium caps preflight caching at 7200 s, Safari at 600 s, Firefox at 86400 s"), "7200 is the most that Chromium honours"));
            }
            Some(n.to_string())
        }
    };
    let preflight_status = spec.preflight_status.unwrap_or(204);
    if !(200..300).contains(&preflight_status) {
        problems.push(err(Field::PreflightStatus, format!("preflight_status = {preflight_status}: browsers fail a preflight unless its status is 2xx"), "use 204 (or 200 for old clients)"));
    }
    if problems.iter().any(|p| p.severity == Severity::Error) {
        return Err(problems);
    }
    let allow_methods = join(&methods);
    let allow_headers = if any_header {
        Some("*".to_string())
    } else if headers.is_empty() {
        None
    } else {
        Some(
            spec.request_headers
                .iter()
                .map(|h| h.trim().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        )
    };
    let expose = if spec.expose_headers.is_empty() {
        None
    } else {
        Some(
            spec.expose_headers
                .iter()
                .map(|h| h.trim().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        )
    };
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
            methods,
            any_method,
            headers,
            any_header,
            credentials: spec.credentials,
            preflight_status,
            allow_methods,
            allow_headers,
            expose_headers: expose,
            max_age,
            spec: spec.clone(),
        },
        problems,
    ))
}

/// Whether a regex has a `.` that is not escaped, inside what looks like a host name.
fn has_unescaped_dot(re: &str) -> bool {
    let b = re.as_bytes();
    (0..b.len()).any(|i| {
        b[i] == b'.'
            && (i == 0 || b[i - 1] != b'\\')
            && b.get(i + 1).is_some_and(|c| c.is_ascii_alphanumeric())
            && (i == 0 || b[i - 1].is_ascii_alphanumeric())
    })
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
                .filter(|p| p.severity == Severity::Error)
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
        assert!(!s.build().unwrap().1.is_empty(), "unescaped dot warns");
        s.origin_regex = vec![r".*".into()];
        assert!(!errors(&s).is_empty(), "matches null and http");
        s.origin_regex = vec![r"(".into()];
        assert!(errors(&s)[0].contains("not a valid regular expression"));
    }
}
