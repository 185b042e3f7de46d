//! `corsair gen`: the same policy written for other servers and frameworks. Each target gets the
//! policy exactly where it can express it, and otherwise the closest safer form with a warning
//! comment, or a refusal with the reason. Never something less safe than the policy: exact
//! origins are compared exactly, subdomain patterns become anchored, escaped regular
//! expressions, credentials echo a validated origin (never `*`), preflights are answered before
//! anything else, and `Vary: Origin` is sent.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

// The browser model and the crates below this one, under the paths this code has always used.
use corsair_model::{header, method};
use corsair_policy as policy;

mod apache;
mod axum;
mod caddy;
pub mod dev;
mod django;
mod envoy;
mod express;
mod flask;
mod gateway_api;
mod ingress_nginx;
mod nginx;
mod spring;
mod starlette;
mod traefik;

use crate::policy::{OriginPattern, PolicySpec, PortRule};
use serde::Serialize;

/// A generation target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Target {
    /// Apache httpd: a complete `<VirtualHost>` proxying to the upstream.
    Apache,
    /// nginx: a `server { }` block for the `http` context, proxying to the upstream.
    Nginx,
    /// Caddy 2: a complete Caddyfile proxying to the upstream.
    Caddy,
    /// Node.js Express with the `cors` package: a runnable app.
    Express,
    /// Starlette / FastAPI `CORSMiddleware`: a runnable app.
    Starlette,
    /// Flask with `flask-cors`: a runnable app.
    Flask,
    /// Django with `django-cors-headers`: a runnable single-file project.
    Django,
    /// Spring Boot 3: a runnable application with a first-of-all `CorsFilter`.
    Spring,
    /// axum 0.8 behind corsair-tower: a runnable `main.rs`.
    Axum,
    /// axum 0.8 behind tower-http's `CorsLayer`: a runnable `main.rs`.
    TowerHttp,
    /// Traefik: a dynamic configuration file (router, headers middleware, service).
    Traefik,
    /// Envoy: a complete static bootstrap (listener, CORS filter, cluster).
    Envoy,
    /// Kubernetes Gateway API: an `HTTPRoute` with a `CORS` filter.
    GatewayApi,
    /// ingress-nginx: an `Ingress` with its CORS annotations.
    IngressNginx,
}

impl Target {
    /// Every target, in display order.
    pub const ALL: [Target; 14] = [
        Target::Nginx,
        Target::Apache,
        Target::Caddy,
        Target::Traefik,
        Target::Envoy,
        Target::GatewayApi,
        Target::IngressNginx,
        Target::Express,
        Target::Starlette,
        Target::Flask,
        Target::Django,
        Target::Spring,
        Target::Axum,
        Target::TowerHttp,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Target::Nginx => "nginx",
            Target::Apache => "apache",
            Target::Caddy => "caddy",
            Target::Express => "express",
            Target::Starlette => "starlette",
            Target::Flask => "flask",
            Target::Django => "django",
            Target::Spring => "spring",
            Target::Axum => "axum",
            Target::TowerHttp => "tower-http",
            Target::Traefik => "traefik",
            Target::Envoy => "envoy",
            Target::GatewayApi => "gateway-api",
            Target::IngressNginx => "ingress-nginx",
        }
    }

    /// The file name the output is meant for.
    pub fn file_name(self) -> &'static str {
        match self {
            Target::Nginx => "corsair.nginx.conf",
            Target::Apache => "corsair.apache.conf",
            Target::Caddy => "Caddyfile",
            Target::Express => "server.js",
            Target::Starlette => "app.py",
            Target::Flask => "app.py",
            Target::Django => "app.py",
            Target::Spring => "CorsairApplication.java",
            Target::Axum | Target::TowerHttp => "main.rs",
            Target::Traefik => "corsair.traefik.yml",
            Target::Envoy => "corsair.envoy.yaml",
            Target::GatewayApi => "corsair.httproute.yaml",
            Target::IngressNginx => "corsair.ingress.yaml",
        }
    }
}

/// A name that is no target's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "no generator for '{0}': the targets are {targets} (fastapi is starlette, httpd is apache)",
    targets = Target::ALL.map(Target::name).join(", ")
)]
pub struct UnknownTarget(pub String);

impl std::str::FromStr for Target {
    type Err = UnknownTarget;
    fn from_str(s: &str) -> Result<Self, UnknownTarget> {
        match s.to_ascii_lowercase().as_str() {
            "nginx" => Ok(Target::Nginx),
            "apache" | "httpd" => Ok(Target::Apache),
            "caddy" => Ok(Target::Caddy),
            "express" => Ok(Target::Express),
            "starlette" | "fastapi" => Ok(Target::Starlette),
            "flask" => Ok(Target::Flask),
            "django" => Ok(Target::Django),
            "spring" => Ok(Target::Spring),
            "axum" | "corsair-tower" => Ok(Target::Axum),
            "tower-http" | "axum-tower-http" => Ok(Target::TowerHttp),
            "traefik" => Ok(Target::Traefik),
            "envoy" => Ok(Target::Envoy),
            "gateway-api" | "httproute" => Ok(Target::GatewayApi),
            "ingress-nginx" => Ok(Target::IngressNginx),
            other => Err(UnknownTarget(other.to_string())),
        }
    }
}

/// What the generators need: a validated policy spec, and where the server listens and proxies.
#[derive(Clone, Debug)]
pub struct Input<'a> {
    /// The policy (validated by the caller).
    pub spec: &'a PolicySpec,
    /// `host:port` to listen on.
    pub listen: &'a str,
    /// The upstream URL (nginx proxies to it).
    pub upstream: Option<&'a str>,
    /// `[[routes]]`: (path prefix, policy), longest prefix first. nginx, Caddy and Express
    /// write them; the other targets refuse a file that has any.
    pub routes: Vec<(&'a str, &'a PolicySpec)>,
}

/// The generated text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Generated {
    /// The target.
    pub target: Target,
    /// The configuration or program.
    pub text: String,
    /// Where the target cannot say exactly what the policy says, and what was done instead.
    pub warnings: Vec<String>,
}

/// Why a target cannot be written: what the policy says that the target cannot express
/// safely, and what to do instead (`Display` gives the whole sentence).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

/// What kind of [`Error`] it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file has `[[routes]]`, and the target writes no per-route policy.
    Routes,
    /// The policy (or the upstream or listen address given) says something the target cannot
    /// express safely: a pattern it has no form for, credentials it cannot scope, an address
    /// it cannot take.
    Unsupported,
}

impl Error {
    fn unsupported(message: String) -> Error {
        Error {
            kind: ErrorKind::Unsupported,
            message,
        }
    }

    /// What kind of error it is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The reason and the fix, as one sentence.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Writes `input` for `target`, or says why the target cannot express the policy safely.
pub fn generate(target: Target, input: &Input<'_>) -> Result<Generated, Error> {
    if !input.routes.is_empty()
        && !matches!(target, Target::Nginx | Target::Caddy | Target::Express)
    {
        return Err(Error {
            kind: ErrorKind::Routes,
            message: format!(
                concat!(
                    "the file has [[routes]]; `corsair gen {}` does not write per-route policies ",
                    "yet (nginx, caddy and express do), and applying [policy] alone could be less ",
                    "strict than a route. Generate for one of those, generate without routes, or ",
                    "serve the file with `corsair serve`"
                ),
                target.name()
            ),
        });
    }
    let written = match target {
        Target::Nginx => nginx::generate(input),
        Target::Apache => apache::generate(input),
        Target::Caddy => caddy::generate(input),
        Target::Express => express::generate(input),
        Target::Starlette => starlette::generate(input),
        Target::Flask => flask::generate(input),
        Target::Django => django::generate(input),
        Target::Spring => spring::generate(input),
        Target::Axum => axum::generate_tower(input),
        Target::TowerHttp => axum::generate_tower_http(input),
        Target::Traefik => traefik::generate(input),
        Target::Envoy => envoy::generate(input),
        Target::GatewayApi => gateway_api::generate(input),
        Target::IngressNginx => ingress_nginx::generate(input),
    };
    let (text, warnings) = written.map_err(Error::unsupported)?;
    Ok(Generated {
        target,
        text,
        warnings,
    })
}

/// The policy's origins for a target whose only pattern is a `*` in the host
/// (`scheme://*.domain[:port]`): Kubernetes' Gateway API and ingress-nginx. `*` alone for any
/// origin. An origin on any port or a regular expression is refused, naming `field` (the
/// target's setting). The bool says whether a subdomain pattern is among them.
pub(crate) fn wildcard_origins(
    spec: &PolicySpec,
    field: &str,
) -> Result<(Vec<String>, bool), String> {
    let (policy, _) = spec
        .build()
        .map_err(|p| format!("the policy is not valid: {}", p[0].message))?;
    if policy.any_origin() {
        return Ok((vec!["*".to_string()], false));
    }
    let mut v: Vec<String> = policy.exact_origins().map(str::to_string).collect();
    v.sort();
    let mut subdomains = false;
    let no_port_wildcard = |o: &str| {
        format!(
            "{field} has no port wildcard, so `{o}` cannot be written; list the ports, or \
            serve the policy with `corsair serve`"
        )
    };
    for p in policy.patterns() {
        v.push(match p {
            OriginPattern::Exact(e) => e.clone(),
            OriginPattern::Subdomain {
                scheme,
                suffix,
                port,
            } => {
                subdomains = true;
                match port {
                    PortRule::Default => format!("{scheme}://*.{suffix}"),
                    PortRule::Exact(n) => format!("{scheme}://*.{suffix}:{n}"),
                    PortRule::Any => {
                        return Err(no_port_wildcard(&format!("{scheme}://*.{suffix}:*")))
                    }
                }
            }
            OriginPattern::AnyPort { scheme, host } => {
                return Err(no_port_wildcard(&format!("{scheme}://{host}:*")))
            }
            OriginPattern::Regex(r) => {
                return Err(format!(
                    "{field} takes no regular expression \
                (`{}`); use exact origins or a *.domain pattern",
                    r.as_str()
                ))
            }
        });
    }
    Ok((v, subdomains))
}

/// The Kubernetes Service an upstream URL names: its host's first label, and its port.
pub(crate) fn service_of(upstream: &url::Url) -> (String, u16) {
    let host = upstream.host_str().unwrap_or("upstream");
    (
        host.split('.').next().unwrap_or(host).to_string(),
        upstream.port_or_known_default().unwrap_or(80),
    )
}

/// The upstream a proxying target forwards to, parsed.
pub(crate) fn upstream(input: &Input<'_>, target: &str) -> Result<url::Url, String> {
    let u = input.upstream.ok_or_else(|| {
        format!(
            "{target} needs an upstream to proxy to: set upstream = \"http://...\" or pass \
            --upstream"
        )
    })?;
    url::Url::parse(u).map_err(|e| format!("upstream '{u}': {e}"))
}

/// A policy for every path a target writes blocks for: the default (a route for "/" replaces
/// `[policy]`, as it covers every path) and the other routes, longest prefix first. A route path
/// with a character the target's syntax would misread (`unsafe_chars`, or whitespace) is refused.
pub(crate) type Routes<'a> = (&'a PolicySpec, Vec<(&'a str, &'a PolicySpec)>);

pub(crate) fn split_routes<'a>(
    input: &Input<'a>,
    target: &str,
    unsafe_chars: &str,
) -> Result<Routes<'a>, String> {
    for (prefix, _) in &input.routes {
        if !prefix.starts_with('/')
            || prefix
                .chars()
                .any(|c| c.is_whitespace() || unsafe_chars.contains(c))
        {
            return Err(format!(
                "{target}: the route path '{prefix}' cannot be written in its \
                configuration; use a plain path such as /api"
            ));
        }
    }
    let default = input
        .routes
        .iter()
        .find(|(p, _)| *p == "/")
        .map_or(input.spec, |(_, s)| *s);
    let routes = input
        .routes
        .iter()
        .filter(|(p, _)| *p != "/")
        .copied()
        .collect();
    Ok((default, routes))
}

/// The policy's origins as exact strings and anchored regular expressions (in a syntax common
/// to PCRE, JavaScript and Python: `^`, `$`, `\.`, `[a-z0-9-]`, `(?:...)`, `+`).
pub(crate) struct Origins {
    /// `*` without credentials.
    pub any: bool,
    pub exact: Vec<String>,
    pub regexes: Vec<String>,
}

pub(crate) fn origins(spec: &PolicySpec) -> Result<Origins, String> {
    let (policy, _) = spec.build().map_err(|p| {
        format!(
            "the policy is not valid: {}",
            p.iter()
                .map(|x| x.message.clone())
                .collect::<Vec<_>>()
                .join("; ")
        )
    })?;
    let mut o = Origins {
        any: policy.any_origin(),
        exact: Vec::new(),
        regexes: Vec::new(),
    };
    let mut exact: Vec<String> = policy.exact_origins().map(str::to_string).collect();
    exact.sort();
    o.exact = exact;
    for p in policy.patterns() {
        o.regexes.push(match p {
            OriginPattern::Exact(e) => format!("^{}$", escape(e)),
            OriginPattern::Subdomain {
                scheme,
                suffix,
                port,
            } => {
                let port = match port {
                    PortRule::Default => String::new(),
                    PortRule::Exact(n) => format!(":{n}"),
                    PortRule::Any => "(?::[0-9]+)?".to_string(),
                };
                format!("^{scheme}://(?:[a-z0-9-]+\\.)+{}{port}$", escape(suffix))
            }
            OriginPattern::AnyPort { scheme, host } => {
                format!("^{scheme}://{}(?::[0-9]+)?$", escape(host))
            }
            OriginPattern::Regex(r) => r.as_str().to_string(),
        });
    }
    Ok(o)
}

impl Origins {
    /// Every allowed origin as one regex alternative (exact origins escaped, patterns without
    /// their anchors), for targets that match the Origin with a single anchored expression.
    pub(crate) fn alternatives(&self) -> Vec<String> {
        let mut out: Vec<String> = self.exact.iter().map(|e| escape(e)).collect();
        out.extend(
            self.regexes
                .iter()
                .map(|r| r.trim_start_matches('^').trim_end_matches('$').to_string()),
        );
        out
    }
}

/// Escapes regex metacharacters.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if ".^$|()[]{}*+?\\/".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The CORS response headers a generated proxy drops from the upstream's responses: the core's
/// one list ([`crate::header::CORS_RESPONSE_HEADERS`]), spelled as configs usually spell them.
pub(crate) fn cors_response_headers() -> impl Iterator<Item = String> {
    crate::header::CORS_RESPONSE_HEADERS
        .iter()
        .map(|name| crate::header::written(name))
}

/// A Python string literal.
pub(crate) fn py_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Python string literals, comma-separated (the inside of a list literal).
pub(crate) fn py_list(v: &[String]) -> String {
    v.iter().map(|s| py_str(s)).collect::<Vec<_>>().join(", ")
}

/// `host:port` split for the generated apps' listen calls.
pub(crate) fn host_port<'a>(input: &Input<'a>) -> Result<(&'a str, &'a str), String> {
    input
        .listen
        .rsplit_once(':')
        .ok_or_else(|| format!("listen '{}' must be host:port", input.listen))
}

/// The methods a preflight answer lists.
pub(crate) fn methods(spec: &PolicySpec) -> Vec<String> {
    if spec.methods.is_empty() {
        vec!["GET".into(), "HEAD".into(), "POST".into()]
    } else {
        spec.methods
            .iter()
            .map(|m| crate::method::normalize(m.trim()).into_owned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sample policy of the tests (`tests/fixtures/sample-policy.toml`), and any port of
    /// localhost.
    fn spec() -> PolicySpec {
        let text = include_str!("../../../tests/fixtures/sample-policy.toml");
        let (file, _) = crate::policy::load(text, None, &Default::default()).unwrap();
        let mut spec = file.policy.spec().clone();
        spec.origins.push("http://localhost:*".into());
        spec
    }

    #[test]
    fn errors_say_their_kind() {
        let spec = spec();
        let input = Input {
            spec: &spec,
            listen: "127.0.0.1:8080",
            upstream: None,
            routes: vec![("/public", &spec)],
        };
        let e = generate(Target::Flask, &input).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Routes);
        assert!(
            e.to_string()
                .contains("serve the file with `corsair serve`"),
            "{e}"
        );
        let boxed: Box<dyn std::error::Error> = Box::new(e);
        assert!(boxed.to_string().starts_with("the file has [[routes]]"));
    }

    #[test]
    fn subdomain_patterns_become_anchored_escaped_regexes() {
        let o = origins(&spec()).unwrap();
        assert_eq!(o.exact, vec!["https://app.example.com"]);
        assert_eq!(o.regexes[0], r"^https://(?:[a-z0-9-]+\.)+example\.com$");
        let re = regex::Regex::new(&o.regexes[0]).unwrap();
        assert!(re.is_match("https://a.b.example.com"));
        assert!(
            !re.is_match("https://example.com")
                && !re.is_match("https://aexample.com")
                && !re.is_match("https://a.example.com.evil.org")
        );
    }

    #[test]
    fn every_target_generates_and_never_uses_a_wildcard_with_credentials() {
        let s = spec();
        let input = Input {
            spec: &s,
            listen: "127.0.0.1:8080",
            upstream: Some("http://127.0.0.1:9000"),
            routes: Vec::new(),
        };
        for t in Target::ALL {
            if matches!(t, Target::GatewayApi | Target::IngressNginx) {
                // It cannot say `http://localhost:*`: refused with the reason, never widened.
                let e = generate(t, &input).unwrap_err();
                assert!(
                    e.message().contains("no port wildcard") && e.kind() == ErrorKind::Unsupported,
                    "{e}"
                );
                continue;
            }
            let g = generate(t, &input).unwrap();
            assert!(g.text.contains("example"), "{t:?}");
            // Envoy's `domains: ["*"]` is about Host names, not origins.
            let text: String = g
                .text
                .lines()
                .filter(|l| !l.trim_start().starts_with("domains:"))
                .collect();
            assert!(
                !text.contains("\"*\"") && !text.contains("'*'") && !text.contains("\".*\""),
                "{t:?} must not allow '*':\n{}",
                g.text
            );
        }
    }

    #[test]
    fn every_target_writes_a_public_policy_and_refuses_a_missing_upstream_where_it_proxies() {
        let s = PolicySpec {
            origins: vec!["*".into()],
            ..Default::default()
        };
        let input = Input {
            spec: &s,
            listen: "127.0.0.1:8080",
            upstream: Some("http://127.0.0.1:9000"),
            routes: Vec::new(),
        };
        for t in Target::ALL {
            let g = generate(t, &input).unwrap();
            assert!(
                g.text.contains('*') || g.text.contains("AllowOrigin::any()"),
                "{t:?}:\n{}",
                g.text
            );
            let without = Input {
                upstream: None,
                ..input.clone()
            };
            let proxies = matches!(
                t,
                Target::Nginx
                    | Target::Apache
                    | Target::Caddy
                    | Target::Traefik
                    | Target::Envoy
                    | Target::GatewayApi
                    | Target::IngressNginx
            );
            match generate(t, &without) {
                Err(e) => assert!(proxies && e.message().contains("upstream"), "{t:?}: {e}"),
                Ok(_) => assert!(!proxies, "{t:?} needs an upstream"),
            }
        }
    }

    #[test]
    fn target_names_round_trip() {
        for t in Target::ALL {
            assert_eq!(t.name().parse::<Target>(), Ok(t));
        }
        let err = "iis".parse::<Target>().unwrap_err();
        assert_eq!(err, UnknownTarget("iis".into()));
        assert!(err.to_string().contains("tower-http"), "{err}");
    }
}
