//! `corsair gen` proven on real servers: the generated nginx, Apache and Caddy configs (in front
//! of an upstream), and the Express, Starlette, Flask, Django, axum + corsair-tower and axum +
//! tower-http apps are started on loopback and checked with
//! `corsair check` over a matrix of origins and requests; every verdict (readable or not,
//! preflighted or not) must equal the verdict of `corsair serve` with the same policy.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use support::{free_port, start_nginx, wait_port, Gateway, Proc, Resp, Route, Server};

const POLICY: &str = r#"[policy]
origins = ["https://app.example.com", "https://*.example.com"]
methods = ["GET", "POST", "PUT", "DELETE"]
request_headers = ["Content-Type", "Authorization"]
expose_headers = ["X-Total-Count"]
credentials = true
max_age = 600
"#;

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

/// Caddy running the generated `caddyfile` on `port`, its state kept under `dir`.
fn start_caddy(dir: &Path, caddyfile: &Path, port: u16) -> Proc {
    let home = dir.join("caddy-home");
    std::fs::create_dir_all(&home).unwrap();
    let mut c = Command::new("caddy")
        .args(["run", "--adapter", "caddyfile", "--config"])
        .arg(caddyfile)
        .env("HOME", &home)
        .env("XDG_DATA_HOME", &home)
        .env("XDG_CONFIG_HOME", &home)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("caddy is installed by scripts/test.sh");
    wait_port(port, "caddy", &mut c);
    Proc(c)
}

/// Where the generated axum apps are built: kept under target/ so a second run reuses the build.
fn axum_project() -> PathBuf {
    support::workspace_root().join("target/gen-axum")
}

/// Writes a cargo project holding `corsair gen axum` and `corsair gen tower-http` output for
/// `config` and starts building it (offline, with the workspace's lock file, so the versions are
/// the ones already downloaded). Returns the build and the file its output goes to.
fn start_axum_build(config: &Path, ports: [u16; 2]) -> (Child, PathBuf) {
    let root = support::workspace_root();
    let project = axum_project();
    std::fs::create_dir_all(project.join("src")).unwrap();
    let crates = root.join("crates");
    std::fs::write(
        project.join("Cargo.toml"),
        format!(
            r#"[package]
name = "corsair-gen-axum"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
axum = {{ version = "0.8", default-features = false, features = ["tokio", "http1"] }}
tokio = {{ version = "1", features = ["macros", "rt-multi-thread", "net"] }}
tower-http = {{ version = "0.6", features = ["cors"] }}
regex = "1"
corsair-core = {{ path = "{}" }}
corsair-tower = {{ path = "{}" }}

[[bin]]
name = "axum"
path = "src/axum.rs"

[[bin]]
name = "tower-http"
path = "src/tower_http.rs"
"#,
            crates.join("corsair-core").display(),
            crates.join("corsair-tower").display()
        ),
    )
    .unwrap();
    if !project.join("Cargo.lock").exists() {
        std::fs::copy(root.join("Cargo.lock"), project.join("Cargo.lock")).unwrap();
    }
    gen(
        "axum",
        config,
        &format!("127.0.0.1:{}", ports[0]),
        &project.join("src/axum.rs"),
    );
    gen(
        "tower-http",
        config,
        &format!("127.0.0.1:{}", ports[1]),
        &project.join("src/tower_http.rs"),
    );
    let log = project.join("build.log");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let child = Command::new(cargo)
        .args(["build", "--offline", "--quiet", "--manifest-path"])
        .arg(project.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", project.join("target"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    (child, log)
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

    // The generated axum apps are compiled in the background while the other servers start.
    let axum_ports = [free_port(), free_port()];
    let mut axum_build = start_axum_build(&config, axum_ports);

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
    procs.push(start_nginx(
        &dir,
        &format!("include {};", conf.display()),
        port,
    ));
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

    // Caddy, in front of the same upstream.
    let port = free_port();
    let caddyfile = dir.join("Caddyfile");
    gen("caddy", &config, &format!("127.0.0.1:{port}"), &caddyfile);
    procs.push(start_caddy(&dir, &caddyfile, port));
    servers.push(("caddy", format!("http://127.0.0.1:{port}")));

    // axum behind corsair-tower, and behind tower-http.
    let status = axum_build.0.wait().unwrap();
    assert!(
        status.success(),
        "the generated axum apps did not compile:\n{}",
        std::fs::read_to_string(&axum_build.1).unwrap_or_default()
    );
    for (name, port) in [("axum", axum_ports[0]), ("tower-http", axum_ports[1])] {
        let bin = axum_project().join("target/debug").join(name);
        let mut c = Command::new(bin).stdout(Stdio::null()).spawn().unwrap();
        wait_port(port, name, &mut c);
        procs.push(Proc(c));
        servers.push((name, format!("http://127.0.0.1:{port}")));
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
    println!("gen: {} agree with corsair serve on {} checks each ({kind_differences} blocked for another reason, e.g. a 400 preflight instead of a method error)", servers.iter().map(|s| s.0).collect::<Vec<_>>().join(", "), reference.len());
    let _ = std::fs::remove_dir_all(&dir);
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

/// `[[routes]]` in nginx, Caddy and Express: each route's own maps, matchers or options, and
/// its locations, handle blocks or path picker, longest prefix first, on segment boundaries, against `corsair serve` with the
/// same file, over paths in and out of the routes.
#[test]
fn nginx_caddy_and_express_write_routes_as_corsair_serve_applies_them() {
    let dir = std::env::temp_dir().join(format!("corsair-gen-routes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let up = Server::start(1);
    for path in [
        "/api/items",
        "/admin",
        "/admin/users",
        "/administrator",
        "/public/data",
    ] {
        up.route(
            up.ports[0],
            path,
            Route {
                preflight: Resp::new(200),
                actual: Resp::new(200).h("Content-Type", "application/json"),
            },
        );
    }
    let config = dir.join("corsair.toml");
    std::fs::write(
        &config,
        format!(
            "upstream = \"{}\"\n{POLICY}\n[[routes]]\npath = \"/admin\"\npolicy = {{ origins = [\"https://admin.example.com\"], methods = [\"GET\", \"DELETE\"] }}\n\n[[routes]]\npath = \"/public/\"\npolicy = {{ origins = [\"*\"], credentials = false }}\n",
            up.origin(0)
        ),
    )
    .unwrap();
    let gw = Gateway::start(&config, &[]);
    let port = free_port();
    let conf = dir.join("corsair.nginx.conf");
    gen("nginx", &config, &format!("127.0.0.1:{port}"), &conf);
    let text = std::fs::read_to_string(&conf).unwrap();
    assert!(text.contains("location = /admin {") && text.contains("location /admin/ {"));
    assert!(text.contains("location /public/ {") && text.contains("$corsair_origin_2"));
    let _nginx = start_nginx(&dir, &format!("include {};", conf.display()), port);

    let caddy_port = free_port();
    let caddyfile = dir.join("Caddyfile");
    gen(
        "caddy",
        &config,
        &format!("127.0.0.1:{caddy_port}"),
        &caddyfile,
    );
    let text = std::fs::read_to_string(&caddyfile).unwrap();
    assert!(text.contains("handle /admin {") && text.contains("handle /admin/* {"));
    assert!(text.contains("handle /public/* {"));
    let _caddy = start_caddy(&dir, &caddyfile, caddy_port);

    let express_port = free_port();
    let js = dir.join("server.js");
    gen(
        "express",
        &config,
        &format!("127.0.0.1:{express_port}"),
        &js,
    );
    let mut c = Command::new("node")
        .arg(&js)
        .env("NODE_PATH", &support::browser_deps().node_modules)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_port(express_port, "express", &mut c);
    let _express = Proc(c);

    let origins = [
        "https://app.example.com",
        "https://admin.example.com",
        "https://other.org",
    ];
    type Req<'a> = (&'a str, &'a [&'a str], bool);
    let requests: [Req; 4] = [
        ("GET", &[], false),
        ("GET", &[], true),
        ("DELETE", &[], true),
        ("PUT", &["Content-Type: application/json"], true),
    ];
    let mut checked = 0;
    let mut differ = Vec::new();
    let mut allowed = std::collections::BTreeSet::new();
    for path in [
        "/api/items",
        "/admin",
        "/admin/users",
        "/administrator",
        "/public/data",
    ] {
        for o in origins {
            for (m, h, cred) in requests {
                let want = verdict(&format!("http://{}{path}", gw.addr), o, m, h, cred);
                if want.0 {
                    allowed.insert(format!("{path} {o}"));
                }
                for (name, p) in [
                    ("nginx", port),
                    ("caddy", caddy_port),
                    ("express", express_port),
                ] {
                    let got = verdict(&format!("http://127.0.0.1:{p}{path}"), o, m, h, cred);
                    checked += 1;
                    if (got.0, got.1) != (want.0, want.1) {
                        differ.push(format!("{name}: {path} {o} {m} {h:?} credentials={cred}: got {got:?}, corsair serve {want:?}"));
                    }
                }
            }
        }
    }
    // The routes really differ: admin only on /admin, anyone (without credentials) on /public/.
    assert!(allowed.contains("/admin https://admin.example.com"));
    assert!(!allowed.contains("/admin https://app.example.com"));
    assert!(
        allowed.contains("/administrator https://app.example.com"),
        "not a segment of /admin"
    );
    assert!(allowed.contains("/public/data https://other.org"));
    println!("gen nginx, caddy and express with [[routes]]: {checked} checks over 5 paths agree with corsair serve");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

#[test]
fn gen_refuses_what_it_cannot_write_safely() {
    let dir = std::env::temp_dir().join(format!("corsair-gen-refuse-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("corsair.toml");
    std::fs::write(&config, format!("{POLICY}[[routes]]\npath = \"/admin\"\npolicy = {{ origins = [\"https://admin.example.com\"] }}\n")).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args(["gen", "flask", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("routes"));
    let o = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args(["gen", "iis", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("the targets are"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Traefik and Envoy are not in Debian, so their output is parsed (as YAML, by PyYAML) and its
/// CORS settings compared with the policy: the exact origins, the anchored patterns (which must
/// accept and refuse the same origins as corsair), methods, headers, credentials and max-age.
#[test]
fn traefik_and_envoy_configs_parse_and_carry_the_policy() {
    let dir = std::env::temp_dir().join(format!("corsair-gen-yaml-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("corsair.toml");
    std::fs::write(
        &config,
        format!("upstream = \"http://127.0.0.1:9\"\n{POLICY}"),
    )
    .unwrap();
    let load = |target: &str| -> serde_json::Value {
        let out = dir.join(format!("{target}.yaml"));
        gen(target, &config, "127.0.0.1:8080", &out);
        let o = Command::new(venv())
            .args([
                "-c",
                "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
            ])
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{target}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let accepted = |patterns: &[String], origin: &str| {
        patterns
            .iter()
            .any(|p| regex::Regex::new(p).unwrap().is_match(origin))
    };
    let probes = [
        ("https://app.example.com", true),
        ("https://a.b.example.com", true),
        ("https://example.com", false),
        ("https://app.example.com.evil.org", false),
        ("https://evilexample.com", false),
        ("null", false),
    ];

    let t = load("traefik");
    let h = &t["http"]["middlewares"]["corsair-cors"]["headers"];
    let exact: Vec<String> =
        serde_json::from_value(h["accessControlAllowOriginList"].clone()).unwrap();
    let patterns: Vec<String> =
        serde_json::from_value(h["accessControlAllowOriginListRegex"].clone()).unwrap();
    for (origin, want) in probes {
        let got = exact.iter().any(|e| e == origin) || accepted(&patterns, origin);
        assert_eq!(got, want, "traefik: {origin}");
    }
    assert_eq!(h["accessControlAllowCredentials"], true);
    assert_eq!(h["accessControlMaxAge"], 600);
    assert_eq!(h["addVaryHeader"], true);
    assert_eq!(
        h["accessControlAllowMethods"],
        serde_json::json!(["GET", "POST", "PUT", "DELETE"])
    );
    assert_eq!(
        h["customResponseHeaders"]["Access-Control-Allow-Origin"],
        ""
    );
    assert_eq!(
        t["http"]["services"]["corsair-upstream"]["loadBalancer"]["servers"][0]["url"],
        "http://127.0.0.1:9"
    );

    let e = load("envoy");
    let hcm =
        &e["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"];
    let filters: Vec<&str> = hcm["http_filters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        filters,
        ["envoy.filters.http.cors", "envoy.filters.http.router"],
        "CORS first"
    );
    let vh = &hcm["route_config"]["virtual_hosts"][0];
    let cors = &vh["typed_per_filter_config"]["envoy.filters.http.cors"];
    let matchers = cors["allow_origin_string_match"].as_array().unwrap();
    let exact: Vec<String> = matchers
        .iter()
        .filter_map(|m| m["exact"].as_str().map(String::from))
        .collect();
    let patterns: Vec<String> = matchers
        .iter()
        .filter_map(|m| m["safe_regex"]["regex"].as_str().map(String::from))
        .collect();
    for (origin, want) in probes {
        let got = exact.iter().any(|e| e == origin) || accepted(&patterns, origin);
        assert_eq!(got, want, "envoy: {origin}");
    }
    assert_eq!(cors["allow_credentials"], true);
    assert_eq!(cors["max_age"], "600");
    assert_eq!(cors["allow_headers"], "Content-Type, Authorization");
    assert!(vh["routes"][0]["response_headers_to_remove"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("Access-Control-Allow-Origin")));
    let _ = std::fs::remove_dir_all(&dir);
}
