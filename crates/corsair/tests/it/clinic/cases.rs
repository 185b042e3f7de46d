//! The clinic's cases: an app broken one way, the request its page makes, and what must still
//! work once the printed fix is applied.

use super::apps::{Settings, Stack};

/// A request a page makes.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub path: String,
    pub method: &'static str,
    pub headers: Vec<(&'static str, &'static str)>,
    pub body: Option<String>,
    pub credentials: bool,
    /// Made from another origin than the page's (checked with corsair check).
    pub origin: Option<String>,
    /// Must be blocked (a request the fix must refuse).
    pub expect_blocked: bool,
}

fn get(path: &str) -> Request {
    Request {
        path: path.into(),
        method: "GET",
        ..Default::default()
    }
}

fn json_post(path: &str) -> Request {
    Request {
        path: path.into(),
        method: "POST",
        headers: vec![("Content-Type", "application/json")],
        body: Some("{\"a\":1}".into()),
        ..Default::default()
    }
}

pub struct Case {
    pub name: &'static str,
    /// The `diagnosis.kind` corsair check must name.
    pub expect: &'static str,
    pub broken: Settings,
    pub request: Request,
    /// Requests that worked before the fix and must still work after it.
    pub worked: Vec<Request>,
    /// Origins whose requests are sent first (to fill a cache).
    pub prime: Vec<String>,
    /// Origins the fixed app must refuse.
    pub refused_after: Vec<String>,
    /// Words the printed fix must contain where the cause is the path (the stack's mechanism
    /// the test then applies).
    pub mechanism: Option<&'static str>,
    /// The `--stack` given, where the answers cannot tell which layer sets the headers.
    pub stack_arg: Option<&'static str>,
    /// The `diagnosis.redirect_reason` check must name, for a redirect.
    pub reason: Option<&'static str>,
}

const OTHER: &str = "https://admin.example.test";

pub fn cases(page: &str) -> Vec<Case> {
    use Stack::*;
    let case = |name, expect, broken: Settings, request: Request| Case {
        name,
        expect,
        broken,
        request,
        worked: Vec::new(),
        prime: Vec::new(),
        refused_after: Vec::new(),
        mechanism: None,
        stack_arg: None,
        reason: None,
    };
    let creds = |mut r: Request| {
        r.credentials = true;
        r
    };
    let from = |mut r: Request, o: &str| {
        r.origin = Some(o.to_string());
        r
    };
    let with = |mut r: Request, h: &'static str, v: &'static str| {
        r.headers.push((h, v));
        r
    };
    let put = |path: &str| Request {
        method: "PUT",
        ..json_post(path)
    };
    vec![
        Case {
            worked: vec![get("/api/items")],
            ..case(
                "starlette: a crash inside add_middleware",
                "app-error",
                Settings::new(StarletteInside, &[page]),
                get("/api/crash"),
            )
        },
        Case {
            worked: vec![get("/api/items")],
            ..case(
                "starlette: a handler sets the header, OPTIONS is not routed",
                "options-not-routed",
                Settings::new(StarletteHandlers, &[page]),
                put("/api/items"),
            )
        },
        Case {
            worked: vec![get("/api/items"), json_post("/api/items")],
            ..case(
                "starlette: allow_methods leaves PUT out",
                "framework-refusal",
                Settings::new(Starlette, &[page]),
                put("/api/items"),
            )
        },
        Case {
            worked: vec![from(get("/api/items"), OTHER)],
            ..case(
                "starlette: the allowlist lacks the dev origin",
                "origin-not-allowed",
                Settings::new(Starlette, &[OTHER]),
                get("/api/items"),
            )
        },
        Case {
            worked: vec![get("/api/items")],
            ..case(
                "flask: headers set in the views, a crash",
                "app-error",
                Settings::new(FlaskManual, &[page]),
                get("/api/crash"),
            )
        },
        Case {
            worked: vec![get("/api/items")],
            ..case(
                "flask-cors: a header missing from allow_headers",
                "header-not-allowed",
                Settings::new(FlaskCors, &[page]).methods(&["GET", "HEAD", "POST", "PUT"]),
                with(put("/api/items"), "X-Token", "1"),
            )
        },
        Case {
            worked: vec![from(json_post("/api/items"), OTHER)],
            ..case(
                "flask-cors: the allowlist lacks the dev origin",
                "cors-not-configured",
                Settings::new(FlaskCors, &[OTHER]),
                get("/api/items"),
            )
        },
        Case {
            worked: vec![],
            ..case(
                "django: authentication above CorsMiddleware",
                "preflight-auth",
                Settings::new(DjangoAuthFirst, &[page])
                    .headers(Some(&["authorization", "content-type"])),
                with(put("/api/items"), "Authorization", "Bearer t"),
            )
        },
        Case {
            worked: vec![get("/api/items")],
            ..case(
                "django-cors-headers: a method missing",
                "method-not-allowed",
                Settings::new(Django, &[page]),
                Request {
                    method: "DELETE",
                    ..get("/api/items")
                },
            )
        },
        Case {
            worked: vec![from(get("/api/items"), OTHER)],
            ..case(
                "django-cors-headers: the allowlist lacks the dev origin",
                "origin-not-allowed",
                Settings::new(Django, &[OTHER]),
                get("/api/items"),
            )
        },
        Case {
            worked: vec![],
            ..case(
                "express: authentication before cors()",
                "auth-wall",
                Settings::new(ExpressAuthFirst, &[page]).credentials(),
                creds(get("/api/items")),
            )
        },
        Case {
            worked: vec![],
            ..case(
                "express: authentication before cors(), a preflight",
                "preflight-auth",
                Settings::new(ExpressAuthFirst, &[page]).headers(None),
                with(get("/api/items"), "Authorization", "Bearer t"),
            )
        },
        Case {
            worked: vec![get("/api/items")],
            ..case(
                "express: cors() defaults with credentials",
                "wildcard-with-credentials",
                Settings::new(Express, &["*"]).headers(None),
                creds(get("/api/items")),
            )
        },
        Case {
            worked: vec![json_post("/api/items")],
            ..case(
                "express: allowedHeaders lacks a header",
                "header-not-allowed",
                Settings::new(Express, &[page]).methods(&["GET", "HEAD", "POST", "PUT"]),
                with(put("/api/items"), "X-Token", "1"),
            )
        },
        Case {
            worked: vec![from(creds(json_post("/api/items")), OTHER)],
            ..case(
                "express: credentialed, the dev origin missing",
                "origin-not-allowed",
                Settings::new(Express, &[OTHER])
                    .credentials()
                    .headers(None)
                    .methods(&["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE"]),
                creds(get("/api/items")),
            )
        },
        Case {
            worked: vec![creds(get("/api/items"))],
            refused_after: vec!["https://evil.example.test".into()],
            ..case(
                "express: origin reflected with credentials",
                "insecure-reflection",
                Settings::new(Express, &[])
                    .reflect()
                    .credentials()
                    .headers(None),
                creds(get("/api/items")),
            )
        },
        Case {
            worked: vec![],
            ..case(
                "nginx: the upstream is down",
                "proxy-error",
                Settings::new(NginxDeadUpstream, &[page]),
                get("/api/items"),
            )
        },
        Case {
            worked: vec![],
            ..case(
                "nginx: auth_basic without always",
                "auth-wall",
                Settings::new(NginxAuth, &[page]),
                get("/api/items"),
            )
        },
        Case {
            worked: vec![get("/api/items/")],
            ..case(
                "nginx: a trailing-slash redirect",
                "redirect",
                Settings::new(NginxRedirect, &[page]),
                get("/api/items"),
            )
        },
        Case {
            worked: vec![],
            ..case(
                "nginx and Express both add the header",
                "duplicate-header",
                Settings::new(NginxDuplicate, &[page]),
                get("/api/items"),
            )
        },
        Case {
            prime: vec![OTHER.to_string()],
            worked: vec![from(get("/api/items"), OTHER)],
            ..case(
                "nginx proxy_cache, no Vary: Origin",
                "cached-other-origin",
                Settings::new(NginxCache, &[OTHER, page]),
                get("/api/items"),
            )
        },
        Case {
            worked: vec![from(get("/api/items"), OTHER)],
            ..case(
                "corsair serve: the policy lacks the dev origin",
                "origin-not-allowed",
                Settings::new(Serve, &[OTHER]),
                get("/api/items"),
            )
        },
        Case {
            worked: vec![get("/api/items")],
            ..case(
                "nginx: a missing route's 404 without always",
                "missing-route",
                Settings::new(NginxMissingRoute, &[page]),
                get("/api/itemz"),
            )
        },
        Case {
            worked: vec![get("/api/items")],
            ..case(
                "nginx: '*' with credentials",
                "wildcard-with-credentials",
                Settings::new(NginxWildcard, &["*"]),
                creds(get("/api/items")),
            )
        },
        Case {
            worked: vec![],
            ..case(
                "apache: the upstream is down, Header set without always",
                "proxy-error",
                Settings::new(ApacheDeadUpstream, &[page]),
                get("/api/items"),
            )
        },
        Case {
            worked: vec![],
            ..case(
                "apache: Basic authentication, Header set without always",
                "auth-wall",
                Settings::new(ApacheAuth, &[page]),
                get("/api/items"),
            )
        },
        Case {
            worked: vec![get("/api/items")],
            ..case(
                "flask: headers on success only, a missing route",
                "missing-route",
                Settings::new(FlaskMissingRoute, &[page]),
                get("/api/itemz"),
            )
        },
        Case {
            worked: vec![],
            ..case(
                "express: a login redirect before cors()",
                "auth-wall",
                Settings::new(ExpressLoginRedirect, &[page]).credentials(),
                creds(get("/api/items")),
            )
        },
        Case {
            worked: vec![get("/api/public")],
            mechanism: Some("respond @preflight 204"),
            ..case(
                "caddy: basicauth answers the preflight",
                "preflight-auth",
                Settings::new(CaddyAuth, &[page])
                    .methods(&["GET", "HEAD", "POST", "PUT"])
                    .headers(Some(&["authorization", "content-type"])),
                // u:p, the account the app's basicauth knows.
                with(put("/api/items"), "Authorization", "Basic dTpw"),
            )
        },
        Case {
            worked: vec![get("/api/items"), json_post("/api/items")],
            mechanism: Some("respond @preflight 204"),
            stack_arg: Some("caddy"),
            ..case(
                "caddy in front of uvicorn: the preflight reaches the app",
                "options-not-routed",
                Settings::new(CaddyProxy, &[page]).methods(&["GET", "HEAD", "POST", "PUT"]),
                put("/api/items"),
            )
        },
        Case {
            worked: vec![from(get("/api/items"), OTHER)],
            refused_after: vec!["https://evil.example.test".into()],
            ..case(
                "caddy: the allowlist lacks the dev origin",
                "origin-not-allowed",
                Settings::new(Caddy, &[OTHER]),
                get("/api/items"),
            )
        },
        Case {
            reason: Some("https"),
            ..case(
                "nginx: http upgraded to https",
                "redirect",
                Settings::new(NginxHttps, &[page]),
                get("/api/items"),
            )
        },
        Case {
            reason: Some("host"),
            ..case(
                "nginx: the host name made canonical (www)",
                "redirect",
                Settings::new(NginxHost, &[page]),
                get("/api/items"),
            )
        },
        Case {
            ..case(
                "nginx: a redirect to an API on another origin",
                "redirect-null-origin",
                Settings::new(NginxCrossOrigin, &[page]),
                get("/api/items"),
            )
        },
        Case {
            mechanism: Some("without user:password@"),
            ..case(
                "nginx: a redirect to a URL with a user name and password",
                "redirect-with-credentials",
                Settings::new(NginxCredentialsRedirect, &[page]),
                get("/api/items"),
            )
        },
        Case {
            ..case(
                "nothing listening on the API's port",
                "connection-refused",
                Settings::new(NotListening, &[page]),
                get("/api/items"),
            )
        },
        Case {
            ..case(
                "nginx over TLS with a self-signed certificate",
                "tls",
                Settings::new(NginxUntrustedTls, &[page]),
                get("/api/items"),
            )
        },
        Case {
            worked: vec![get("/api/items")],
            mechanism: Some("CORSMiddleware(app"),
            stack_arg: Some("fastapi"),
            ..case(
                "fastapi: a crash inside add_middleware",
                "app-error",
                Settings::new(FastapiInside, &[page]),
                get("/api/crash"),
            )
        },
    ]
}
