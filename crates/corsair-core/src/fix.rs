//! What to change on the server: the headers to send and a snippet per common stack, derived
//! from a failure and the request that met it.

use crate::failure::{Failure, FailureKind, Stage};
use crate::request::Classified;
use serde::Serialize;

/// A server stack that snippets are written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stack {
    /// Node.js Express with the `cors` package.
    Express,
    /// FastAPI / Starlette `CORSMiddleware`.
    Fastapi,
    /// nginx.
    Nginx,
    /// Apache httpd with mod_headers.
    Apache,
    /// axum with tower-http's `CorsLayer`.
    Axum,
}

impl Stack {
    /// Every stack, in display order.
    pub const ALL: [Stack; 5] = [
        Stack::Express,
        Stack::Fastapi,
        Stack::Nginx,
        Stack::Apache,
        Stack::Axum,
    ];

    /// Lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Stack::Express => "express",
            Stack::Fastapi => "fastapi",
            Stack::Nginx => "nginx",
            Stack::Apache => "apache",
            Stack::Axum => "axum",
        }
    }
}

/// A snippet for one stack.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Snippet {
    /// The stack.
    pub stack: Stack,
    /// Code or configuration to paste.
    pub code: String,
}

/// The fix for a failure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fix {
    /// What to change, in one or two sentences.
    pub summary: String,
    /// The CORS response headers the server should send for this request (preflight and actual).
    pub headers: Vec<(String, String)>,
    /// The same policy written for common stacks.
    pub snippets: Vec<Snippet>,
}

/// What the server must allow for this request to pass.
struct Need {
    origin: String,
    credentials: bool,
    method: Option<String>,
    headers: Vec<String>,
}

/// The fix for `failure`, met by `req`.
pub fn fix(failure: &Failure, req: &Classified) -> Fix {
    build(
        failure,
        Need {
            origin: failure.sent_origin.clone(),
            credentials: req.credentials,
            method: (!crate::method::is_safelisted(&req.method)).then(|| req.method.clone()),
            headers: req.unsafe_headers.clone(),
        },
    )
}

/// The fix for a failure known only from its console message (`explain`): what the message
/// implies about the request (credentials for the credential kinds, the method or header it names).
pub fn fix_for(failure: &Failure) -> Fix {
    let hint = failure.hint.clone();
    build(
        failure,
        Need {
            origin: failure.sent_origin.clone(),
            credentials: matches!(
                failure.kind,
                FailureKind::WildcardOriginNotAllowed | FailureKind::InvalidAllowCredentials
            ),
            method: hint
                .clone()
                .filter(|_| failure.kind == FailureKind::MethodNotAllowed),
            headers: hint
                .filter(|_| failure.kind == FailureKind::HeaderNotAllowed)
                .into_iter()
                .collect(),
        },
    )
}

fn build(failure: &Failure, need: Need) -> Fix {
    let o = &need.origin;
    let summary = match failure.kind {
        FailureKind::WildcardOriginNotAllowed => format!("Echo the caller's exact origin instead of '*': send 'Access-Control-Allow-Origin: {o}' (checked against an allowlist, never blindly reflected), 'Access-Control-Allow-Credentials: true' and 'Vary: Origin'. Or, if the data is public, drop credentials on the client."),
        FailureKind::MissingAllowOriginHeader if failure.stage == Stage::Preflight && !(200..300).contains(&failure.status.unwrap_or(200)) => format!("Answer OPTIONS preflights with 204 and the CORS headers ('Access-Control-Allow-Origin: {o}', the methods and headers below) before routing and authentication run."),
        FailureKind::MissingAllowOriginHeader => format!("Send 'Access-Control-Allow-Origin: {o}' on {} (from an allowlist, with 'Vary: Origin'). If the header is set only on 2xx responses, set it on errors too (nginx: add_header ... always).", stage_words(failure.stage)),
        FailureKind::MultipleAllowOriginValues => format!("Send exactly one origin: 'Access-Control-Allow-Origin: {o}'. Look for two layers both adding the header (app and proxy), or a list pasted into it; pick the caller's origin from an allowlist instead."),
        FailureKind::InvalidAllowOriginValue | FailureKind::AllowOriginMismatch => format!("Send the origin exactly as the browser does: 'Access-Control-Allow-Origin: {o}' (scheme, host and port as shown, lowercase, no trailing slash, no path)."),
        FailureKind::InvalidAllowCredentials => "Send 'Access-Control-Allow-Credentials: true' (exactly, lowercase) with the exact origin, or stop sending credentials from the client.".to_string(),
        FailureKind::PreflightInvalidStatus => "Answer OPTIONS preflights with 204 (or 200) and the CORS headers before routing and authentication run: browsers never send cookies or Authorization on a preflight.".to_string(),
        FailureKind::PreflightDisallowedRedirect => "Make the URL answer the preflight itself, without redirecting: call the final URL directly (https, exact trailing slash, no login redirect).".to_string(),
        FailureKind::InvalidAllowMethods => "Send Access-Control-Allow-Methods as a comma-separated list of method names, e.g. 'GET, POST, PUT'.".to_string(),
        FailureKind::InvalidAllowHeaders => "Send Access-Control-Allow-Headers as a comma-separated list of header names, e.g. 'Content-Type, Authorization'.".to_string(),
        FailureKind::MethodNotAllowed => format!("Add {} to Access-Control-Allow-Methods (exact case: methods other than DELETE, GET, HEAD, OPTIONS, POST, PUT are sent as written).", failure.hint.as_deref().unwrap_or("the method")),
        FailureKind::HeaderNotAllowed => format!("Add {} to Access-Control-Allow-Headers{}.", failure.hint.as_deref().unwrap_or("the header"), if failure.hint.as_deref() == Some("authorization") { " by name ('*' does not cover Authorization)" } else { "" }),
        FailureKind::RedirectContainsCredentials => "Redirect to a URL without user:password@; send credentials in an Authorization header instead.".to_string(),
    };
    let mut headers = vec![("Access-Control-Allow-Origin".to_string(), o.clone())];
    if need.credentials {
        headers.push(("Access-Control-Allow-Credentials".into(), "true".into()));
    }
    if let Some(m) = &need.method {
        headers.push(("Access-Control-Allow-Methods".into(), m.clone()));
    }
    if !need.headers.is_empty() {
        headers.push((
            "Access-Control-Allow-Headers".into(),
            need.headers.join(", "),
        ));
    }
    headers.push(("Vary".into(), "Origin".into()));
    let snippets = Stack::ALL
        .iter()
        .map(|&stack| Snippet {
            stack,
            code: snippet(stack, &need),
        })
        .collect();
    Fix {
        summary,
        headers,
        snippets,
    }
}

fn stage_words(stage: Stage) -> &'static str {
    match stage {
        Stage::Preflight => "the OPTIONS preflight response",
        Stage::Actual => "the response",
    }
}

fn snippet(stack: Stack, n: &Need) -> String {
    let methods: Vec<String> = ["GET", "HEAD", "POST"]
        .iter()
        .map(|s| s.to_string())
        .chain(n.method.clone())
        .collect();
    let o = &n.origin;
    let cred = n.credentials;
    let q = |v: &[String]| {
        v.iter()
            .map(|s| format!("'{s}'"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let dq = |v: &[String]| {
        v.iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match stack {
        Stack::Express => format!(
            "const cors = require('cors');\napp.use(cors({{\n  origin: ['{o}'],\n  methods: [{}],\n  allowedHeaders: [{}],\n  credentials: {cred},\n}}));",
            q(&methods),
            q(&n.headers)
        ),
        Stack::Fastapi => format!(
            "from fastapi.middleware.cors import CORSMiddleware\napp.add_middleware(\n    CORSMiddleware,\n    allow_origins=[\"{o}\"],\n    allow_methods=[{}],\n    allow_headers=[{}],\n    allow_credentials={},\n)",
            dq(&methods),
            dq(&n.headers),
            if cred { "True" } else { "False" }
        ),
        Stack::Nginx => {
            let mut s = format!("# http {{ }} context\nmap $http_origin $cors_origin {{\n    default \"\";\n    \"{o}\" $http_origin;\n}}\n\n# in the location {{ }}\nadd_header Access-Control-Allow-Origin $cors_origin always;\nadd_header Vary Origin always;\n");
            if cred {
                s.push_str("add_header Access-Control-Allow-Credentials true always;\n");
            }
            s.push_str(&format!("if ($request_method = OPTIONS) {{\n    add_header Access-Control-Allow-Origin $cors_origin always;\n    add_header Access-Control-Allow-Methods \"{}\" always;\n", methods.join(", ")));
            if !n.headers.is_empty() {
                s.push_str(&format!("    add_header Access-Control-Allow-Headers \"{}\" always;\n", n.headers.join(", ")));
            }
            if cred {
                s.push_str("    add_header Access-Control-Allow-Credentials true always;\n");
            }
            s.push_str("    add_header Vary Origin always;\n    return 204;\n}");
            s
        }
        Stack::Apache => {
            let esc = regex_escape(o);
            let mut s = format!("SetEnvIf Origin \"^{esc}$\" CORS_ORIGIN=$0\nHeader always set Access-Control-Allow-Origin \"%{{CORS_ORIGIN}}e\" env=CORS_ORIGIN\nHeader always merge Vary Origin\n");
            if cred {
                s.push_str("Header always set Access-Control-Allow-Credentials \"true\" env=CORS_ORIGIN\n");
            }
            s.push_str(&format!("Header always set Access-Control-Allow-Methods \"{}\" env=CORS_ORIGIN\n", methods.join(", ")));
            if !n.headers.is_empty() {
                s.push_str(&format!("Header always set Access-Control-Allow-Headers \"{}\" env=CORS_ORIGIN\n", n.headers.join(", ")));
            }
            s.push_str("RewriteEngine On\nRewriteCond %{REQUEST_METHOD} OPTIONS\nRewriteRule ^ - [R=204,L]");
            s
        }
        Stack::Axum => {
            let hs = n.headers.iter().map(|h| format!("HeaderName::from_static(\"{h}\")")).collect::<Vec<_>>().join(", ");
            let ms = methods.iter().map(|m| format!("Method::from_bytes(b\"{m}\").unwrap()")).collect::<Vec<_>>().join(", ");
            format!(
                "use tower_http::cors::CorsLayer;\nlet cors = CorsLayer::new()\n    .allow_origin([HeaderValue::from_static(\"{o}\")])\n    .allow_methods([{ms}])\n    .allow_headers([{hs}])\n    .allow_credentials({cred});\nlet app = Router::new() /* routes */ .layer(cors);"
            )
        }
    }
}

fn regex_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if ".^$|()[]{}*+?\\".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::browser::Browser;
    use crate::request::{Credentials, RequestSpec};

    #[test]
    fn fix_names_the_headers_to_send() {
        let req = RequestSpec {
            url: "https://api.example/x".into(),
            origin: "https://app.example".into(),
            method: "PATCH".into(),
            headers: vec![("X-Token".into(), "1".into())],
            credentials: Credentials::Include,
            ..Default::default()
        }
        .classify(Browser::Chromium)
        .unwrap();
        let f = Failure {
            kind: FailureKind::MethodNotAllowed,
            stage: Stage::Preflight,
            hint: Some("PATCH".into()),
            status: Some(204),
            allow_origin_lines: 1,
            url: "https://api.example/x".into(),
            initial_url: None,
            page_origin: "https://app.example".into(),
            sent_origin: "https://app.example".into(),
        };
        let fx = fix(&f, &req);
        assert!(fx.summary.contains("PATCH"));
        assert!(fx
            .headers
            .contains(&("Access-Control-Allow-Methods".into(), "PATCH".into())));
        assert!(fx
            .headers
            .contains(&("Access-Control-Allow-Credentials".into(), "true".into())));
        assert_eq!(fx.snippets.len(), Stack::ALL.len());
        let apache = &fx
            .snippets
            .iter()
            .find(|s| s.stack == Stack::Apache)
            .unwrap()
            .code;
        assert!(apache.contains("^https://app\\.example$"));
    }
}
