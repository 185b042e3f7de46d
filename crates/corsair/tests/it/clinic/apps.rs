//! The clinic's apps: each written from its settings, so a fix can be applied to them.

use crate::support::peers::venv;
use crate::support::{browser_deps, cert, free_port, spki_hash, start_nginx, wait_port, Proc};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

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
    /// nginx upgrading http to https (its CORS headers on the https server only).
    NginxHttps,
    /// nginx canonicalising the host name (localhost to www.localhost).
    NginxHost,
    /// nginx (with CORS headers) redirecting the API to an Express app on another origin.
    NginxCrossOrigin,
    /// nginx redirecting to a URL with a user name and password in it.
    NginxCredentialsRedirect,
    /// FastAPI with CORSMiddleware added by `add_middleware`, a crashing route.
    FastapiInside,
    /// Nothing listening (nginx, once the fix is applied: the server started).
    NotListening,
    /// nginx over TLS with a self-signed certificate nobody trusts (once fixed: the clinic's).
    NginxUntrustedTls,
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
    pub(super) fn new(stack: Stack, origins: &[&str]) -> Settings {
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
    pub(super) fn methods(mut self, m: &[&str]) -> Settings {
        self.methods = m.iter().map(|s| s.to_string()).collect();
        self
    }
    pub(super) fn headers(mut self, h: Option<&[&str]>) -> Settings {
        self.headers = h.map(|h| h.iter().map(|s| s.to_string()).collect());
        self
    }
    pub(super) fn credentials(mut self) -> Settings {
        self.credentials = true;
        self
    }
    pub(super) fn reflect(mut self) -> Settings {
        self.reflect = true;
        self
    }
}

/// A running app (and what runs in front of or behind it).
pub struct App {
    scheme: &'static str,
    host: &'static str,
    /// The port the page calls first, then the app's other ports (a TLS server, a server on
    /// another origin), in the same order each time it starts.
    pub ports: Vec<u16>,
    _procs: Vec<Proc>,
}

/// The clinic's TLS certificate (for 127.0.0.1 and localhost, signed by a CA of its own):
/// the files nginx reads, the CA `corsair check --cacert` trusts, and the hash Chromium's
/// `--ignore-certificate-errors-spki-list` trusts.
pub struct Tls {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca: PathBuf,
    pub spki: String,
}

pub fn tls(dir: &Path) -> &'static Tls {
    static TLS: OnceLock<Tls> = OnceLock::new();
    TLS.get_or_init(|| {
        let (ca_pem, _, ca_cert, ca_key) = cert("corsair clinic CA", None);
        let (leaf, key, _, _) = cert("corsair clinic", Some(&(ca_cert, ca_key)));
        let t = Tls {
            cert: dir.join("clinic.crt"),
            key: dir.join("clinic.key"),
            ca: dir.join("clinic-ca.crt"),
            spki: spki_hash(&leaf),
        };
        std::fs::write(&t.cert, leaf).unwrap();
        std::fs::write(&t.key, key).unwrap();
        std::fs::write(&t.ca, ca_pem).unwrap();
        t
    })
}

impl App {
    pub fn url(&self, path: &str) -> String {
        format!("{}://{}:{}{path}", self.scheme, self.host, self.ports[0])
    }

    /// A URL `u` of the app as it ran before (on `old` ports), on this run's ports.
    pub fn rebase(&self, old: &[u16], u: &str) -> String {
        let mut u = url::Url::parse(u).unwrap();
        if let Some(i) = old.iter().position(|p| Some(*p) == u.port()) {
            u.set_port(Some(self.ports[i])).unwrap();
        }
        u.to_string()
    }

    pub fn start(s: &Settings, dir: &Path, page: &str) -> App {
        let port = free_port();
        let mut ports = vec![port];
        let mut host = "127.0.0.1";
        let mut scheme = "http";
        let root = dir;
        let dir = dir.join(format!("app-{port}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut procs = Vec::new();
        match s.stack {
            Stack::NginxHttps => {
                let tls_port = free_port();
                ports.push(tls_port);
                let t = tls(root);
                procs.push(start_nginx(&dir, &format!(
                    "server {{ listen 127.0.0.1:{port}; return 301 https://127.0.0.1:{tls_port}$request_uri; }} \
                    server {{ listen 127.0.0.1:{tls_port} ssl; ssl_certificate {}; ssl_certificate_key {}; \
                    location /api/ {{ add_header Access-Control-Allow-Origin {page}; add_header Vary Origin; \
                    return 200 '[1]'; }} }}",
                    t.cert.display(),
                    t.key.display()
                ), port));
            }
            Stack::FastapiInside => procs.push(python(&dir, &fastapi(s, port), port)),
            Stack::NotListening if !s.fixed_path => {}
            Stack::NotListening => procs.push(start_nginx(&dir, &format!(
                "server {{ listen 127.0.0.1:{port}; location /api/ {{ add_header Access-Control-Allow-Origin {page}; \
                add_header Vary Origin; return 200 '[1]'; }} }}"
            ), port)),
            Stack::NginxUntrustedTls => {
                scheme = "https";
                let t = tls(root);
                let (cert, key) = if s.fixed_path {
                    (t.cert.clone(), t.key.clone())
                } else {
                    let (pem, key, _, _) = cert("self-signed", None);
                    std::fs::write(dir.join("self.crt"), pem).unwrap();
                    std::fs::write(dir.join("self.key"), key).unwrap();
                    (dir.join("self.crt"), dir.join("self.key"))
                };
                procs.push(start_nginx(&dir, &format!(
                    "server {{ listen 127.0.0.1:{port} ssl; ssl_certificate {}; ssl_certificate_key {}; \
                    location /api/ {{ add_header Access-Control-Allow-Origin {page}; add_header Vary Origin; \
                    return 200 '[1]'; }} }}",
                    cert.display(),
                    key.display()
                ), port));
            }
            Stack::NginxHost => {
                host = "localhost";
                procs.push(start_nginx(&dir, &format!(
                    "server {{ listen 127.0.0.1:{port} default_server; listen [::1]:{port} default_server; \
                    return 301 http://www.localhost:{port}$request_uri; }} \
                    server {{ listen 127.0.0.1:{port}; listen [::1]:{port}; server_name www.localhost; \
                    location /api/ {{ add_header Access-Control-Allow-Origin {page}; add_header Vary Origin; \
                    return 200 '[1]'; }} }}"
                ), port));
            }
            Stack::NginxCrossOrigin => {
                let other = free_port();
                ports.push(other);
                let app = Settings {
                    stack: Stack::Express,
                    ..s.clone()
                };
                procs.push(node(&dir, &express(&app, other, false), other));
                procs.push(start_nginx(&dir, &format!(
                    "server {{ listen 127.0.0.1:{port}; location /api/ {{ add_header Access-Control-Allow-Origin {page}; \
                    add_header Vary Origin; return 302 http://127.0.0.1:{other}$request_uri; }} }}"
                ), port));
            }
            Stack::NginxCredentialsRedirect => {
                let userinfo = if s.fixed_path { "" } else { "u:p@" };
                procs.push(start_nginx(&dir, &format!(
                    "server {{ listen 127.0.0.1:{port}; add_header Access-Control-Allow-Origin {page}; add_header Vary Origin; \
                    location = /api/items {{ return 301 http://{userinfo}127.0.0.1:{port}/api/items/; }} \
                    location /api/items/ {{ return 200 '[1]'; }} }}"
                ), port));
            }
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
            scheme,
            host,
            ports,
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

fn fastapi(s: &Settings, port: u16) -> String {
    format!(
        r#"from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
import uvicorn

api = FastAPI()

@api.get("/api/items")
def items():
    return [1, 2, 3]

@api.get("/api/crash")
def crash():
    raise RuntimeError("boom")

opts = dict(allow_origins={origins:?}, allow_methods={methods:?}, allow_headers={headers:?}, allow_credentials={cred})
if {fixed}:
    app = CORSMiddleware(api, **opts)
else:
    api.add_middleware(CORSMiddleware, **opts)
    app = api
uvicorn.run(app, host="127.0.0.1", port={port}, log_level="critical")
"#,
        fixed = py_bool(s.fixed_path),
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
