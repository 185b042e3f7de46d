//! `corsair gen` proven on real servers: the generated nginx, Apache and Caddy configs (in front
//! of an upstream), and the Express, Starlette, Flask, Django, axum + corsair-tower and axum +
//! tower-http apps are started on loopback and checked with
//! `corsair check` over a matrix of origins and requests; every verdict (readable or not,
//! preflighted or not) must equal the verdict of `corsair serve` with the same policy.

use crate::support::peers::{self, gen};
use crate::support::{free_port, start_nginx, wait_port, Gateway, Proc, Resp, Route, Server};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::SAMPLE_POLICY as POLICY;

/// (allowed, preflight, kind) for one request.
fn verdict(
    url: &str,
    origin: &str,
    method: &str,
    headers: &[&str],
    credentials: bool,
) -> (bool, bool, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_corsair"));
    // The peer stands in for a public API (Local Network Access would refuse a public page).
    cmd.args([
        "check",
        "--target-space",
        "public",
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

/// The generated axum apps (corsair-tower and tower-http) for `config`, one binary each.
fn start_axum_build(config: &Path, ports: [u16; 2]) -> (std::process::Child, PathBuf) {
    let project = crate::support::workspace_root().join("target/gen-axum");
    let bins: Vec<(String, String)> = [("axum", ports[0]), ("tower-http", ports[1])]
        .iter()
        .map(|(target, port)| {
            let out = project.join(format!("{target}.rs.gen"));
            std::fs::create_dir_all(&project).unwrap();
            gen(target, config, &format!("127.0.0.1:{port}"), &out);
            (
                target.replace('-', "_"),
                std::fs::read_to_string(&out).unwrap(),
            )
        })
        .collect();
    peers::start_axum_build(&project, &bins)
}

#[test]
fn generated_configs_give_the_verdicts_of_corsair_serve() {
    let dir = std::env::temp_dir().join(format!("corsair-gen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let up = peers::items_upstream();
    let config = dir.join("corsair.toml");
    std::fs::write(
        &config,
        format!("upstream = \"{}\"\n{POLICY}", up.origin(0)),
    )
    .unwrap();

    // The generated axum apps are compiled in the background while the other servers start.
    let axum_ports = [free_port(), free_port()];
    let axum_build = start_axum_build(&config, axum_ports);

    // The reference: corsair serve with the same policy.
    let gw = Gateway::start(&config, &[]);
    let reference = matrix(&format!("http://{}", gw.addr));
    assert!(
        reference.iter().any(|(_, v)| v.0) && reference.iter().any(|(_, v)| !v.0),
        "the matrix must contain both verdicts"
    );

    let mut procs = Vec::new();
    let mut servers: Vec<(&str, String)> = Vec::new();
    for target in [
        "nginx",
        "apache",
        "express",
        "starlette",
        "flask",
        "django",
        "caddy",
    ] {
        let (proc, base) = peers::start_generated(target, &config, &dir);
        procs.push(proc);
        servers.push((target, base));
    }

    // axum behind corsair-tower, and behind tower-http.
    peers::finish_axum_build(axum_build);
    for (name, port) in [("axum", axum_ports[0]), ("tower_http", axum_ports[1])] {
        procs.push(peers::start_axum_bin(name, port));
        servers.push((name, format!("http://127.0.0.1:{port}")));
    }

    let mut disagreements = Vec::new();
    let mut kind_differences = 0;
    for (name, base) in &servers {
        for (((origin, req), got), (_, want)) in matrix(base).iter().zip(&reference) {
            if (got.0, got.1) != (want.0, want.1) {
                disagreements.push(format!(
                    "{name}: {origin} {req}: got allowed={} preflight={} \
                    ({}), corsair serve allowed={} preflight={} ({})",
                    got.0, got.1, got.2, want.0, want.1, want.2
                ));
            } else if got.2 != want.2 {
                kind_differences += 1;
            }
        }
    }
    println!(
        "gen: {} agree with corsair serve on {} checks each ({kind_differences} blocked for \
        another reason, e.g. a 400 preflight instead of a method error)",
        servers.iter().map(|s| s.0).collect::<Vec<_>>().join(", "),
        reference.len()
    );
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
            "upstream = \"{}\"\n{POLICY}\n[[routes]]\npath = \"/admin\"\npolicy = {{ origins = \
                [\"https://admin.example.com\"], methods = [\"GET\", \"DELETE\"] \
                }}\n\n[[routes]]\npath = \"/public/\"\npolicy = {{ origins = [\"*\"], credentials \
                = false }}\n",
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
    let _caddy = peers::start_caddy(&dir, &caddyfile, caddy_port);

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
        .env("NODE_PATH", &crate::support::browser_deps().node_modules)
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
                        differ.push(format!(
                            "{name}: {path} {o} {m} {h:?} credentials={cred}: got \
                            {got:?}, corsair serve {want:?}"
                        ));
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
    println!(
        "gen nginx, caddy and express with [[routes]]: {checked} checks over 5 paths agree \
        with corsair serve"
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

#[test]
fn gen_refuses_what_it_cannot_write_safely() {
    let dir = std::env::temp_dir().join(format!("corsair-gen-refuse-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("corsair.toml");
    std::fs::write(
        &config,
        format!(
            "{POLICY}[[routes]]\npath = \"/admin\"\npolicy = {{ origins = \
        [\"https://admin.example.com\"] }}\n"
        ),
    )
    .unwrap();
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
        let o = Command::new(peers::venv())
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
