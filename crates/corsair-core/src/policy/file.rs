//! `corsair.toml`: the policy file. Parsed from text (the caller reads the file), validated as a
//! whole, and every problem reported at once with its line and column.
//!
//! ```toml
//! listen = "127.0.0.1:8080"            # used by `corsair serve`
//! upstream = "http://127.0.0.1:9000"   # used by `corsair serve`
//! [policy]
//! origins = ["https://app.example.com", "https://*.example.com"]
//! methods = ["GET", "POST", "PUT", "DELETE"]
//! request_headers = ["Content-Type", "Authorization"]
//! expose_headers = ["X-Total-Count"]
//! credentials = true
//! max_age = 7200
//!
//! [[routes]]                           # per-route policies by path prefix; unset keys inherit
//! path = "/public"
//! policy = { origins = ["*"], credentials = false }
//!
//! [env.development]                    # extra origins when CORSAIR_ENV=development
//! origins = ["http://localhost:5173"]
//! ```

use super::validate::{Field, Problem, Severity};
use super::{keys, Policy, PolicySpec};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ops::Range;
use toml::Spanned;

/// What `corsair serve` does with CORS headers the upstream sends itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UpstreamCors {
    /// Remove them; the policy is the one source of truth (default).
    #[default]
    Override,
    /// Keep them, and add the policy's only where the upstream sent none.
    Preserve,
}

/// A per-route policy.
#[derive(Clone, Debug)]
pub struct Route {
    /// The path prefix, matched on segment boundaries (`/api` matches `/api` and `/api/x`,
    /// not `/apix`).
    pub prefix: String,
    /// Its policy.
    pub policy: Policy,
}

/// Gateway limits and timeouts, in seconds and bytes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Gateway {
    /// Seconds a client has to send its request head; also how long an idle keep-alive
    /// connection stays open.
    pub header_read_timeout: f64,
    /// Seconds to connect to the upstream.
    pub upstream_connect_timeout: f64,
    /// Seconds to wait for the upstream's response head.
    pub upstream_timeout: f64,
    /// Largest request head accepted, in bytes.
    pub max_header_bytes: usize,
    /// Seconds to let requests in flight finish on shutdown.
    pub shutdown_grace: f64,
    /// Which HTTP/1.1 implementation serves clients.
    pub http1: Http1,
}

/// `[gateway] http1`: which HTTP/1.1 implementation `corsair serve` uses for clients.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Http1 {
    /// corsair's own proxy path for plain HTTP/1.1 requests; anything else (HTTP/2, HTTP/1.0,
    /// chunked or `Expect` request bodies, upgrades) goes to hyper.
    #[default]
    Corsair,
    /// hyper for every request.
    Hyper,
}

impl Default for Gateway {
    fn default() -> Self {
        Gateway {
            header_read_timeout: 10.0,
            upstream_connect_timeout: 5.0,
            upstream_timeout: 60.0,
            max_header_bytes: 64 * 1024,
            shutdown_grace: 10.0,
            http1: Http1::default(),
        }
    }
}

/// A loaded, validated `corsair.toml`.
#[derive(Clone, Debug)]
pub struct Config {
    /// `listen`.
    pub listen: Option<String>,
    /// `upstream`.
    pub upstream: Option<String>,
    /// `admin`: where `/metrics` is served.
    pub admin: Option<String>,
    /// `mode = "report-only"`: log what would be refused, refuse nothing.
    pub report_only: bool,
    /// `upstream_cors`.
    pub upstream_cors: UpstreamCors,
    /// `[gateway]`.
    pub gateway: Gateway,
    /// `[policy]`, with the selected environment's extra origins.
    pub policy: Policy,
    /// `[[routes]]`, longest prefix first.
    pub routes: Vec<Route>,
}

impl Config {
    /// The policy for a request path: the longest matching route prefix, else `[policy]`.
    pub fn policy_for(&self, path: &str) -> &Policy {
        self.route_for(path)
            .map_or(&self.policy, |i| &self.routes[i].policy)
    }

    /// The index of the route whose prefix matches `path` (the longest), if any.
    pub fn route_for(&self, path: &str) -> Option<usize> {
        self.routes.iter().position(|r| {
            path == r.prefix
                || (path.starts_with(&r.prefix)
                    && (r.prefix.ends_with('/')
                        || path.as_bytes().get(r.prefix.len()) == Some(&b'/')))
        })
    }
}

/// A problem in the file, located.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The key concerned (`policy.origins[1]`).
    pub key: String,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub fix: String,
}

#[derive(Deserialize)]
struct RawFile {
    listen: Option<Spanned<String>>,
    upstream: Option<Spanned<String>>,
    admin: Option<Spanned<String>>,
    mode: Option<Spanned<String>>,
    upstream_cors: Option<Spanned<String>>,
    #[serde(default)]
    gateway: Option<Gateway>,
    policy: Option<Spanned<RawPolicy>>,
    #[serde(default)]
    routes: Vec<RawRoute>,
    #[serde(default)]
    env: BTreeMap<String, RawEnv>,
}

#[derive(Deserialize, Default, Clone)]
struct RawPolicy {
    origins: Option<Vec<Spanned<String>>>,
    origin_regex: Option<Vec<Spanned<String>>>,
    methods: Option<Vec<Spanned<String>>>,
    request_headers: Option<Vec<Spanned<String>>>,
    expose_headers: Option<Vec<Spanned<String>>>,
    credentials: Option<Spanned<bool>>,
    max_age: Option<Spanned<i64>>,
    preflight_status: Option<Spanned<u16>>,
    dangerously_allow_insecure_origins: Option<bool>,
}

#[derive(Deserialize)]
struct RawRoute {
    path: Spanned<String>,
    policy: Spanned<RawPolicy>,
}

#[derive(Deserialize)]
struct RawEnv {
    #[serde(default)]
    origins: Vec<Spanned<String>>,
}

/// Where each value of a spec came from, to place its problems.
struct Spans {
    table: Range<usize>,
    prefix: String,
    origins: Vec<Range<usize>>,
    origin_regex: Vec<Range<usize>>,
    methods: Vec<Range<usize>>,
    request_headers: Vec<Range<usize>>,
    expose_headers: Vec<Range<usize>>,
    credentials: Option<Range<usize>>,
    max_age: Option<Range<usize>>,
    preflight_status: Option<Range<usize>>,
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

fn diag(
    text: &str,
    span: &Range<usize>,
    severity: Severity,
    key: String,
    message: String,
    fix: String,
) -> Diagnostic {
    let (line, column) = line_col(text, span.start);
    Diagnostic {
        severity,
        line,
        column,
        key,
        message,
        fix,
    }
}

/// Merges a route's raw policy over the default one: keys the route sets win.
fn merge(base: &RawPolicy, over: &RawPolicy) -> RawPolicy {
    RawPolicy {
        origins: over.origins.clone().or_else(|| base.origins.clone()),
        origin_regex: over
            .origin_regex
            .clone()
            .or_else(|| base.origin_regex.clone()),
        methods: over.methods.clone().or_else(|| base.methods.clone()),
        request_headers: over
            .request_headers
            .clone()
            .or_else(|| base.request_headers.clone()),
        expose_headers: over
            .expose_headers
            .clone()
            .or_else(|| base.expose_headers.clone()),
        credentials: over
            .credentials
            .clone()
            .or_else(|| base.credentials.clone()),
        max_age: over.max_age.clone().or_else(|| base.max_age.clone()),
        preflight_status: over
            .preflight_status
            .clone()
            .or_else(|| base.preflight_status.clone()),
        dangerously_allow_insecure_origins: over
            .dangerously_allow_insecure_origins
            .or(base.dangerously_allow_insecure_origins),
    }
}

fn spec_of(
    raw: &RawPolicy,
    table: Range<usize>,
    prefix: String,
    extra: &[Spanned<String>],
) -> (PolicySpec, Spans) {
    let list = |v: &Option<Vec<Spanned<String>>>| -> (Vec<String>, Vec<Range<usize>>) {
        v.iter()
            .flatten()
            .map(|s| (s.get_ref().clone(), s.span()))
            .unzip()
    };
    let (mut origins, mut origin_spans) = list(&raw.origins);
    for e in extra {
        origins.push(e.get_ref().clone());
        origin_spans.push(e.span());
    }
    let (origin_regex, rs) = list(&raw.origin_regex);
    let (methods, ms) = list(&raw.methods);
    let (request_headers, hs) = list(&raw.request_headers);
    let (expose_headers, es) = list(&raw.expose_headers);
    let spec = PolicySpec {
        origins,
        origin_regex,
        methods,
        request_headers,
        expose_headers,
        credentials: raw.credentials.as_ref().is_some_and(|c| *c.get_ref()),
        max_age: raw.max_age.as_ref().map(|m| *m.get_ref()),
        preflight_status: raw.preflight_status.as_ref().map(|m| *m.get_ref()),
        dangerously_allow_insecure_origins: raw.dangerously_allow_insecure_origins.unwrap_or(false),
    };
    let spans = Spans {
        table,
        prefix,
        origins: origin_spans,
        origin_regex: rs,
        methods: ms,
        request_headers: hs,
        expose_headers: es,
        credentials: raw.credentials.as_ref().map(|c| c.span()),
        max_age: raw.max_age.as_ref().map(|c| c.span()),
        preflight_status: raw.preflight_status.as_ref().map(|c| c.span()),
    };
    (spec, spans)
}

fn locate(text: &str, spans: &Spans, p: Problem) -> Diagnostic {
    let at = |v: &Vec<Range<usize>>, i: usize| v.get(i).cloned().unwrap_or(spans.table.clone());
    let (span, key) = match p.field {
        Field::Origins(i) => (
            at(&spans.origins, i),
            format!("{}.origins[{i}]", spans.prefix),
        ),
        Field::OriginRegex(i) => (
            at(&spans.origin_regex, i),
            format!("{}.origin_regex[{i}]", spans.prefix),
        ),
        Field::Methods(i) => (
            at(&spans.methods, i),
            format!("{}.methods[{i}]", spans.prefix),
        ),
        Field::RequestHeaders(i) => (
            at(&spans.request_headers, i),
            format!("{}.request_headers[{i}]", spans.prefix),
        ),
        Field::ExposeHeaders(i) => (
            at(&spans.expose_headers, i),
            format!("{}.expose_headers[{i}]", spans.prefix),
        ),
        Field::Credentials => (
            spans.credentials.clone().unwrap_or(spans.table.clone()),
            format!("{}.credentials", spans.prefix),
        ),
        Field::MaxAge => (
            spans.max_age.clone().unwrap_or(spans.table.clone()),
            format!("{}.max_age", spans.prefix),
        ),
        Field::PreflightStatus => (
            spans
                .preflight_status
                .clone()
                .unwrap_or(spans.table.clone()),
            format!("{}.preflight_status", spans.prefix),
        ),
        Field::Policy => (spans.table.clone(), spans.prefix.clone()),
    };
    diag(text, &span, p.severity, key, p.message, p.fix)
}

/// Parses and validates a policy file. `env` is the environment whose overlay applies (the
/// value of `CORSAIR_ENV`, read by the caller). Returns the config and its warnings, or every
/// error and warning.
pub fn load(text: &str, env: Option<&str>) -> Result<(Config, Vec<Diagnostic>), Vec<Diagnostic>> {
    // Unknown keys first, all of them: typed parsing ignores them, so the rest of the file is
    // still checked.
    let mut diags: Vec<Diagnostic> = keys::unknown(text)
        .into_iter()
        .map(|u| {
            let (message, fix) = match u.suggestion {
                Some(s) => (
                    format!("unknown key `{}`; did you mean `{s}`?", u.path),
                    format!("rename it to `{s}`"),
                ),
                None => (
                    format!("unknown key `{}`", u.path),
                    format!("remove it, or use one of: {}", u.known.join(", ")),
                ),
            };
            diag(text, &u.span, Severity::Error, u.path, message, fix)
        })
        .collect();
    let raw: RawFile = match toml::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let message = e.message().to_string();
            let fix = if message.contains("unknown variant") {
                "use one of the expected values the message lists".to_string()
            } else {
                "fix the TOML syntax at this position".to_string()
            };
            diags.push(diag(
                text,
                &span,
                Severity::Error,
                String::new(),
                message,
                fix,
            ));
            diags.sort_by_key(|d| (d.line, d.column));
            return Err(diags);
        }
    };
    let mut error = |span: Range<usize>, key: &str, message: String, fix: &str| {
        diags.push(diag(
            text,
            &span,
            Severity::Error,
            key.to_string(),
            message,
            fix.to_string(),
        ));
    };
    if let Some(l) = &raw.listen {
        if l.get_ref().parse::<core::net::SocketAddr>().is_err() {
            error(
                l.span(),
                "listen",
                format!("listen = \"{}\" is not an address:port", l.get_ref()),
                "write listen = \"127.0.0.1:8080\" (or \"[::1]:8080\", \"0.0.0.0:8080\")",
            );
        }
    }
    if let Some(a) = &raw.admin {
        if a.get_ref().parse::<core::net::SocketAddr>().is_err() {
            error(
                a.span(),
                "admin",
                format!("admin = \"{}\" is not an address:port", a.get_ref()),
                "write admin = \"127.0.0.1:9090\"",
            );
        }
    }
    if let Some(u) = &raw.upstream {
        match url::Url::parse(u.get_ref()) {
            Ok(url) if url.scheme() == "http" && url.host().is_some() => {}
            _ => error(
                u.span(),
                "upstream",
                format!("upstream = \"{}\" is not an http:// URL", u.get_ref()),
                "write upstream = \"http://127.0.0.1:9000\"",
            ),
        }
    }
    let report_only = match raw.mode.as_ref().map(|m| (m.get_ref().as_str(), m.span())) {
        None | Some(("enforce", _)) => false,
        Some(("report-only", _)) => true,
        Some((other, span)) => {
            error(
                span,
                "mode",
                format!("mode = \"{other}\" is not a mode"),
                "write mode = \"enforce\" or mode = \"report-only\"",
            );
            false
        }
    };
    let upstream_cors = match raw
        .upstream_cors
        .as_ref()
        .map(|m| (m.get_ref().as_str(), m.span()))
    {
        None | Some(("override", _)) => UpstreamCors::Override,
        Some(("preserve", _)) => UpstreamCors::Preserve,
        Some((other, span)) => {
            error(
                span,
                "upstream_cors",
                format!("upstream_cors = \"{other}\" is not an option"),
                "write \"override\" (default) or \"preserve\"",
            );
            UpstreamCors::Override
        }
    };
    let extra: Vec<Spanned<String>> = match env {
        Some(name) => raw
            .env
            .get(name)
            .map(|e| e.origins.clone())
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let (base_raw, base_span) = match &raw.policy {
        Some(p) => (p.get_ref().clone(), p.span()),
        None => {
            error(
                0..0,
                "policy",
                "the file has no [policy] table".into(),
                "add [policy] with at least origins = [\"https://app.example.com\"]",
            );
            (RawPolicy::default(), 0..0)
        }
    };
    let mut built = Vec::new();
    let mut jobs = vec![(spec_of(&base_raw, base_span, "policy".into(), &extra), None)];
    for (i, r) in raw.routes.iter().enumerate() {
        let prefix = r.path.get_ref().clone();
        if !prefix.starts_with('/') {
            error(
                r.path.span(),
                &format!("routes[{i}].path"),
                format!("path = \"{prefix}\" does not start with '/'"),
                "write a path prefix such as \"/api\"",
            );
        }
        let merged = merge(&base_raw, r.policy.get_ref());
        jobs.push((
            spec_of(
                &merged,
                r.policy.span(),
                format!("routes[{i}].policy"),
                &extra,
            ),
            Some(prefix),
        ));
    }
    for ((spec, spans), prefix) in jobs {
        match spec.build() {
            Ok((policy, warnings)) => {
                diags.extend(warnings.into_iter().map(|w| locate(text, &spans, w)));
                built.push((prefix, policy));
            }
            Err(problems) => diags.extend(problems.into_iter().map(|p| locate(text, &spans, p))),
        }
    }
    if diags.iter().any(|d| d.severity == Severity::Error) {
        diags.sort_by_key(|d| (d.line, d.column));
        return Err(diags);
    }
    let mut policy = None;
    let mut routes = Vec::new();
    for (prefix, p) in built {
        match prefix {
            None => policy = Some(p),
            Some(prefix) => routes.push(Route { prefix, policy: p }),
        }
    }
    routes.sort_by_key(|r| std::cmp::Reverse(r.prefix.len()));
    let Some(policy) = policy else {
        return Err(diags);
    };
    Ok((
        Config {
            listen: raw.listen.map(|s| s.into_inner()),
            upstream: raw.upstream.map(|s| s.into_inner()),
            admin: raw.admin.map(|s| s.into_inner()),
            report_only,
            upstream_cors,
            gateway: raw.gateway.unwrap_or_default(),
            policy,
            routes,
        },
        diags,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"listen = "127.0.0.1:8080"            # used by `corsair serve`
upstream = "http://127.0.0.1:9000"   # used by `corsair serve`
[policy]
origins = ["https://app.example.com", "https://*.example.com"]
methods = ["GET", "POST", "PUT", "DELETE"]
request_headers = ["Content-Type", "Authorization"]
expose_headers = ["X-Total-Count"]
credentials = true
max_age = 7200
"#;

    #[test]
    fn the_minimal_file_works_as_written() {
        let (c, warnings) = load(MINIMAL, None).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(c.listen.as_deref(), Some("127.0.0.1:8080"));
        assert_eq!(c.upstream.as_deref(), Some("http://127.0.0.1:9000"));
        assert!(c.policy.allows_origin("https://app.example.com"));
        assert!(c.policy.credentials());
    }

    #[test]
    fn every_error_at_once_with_line_and_column() {
        let text = r#"[policy]
origins = ["*", "null", "https://app.example.com/", "https://*.github.io", "http://intranet.example"]
methods = ["TRACE"]
credentials = true
max_age = 99999
"#;
        let diags = load(text, None).unwrap_err();
        let errors: Vec<&Diagnostic> = diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        assert_eq!(errors.len(), 6, "{diags:#?}");
        assert_eq!(
            (errors[0].line, errors[0].column, errors[0].key.as_str()),
            (2, 12, "policy.origins[0]")
        );
        assert_eq!((errors[1].line, errors[1].column), (2, 17));
        assert_eq!(errors[5].line, 3);
        assert!(errors[2].fix.contains("\"https://app.example.com\""));
        assert!(diags
            .iter()
            .any(|d| d.severity == Severity::Warning && d.line == 5));
    }

    #[test]
    fn syntax_and_unknown_keys() {
        let d = load("[policy]\norigins = [\"https://a.example\"\n", None).unwrap_err();
        assert_eq!(d[0].line, 3);
        let d = load("[policy]\norigin = [\"https://a.example\"]\n", None).unwrap_err();
        let typo = d
            .iter()
            .find(|d| d.message == "unknown key `policy.origin`; did you mean `origins`?")
            .unwrap_or_else(|| panic!("{d:?}"));
        assert_eq!((typo.line, typo.column), (2, 1));
        // Issue 11, finding 8: a misspelled key does not hide the file's other problems.
        let d = load(
            "[policy]\norigins = [\"http://app.example\"]\nrequest_header = [\"X-A\"]\ncredentials = true\nmethods = [\"TRACE\"]\n",
            None,
        )
        .unwrap_err();
        let messages: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(d.len(), 3, "{messages:?}");
        assert!(messages[0].contains("plain http"), "{messages:?}");
        assert!(
            messages[1].contains("did you mean `request_headers`?"),
            "{messages:?}"
        );
        assert!(messages[2].contains("forbidden method"), "{messages:?}");
        let d = load(
            "[gateway]\nhttp1 = \"nginx\"\n[policy]\norigins = [\"https://a.example\"]\n",
            None,
        )
        .unwrap_err();
        assert!(d[0].message.contains("`corsair` or `hyper`"), "{d:?}");
        assert!(d[0].fix.contains("expected values"), "{d:?}");
        assert_eq!((d[0].line, d[0].column), (2, 9));
        let d = load(
            "listen = \"nope\"\nmode = \"maybe\"\n[policy]\norigins = [\"https://a.example\"]\n",
            None,
        )
        .unwrap_err();
        assert_eq!(d.len(), 2);
    }

    #[test]
    fn routes_inherit_and_environments_add_origins() {
        let text = r#"[policy]
origins = ["https://app.example.com"]
credentials = true
[[routes]]
path = "/public"
policy = { origins = ["*"], credentials = false }
[[routes]]
path = "/public/private"
policy = { methods = ["PUT"] }
[env.development]
origins = ["http://localhost:5173"]
"#;
        let (c, _) = load(text, None).unwrap();
        assert!(c
            .policy_for("/public/x")
            .allows_origin("https://anything.example"));
        assert!(!c
            .policy_for("/publicx")
            .allows_origin("https://anything.example"));
        assert!(c.policy_for("/public/private/1").credentials());
        assert!(!c.policy.allows_origin("http://localhost:5173"));
        let (c, _) = load(text, Some("development")).unwrap();
        assert!(c.policy.allows_origin("http://localhost:5173"));
        let d = load("[policy]\norigins = [\"https://a.example\"]\n[[routes]]\npath = \"x\"\npolicy = { credentials = true, origins = [\"*\"] }\n", None).unwrap_err();
        assert_eq!(d.len(), 2, "{d:#?}");
    }
}
