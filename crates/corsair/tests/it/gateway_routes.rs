//! `corsair serve`'s `[[routes]]` against the route the upstream really serves. In front of real
//! nginx, Express and Starlette apps that say which of their routes answered, every
//! encoding trick is sent with an origin that one route allows and the other does not, on both
//! HTTP/1.1 engines and over HTTP/2: the gateway either refuses the path (400, and the
//! upstream never sees it) or answers with the CORS headers of the route the upstream served.
//! A page allowed on one route can never read another route's data.

use crate::support::peers::venv;
use crate::support::{browser_deps, free_port, http, start_nginx, wait_port, Gateway, Proc};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const APP: &str = "https://app.acme.com";
const ADMIN: &str = "https://admin.acme.com";

/// Paths as attackers write them, each sent as is.
const TRICKS: &[&str] = &[
    "/admin/users",
    "/items",
    "/%61dmin/users",
    "/%41dmin/users",
    "/%61%64%6d%69%6e/users",
    "//admin/users",
    "///admin/users",
    "/admin//users",
    "/ADMIN/users",
    "/Admin/users",
    "/aDmIn",
    "/admin;x/users",
    "/admin;jsessionid=1",
    "/items;/admin",
    "/x%2F..%2Fadmin/users",
    "/x%2f..%2fadmin/users",
    "/%2Fadmin/users",
    "/admin%2F..%2Fitems",
    "/x%5C..%5Cadmin",
    "/%2561dmin/users",
    "/x%252F..%252Fadmin",
    "/admin%00/users",
    "/%C0%AFadmin/users",
    "/x%C0%AF..%C0%AFadmin",
    "/%E0%80%AFadmin",
    "/admin.json",
    "/admin/users.json",
    "/%61dmin%2Fusers",
    "/items/%2e%2e/admin",
    "/items/..;/admin",
    "/items/%2e%2e;/admin",
    "/admin/../items",
    "/items\\..\\admin",
    "/admin?x=/items",
    "/items?x=/admin",
    "/items#/admin",
];

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("corsair-routes-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn config(dir: &Path, upstream: &str, engine: &str, tag: &str) -> PathBuf {
    let p = dir.join(format!("corsair-{tag}-{engine}.toml"));
    std::fs::write(
        &p,
        format!(
            r#"upstream = "{upstream}"
[gateway]
http1 = "{engine}"
[policy]
origins = ["{APP}"]
credentials = true
[[routes]]
path = "/admin"
policy = {{ origins = ["{ADMIN}"] }}
"#
        ),
    )
    .unwrap();
    p
}

/// The upstreams, each answering `admin` under its `/admin` route and `default` elsewhere.
fn nginx(dir: &Path) -> (Proc, String) {
    let port = free_port();
    let p = start_nginx(
        dir,
        &format!(
            "server {{ listen 127.0.0.1:{port};\n  location /admin {{ return 200 \"admin\"; }}\n  \
                location / {{ return 200 \"default\"; }}\n}}"
        ),
        port,
    );
    (p, format!("http://127.0.0.1:{port}"))
}

fn express(dir: &Path) -> (Proc, String) {
    let port = free_port();
    let app = dir.join("app.js");
    std::fs::write(
        &app,
        format!(
            "const app = require('express')();\napp.use('/admin', (req, res) => \
                res.send('admin'));\napp.use((req, res) => \
                res.send('default'));\napp.listen({port}, '127.0.0.1');\n"
        ),
    )
    .unwrap();
    let mut c = Command::new("node")
        .arg(&app)
        .env("NODE_PATH", &browser_deps().node_modules)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_port(port, "express", &mut c);
    (Proc(c), format!("http://127.0.0.1:{port}"))
}

fn starlette(dir: &Path) -> (Proc, String) {
    let port = free_port();
    let app = dir.join("app.py");
    std::fs::write(
        &app,
        format!(
            "import uvicorn\nfrom starlette.applications import Starlette\nfrom \
                starlette.responses import PlainTextResponse\nfrom starlette.routing import Mount, \
                Route\nasync def admin(r): return PlainTextResponse('admin')\nasync def \
                default(r): return PlainTextResponse('default')\napp = \
                Starlette(routes=[Mount('/admin', routes=[Route('/{{p:path}}', admin)]), \
                Route('/admin', admin), Route('/{{p:path}}', default)])\nuvicorn.run(app, \
                host='127.0.0.1', port={port}, log_level='error')\n"
        ),
    )
    .unwrap();
    let mut c = Command::new(venv())
        .arg(&app)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_port(port, "starlette", &mut c);
    (Proc(c), format!("http://127.0.0.1:{port}"))
}

/// Every trick through the gateway in front of `upstream`: refused, or CORS headers that
/// belong to the route the upstream served. Returns how many were refused.
fn battery(name: &str, upstream: &str, gw: &Gateway) -> usize {
    let mut refused = 0;
    for path in TRICKS {
        for origin in [APP, ADMIN] {
            let (status, headers, body) = http(&gw.addr, "GET", path, &[("Origin", origin)]);
            if status == 400 {
                // Refused by the gateway (or by hyper, for a target it cannot parse).
                refused += usize::from(body.starts_with("corsair: "));
                continue;
            }
            let served = match body.trim() {
                "admin" => ADMIN,
                "default" => APP,
                // The upstream's own refusal (404, 400) carries no data of either route.
                _ => continue,
            };
            let acao: Vec<&str> = headers
                .iter()
                .filter(|(n, _)| n == "access-control-allow-origin")
                .map(|(_, v)| v.as_str())
                .collect();
            let expected: &[&str] = if origin == served { &[origin] } else { &[] };
            assert_eq!(
                acao,
                expected,
                "{name} {path} from {origin}: {upstream} served its {} route (status {status})",
                body.trim()
            );
        }
    }
    refused
}

#[test]
fn routes_are_chosen_on_the_path_the_upstream_serves() {
    let dir = temp_dir("real");
    let upstreams = [
        ("nginx", nginx(&dir.join("nginx"))),
        ("express", express(&dir)),
        ("starlette", starlette(&dir)),
    ];
    for (name, (_proc, url)) in &upstreams {
        // The upstream itself reads the tricks as the gateway must assume: nginx serves
        // /%61dmin as /admin, Express /ADMIN as /admin, Starlette /x%2F..%2Fadmin as /admin.
        for engine in ["corsair", "hyper"] {
            let cfg = config(&dir, url, engine, name);
            let gw = Gateway::start(&cfg, &[]);
            let refused = battery(&format!("{name}/{engine}"), url, &gw);
            assert!(refused >= 20, "{name}/{engine}: {refused} refused");
        }
    }
    // The two ordinary paths are answered with their route's headers everywhere.
    let (_p, url) = &upstreams[0].1;
    let gw = Gateway::start(&config(&dir, url, "corsair", "plain"), &[]);
    let acao = |path: &str, origin: &str| {
        http(&gw.addr, "GET", path, &[("Origin", origin)])
            .1
            .into_iter()
            .find(|(n, _)| n == "access-control-allow-origin")
            .map(|(_, v)| v)
    };
    assert_eq!(acao("/admin/users", ADMIN).as_deref(), Some(ADMIN));
    assert_eq!(acao("/admin/users", APP), None);
    assert_eq!(acao("/items", APP).as_deref(), Some(APP));
    assert_eq!(acao("/items", ADMIN), None);
    let (status, _, body) = http(&gw.addr, "GET", "/%61dmin/users", &[("Origin", APP)]);
    assert_eq!(status, 400);
    assert!(body.contains("send it normalised"), "{body}");
}

#[test]
fn over_http2_too() {
    let dir = temp_dir("h2");
    let (_p, url) = nginx(&dir.join("nginx"));
    let gw = Gateway::start(&config(&dir, &url, "corsair", "h2"), &[]);
    let addr = gw.addr.clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answers = rt.block_on(async move {
        let mut send = crate::support::h2_client(&addr).await;
        let mut answers = Vec::new();
        for path in [
            "/admin/users",
            "/%61dmin/users",
            "//admin/x",
            "/ADMIN",
            "/x%2F..%2Fadmin",
        ] {
            let req = hyper::Request::builder()
                .uri(format!("http://{addr}{path}"))
                .header("origin", APP)
                .body(http_body_util::Empty::<bytes::Bytes>::new())
                .unwrap();
            let resp = send.send_request(req).await.unwrap();
            let acao = resp
                .headers()
                .get("access-control-allow-origin")
                .map(|v| v.to_str().unwrap().to_string());
            answers.push((path, resp.status().as_u16(), acao));
        }
        answers
    });
    assert_eq!(answers[0], ("/admin/users", 200, None));
    for (path, status, acao) in &answers[1..] {
        assert_eq!((*status, acao), (400, &None), "{path}");
    }
}
