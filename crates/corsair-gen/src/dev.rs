//! `corsair gen vite|webpack|cra|angular --dev`: `corsair dev`'s setup written as each dev
//! server's own proxy configuration: the routes, longest prefix first and on a segment boundary,
//! the upstream's own `Host` (`changeOrigin`), WebSockets (`ws`), `Location` kept on the dev
//! origin (`autoRewrite`) and `Set-Cookie` without its `Domain` (`cookieDomainRewrite: ''`).
//! All four hand these options to http-proxy (Vite and Angular's application builder directly,
//! webpack-dev-server and Create React App through http-proxy-middleware).

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

impl std::str::FromStr for DevTarget {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "vite" => Ok(DevTarget::Vite),
            "webpack" | "webpack-dev-server" => Ok(DevTarget::Webpack),
            "cra" | "create-react-app" | "react-scripts" => Ok(DevTarget::Cra),
            "angular" | "ng" => Ok(DevTarget::Angular),
            other => Err(format!(
                "'{other}' has no --dev form: use vite, webpack, cra or angular"
            )),
        }
    }
}

/// One route: a path prefix (starting with `/`) and the upstream origin it goes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevRoute {
    /// The prefix, e.g. `/api`.
    pub prefix: String,
    /// The upstream, e.g. `http://127.0.0.1:8080`.
    pub to: String,
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
fn ordered(routes: &[DevRoute]) -> Vec<&DevRoute> {
    let mut r: Vec<&DevRoute> = routes.iter().collect();
    r.sort_by_key(|r| std::cmp::Reverse(bare(&r.prefix).len()));
    r
}

const OPTIONS: &str = "changeOrigin: true, ws: true, autoRewrite: true, cookieDomainRewrite: ''";

/// The configuration `target` reads, for a dev server on `host:port` with `routes`.
pub fn generate(
    target: DevTarget,
    host: &str,
    port: u16,
    routes: &[DevRoute],
) -> Result<String, String> {
    if routes.is_empty() {
        return Err(
            "no --route: give at least one, e.g. --route /api=http://127.0.0.1:8080".into(),
        );
    }
    for r in routes {
        if !r.prefix.starts_with('/') || r.prefix.contains(['\\', '\n', '\r']) {
            return Err(format!(
                "the prefix '{}' must be a path starting with '/'",
                r.prefix
            ));
        }
    }
    let mut out = String::new();
    let header = |tool: &str| {
        format!(
            "// Written by `corsair gen {tool} --dev`: the API routes under the dev server's own origin, as\n// `corsair dev` serves them (longest prefix first, on a segment boundary; the upstream's Host;\n// WebSockets; Location and Set-Cookie kept on the dev origin).\n"
        )
    };
    match target {
        DevTarget::Vite => {
            out.push_str(&header("vite"));
            out.push_str("import { defineConfig } from 'vite';\n\nexport default defineConfig({\n  server: {\n");
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
                    js(&r.to)
                ));
            }
            out.push_str("    },\n  },\n});\n");
        }
        DevTarget::Webpack => {
            out.push_str(&header("webpack"));
            out.push_str("const under = (prefix) => (path) => path === prefix || path.startsWith(prefix + '/');\n\n");
            out.push_str("module.exports = {\n  mode: 'development',\n  devServer: {\n");
            out.push_str(&format!(
                "    host: {},\n    port: {port},\n    proxy: [\n",
                js(host)
            ));
            for r in ordered(routes) {
                out.push_str(&format!(
                    "      {{ context: under({}), target: {}, {OPTIONS} }},\n",
                    js(bare(&r.prefix)),
                    js(&r.to)
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
            out.push_str("const under = (prefix) => (path) => path === prefix || path.startsWith(prefix + '/');\n\n");
            out.push_str("module.exports = function (app) {\n");
            for r in ordered(routes) {
                out.push_str(&format!(
                    "  app.use(createProxyMiddleware(under({}), {{ target: {}, {OPTIONS} }}));\n",
                    js(bare(&r.prefix)),
                    js(&r.to)
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
                    "  {}: {{ \"target\": {}, \"changeOrigin\": true, \"ws\": true, \"autoRewrite\": true, \"cookieDomainRewrite\": \"\" }}",
                    js(&key),
                    js(&r.to)
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
            DevRoute {
                prefix: "/api".into(),
                to: "http://127.0.0.1:8080".into(),
            },
            DevRoute {
                prefix: "/api/v2/".into(),
                to: "http://127.0.0.1:8082".into(),
            },
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
        let r = vec![DevRoute {
            prefix: "/a'\"b".into(),
            to: "http://127.0.0.1:1/\"x".into(),
        }];
        for t in [
            DevTarget::Vite,
            DevTarget::Webpack,
            DevTarget::Cra,
            DevTarget::Angular,
        ] {
            let out = generate(t, "127.0.0.1", 1, &r).unwrap();
            assert!(out.contains("\\\"b") && out.contains("1/\\\"x"), "{out}");
        }
    }
}
