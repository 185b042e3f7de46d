//! `corsair gen` proven on real servers: the generated nginx and Apache configs (in front of an upstream),
//! Express app, Starlette app and Flask app are started on loopback and checked with
//! `corsair check` over a matrix of origins and requests; every verdict (readable or not,
//! preflighted or not) must equal the verdict of `corsair serve` with the same policy.

mod support;

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{Gateway, Resp, Route, Server};

const POLICY: &str = r#"[policy]
origins = ["https://app.example.com", "https://*.example.com"]
methods = ["GET", "POST", "PUT", "DELETE"]
request_headers = ["Content-Type", "Authorization"]
expose_headers = ["X-Total-Count"]
credentials = true
max_age = 600
"#;

struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        // SIGTERM first: nginx's master then stops its workers (SIGKILL would orphan them).
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(3) {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_port(port: u16, what: &str, child: &mut Child) {
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited before listening: {status:?}");
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "{what} did not start listening on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn gen(target: &str, config: &Path, listen: &str, out: &Path) {
    let o = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args([
            "gen",
            target,
            "--config",
            config.to_str().unwrap(),
            "--listen",
            listen,
            "--output",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "gen {target}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// (allowed, preflight, kind) for one request.
fn verdict(
    url: &str,
    origin: &str,
    method: &str,
    headers: &[&str],
    credentials: bool,
) -> (bool, bool, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_corsair"));
    cmd.args([
        "check",
        url,
        "--origin",
        origin,
        "-X",
        method,
        "--format",
        "json",
        "--timeout",
        "5",
    ]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    if credentials {
        cmd.arg("--credentials");
    }
    if method != "GET" {
        cmd.args(["--data", "{}"]);
    }
    let v: serde_json::Value = serde_json::from_slice(&cmd.output().unwrap().stdout).unwrap();
    assert!(v["net_error"].is_null(), "{url}: {}", v["net_error"]);
    (
        v["allowed"].as_bool().unwrap(),
        v["preflight"].as_bool().unwrap(),
        v["kind"].as_str().unwrap_or("-").to_string(),
    )
}

/// (origin, request) → verdict, in a fixed order.
type Matrix = Vec<((String, String), (bool, bool, String))>;

fn matrix(base: &str) -> Matrix {
    let origins = [
        "https://app.example.com",
        "https://a.b.example.com",
        "https://example.com",
        "https://evil.example.org",
        "https://app.example.com.evil.org",
        "null",
    ];
    type Req<'a> = (&'a str, &'a [&'a str], bool);
    let requests: [Req; 5] = [
        ("GET", &[], false),
        ("GET", &[], true),
        (
            "PUT",
            &["Content-Type: application/json", "Authorization: Bearer t"],
            true,
        ),
        ("PATCH", &[], true),
        ("GET", &["X-Other: 1"], false),
    ];
    let mut out = Vec::new();
    for o in origins {
        for (m, h, c) in requests {
            out.push((
                (o.to_string(), format!("{m} {h:?} credentials={c}")),
                verdict(&format!("{base}/api/items"), o, m, h, c),
            ));
        }
    }
    out
}

fn venv() -> PathBuf {
    let p = support::workspace_root().join(".test-deps/venv/bin/python");
    assert!(p.exists(), "the peer tests need .test-deps/venv with starlette, uvicorn, flask, flask-cors, django and django-cors-headers: run `bash scripts/test.sh`");
    p
}

#[test]
fn generated_configs_give_the_verdicts_of_corsair_serve() {
    let deps = support::browser_deps();
    let dir = std::env::temp_dir().join(format!("corsair-gen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let up = Server::start(1);
    up.route(
        up.ports[0],
        "/api/items",
        Route {
            preflight: Resp::new(200),
            actual: Resp::new(200).h("Content-Type", "application/json"),
        },
    );
    let config = dir.join("corsair.toml");
    std::fs::write(
        &config,
        format!("upstream = \"{}\"\n{POLICY}", up.origin(0)),
    )
    .unwrap();

    // The reference: corsair serve with the same policy.
    let gw = Gateway::start(&config, &[]);
    let reference = matrix(&format!("http://{}", gw.addr));
    assert!(
        reference.iter().any(|(_, v)| v.0) && reference.iter().any(|(_, v)| !v.0),
        "the matrix must contain both verdicts"
    );

    let mut procs = Vec::new();
    let mut servers: Vec<(&str, String)> = Vec::new();

    // nginx, in front of the same upstream.
    let port = free_port();
    let conf = dir.join("corsair.nginx.conf");
    gen("nginx", &config, &format!("127.0.0.1:{port}"), &conf);
    let prefix = dir.join("nginx");
    std::fs::create_dir_all(&prefix).unwrap();
    let p = prefix.display();
    std::fs::write(
        prefix.join("nginx.conf"),
        format!("worker_processes 1;\npid {p}/nginx.pid;\nerror_log {p}/error.log warn;\nevents {{ worker_connections 256; }}\nhttp {{\n  access_log off;\n  client_body_temp_path {p}/body; proxy_temp_path {p}/proxy; fastcgi_temp_path {p}/fcgi; uwsgi_temp_path {p}/uwsgi; scgi_temp_path {p}/scgi;\n  include {};\n}}\n", conf.display()),
    )
    .unwrap();
    let mut c = Command::new("/usr/sbin/nginx")
        .args([
            "-p",
            &prefix.to_string_lossy(),
            "-c",
            &prefix.join("nginx.conf").to_string_lossy(),
            "-g",
            "daemon off;",
        ])
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx is installed by scripts/test.sh");
    wait_port(port, "nginx", &mut c);
    procs.push(Proc(c));
    servers.push(("nginx", format!("http://127.0.0.1:{port}")));

    // Apache httpd, in front of the same upstream.
    let port = free_port();
    let site = dir.join("corsair.apache.conf");
    gen("apache", &config, &format!("127.0.0.1:{port}"), &site);
    let root = dir.join("apache");
    std::fs::create_dir_all(&root).unwrap();
    let r = root.display();
    let modules = [
        "mpm_event",
        "authz_core",
        "headers",
        "setenvif",
        "rewrite",
        "proxy",
        "proxy_http",
    ]
    .iter()
    .map(|m| format!("LoadModule {m}_module /usr/lib/apache2/modules/mod_{m}.so\n"))
    .collect::<String>();
    std::fs::write(
        root.join("httpd.conf"),
        format!("ServerRoot {r}\nDefaultRuntimeDir {r}\nPidFile {r}/httpd.pid\nErrorLog {r}/error.log\nLogLevel warn\nMutex file:{r} default\nServerName localhost\nUser nobody\nGroup nogroup\n{modules}Include {}\n", site.display()),
    )
    .unwrap();
    let mut c = Command::new("/usr/sbin/apache2")
        .args([
            "-f",
            &root.join("httpd.conf").to_string_lossy(),
            "-DFOREGROUND",
        ])
        .stderr(Stdio::null())
        .spawn()
        .expect("apache2 is installed by scripts/test.sh");
    wait_port(port, "apache", &mut c);
    procs.push(Proc(c));
    servers.push(("apache", format!("http://127.0.0.1:{port}")));

    // Express.
    let port = free_port();
    let js = dir.join("server.js");
    gen("express", &config, &format!("127.0.0.1:{port}"), &js);
    let mut c = Command::new("node")
        .arg(&js)
        .env("NODE_PATH", &deps.node_modules)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_port(port, "express", &mut c);
    procs.push(Proc(c));
    servers.push(("express", format!("http://127.0.0.1:{port}")));

    // Starlette and Flask.
    for target in ["starlette", "flask", "django"] {
        let port = free_port();
        let py = dir.join(format!("{target}_app.py"));
        gen(target, &config, &format!("127.0.0.1:{port}"), &py);
        let mut c = Command::new(venv())
            .arg(&py)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_port(port, target, &mut c);
        procs.push(Proc(c));
        servers.push((target, format!("http://127.0.0.1:{port}")));
    }

    let mut disagreements = Vec::new();
    let mut kind_differences = 0;
    for (name, base) in &servers {
        for (((origin, req), got), (_, want)) in matrix(base).iter().zip(&reference) {
            if (got.0, got.1) != (want.0, want.1) {
                disagreements.push(format!("{name}: {origin} {req}: got allowed={} preflight={} ({}), corsair serve allowed={} preflight={} ({})", got.0, got.1, got.2, want.0, want.1, want.2));
            } else if got.2 != want.2 {
                kind_differences += 1;
            }
        }
    }
    println!("gen: nginx, apache, express, starlette, flask and django agree with corsair serve on {} checks each ({kind_differences} blocked for another reason, e.g. a 400 preflight instead of a method error)", reference.len());
    let _ = std::fs::remove_dir_all(&dir);
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

#[test]
fn gen_refuses_what_it_cannot_write_safely() {
    let dir = std::env::temp_dir().join(format!("corsair-gen-refuse-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("corsair.toml");
    std::fs::write(&config, format!("{POLICY}[[routes]]\npath = \"/admin\"\npolicy = {{ origins = [\"https://admin.example.com\"] }}\n")).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args(["gen", "express", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("routes"));
    let o = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args(["gen", "caddy", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("the targets are"));
    let _ = std::fs::remove_dir_all(&dir);
}
