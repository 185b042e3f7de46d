//! `corsair.toml`'s policy part: `[policy]`, `[[routes]]`, `[env.NAME]`, `mode` and
//! `upstream_cors`. Parsed from text (the caller reads the file), validated as a whole, and every
//! problem reported at once with its line and column. The keys that configure a server (`listen`,
//! `upstream`, `admin`, `[gateway]`) belong to the program that serves the policy: it names them
//! in [`keys::Others`] so they are not reported as unknown, and reads them itself.
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

use super::route::Ambiguous;
use super::schema::{RawPolicy, Spans};
use super::validate::{Field, Level, Problem};
use super::{keys, Policy};
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

/// The policy part of a loaded, validated `corsair.toml`.
#[derive(Clone, Debug)]
pub struct PolicyFile {
    /// `mode = "report-only"`: log what would be refused, refuse nothing.
    pub report_only: bool,
    /// `upstream_cors`.
    pub upstream_cors: UpstreamCors,
    /// `[policy]`, with the selected environment's extra origins.
    pub policy: Policy,
    /// `[[routes]]`, longest prefix first.
    pub routes: Vec<Route>,
}

impl PolicyFile {
    /// The policy for a request path (without its query): the longest matching route prefix,
    /// else `[policy]`; or why the path's route cannot be told (see [`super::route`]).
    pub fn policy_for(&self, path: &str) -> Result<&Policy, Ambiguous> {
        Ok(self
            .route_for(path)?
            .map_or(&self.policy, |i| &self.routes[i].policy))
    }

    /// The index of the route a request path (without its query) falls under as every upstream
    /// reads it (the longest prefix), `None` for `[policy]`, or why the path's readings
    /// disagree: a gateway answers those 400.
    pub fn route_for(&self, path: &str) -> Result<Option<usize>, Ambiguous> {
        super::route::choose(&self.routes, path)
    }
}

/// A problem in the file, located.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Level,
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

impl Diagnostic {
    /// A problem at byte offset `span.start` of `text`.
    pub fn at(
        text: &str,
        span: &Range<usize>,
        severity: Level,
        key: String,
        message: String,
        fix: String,
    ) -> Self {
        let before = &text[..span.start.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Diagnostic {
            severity,
            line,
            column,
            key,
            message,
            fix,
        }
    }

    /// An error at `span`.
    pub fn error(text: &str, span: Range<usize>, key: &str, message: String, fix: &str) -> Self {
        Diagnostic::at(text, &span, Level::Error, key.into(), message, fix.into())
    }

    /// A TOML syntax or type error, where the parser found it.
    pub fn of_toml(text: &str, e: &toml::de::Error) -> Self {
        let span = e.span().unwrap_or(0..0);
        let message = e.message().to_string();
        let fix = if message.contains("unknown variant") {
            "use one of the expected values the message lists"
        } else {
            "fix the TOML syntax at this position"
        };
        Diagnostic::error(text, span, "", message, fix)
    }

    /// A key the file's schema does not know.
    pub fn of_unknown(text: &str, u: keys::Unknown) -> Self {
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
        Diagnostic::at(text, &u.span, Level::Error, u.path, message, fix)
    }
}

#[derive(Deserialize)]
struct RawFile {
    mode: Option<Spanned<String>>,
    upstream_cors: Option<Spanned<String>>,
    policy: Option<Spanned<RawPolicy>>,
    #[serde(default)]
    routes: Vec<RawRoute>,
    #[serde(default)]
    env: BTreeMap<String, RawEnv>,
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

/// A spec to validate, and where its values are.
struct Job {
    spec: super::PolicySpec,
    spans: Spans,
    /// The table's position, for problems about the policy as a whole or a key it inherits.
    table: Range<usize>,
    /// `policy` or `routes[i].policy`.
    prefix: String,
    /// The route's path prefix; `None` for `[policy]`.
    route: Option<String>,
}

impl Job {
    fn new(
        raw: &RawPolicy,
        table: Range<usize>,
        prefix: String,
        route: Option<String>,
        extra: &[Spanned<String>],
    ) -> Self {
        let (mut spec, mut spans) = raw.spec();
        for e in extra {
            spec.origins.push(e.get_ref().clone());
            spans.origins.push(e.span());
        }
        Job {
            spec,
            spans,
            table,
            prefix,
            route,
        }
    }

    /// Places a problem on its value's line and column.
    fn locate(&self, text: &str, p: Problem) -> Diagnostic {
        let (span, key) = match p.field {
            Field::Item { key, index } => (
                self.spans.of(key).get(index),
                format!("{}.{}[{index}]", self.prefix, key.name()),
            ),
            Field::Value { key } => (
                self.spans.of(key).first(),
                format!("{}.{}", self.prefix, key.name()),
            ),
            Field::Policy => (None, self.prefix.clone()),
        };
        let span = span.unwrap_or(&self.table);
        Diagnostic::at(text, span, p.severity, key, p.message, p.fix)
    }
}

/// Parses and validates the policy part of a file. `env` is the environment whose overlay
/// applies (the value of `CORSAIR_ENV`, read by the caller); `others` names the keys another
/// layer reads. Returns the policy and its warnings, or every error and warning.
pub fn load(
    text: &str,
    env: Option<&str>,
    others: &keys::Others,
) -> Result<(PolicyFile, Vec<Diagnostic>), Vec<Diagnostic>> {
    // Unknown keys first, all of them: typed parsing ignores them, so the rest of the file is
    // still checked.
    let mut diags: Vec<Diagnostic> = keys::unknown(text, others)
        .into_iter()
        .map(|u| Diagnostic::of_unknown(text, u))
        .collect();
    let raw: RawFile = match toml::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            diags.push(Diagnostic::of_toml(text, &e));
            diags.sort_by_key(|d| (d.line, d.column));
            return Err(diags);
        }
    };
    let mut error = |span: Range<usize>, key: &str, message: String, fix: &str| {
        diags.push(Diagnostic::error(text, span, key, message, fix));
    };
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
    let mut jobs = vec![Job::new(
        &base_raw,
        base_span,
        "policy".into(),
        None,
        &extra,
    )];
    for (i, r) in raw.routes.iter().enumerate() {
        let prefix = r.path.get_ref().clone();
        if let Some((message, fix)) = super::route::prefix_problem(&prefix) {
            error(r.path.span(), &format!("routes[{i}].path"), message, fix);
        }
        // Servers that ignore case, or a trailing slash, would serve both under one name.
        let same = |p: &str| p.trim_end_matches('/').to_ascii_lowercase();
        if let Some(j) = raw.routes[..i]
            .iter()
            .position(|o| same(o.path.get_ref()) == same(&prefix))
        {
            error(
                r.path.span(),
                &format!("routes[{i}].path"),
                format!(
                    "path = \"{prefix}\" is the same route as routes[{j}] (\"{}\") to servers that \
                        ignore letter case or a final /",
                    raw.routes[j].path.get_ref()
                ),
                "merge the two routes into one",
            );
        }
        jobs.push(Job::new(
            &r.policy.get_ref().over(&base_raw),
            r.policy.span(),
            format!("routes[{i}].policy"),
            Some(prefix),
            &extra,
        ));
    }
    let mut built = Vec::new();
    for job in jobs {
        match job.spec.build() {
            Ok((policy, warnings)) => {
                diags.extend(warnings.into_iter().map(|w| job.locate(text, w)));
                built.push((job.route, policy));
            }
            Err(problems) => diags.extend(problems.into_iter().map(|p| job.locate(text, p))),
        }
    }
    if diags.iter().any(|d| d.severity == Level::Error) {
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
        PolicyFile {
            report_only,
            upstream_cors,
            policy,
            routes,
        },
        diags,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys `corsair serve` reads from the same file.
    const SERVE: keys::Others = keys::Others {
        top: &["listen", "upstream"],
        tables: &[],
    };

    fn load(
        text: &str,
        env: Option<&str>,
    ) -> Result<(PolicyFile, Vec<Diagnostic>), Vec<Diagnostic>> {
        super::load(text, env, &SERVE)
    }

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
            .filter(|d| d.severity == Level::Error)
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
            .any(|d| d.severity == Level::Warning && d.line == 5));
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
            "[policy]\norigins = [\"http://app.example\"]\nrequest_header = [\"X-A\"]\ncredentials \
                = true\nmethods = [\"TRACE\"]\n",
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
            "mode = \"maybe\"\nupstream_cors = \"merge\"\n[policy]\norigins = \
                [\"https://a.example\"]\n",
            None,
        )
        .unwrap_err();
        assert_eq!(d.len(), 2);
        let d = load(
            "[policy]\norigins = [\"https://a.example\"]\ncredentials = \"yes\"\n",
            None,
        )
        .unwrap_err();
        assert!(d[0].message.contains("expected a boolean"), "{d:?}");
        assert_eq!((d[0].line, d[0].column), (3, 15));
        let d = super::load(
            "listen = \"x\"\n[gateway]\n[policy]\norigins = [\"https://a.example\"]\n",
            None,
            &keys::Others::default(),
        )
        .unwrap_err();
        let keys: Vec<&str> = d.iter().map(|d| d.key.as_str()).collect();
        assert_eq!(
            keys,
            ["listen", "gateway"],
            "without a serving layer, its keys are unknown"
        );
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
            .unwrap()
            .allows_origin("https://anything.example"));
        assert!(!c
            .policy_for("/publicx")
            .unwrap()
            .allows_origin("https://anything.example"));
        assert!(c.policy_for("/public/private/1").unwrap().credentials());
        assert!(!c.policy.allows_origin("http://localhost:5173"));
        let (c, _) = load(text, Some("development")).unwrap();
        assert!(c.policy.allows_origin("http://localhost:5173"));
        let d = load(
            "[policy]\norigins = [\"https://a.example\"]\n[[routes]]\npath \
            = \"x\"\npolicy = { credentials = true, origins = [\"*\"] }\n",
            None,
        )
        .unwrap_err();
        assert_eq!(d.len(), 2, "{d:#?}");
    }
}
