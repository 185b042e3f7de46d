//! `corsair gen vite|webpack|cra|angular --dev`: `corsair dev`'s setup written as each dev
//! server's own proxy configuration: the routes, longest prefix first and on a segment boundary,
//! the upstream's own `Host` (`changeOrigin`), WebSockets (`ws`), `Location` kept on the dev
//! origin (`autoRewrite`) and `Set-Cookie` without its `Domain` (`cookieDomainRewrite: ''`).
//! All four hand these options to http-proxy (Vite and Angular's application builder directly,
//! webpack-dev-server and Create React App through http-proxy-middleware).

use url::Url;

/// A dev server whose proxy configuration corsair writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DevTarget {
    /// Vite's `server.proxy` (`vite.config.mjs`).
    Vite,
    /// webpack-dev-server's `devServer.proxy` (`webpack.config.js`).
    Webpack,
    /// Create React App's `src/setupProxy.js`.
    Cra,
    /// Angular CLI's `proxy.conf.json` (`ng serve --proxy-config`), for both the application
    /// (esbuild and Vite) and the webpack builders.
    Angular,
}

/// A name that is no dev server's `corsair gen --dev` writes for.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' has no --dev form: use vite, webpack, cra or angular")]
pub struct UnknownDevTarget(pub String);

/// Why a dev server's setup cannot be written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DevGenError {
    /// No route was given.
    #[error("no --route: give at least one, e.g. --route /api=http://127.0.0.1:8080")]
    NoRoute,
    /// A prefix that is no path (or would break out of the generated file's quoting).
    #[error("the prefix '{0}' must be a path starting with '/'")]
    Prefix(String),
}

impl std::str::FromStr for DevTarget {
    type Err = UnknownDevTarget;
    fn from_str(s: &str) -> Result<Self, UnknownDevTarget> {
        match s.to_ascii_lowercase().as_str() {
            "vite" => Ok(DevTarget::Vite),
            "webpack" | "webpack-dev-server" => Ok(DevTarget::Webpack),
            "cra" | "create-react-app" | "react-scripts" => Ok(DevTarget::Cra),
            "angular" | "ng" => Ok(DevTarget::Angular),
            other => Err(UnknownDevTarget(other.to_string())),
        }
    }
}

/// One route of `corsair dev` (and of the setups `gen --dev` writes): requests whose path is
/// under `prefix`, on a segment boundary, go to the server `to`. Read from `PREFIX=URL`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevRoute {
    /// The prefix, starting with `/`, e.g. `/api`.
    pub prefix: String,
    /// The server those requests go to: http(s), a host, no path (see [`upstream`]).
    pub to: Url,
}

/// What is wrong with a `--route` or an upstream URL; each message names the flag, the value and
/// the form that works.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RouteError {
    /// A `--route` without `=`.
    #[error("--route '{0}' must be PREFIX=URL, e.g. /api=http://127.0.0.1:8080")]
    Form(String),
    /// A `--route` whose prefix does not start with `/`.
    #[error("--route '{route}': the prefix '{prefix}' must start with '/', e.g. /{prefix}={to}")]
    Prefix {
        /// The whole argument.
        route: String,
        /// Its prefix.
        prefix: String,
        /// Its URL.
        to: String,
    },
    /// An upstream without `scheme://`.
    #[error("{flag} '{text}' has no scheme; did you mean http://{text}?")]
    NoScheme {
        /// The flag (`--to`, `--route`).
        flag: String,
        /// The value.
        text: String,
    },
    /// An upstream the URL parser refuses.
    #[error("{flag} '{text}' is not a URL ({reason})")]
    NotUrl {
        /// The flag.
        flag: String,
        /// The value.
        text: String,
        /// The parser's reason.
        reason: url::ParseError,
    },
    /// An upstream that is not http(s) with a host.
    #[error("{flag} '{text}' must be an http:// or https:// URL with a host")]
    Scheme {
        /// The flag.
        flag: String,
        /// The value.
        text: String,
    },
    /// An upstream with a path or query: the path is forwarded unchanged.
    #[error(
        "{flag} '{text}': the path is forwarded unchanged, so give the server alone, e.g. {origin}"
    )]
    HasPath {
        /// The flag.
        flag: String,
        /// The value.
        text: String,
        /// The server alone.
        origin: String,
    },
}

impl std::str::FromStr for DevRoute {
    type Err = RouteError;
    fn from_str(s: &str) -> Result<DevRoute, RouteError> {
        let (prefix, to) = s
            .split_once('=')
            .ok_or_else(|| RouteError::Form(s.to_string()))?;
        if !prefix.starts_with('/') {
            return Err(RouteError::Prefix {
                route: s.to_string(),
                prefix: prefix.to_string(),
                to: to.to_string(),
            });
        }
        Ok(DevRoute {
            prefix: prefix.to_string(),
            to: upstream(to, "--route")?,
        })
    }
}

impl DevRoute {
    /// Whether `path` (with its query) is under this route's prefix, on a segment boundary:
    /// `/api` covers `/api`, `/api/items` and `/api?x`, never `/apis`.
    pub fn covers(&self, path: &str) -> bool {
        let p = bare(&self.prefix);
        (p.is_empty() && path.starts_with('/'))
            || path == p
            || path
                .strip_prefix(p)
                .is_some_and(|rest| rest.starts_with('/') || rest.starts_with('?'))
    }

    /// The upstream's origin, as the dev servers' configurations name it.
    pub fn to_origin(&self) -> String {
        self.to.origin().ascii_serialization()
    }
}

/// Orders routes longest prefix first, so the first that [`covers`](DevRoute::covers) a path
/// is the longest: the order `corsair dev` matches in and every generated setup lists.
pub fn longest_first(routes: &mut [DevRoute]) {
    routes.sort_by_key(|r| std::cmp::Reverse(bare(&r.prefix).len()));
}

/// An upstream URL: http(s), a host, no path beyond `/`. `flag` names where it was given.
pub fn upstream(text: &str, flag: &str) -> Result<Url, RouteError> {
    let (flag, text_) = (flag.to_string(), text.to_string());
    if !text.contains("://") {
        return Err(RouteError::NoScheme { flag, text: text_ });
    }
    let u = Url::parse(text).map_err(|reason| RouteError::NotUrl {
        flag: flag.clone(),
        text: text_.clone(),
        reason,
    })?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err(RouteError::Scheme { flag, text: text_ });
    }
    if u.path() != "/" || u.query().is_some() {
        return Err(RouteError::HasPath {
            flag,
            text: text_,
            origin: u.origin().ascii_serialization(),
        });
    }
    Ok(u)
}

/// A JavaScript string literal (JSON's, which JavaScript reads the same).
fn js(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

/// A prefix without its trailing `/`, the form the matchers compare with.
fn bare(prefix: &str) -> &str {
    prefix.trim_end_matches('/')
}

/// The routes, longest prefix first (each dev server takes the first that matches).
fn ordered(routes: &[DevRoute]) -> Vec<DevRoute> {
    let mut r = routes.to_vec();
    longest_first(&mut r);
    r
}

const OPTIONS: &str = "changeOrigin: true, ws: true, autoRewrite: true, cookieDomainRewrite: ''";

/// The configuration `target` reads, for a dev server on `host:port` with `routes`.
pub fn generate(
    target: DevTarget,
    host: &str,
    port: u16,
    routes: &[DevRoute],
) -> Result<String, DevGenError> {
    if routes.is_empty() {
        return Err(DevGenError::NoRoute);
    }
    for r in routes {
        if !r.prefix.starts_with('/') || r.prefix.contains(['\\', '\n', '\r']) {
            return Err(DevGenError::Prefix(r.prefix.clone()));
        }
    }
    let mut out = String::new();
    let header = |tool: &str| {
        format!(
            "// Written by `corsair gen {tool} --dev`: the API routes under the dev server's own \
                origin, as\n// `corsair dev` serves them (longest prefix first, on a segment \
                boundary; the upstream's Host;\n// WebSockets; Location and Set-Cookie kept on the \
                dev origin).\n"
        )
    };
    match target {
        DevTarget::Vite => {
            out.push_str(&header("vite"));
            out.push_str(
                "import { defineConfig } from 'vite';\n\nexport default defineConfig({\n  \
                server: {\n",
            );
            out.push_str(&format!(
                "    host: {},\n    port: {port},\n    strictPort: true,\n    proxy: {{\n",
                js(host)
            ));
            for r in ordered(routes) {
                // A key starting with ^ is a regular expression on the path and query.
                let key = format!("^{}(?:/|\\?|$)", regex_syntax::escape(bare(&r.prefix)));
                out.push_str(&format!(
                    "      {}: {{ target: {}, {OPTIONS} }},\n",
                    js(&key),
                    js(&r.to_origin())
                ));
            }
            out.push_str("    },\n  },\n});\n");
        }
        DevTarget::Webpack => {
            out.push_str(&header("webpack"));
            out.push_str(
                "const under = (prefix) => (path) => path === prefix || \
                path.startsWith(prefix + '/');\n\n",
            );
            out.push_str("module.exports = {\n  mode: 'development',\n  devServer: {\n");
            out.push_str(&format!(
                "    host: {},\n    port: {port},\n    proxy: [\n",
                js(host)
            ));
            for r in ordered(routes) {
                out.push_str(&format!(
                    "      {{ context: under({}), target: {}, {OPTIONS} }},\n",
                    js(bare(&r.prefix)),
                    js(&r.to_origin())
                ));
            }
            out.push_str("    ],\n  },\n};\n");
        }
        DevTarget::Cra => {
            out.push_str(&header("cra"));
            out.push_str(&format!(
                "// Save as src/setupProxy.js; start with HOST={host} PORT={port} npm start.\n"
            ));
            out.push_str("const { createProxyMiddleware } = require('http-proxy-middleware');\n\n");
            out.push_str(
                "const under = (prefix) => (path) => path === prefix || \
                path.startsWith(prefix + '/');\n\n",
            );
            out.push_str("module.exports = function (app) {\n");
            for r in ordered(routes) {
                out.push_str(&format!(
                    "  app.use(createProxyMiddleware(under({}), {{ target: {}, {OPTIONS} }}));\n",
                    js(bare(&r.prefix)),
                    js(&r.to_origin())
                ));
            }
            out.push_str("};\n");
        }
        DevTarget::Angular => {
            // JSON has no comments: the instructions go in a key Angular ignores is not
            // possible either, so the file is the object alone. Keys are globs: "/api{,/**}" is
            // "/api" and everything under it, which both builders read (micromatch for webpack,
            // a regular expression for the application builder's Vite).
            let mut entries = Vec::new();
            for r in ordered(routes) {
                let key = format!("{}{{,/**}}", bare(&r.prefix));
                entries.push(format!(
                    "  {}: {{ \"target\": {}, \"changeOrigin\": true, \"ws\": \
                        true, \"autoRewrite\": true, \"cookieDomainRewrite\": \"\" }}",
                    js(&key),
                    js(&r.to_origin())
                ));
            }
            out.push_str(&format!("{{\n{}\n}}\n", entries.join(",\n")));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes() -> Vec<DevRoute> {
        vec![
            "/api=http://127.0.0.1:8080".parse().unwrap(),
            "/api/v2/=http://127.0.0.1:8082".parse().unwrap(),
        ]
    }

    #[test]
    fn the_longest_prefix_comes_first_on_a_segment_boundary() {
        let vite = generate(DevTarget::Vite, "127.0.0.1", 5173, &routes()).unwrap();
        let v2 = vite.find("\"^/api/v2(?:").expect("the longer prefix");
        let v1 = vite.find("\"^/api(?:").expect("the shorter prefix");
        assert!(v2 < v1, "{vite}");
        assert!(
            vite.contains("strictPort: true") && vite.contains("cookieDomainRewrite: ''"),
            "{vite}"
        );
        let webpack = generate(DevTarget::Webpack, "127.0.0.1", 8081, &routes()).unwrap();
        assert!(
            webpack.find("under(\"/api/v2\")").unwrap() < webpack.find("under(\"/api\")").unwrap(),
            "{webpack}"
        );
        let cra = generate(DevTarget::Cra, "127.0.0.1", 3000, &routes()).unwrap();
        assert!(
            cra.contains("createProxyMiddleware(under(\"/api/v2\")"),
            "{cra}"
        );
        assert!(generate(DevTarget::Cra, "127.0.0.1", 3000, &[]).is_err());
        let ng = generate(DevTarget::Angular, "127.0.0.1", 4200, &routes()).unwrap();
        let v: serde_json::Value = serde_json::from_str(&ng).expect("valid JSON");
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["/api/v2{,/**}", "/api{,/**}"], "{ng}");
        assert!(
            ng.find("/api/v2{").unwrap() < ng.find("\"/api{").unwrap(),
            "{ng}"
        );
    }

    #[test]
    fn text_is_quoted_so_it_cannot_break_out() {
        // The upstream is a checked origin; the prefix is the user's text.
        let r = vec![DevRoute {
            prefix: "/a'\"b".into(),
            to: upstream("http://127.0.0.1:1", "--route").unwrap(),
        }];
        for t in [
            DevTarget::Vite,
            DevTarget::Webpack,
            DevTarget::Cra,
            DevTarget::Angular,
        ] {
            let out = generate(t, "127.0.0.1", 1, &r).unwrap();
            assert!(out.contains("\\\"b"), "{out}");
        }
    }

    #[test]
    fn a_route_covers_its_prefix_on_a_segment_boundary() {
        let api: DevRoute = "/api/=http://127.0.0.1:8080".parse().unwrap();
        for path in ["/api", "/api/", "/api/items", "/api?x=1"] {
            assert!(api.covers(path), "{path}");
        }
        for path in ["/apis", "/ap", "/", "/other/api"] {
            assert!(!api.covers(path), "{path}");
        }
        let root: DevRoute = "/=http://127.0.0.1:8080".parse().unwrap();
        assert!(root.covers("/anything"));
        let mut both = vec![root, api];
        longest_first(&mut both);
        assert_eq!(both[0].prefix, "/api/");
    }

    #[test]
    fn a_route_or_upstream_that_cannot_work_is_refused_with_the_form_that_does() {
        let err = |s: &str| s.parse::<DevRoute>().unwrap_err().to_string();
        assert_eq!(
            err("/api"),
            "--route '/api' must be PREFIX=URL, e.g. /api=http://127.0.0.1:8080"
        );
        assert!(err("api=http://x").contains("e.g. /api=http://x"));
        assert!(err("/api=127.0.0.1:8080").contains("did you mean http://127.0.0.1:8080?"));
        assert!(err("/api=http://127.0.0.1:8080/v1").contains("e.g. http://127.0.0.1:8080"));
        assert!(err("/api=ftp://x").contains("http:// or https://"));
    }
}
