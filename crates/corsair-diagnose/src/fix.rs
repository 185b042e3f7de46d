//! What to change on the server, derived from a failure and the request that met it: the
//! headers to send, the corsair policy that sends them, and that policy written for common
//! stacks by `corsair gen` (one source for every snippet, so each inherits gen's proof on the
//! real server).

use crate::failure::{Failure, FailureKind, Stage};
use crate::gen::{generate, Input, Target};
use crate::policy::{Level, PolicySpec};
use crate::request::Classified;
use serde::Serialize;

/// A server stack that snippets are written for.
///
/// Each is named as its `corsair gen` target is, so `--stack axum` and `gen axum` write the same
/// thing (axum behind corsair-tower), and tower-http's layer is `tower-http` in both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Stack {
    /// Node.js Express with the `cors` package.
    Express,
    /// FastAPI / Starlette `CORSMiddleware`.
    Fastapi,
    /// nginx.
    Nginx,
    /// Apache httpd with mod_headers.
    Apache,
    /// axum behind corsair-tower (as `corsair gen axum`).
    Axum,
    /// axum with tower-http's `CorsLayer` (as `corsair gen tower-http`).
    TowerHttp,
}

impl Stack {
    /// Every stack, in display order.
    pub const ALL: [Stack; 6] = [
        Stack::Express,
        Stack::Fastapi,
        Stack::Nginx,
        Stack::Apache,
        Stack::Axum,
        Stack::TowerHttp,
    ];

    /// Lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Stack::Express => "express",
            Stack::Fastapi => "fastapi",
            Stack::Nginx => "nginx",
            Stack::Apache => "apache",
            Stack::Axum => "axum",
            Stack::TowerHttp => "tower-http",
        }
    }
}

impl Stack {
    /// The `corsair gen` target that writes this stack.
    pub fn target(self) -> Target {
        match self {
            Stack::Express => Target::Express,
            Stack::Fastapi => Target::Starlette,
            Stack::Nginx => Target::Nginx,
            Stack::Apache => Target::Apache,
            Stack::Axum => Target::Axum,
            Stack::TowerHttp => Target::TowerHttp,
        }
    }
}

/// A snippet for one stack: `corsair gen` output for the fix's policy, so it is exactly what
/// the gen tests prove on the real server.
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
    /// The corsair policy that fixes it, as a `corsair.toml` (`corsair serve`, `corsair gen`),
    /// when the page's origin is known and a policy can allow it.
    pub policy: Option<String>,
    /// The policy written for common stacks by `corsair gen`.
    pub snippets: Vec<Snippet>,
    /// What the policy and snippets assume, or why there are none.
    pub notes: Vec<String>,
    /// The changes to make to the server's configuration, one per item (when known from its
    /// answers): e.g. "add content-type to the allowed request headers".
    pub changes: Vec<String>,
}

/// What the server must allow for the request to pass.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Need {
    /// The `Origin` the request carries; `None` when unknown (a Firefox message names none).
    pub origin: Option<String>,
    /// Whether the request is made with credentials.
    pub credentials: bool,
    /// The method, when it is not GET, HEAD or POST.
    pub method: Option<String>,
    /// The non-safelisted request header names (lowercase).
    pub headers: Vec<String>,
    /// Methods beyond GET, HEAD and POST that the server already allows (read from its
    /// answers): the fix keeps them, so it never narrows what worked.
    pub kept_methods: Vec<String>,
}

/// Where generated snippets listen and proxy to: placeholders a reader replaces, but valid values.
pub const SNIPPET_LISTEN: &str = "127.0.0.1:8080";
/// See [`SNIPPET_LISTEN`].
pub const SNIPPET_UPSTREAM: &str = "http://127.0.0.1:3000";

impl Need {
    /// What `req` needs, sent with the `Origin` value `origin`.
    pub fn of(req: &Classified, origin: &str) -> Need {
        Need {
            origin: Some(origin.to_string()),
            credentials: req.credentials,
            method: (!crate::method::is_safelisted(&req.method)).then(|| req.method.clone()),
            headers: req.unsafe_headers.clone(),
            kept_methods: Vec::new(),
        }
    }
}

/// What the server already allows, read from its answers (the preflight's
/// `Access-Control-Allow-Methods` and `-Headers`, `Access-Control-Allow-Credentials`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Observed {
    /// Methods listed (`*` left out).
    pub methods: Vec<String>,
    /// Header names listed, lowercase (`*` left out).
    pub headers: Vec<String>,
    /// Whether it answered `Access-Control-Allow-Credentials: true`.
    pub credentials: bool,
}

impl Observed {
    /// Adds what one response allows.
    pub fn read(&mut self, head: &crate::ResponseHead) {
        let list = |name: &str| -> Vec<String> {
            head.get(name)
                .map(|j| {
                    j.value
                        .split(',')
                        .map(|t| t.trim().to_string())
                        .filter(|t| !t.is_empty() && t != "*")
                        .collect()
                })
                .unwrap_or_default()
        };
        for m in list("access-control-allow-methods") {
            if !self.methods.contains(&m) {
                self.methods.push(m);
            }
        }
        for h in list("access-control-allow-headers") {
            let h = h.to_ascii_lowercase();
            // Always safelisted: listing them changes nothing.
            let always = matches!(
                h.as_str(),
                "accept" | "accept-language" | "content-language"
            );
            if !always && !self.headers.contains(&h) {
                self.headers.push(h);
            }
        }
        self.credentials |= head
            .get("access-control-allow-credentials")
            .is_some_and(|j| j.value == "true");
    }
}

/// The fix for `failure`, met by `req`, that keeps what the server already allows
/// (`observed`) and says what changes: it never narrows what worked.
pub fn fix_keeping(failure: &Failure, req: &Classified, observed: &Observed) -> Fix {
    let mut need = Need::of(req, &failure.sent_origin);
    let mut changes = Vec::new();
    if let Some(m) = &need.method {
        if !observed.methods.iter().any(|o| o == m) {
            changes.push(format!("add {m} to the allowed methods"));
        }
    }
    for h in &need.headers {
        if !observed.headers.contains(h) {
            changes.push(format!("add {h} to the allowed request headers"));
        }
    }
    if need.credentials && !observed.credentials {
        changes.push("allow credentials (with an explicit origin list)".into());
    }
    for m in &observed.methods {
        if !crate::method::is_safelisted(m) && need.method.as_ref() != Some(m) {
            need.kept_methods.push(m.clone());
        }
    }
    for h in &observed.headers {
        if !need.headers.contains(h) {
            need.headers.push(h.clone());
        }
    }
    need.credentials |= observed.credentials;
    let mut kept = Vec::new();
    if !observed.methods.is_empty() {
        kept.push(format!("methods {}", observed.methods.join(", ")));
    }
    if !observed.headers.is_empty() {
        kept.push(format!("headers {}", observed.headers.join(", ")));
    }
    if observed.credentials {
        kept.push("credentials".to_string());
    }
    let mut notes = Vec::new();
    if !kept.is_empty() {
        notes.push(format!(
            "The policy keeps what the server already allows ({}, read from its preflight \
            answer), so requests that worked still work.",
            kept.join("; ")
        ));
    } else {
        notes.push(
            "The server's answers did not list the methods and headers it allows: keep your \
            existing lists and make only the changes above."
                .into(),
        );
    }
    let mut fx = build(failure, need, notes);
    fx.changes = changes;
    fx
}

/// The fix for `failure`, met by `req`.
pub fn fix(failure: &Failure, req: &Classified) -> Fix {
    build(failure, Need::of(req, &failure.sent_origin), Vec::new())
}

/// Whether a failure of `kind` says by itself that the request was made with credentials.
pub fn implies_credentials(kind: FailureKind) -> bool {
    matches!(
        kind,
        FailureKind::WildcardOriginNotAllowed | FailureKind::InvalidAllowCredentials
    )
}

/// What a request known from its console message (`explain`) needs, completed by what the user
/// knows of it (`known`): the message implies credentials for the credential kinds and names the
/// method or header it refused. When the message says a preflight failed and neither a method
/// nor a header is known, `Content-Type` (the usual reason, JSON bodies) is assumed, and the
/// notes say so.
pub fn need_for(failure: &Failure, known: &Need) -> (Need, Vec<String>) {
    let mut notes = Vec::new();
    // The message's origin, unless it had none (`Explained::to_failure` fills in words then).
    let origin = known.origin.clone().or_else(|| {
        crate::Origin::parse_serialized(&failure.sent_origin)
            .is_ok()
            .then(|| failure.sent_origin.clone())
    });
    let method = known.method.clone().or_else(|| {
        (failure.kind == FailureKind::MethodNotAllowed)
            .then(|| failure.hint.clone())
            .flatten()
    });
    let mut headers = known.headers.clone();
    if failure.kind == FailureKind::HeaderNotAllowed {
        if let Some(h) = &failure.hint {
            let h = h.to_ascii_lowercase();
            if !headers.contains(&h) {
                headers.push(h);
            }
        }
    }
    if failure.stage == Stage::Preflight && method.is_none() && headers.is_empty() {
        headers.push("content-type".into());
        notes.push(
            "The message does not say why the browser sent a preflight; the policy allows \
            Content-Type (JSON bodies), the usual reason. Pass -X METHOD and -H 'Name: value' for \
            what the page really sends."
                .into(),
        );
    }
    let need = Need {
        origin,
        credentials: known.credentials || implies_credentials(failure.kind),
        method,
        headers,
        kept_methods: Vec::new(),
    };
    (need, notes)
}

/// The fix for a failure known from its console message (`explain`): see [`need_for`].
pub fn fix_for(failure: &Failure, known: &Need) -> Fix {
    let (need, notes) = need_for(failure, known);
    build(failure, need, notes)
}

/// Why no policy can be written for a request.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoPolicy {
    /// The page's origin is not known (Firefox's and Safari's messages leave it out).
    #[error(
        "The message does not name the page's origin (Firefox's and Safari's wordings leave it \
        out): pass --origin ORIGIN for a policy and snippets."
    )]
    NoOrigin,
    /// The request carried `Origin: null`, which no policy corsair accepts allows.
    #[error(
        "The request carried 'Origin: null' (a sandboxed iframe, a file: page, or a redirect \
        across origins): no policy corsair accepts allows null, because any page can send it. Give \
        the page a real origin, or call the final URL directly."
    )]
    NullOrigin,
    /// What the request needs fails the policy's validation (the errors, one per item).
    #[error("No policy corsair accepts allows this request: {}", .0.join("; "))]
    Refused(Vec<String>),
}

/// The policy that allows `need` and nothing more, validated, with what it had to assume; or
/// why no policy corsair accepts can allow it.
pub fn policy_for(need: &Need) -> Result<(PolicySpec, Vec<String>), NoPolicy> {
    let origin = match need.origin.as_deref() {
        None | Some("") => return Err(NoPolicy::NoOrigin),
        Some("null") => return Err(NoPolicy::NullOrigin),
        Some(o) => o,
    };
    let mut spec = PolicySpec {
        origins: vec![origin.to_string()],
        methods: if need.method.is_none() && need.kept_methods.is_empty() {
            Vec::new()
        } else {
            let mut methods: Vec<String> = ["GET", "HEAD", "POST"].map(String::from).to_vec();
            for m in need.method.iter().chain(&need.kept_methods) {
                if !methods.contains(m) {
                    methods.push(m.clone());
                }
            }
            methods
        },
        request_headers: need.headers.clone(),
        credentials: need.credentials,
        ..Default::default()
    };
    let mut notes = Vec::new();
    // A page on plain http (not loopback) that sends credentials: the policy can only allow it
    // with the dangerous switch, and says so.
    let plain_http = crate::Origin::parse_serialized(origin).is_ok_and(|o| {
        o.tuple().is_some_and(|t| t.scheme == "http") && !o.is_potentially_trustworthy()
    });
    if plain_http && need.credentials {
        spec.dangerously_allow_insecure_origins = true;
        notes.push(format!(
            "'{origin}' is plain http and the request sends credentials: anyone on \
            the network path can impersonate that origin. The policy sets \
            dangerously_allow_insecure_origins = true; serve the page over https instead."
        ));
    }
    if let Err(problems) = spec.build() {
        let why: Vec<String> = problems
            .into_iter()
            .filter(|p| p.severity == Level::Error)
            .map(|p| p.message)
            .collect();
        return Err(NoPolicy::Refused(why));
    }
    Ok((spec, notes))
}

/// The policy as the `[policy]` table of a `corsair.toml`.
pub fn policy_toml(spec: &PolicySpec) -> String {
    let list = |v: &[String]| {
        v.iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut t = format!("[policy]\norigins = [{}]\n", list(&spec.origins));
    if !spec.methods.is_empty() {
        t.push_str(&format!("methods = [{}]\n", list(&spec.methods)));
    }
    if !spec.request_headers.is_empty() {
        t.push_str(&format!(
            "request_headers = [{}]\n",
            list(&spec.request_headers)
        ));
    }
    if spec.credentials {
        t.push_str("credentials = true\n");
    }
    if let Some(m) = spec.max_age {
        t.push_str(&format!("max_age = {m}\n"));
    }
    if spec.dangerously_allow_insecure_origins {
        t.push_str("dangerously_allow_insecure_origins = true\n");
    }
    t
}

fn build(failure: &Failure, need: Need, mut notes: Vec<String>) -> Fix {
    let o = need.origin.as_deref().unwrap_or("the page's origin");
    let summary = match failure.kind {
        FailureKind::WildcardOriginNotAllowed => format!("Echo the caller's exact origin instead \
            of '*': send 'Access-Control-Allow-Origin: {o}' (checked against an allowlist, never \
            blindly reflected), 'Access-Control-Allow-Credentials: true' and 'Vary: Origin'. Or, \
            if the data is public, drop credentials on the client."),
        FailureKind::MissingAllowOriginHeader if failure.stage == Stage::Preflight && !(200..300).contains(&failure.status.unwrap_or(200)) => format!("Answer \
            OPTIONS preflights with 204 and the CORS headers ('Access-Control-Allow-Origin: {o}', \
            the methods and headers below) before routing and authentication run."),
        FailureKind::MissingAllowOriginHeader => format!("Send 'Access-Control-Allow-Origin: {o}' \
            on {} (from an allowlist, with 'Vary: Origin'). If the header is set only on 2xx \
            responses, set it on errors too (nginx: add_header ... always).", stage_words(failure.stage)),
        FailureKind::MultipleAllowOriginValues => format!("Send exactly one origin: \
            'Access-Control-Allow-Origin: {o}'. Look for two layers both adding the header (app \
            and proxy), or a list pasted into it; pick the caller's origin from an allowlist \
            instead."),
        FailureKind::InvalidAllowOriginValue | FailureKind::AllowOriginMismatch => format!("Send \
            the origin exactly as the browser does: 'Access-Control-Allow-Origin: {o}' (scheme, \
            host and port as shown, lowercase, no trailing slash, no path)."),
        FailureKind::InvalidAllowCredentials => "Send 'Access-Control-Allow-Credentials: true' \
            (exactly, lowercase) with the exact origin, or stop sending credentials from the \
            client.".to_string(),
        FailureKind::PreflightInvalidStatus => "Answer OPTIONS preflights with 204 (or 200) and \
            the CORS headers before routing and authentication run: browsers never send cookies or \
            Authorization on a preflight.".to_string(),
        FailureKind::PreflightDisallowedRedirect => "Make the URL answer the preflight itself, \
            without redirecting: call the final URL directly (https, exact trailing slash, no \
            login redirect).".to_string(),
        FailureKind::InvalidAllowMethods => "Send Access-Control-Allow-Methods as a \
            comma-separated list of method names, e.g. 'GET, POST, PUT'.".to_string(),
        FailureKind::InvalidAllowHeaders => "Send Access-Control-Allow-Headers as a \
            comma-separated list of header names, e.g. 'Content-Type, Authorization'.".to_string(),
        FailureKind::MethodNotAllowed => format!("Add {} to Access-Control-Allow-Methods (exact case: methods other than DELETE, GET, HEAD, OPTIONS, POST, PUT are sent as written).", failure.hint.as_deref().unwrap_or("the \
            method")),
        FailureKind::HeaderNotAllowed => format!("Add {} to Access-Control-Allow-Headers{}.", failure.hint.as_deref().unwrap_or("the header"), if failure.hint.as_deref() == Some("authorization") { " \
            by name ('*' does not cover Authorization)" } else { "" }),
        FailureKind::RedirectContainsCredentials => "Redirect to a URL without user:password@; \
            send credentials in an Authorization header instead.".to_string(),
    };
    let mut headers = Vec::new();
    if let Some(origin) = &need.origin {
        headers.push(("Access-Control-Allow-Origin".to_string(), origin.clone()));
    }
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
    let (policy, snippets) = match policy_for(&need) {
        Ok((spec, assumed)) => {
            notes.extend(assumed);
            let input = Input {
                spec: &spec,
                listen: SNIPPET_LISTEN,
                upstream: Some(SNIPPET_UPSTREAM),
                routes: Vec::new(),
            };
            let mut snippets = Vec::new();
            for stack in Stack::ALL {
                match generate(stack.target(), &input) {
                    Ok(g) => snippets.push(Snippet {
                        stack,
                        code: g.text,
                    }),
                    Err(e) => notes.push(format!("{}: {e}", stack.name())),
                }
            }
            (Some(policy_toml(&spec)), snippets)
        }
        Err(why) => {
            notes.push(why.to_string());
            (None, Vec::new())
        }
    };
    Fix {
        summary,
        headers,
        policy,
        snippets,
        notes,
        changes: Vec::new(),
    }
}

fn stage_words(stage: Stage) -> &'static str {
    match stage {
        Stage::Preflight => "the OPTIONS preflight response",
        Stage::Actual => "the response",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::browser::Browser;
    use crate::request::{Credentials, RequestSpec};

    #[test]
    fn fix_names_the_headers_to_send() {
        let spec_req = RequestSpec {
            url: "https://api.example/x".into(),
            origin: "https://app.example".into(),
            method: "PATCH".into(),
            headers: vec![("X-Token".into(), "1".into())],
            credentials: Credentials::Include,
            ..Default::default()
        };
        let req = spec_req.classify(Browser::Chromium).unwrap();
        let f = Failure {
            kind: FailureKind::MethodNotAllowed,
            stage: Stage::Preflight,
            hint: Some("PATCH".into()),
            status: Some(204),
            allow_origin_lines: 1,
            url: "https://api.example/x".into(),
            initial_url: None,
            redirect_to: None,
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
        assert_eq!(fx.snippets.len(), Stack::ALL.len(), "{:?}", fx.notes);
        // Each snippet is gen's output for the fix's policy.
        let spec =
            crate::policy::file::load(fx.policy.as_deref().unwrap(), None, &Default::default())
                .unwrap()
                .0
                .policy
                .spec()
                .clone();
        for sn in &fx.snippets {
            let g = generate(
                sn.stack.target(),
                &Input {
                    spec: &spec,
                    listen: SNIPPET_LISTEN,
                    upstream: Some(SNIPPET_UPSTREAM),
                    routes: Vec::new(),
                },
            )
            .unwrap();
            assert_eq!(g.text, sn.code, "{:?}", sn.stack);
        }
        // The policy, fed back through the browser model, allows the request.
        let policy = spec.build().unwrap().0;
        assert_eq!(
            crate::policy::proof::run_all(&policy, &spec_req),
            Ok(Some(true))
        );
    }

    fn failure(kind: FailureKind, stage: Stage, origin: &str) -> Failure {
        Failure {
            kind,
            stage,
            hint: None,
            status: Some(204),
            allow_origin_lines: 1,
            url: "https://api.example/x".into(),
            initial_url: None,
            redirect_to: None,
            page_origin: origin.into(),
            sent_origin: origin.into(),
        }
    }

    /// Issue 11, finding 10: a credentialed preflighted POST known only from its message gets
    /// a policy that allows Content-Type, and an unknown origin gets no placeholder code.
    #[test]
    fn regression_explain_fixes_lead_to_a_passing_request() {
        let f = failure(
            FailureKind::WildcardOriginNotAllowed,
            Stage::Preflight,
            "https://app.example",
        );
        let fx = fix_for(&f, &Need::default());
        let policy = fx.policy.as_deref().unwrap();
        assert!(
            policy.contains("request_headers = [\"content-type\"]"),
            "{policy}"
        );
        assert!(policy.contains("credentials = true"), "{policy}");
        let express = &fx.snippets[0].code;
        assert!(
            express.contains("allowedHeaders: ['content-type']"),
            "{express}"
        );
        assert!(!fx.notes.is_empty());

        let f = failure(FailureKind::MissingAllowOriginHeader, Stage::Actual, "");
        let fx = fix_for(&f, &Need::default());
        assert!(fx.policy.is_none() && fx.snippets.is_empty());
        assert!(fx.notes[0].contains("--origin"), "{:?}", fx.notes);
        assert!(fx
            .headers
            .iter()
            .all(|(n, _)| n != "Access-Control-Allow-Origin"));
        let fx = fix_for(
            &f,
            &Need {
                origin: Some("https://app.example".into()),
                ..Need::default()
            },
        );
        assert!(fx.policy.is_some());
    }
}
