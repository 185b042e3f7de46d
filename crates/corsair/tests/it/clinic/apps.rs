//! The clinic's apps: each written from its settings, so a fix can be applied to them.

use crate::support::peers::venv;
use crate::support::{browser_deps, free_port, start_nginx, wait_port, Proc};
use std::path::Path;
use std::process::{Command, Stdio};

/// Where CORS is configured, and how it is broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stack {
    /// Starlette with CORSMiddleware added inside the app (`add_middleware`), a crashing route.
    StarletteInside,
    /// Starlette with routes only: CORS headers set by the handlers, OPTIONS not routed.
    StarletteHandlers,
    /// Starlette with CORSMiddleware wrapping the app.
    Starlette,
    /// Flask setting Access-Control-Allow-Origin in its views, a crashing route.
    FlaskManual,
    /// Flask with flask-cors.
    FlaskCors,
    /// Django with an authentication middleware above CorsMiddleware.
    DjangoAuthFirst,
    /// Django with django-cors-headers first.
    Django,
    /// Express with an authentication middleware before cors().
    ExpressAuthFirst,
    /// Express with cors().
    Express,
    /// nginx in front of an upstream that is down.
    NginxDeadUpstream,
    /// nginx with auth_basic and CORS headers on the location.
    NginxAuth,
    /// nginx redirecting /api/items to /api/items/.
    NginxRedirect,
    /// nginx adding CORS headers in front of an Express app that also does.
    NginxDuplicate,
    /// nginx's proxy_cache in front of an app that echoes allowed origins without Vary.
    NginxCache,
    /// corsair serve in front of an app without CORS.
    Serve,
    /// nginx serving one route, with CORS headers without `always`.
    NginxMissingRoute,
    /// nginx sending `Access-Control-Allow-Origin: *` (with credentials on the page).
    NginxWildcard,
    /// Apache in front of an upstream that is down, `Header set` without `always`.
    ApacheDeadUpstream,
    /// Apache with Basic authentication, `Header set` without `always`.
    ApacheAuth,
    /// Flask setting the header on successful answers only, a missing route.
    FlaskMissingRoute,
    /// Express whose authentication redirects to a login page, before cors().
    ExpressLoginRedirect,
    /// Caddy with basicauth over the API and its CORS headers set at the site level.
    CaddyAuth,
    /// Caddy adding CORS headers in front of a Starlette app without CORS (no OPTIONS route).
    CaddyProxy,
    /// Caddy answering the API itself, an allowlist of origins in a header matcher.
    Caddy,
}

/// An app's settings: what its CORS configuration allows, and whether the fix was applied.
#[derive(Clone, Debug)]
pub struct Settings {
    pub stack: Stack,
    pub origins: Vec<String>,
    pub methods: Vec<String>,
    /// `None`: the framework's default (the cors package reflects the requested headers).
    pub headers: Option<Vec<String>>,
    pub credentials: bool,
    /// Reflect any origin (the cors package's `origin: true`).
    pub reflect: bool,
    /// The fix for the path an answer takes (the stack's mechanism) is applied.
    pub fixed_path: bool,
}

impl Settings {
    fn new(stack: Stack, origins: &[&str]) -> Settings {
        Settings {
            stack,
            origins: origins.iter().map(|s| s.to_string()).collect(),
            methods: vec!["GET".into(), "HEAD".into(), "POST".into()],
            headers: Some(vec!["content-type".into()]),
            credentials: false,
            reflect: false,
            fixed_path: false,
        }
    }
    fn methods(mut self, m: &[&str]) -> Settings {
        self.methods = m.iter().map(|s| s.to_string()).collect();
        self
    }
    fn headers(mut self, h: Option<&[&str]>) -> Settings {
        self.headers = h.map(|h| h.iter().map(|s| s.to_string()).collect());
        self
    }
    fn credentials(mut self) -> Settings {
        self.credentials = true;
        self
    }
    fn reflect(mut self) -> Settings {
        self.reflect = true;
        self
    }
}

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
    ]
}

/// A running app (and what runs in front of or behind it).
pub struct App {
    port: u16,
    _procs: Vec<Proc>,
}

impl App {
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn start(c: &Case, s: &Settings, dir: &Path, page: &str) -> App {
        let _ = c;
        let port = free_port();
        let dir = dir.join(format!("app-{port}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut procs = Vec::new();
        match s.stack {
            Stack::StarletteInside | Stack::StarletteHandlers | Stack::Starlette => {
                procs.push(python(&dir, &starlette(s, port, page), port))
            }
            Stack::FlaskManual | Stack::FlaskCors | Stack::FlaskMissingRoute => {
                let manual = Settings {
                    stack: Stack::FlaskManual,
                    ..s.clone()
                };
                let s = if s.stack == Stack::FlaskMissingRoute {
                    &manual
                } else {
                    s
                };
                procs.push(python(&dir, &flask(s, port, page), port))
            }
            Stack::NginxMissingRoute => {
                let always = if s.fixed_path { " always" } else { "" };
                procs.push(start_nginx(&dir, &format!(
                    "server {{ listen 127.0.0.1:{port}; add_header Access-Control-Allow-Origin {page}{always}; \
                    add_header Vary Origin{always}; location = /api/items {{ return 200 '[1]'; }} \
                    location / {{ return 404; }} }}"
                ), port));
            }
            Stack::NginxWildcard => {
                let headers = if s.origins.iter().any(|o| o == page) {
                    format!(
                        "add_header Access-Control-Allow-Origin {page}; add_header Vary Origin;{}",
                        if s.credentials {
                            " add_header Access-Control-Allow-Credentials true;"
                        } else {
                            ""
                        }
                    )
                } else {
                    "add_header Access-Control-Allow-Origin *;".to_string()
                };
                procs.push(start_nginx(&dir, &format!(
                    "server {{ listen 127.0.0.1:{port}; location /api/ {{ {headers} return 200 '[1]'; }} }}"
                ), port));
            }
            Stack::ApacheDeadUpstream | Stack::ApacheAuth => {
                let always = if s.fixed_path { "always " } else { "" };
                let inner = if s.stack == Stack::ApacheAuth {
                    std::fs::create_dir_all(dir.join("www/api")).unwrap();
                    std::fs::write(dir.join("www/api/items"), "[1]").unwrap();
                    std::fs::write(
                        dir.join("htpasswd"),
                        "u:$apr1$3f5Fq6sX$8o3c3V4yO1Vd0yJ3o0p6a/\n",
                    )
                    .unwrap();
                    format!(
                        "DocumentRoot {www}\n<Directory {www}>\n  AuthType Basic\n  AuthName api\n  \
                        AuthBasicProvider file\n  AuthUserFile {pw}\n  Require valid-user\n</Directory>\n",
                        www = dir.join("www").display(),
                        pw = dir.join("htpasswd").display()
                    )
                } else {
                    format!("ProxyPass / http://127.0.0.1:{}/\n", free_port())
                };
                let site = dir.join("site.conf");
                std::fs::write(&site, format!(
                    "LoadModule auth_basic_module /usr/lib/apache2/modules/mod_auth_basic.so\n\
                    LoadModule authn_core_module /usr/lib/apache2/modules/mod_authn_core.so\n\
                    LoadModule authn_file_module /usr/lib/apache2/modules/mod_authn_file.so\n\
                    LoadModule authz_user_module /usr/lib/apache2/modules/mod_authz_user.so\n\
                    Listen 127.0.0.1:{port}\n<VirtualHost 127.0.0.1:{port}>\n{inner}\
                    Header {always}set Access-Control-Allow-Origin \"{page}\"\nHeader {always}merge Vary Origin\n</VirtualHost>\n"
                )).unwrap();
                procs.push(crate::support::peers::start_apache(&dir, &site, port));
            }
            Stack::ExpressLoginRedirect => procs.push(node(&dir, &express(s, port, false), port)),
            Stack::CaddyAuth | Stack::CaddyProxy | Stack::Caddy => {
                let inner = match s.stack {
                    Stack::CaddyAuth => {
                        let hash = Command::new("caddy")
                            .args(["hash-password", "--plaintext", "p"])
                            .output()
                            .expect("caddy is installed by scripts/test.sh");
                        let hash = String::from_utf8(hash.stdout).unwrap();
                        format!(
                            "basicauth /api/items* {{\n      u {}\n    }}\n    respond /api/* \"[1]\" 200",
                            hash.trim()
                        )
                    }
                    Stack::CaddyProxy => {
                        let up = free_port();
                        let bare = Settings {
                            stack: Stack::CaddyProxy,
                            ..s.clone()
                        };
                        procs.push(python(&dir, &starlette(&bare, up, page), up));
                        format!("reverse_proxy 127.0.0.1:{up}")
                    }
                    _ => "respond /api/* \"[1]\" 200".to_string(),
                };
                let file = dir.join("Caddyfile");
                std::fs::write(&file, caddy(s, port, &inner)).unwrap();
                procs.push(crate::support::peers::start_caddy(&dir, &file, port));
            }
            Stack::DjangoAuthFirst | Stack::Django => {
                procs.push(python(&dir, &django(s, port), port))
            }
            Stack::ExpressAuthFirst | Stack::Express => {
                procs.push(node(&dir, &express(s, port, false), port))
            }
            Stack::NginxDeadUpstream => {
                let dead = free_port();
                let always = if s.fixed_path { " always" } else { "" };
                procs.push(start_nginx(&dir, &format!(
                    "server {{ listen 127.0.0.1:{port}; location / {{ proxy_pass http://127.0.0.1:{dead}; \
                    add_header Access-Control-Allow-Origin {page}{always}; add_header Vary Origin{always}; }} }}"
                ), port));
            }
            Stack::NginxAuth => {
                std::fs::write(
                    dir.join("htpasswd"),
                    "u:$apr1$3f5Fq6sX$8o3c3V4yO1Vd0yJ3o0p6a/\n",
                )
                .unwrap();
                // A static file: `return` would answer before the access phase runs auth_basic.
                std::fs::create_dir_all(dir.join("www/api")).unwrap();
                std::fs::write(dir.join("www/api/items"), "[1]").unwrap();
                let always = if s.fixed_path { " always" } else { "" };
                procs.push(start_nginx(&dir, &format!(
                    "server {{ listen 127.0.0.1:{port}; location /api/ {{ auth_basic api; auth_basic_user_file {}; \
                    add_header Access-Control-Allow-Origin {page}{always}; add_header Access-Control-Allow-Credentials true{always}; \
                    add_header Vary Origin{always}; root {}; }} }}",
                    dir.join("htpasswd").display(),
                    dir.join("www").display()
                ), port));
            }
            Stack::NginxRedirect => {
                procs.push(start_nginx(&dir, &format!(
                    "server {{ listen 127.0.0.1:{port}; location = /api/items {{ return 301 /api/items/; }} \
                    location /api/items/ {{ add_header Access-Control-Allow-Origin {page}; add_header Vary Origin; return 200 '[1]'; }} }}"
                ), port));
            }
            Stack::NginxDuplicate => {
                let up = free_port();
                let inner = Settings {
                    stack: Stack::Express,
                    ..s.clone()
                };
                procs.push(node(&dir, &express(&inner, up, false), up));
                let headers = if s.fixed_path {
                    String::new()
                } else {
                    format!("add_header Access-Control-Allow-Origin {page};")
                };
                procs.push(start_nginx(&dir, &format!(
                    "server {{ listen 127.0.0.1:{port}; location / {{ proxy_pass http://127.0.0.1:{up}; {headers} }} }}"
                ), port));
            }
            Stack::NginxCache => {
                let up = free_port();
                procs.push(node(&dir, &express(s, up, true), up));
                let cache = dir.join("cache");
                procs.push(start_nginx(&dir, &format!(
                    "proxy_cache_path {} keys_zone=api:1m; server {{ listen 127.0.0.1:{port}; location / {{ \
                    proxy_pass http://127.0.0.1:{up}; proxy_cache api; proxy_cache_valid 200 60s; \
                    add_header X-Cache-Status $upstream_cache_status; }} }}",
                    cache.display()
                ), port));
            }
            Stack::Serve => {
                let up = free_port();
                let inner = Settings {
                    stack: Stack::Express,
                    origins: vec![],
                    ..s.clone()
                };
                procs.push(node(&dir, &express(&inner, up, false), up));
                let config = dir.join("corsair.toml");
                std::fs::write(
                    &config,
                    format!(
                        "upstream = \"http://127.0.0.1:{up}\"\n[policy]\norigins = {:?}\n",
                        s.origins
                    ),
                )
                .unwrap();
                let mut c = Command::new(env!("CARGO_BIN_EXE_corsair"))
                    .args(["serve", "--config"])
                    .arg(&config)
                    .args([
                        "--listen",
                        &format!("127.0.0.1:{port}"),
                        "--admin",
                        "127.0.0.1:0",
                    ])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap();
                wait_port(port, "corsair serve", &mut c);
                procs.push(Proc(c));
            }
        }
        App {
            port,
            _procs: procs,
        }
    }
}

/// A Caddyfile: the CORS headers at the site level for the allowed origins (a header matcher),
/// and `inner` in a route; with the fix for the path applied, the route answers preflights
/// first.
fn caddy(s: &Settings, port: u16, inner: &str) -> String {
    let origins: String = s
        .origins
        .iter()
        .map(|o| format!("    header Origin {o}\n"))
        .collect();
    let headers = s.headers.clone().unwrap_or_default().join(", ");
    let credentials = if s.credentials {
        "  header @cors Access-Control-Allow-Credentials true\n"
    } else {
        ""
    };
    let preflight = if s.fixed_path {
        "    @preflight method OPTIONS\n    respond @preflight 204\n"
    } else {
        ""
    };
    format!(
        "{{\n  admin off\n  auto_https off\n}}\nhttp://127.0.0.1:{port} {{\n  @cors {{\n{origins}  }}\n  \
        header @cors Access-Control-Allow-Origin \"{{http.request.header.Origin}}\"\n  \
        header @cors Access-Control-Allow-Methods \"{methods}\"\n  \
        header @cors Access-Control-Allow-Headers \"{headers}\"\n{credentials}  header Vary Origin\n  \
        route {{\n{preflight}    {inner}\n  }}\n}}\n",
        methods = s.methods.join(", "),
    )
}

fn python(dir: &Path, src: &str, port: u16) -> Proc {
    let file = dir.join("app.py");
    std::fs::write(&file, src).unwrap();
    let mut c = Command::new(venv())
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_port(port, "python app", &mut c);
    Proc(c)
}

fn node(dir: &Path, src: &str, port: u16) -> Proc {
    let file = dir.join(format!("app-{port}.js"));
    std::fs::write(&file, src).unwrap();
    let mut c = Command::new("node")
        .arg(&file)
        .env("NODE_PATH", browser_deps().node_modules)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_port(port, "express app", &mut c);
    Proc(c)
}

fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

fn starlette(s: &Settings, port: u16, page: &str) -> String {
    let layout = match (s.stack, s.fixed_path) {
        // Behind a proxy that sets the CORS headers: none in the app, fixed or not.
        (Stack::CaddyProxy, _) => "bare",
        (_, true) | (Stack::Starlette, _) => "outside",
        (Stack::StarletteInside, false) => "inside",
        _ => "none",
    };
    format!(
        r#"from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse
from starlette.routing import Route
import uvicorn

async def items(request):
    # Without a CORS middleware, the handler sets the header itself.
    return JSONResponse([1, 2, 3], headers={{"Access-Control-Allow-Origin": "{page}"}} if "{layout}" == "none" else {{}})

async def crash(request):
    raise RuntimeError("boom")

routes = [Route("/api/items", items, methods=["GET", "POST", "PUT", "DELETE"]), Route("/api/crash", crash)]
opts = dict(allow_origins={origins:?}, allow_methods={methods:?}, allow_headers={headers:?}, allow_credentials={cred})
if "{layout}" in ("none", "bare"):
    app = Starlette(routes=routes)
elif "{layout}" == "inside":
    app = Starlette(routes=routes, middleware=[Middleware(CORSMiddleware, **opts)])
else:
    app = CORSMiddleware(Starlette(routes=routes), **opts)
uvicorn.run(app, host="127.0.0.1", port={port}, log_level="critical")
"#,
        origins = s.origins,
        methods = s.methods,
        headers = s.headers.clone().unwrap_or_default(),
        cred = py_bool(s.credentials),
    )
}

fn flask(s: &Settings, port: u16, page: &str) -> String {
    let manual = s.stack == Stack::FlaskManual && !s.fixed_path;
    format!(
        r#"from flask import Flask, jsonify
app = Flask(__name__)
if {manual}:
    @app.after_request
    def cors(resp):
        # Only successful answers get the header, as people write it.
        if resp.status_code < 400:
            resp.headers["Access-Control-Allow-Origin"] = "{page}"
        return resp
else:
    from flask_cors import CORS
    CORS(app, origins={origins:?}, methods={methods:?}, allow_headers={headers:?}, supports_credentials={cred})

@app.route("/api/items", methods=["GET", "POST", "PUT", "DELETE"])
def items():
    return jsonify([1, 2, 3])

@app.route("/api/crash")
def crash():
    raise RuntimeError("boom")

app.run(host="127.0.0.1", port={port})
"#,
        manual = py_bool(manual),
        origins = s.origins,
        methods = s.methods,
        headers = s.headers.clone().unwrap_or_default(),
        cred = py_bool(s.credentials),
    )
}

fn django(s: &Settings, port: u16) -> String {
    let middleware = if s.stack == Stack::DjangoAuthFirst && !s.fixed_path {
        r#"["__main__.auth", "corsheaders.middleware.CorsMiddleware"]"#
    } else {
        r#"["corsheaders.middleware.CorsMiddleware", "__main__.auth"]"#
    };
    format!(
        r#"import sys
from django.conf import settings
from django.core.management import execute_from_command_line
from django.http import JsonResponse
from django.urls import path

settings.configure(
    DEBUG=False, SECRET_KEY="clinic", ROOT_URLCONF=__name__, ALLOWED_HOSTS=["127.0.0.1"],
    INSTALLED_APPS=["corsheaders"], MIDDLEWARE={middleware},
    CORS_ALLOWED_ORIGINS={origins:?}, CORS_ALLOW_METHODS={methods:?}, CORS_ALLOW_HEADERS={headers:?},
    CORS_ALLOW_CREDENTIALS={cred},
)

def auth(get_response):
    def middleware(request):
        # Token authentication, only where the app uses it.
        if {auth} and "HTTP_AUTHORIZATION" not in request.META:
            return JsonResponse({{"error": "unauthorized"}}, status=401)
        return get_response(request)
    return middleware

def items(request):
    return JsonResponse([1, 2, 3], safe=False)

urlpatterns = [path("api/items", items)]
execute_from_command_line([sys.argv[0], "runserver", "127.0.0.1:{port}", "--noreload"])
"#,
        auth = py_bool(s.stack == Stack::DjangoAuthFirst),
        origins = s.origins,
        methods = s.methods,
        headers = s.headers.clone().unwrap_or_default(),
        cred = py_bool(s.credentials),
    )
}

/// Express with the cors package; `echo`: no cors package, the allowed origin echoed by hand
/// without Vary (unless the fix is applied).
fn express(s: &Settings, port: u16, echo: bool) -> String {
    let origin = if s.reflect {
        "true".to_string()
    } else if s.origins == ["*"] {
        "'*'".to_string()
    } else {
        format!("{:?}", s.origins)
    };
    let headers = match &s.headers {
        Some(h) => format!("allowedHeaders: {h:?},"),
        None => String::new(),
    };
    let login = s.stack == Stack::ExpressLoginRedirect;
    let auth_first = matches!(
        s.stack,
        Stack::ExpressAuthFirst | Stack::ExpressLoginRedirect
    ) && !s.fixed_path;
    let with_cors = !(echo || s.origins.is_empty() && !s.reflect);
    format!(
        r#"const express = require('express');
const cors = require('cors');
const app = express();
const opts = {{ origin: {origin}, methods: {methods:?}, {headers} credentials: {cred} }};
const auth = (req, res, next) => (req.get('authorization') || !{auth_used} || req.path === '/login') ? next()
  : {login} ? res.redirect(302, '/login?next=' + encodeURIComponent(req.originalUrl))
  : res.status(401).set('WWW-Authenticate', 'Bearer').json({{ error: 'unauthorized' }});
if ({echo}) {{
  const allowed = {origins:?};
  app.use((req, res, next) => {{
    if (allowed.includes(req.get('origin'))) res.set('Access-Control-Allow-Origin', req.get('origin'));
    if ({vary}) res.vary('Origin');
    next();
  }});
}}
if ({auth_first}) {{ app.use(auth); if ({with_cors}) app.use(cors(opts)); }}
else {{ if ({with_cors}) app.use(cors(opts)); app.use(auth); }}
app.get('/api/items', (req, res) => res.json([1, 2, 3]));
app.get('/login', (req, res) => res.send('<form>sign in</form>'));
app.all('/api/items', (req, res) => res.json({{ ok: true }}));
app.listen({port}, '127.0.0.1');
"#,
        methods = s.methods,
        cred = s.credentials,
        auth_used = matches!(
            s.stack,
            Stack::ExpressAuthFirst | Stack::ExpressLoginRedirect
        ),
        origins = s.origins,
        vary = echo && s.fixed_path,
    )
}
