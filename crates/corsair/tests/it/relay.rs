//! `corsair proxy` against a real upstream on loopback: pages on and off the list (preflights
//! too), targets on and off the list, the private-address guard (names mapped to 127.0.0.1 with
//! `--resolve`), redirects re-checked on every hop, cookies stripped both ways, an injected
//! secret that reaches the upstream and never comes back, body limits, the rate limit, the
//! lint, and `/metrics`. Every packet stays on 127.0.0.1; the guard's other ranges are tested
//! on the decision function in `corsair_core::relay`.

use crate::support::{http, Gateway, Resp, Route, Server};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

const PAGE: &str = "https://app.example.com";
const SECRET: &str = "Bearer s3cret-relay-token";

fn write_config(name: &str, body: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("corsair-relay-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("proxy.toml");
    std::fs::write(&path, body).unwrap();
    path
}

/// A GET from the allowed page.
fn get(addr: &str, path: &str) -> (u16, Vec<(String, String)>, String) {
    http(addr, "GET", path, &[("Origin", PAGE)])
}

fn header<'a>(hs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    hs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

fn no_cors(hs: &[(String, String)]) -> bool {
    hs.iter().all(|(n, _)| !n.starts_with("access-control-"))
}

/// `corsair proxy --config CONFIG --listen 127.0.0.1:0 --resolve R...` with `env`.
pub fn spawn_proxy(config: &Path, resolve: &[String], env: &[(&str, &str)]) -> Gateway {
    let mut args = vec![
        "proxy",
        "--config",
        config.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ];
    for r in resolve {
        args.extend(["--resolve", r.as_str()]);
    }
    Gateway::spawn(&args, env)
}

/// The upstream and a proxy in front of it: `api.test` may be reached (and is allowed to be
/// private), `private.test` is on the targets but not exempt from the guard.
fn setup(name: &str, extra: &str) -> (Server, Gateway, u16) {
    let up = Server::start(1);
    let p = up.ports[0];
    up.route(
        p,
        "/data",
        Route {
            preflight: Resp::new(204),
            actual: Resp::new(200)
                .h("Content-Type", "application/json")
                .h("Set-Cookie", "sid=upstream; Path=/")
                .h("Access-Control-Allow-Origin", "*")
                .h("X-Token-Echo", SECRET)
                .h("ETag", "\"v1\"")
                .body("{\"items\":[1,2]}"),
        },
    );
    let redirect = |to: String| Route {
        preflight: Resp::new(204),
        actual: Resp::new(302).h("Location", to),
    };
    up.route(p, "/redirect-ok", redirect("/data".into()));
    up.route(
        p,
        "/redirect-out",
        redirect(format!("http://other.test:{p}/data")),
    );
    up.route(
        p,
        "/redirect-private",
        redirect(format!("http://private.test:{p}/data")),
    );
    let config = write_config(
        name,
        &format!(
            r#"admin = "127.0.0.1:0"
[proxy]
origins = ["{PAGE}"]
targets = ["http://api.test:{p}", "http://private.test:{p}"]
allow_private = ["api.test:{p}"]
{extra}
[[proxy.inject]]
target = "http://api.test:{p}"
header = "Authorization"
value_env = "CORSAIR_TEST_TOKEN"
"#
        ),
    );
    let resolve: Vec<String> = ["api", "private", "other"]
        .iter()
        .map(|h| format!("{h}.test:{p}:127.0.0.1"))
        .collect();
    let proxy = spawn_proxy(
        &config,
        &resolve,
        &[("CORSAIR_TEST_TOKEN", SECRET), ("CORSAIR_LOG", "info")],
    );
    (up, proxy, p)
}

#[test]
fn pages_targets_guard_redirects_cookies_and_secrets() {
    let (up, proxy, p) = setup("main", "");
    let a = proxy.addr.as_str();
    let data = format!("/http://api.test:{p}/data");

    // An allowed page: the upstream's answer with the proxy's CORS headers, cookies stripped
    // both ways, the secret added upstream and never sent back.
    let (status, hs, body) = http(
        a,
        "GET",
        &data,
        &[("Origin", PAGE), ("Cookie", "session=page")],
    );
    assert_eq!(status, 200, "{hs:?} {body}");
    assert!(body.contains("\"items\""), "{body}");
    assert_eq!(header(&hs, "access-control-allow-origin"), Some(PAGE));
    assert!(
        header(&hs, "vary").is_some_and(|v| v.contains("Origin")),
        "{hs:?}"
    );
    assert_eq!(header(&hs, "x-content-type-options"), Some("nosniff"));
    assert_eq!(header(&hs, "content-security-policy"), Some("sandbox"));
    assert_eq!(
        header(&hs, "set-cookie"),
        None,
        "Set-Cookie never reaches the page"
    );
    assert_eq!(
        header(&hs, "x-token-echo"),
        None,
        "the secret never comes back"
    );
    assert!(
        header(&hs, "access-control-expose-headers").is_some_and(|v| v.contains("etag")),
        "{hs:?}"
    );
    let seen = up.take_log();
    assert_eq!(seen.len(), 1);
    let got = |n: &str| {
        seen[0]
            .headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(got("authorization").as_deref(), Some(SECRET));
    assert_eq!(
        got("cookie"),
        None,
        "the page's cookies never reach the upstream"
    );
    assert_eq!(got("origin"), None);
    assert_eq!(
        got("host").as_deref(),
        Some(format!("api.test:{p}").as_str())
    );

    // A page not on the list gets no CORS header at all, preflights included, and nothing is sent.
    for (method, extra) in [
        ("GET", None),
        ("OPTIONS", Some(("Access-Control-Request-Method", "PUT"))),
    ] {
        let mut h = vec![("Origin", "https://evil.example")];
        h.extend(extra);
        let (status, hs, body) = http(a, method, &data, &h);
        assert_eq!(status, 403, "{method} {body}");
        assert!(no_cors(&hs), "{method}: {hs:?}");
        assert!(body.contains("origin-not-allowed"), "{body}");
    }
    let (status, hs, _) = http(a, "GET", &data, &[]);
    assert!(status == 403 && no_cors(&hs), "no Origin at all: {status}");
    assert!(up.take_log().is_empty(), "refused pages reach nothing");

    // An allowed preflight is answered by the proxy.
    let (status, hs, _) = http(
        a,
        "OPTIONS",
        &data,
        &[
            ("Origin", PAGE),
            ("Access-Control-Request-Method", "PUT"),
            (
                "Access-Control-Request-Headers",
                "content-type, x-api-version",
            ),
        ],
    );
    assert!(matches!(status, 200 | 204), "{status}");
    assert_eq!(header(&hs, "access-control-allow-origin"), Some(PAGE));
    assert!(
        header(&hs, "access-control-allow-methods").is_some_and(|m| m.contains("PUT")),
        "{hs:?}"
    );
    assert!(
        header(&hs, "access-control-allow-headers").is_some(),
        "{hs:?}"
    );
    assert!(up.take_log().is_empty(), "a preflight is not forwarded");

    // Targets: off the list, a private address without an exception, bad forms.
    let (status, hs, body) = get(a, &format!("/http://127.0.0.1:{p}/data"));
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("target-not-allowed") && body.contains("[proxy] targets"),
        "{body}"
    );
    assert_eq!(
        header(&hs, "access-control-allow-origin"),
        Some(PAGE),
        "the page may read why"
    );
    let (status, _, body) = get(a, &format!("/http://private.test:{p}/data"));
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("private-address") && body.contains("127.0.0.0/8 (loopback)"),
        "{body}"
    );
    for (path, why) in [
        ("/", "no-target"),
        ("/api.test/data", "bad-target"),
        ("/file:///etc/passwd", "bad-target"),
    ] {
        let (status, _, body) = http(a, "GET", path, &[("Origin", PAGE)]);
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body.contains(why), "{path}: {body}");
    }
    assert!(up.take_log().is_empty(), "refused targets reach nothing");

    // Redirects: followed on the list, re-checked on every hop.
    let (status, _, body) = get(a, &format!("/http://api.test:{p}/redirect-ok"));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("items"));
    let (status, _, body) = get(a, &format!("/http://api.test:{p}/redirect-out"));
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("target-not-allowed") && body.contains("other.test"),
        "{body}"
    );
    let (status, _, body) = get(a, &format!("/http://api.test:{p}/redirect-private"));
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("private-address"), "{body}");
    let paths: Vec<String> = up.take_log().into_iter().map(|s| s.path).collect();
    assert_eq!(
        paths,
        [
            "/redirect-ok",
            "/data",
            "/redirect-out",
            "/redirect-private"
        ],
        "no refused hop is requested"
    );

    // The counters.
    let (_, _, metrics) = http(&proxy.admin, "GET", "/metrics", &[]);
    for line in [
        "corsair_proxy_requests_total{outcome=\"proxied\"} 2",
        "corsair_proxy_requests_total{outcome=\"preflight\"} 1",
        "corsair_proxy_requests_total{outcome=\"refused_origin\"} 3",
        "corsair_proxy_requests_total{outcome=\"refused_address\"} 2",
    ] {
        assert!(metrics.contains(line), "{line}\n{metrics}");
    }
    assert!(
        proxy.logs().contains("target=\"http://api.test"),
        "an access line per request: {}",
        proxy.logs()
    );
}

/// Sends a request with a body, and returns the status.
fn post(addr: &str, path: &str, body: &[u8]) -> u16 {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nOrigin: {PAGE}\r\nContent-Type: \
            text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(body);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out)
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[test]
fn limits_bodies_and_rates() {
    let (up, proxy, p) = setup(
        "limits",
        "max_body_bytes = 100\nrate_limit = \"4/minute\"\n",
    );
    let a = proxy.addr.as_str();
    let data = format!("/http://api.test:{p}/data");
    assert_eq!(post(a, &data, &[b'x'; 50]), 200);
    assert_eq!(post(a, &data, &[b'x'; 200]), 413, "over max_body_bytes");
    let seen = up.take_log();
    assert_eq!(seen.len(), 1, "the large body never reaches the upstream");
    // Two requests went; two more fit the budget of 4 a minute, the fifth does not.
    for _ in 0..2 {
        assert_eq!(http(a, "GET", &data, &[("Origin", PAGE)]).0, 200);
    }
    let (status, hs, body) = http(a, "GET", &data, &[("Origin", PAGE)]);
    assert_eq!(status, 429, "{body}");
    assert!(
        header(&hs, "retry-after")
            .is_some_and(|s| s.parse::<u64>().is_ok_and(|n| (1..=60).contains(&n))),
        "{hs:?}"
    );
    assert_eq!(
        header(&hs, "access-control-allow-origin"),
        Some(PAGE),
        "the page may read why"
    );
    assert!(body.contains("rate-limited"), "{body}");
}

fn check(body: &str) -> (i32, String) {
    let config = write_config(&format!("check-{}", body.len()), body);
    let o = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args(["proxy", "--config", config.to_str().unwrap(), "--check"])
        .env("CORSAIR_TEST_TOKEN", SECRET)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

#[test]
fn the_lint_refuses_open_relays_and_spendable_secrets() {
    let inject = "[[proxy.inject]]\ntarget = \"https://api.example.com\"\nheader \
        = \"Authorization\"\nvalue_env = \"CORSAIR_TEST_TOKEN\"\n";
    let (code, out) = check(&format!(
        "[proxy]\norigins = [\"{PAGE}\"]\ntargets = \
        [\"https://api.example.com\"]\nrate_limit = \"120/minute\"\n{inject}"
    ));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("ok:") && out.contains("1 injected header"),
        "{out}"
    );
    let (code, out) = check(&format!(
        "[proxy]\norigins = [\"{PAGE}\"]\ntargets = [\"*\"]\n"
    ));
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("proxy.toml:3:12: error: [proxy] targets[0]")
            && out.contains("open relay")
            && out.contains("dangerously_open_relay"),
        "{out}"
    );
    let (code, _) = check(&format!(
        "[proxy]\norigins = [\"{PAGE}\"]\ntargets = [\"*\"]\ndangerously_open_relay = true\n"
    ));
    assert_eq!(code, 0);
    let (code, out) = check(&format!(
        "[proxy]\norigins = [\"*\"]\ntargets = [\"https://api.example.com\"]\n{inject}"
    ));
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("proxy.toml:4:1: error: [proxy] inject[0]")
            && out.contains("any web page can spend"),
        "{out}"
    );
    let (code, out) =
        check("[proxy]\norigins = [\"app.example.com\"]\ntargets = [\"api.example.com\"]\n");
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("did you mean 'https://api.example.com'"),
        "{out}"
    );
    let (code, out) = check("[proxy]\norigins = [\"https://a.example\"]\ntarget = []\n");
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("proxy.toml:3:1") && out.contains("unknown field `target`"),
        "{out}"
    );
}

/// A Redis on loopback, for the shared rate limit; stopped on drop.
fn start_redis() -> (crate::support::Proc, u16) {
    let port = crate::support::free_port();
    let mut child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-server (scripts/test.sh installs it with apt)");
    crate::support::wait_port(port, "redis-server", &mut child);
    (crate::support::Proc(child), port)
}

#[test]
fn replicas_share_one_budget_through_redis() {
    let (redis, rport) = start_redis();
    let extra = format!("rate_limit = \"5/minute\"\nredis = \"redis://127.0.0.1:{rport}/0\"\n");
    let (_up, one, p) = setup("redis", &extra);
    // A second replica with the same file.
    let config = std::env::temp_dir().join(format!(
        "corsair-relay-{}-redis/proxy.toml",
        std::process::id()
    ));
    let two = spawn_proxy(
        &config,
        &[format!("api.test:{p}:127.0.0.1")],
        &[("CORSAIR_TEST_TOKEN", SECRET)],
    );
    let data = format!("/http://api.test:{p}/data");
    let statuses: Vec<u16> = [&one, &two, &one, &two, &one, &two, &one]
        .iter()
        .map(|g| http(&g.addr, "GET", &data, &[("Origin", PAGE)]).0)
        .collect();
    assert_eq!(
        statuses,
        [200, 200, 200, 200, 200, 429, 429],
        "five a minute across both replicas"
    );
    // Another page has its own budget.
    let other = "https://admin.example.com";
    assert_eq!(
        http(&two.addr, "GET", &data, &[("Origin", other)]).0,
        403,
        "not on origins: refused before counting"
    );
    let (_, _, metrics) = http(&one.admin, "GET", "/metrics", &[]);
    assert!(
        metrics.contains("corsair_proxy_redis_errors_total 0"),
        "{metrics}"
    );
    // Redis gone: the limit is not checked, the request goes on, and the error is counted.
    drop(redis);
    let (status, _, _) = http(
        &one.addr,
        "GET",
        &data,
        &[("Origin", "https://app.example.com")],
    );
    assert_eq!(status, 200, "fails open");
    let (_, _, metrics) = http(&one.admin, "GET", "/metrics", &[]);
    assert!(
        metrics.contains("corsair_proxy_redis_errors_total 1"),
        "{metrics}"
    );
}

#[test]
fn the_file_reloads_and_a_broken_one_is_refused() {
    let (_up, proxy, p) = setup("reload", "");
    let data = format!("/http://api.test:{p}/data");
    let admin = "https://admin.example.com";
    assert_eq!(http(&proxy.addr, "GET", &data, &[("Origin", admin)]).0, 403);
    let config = std::env::temp_dir().join(format!(
        "corsair-relay-{}-reload/proxy.toml",
        std::process::id()
    ));
    let text = std::fs::read_to_string(&config).unwrap();
    // A broken file is refused; the old one keeps serving.
    std::fs::write(&config, text.replace("targets = [", "targets = [\"*\", ")).unwrap();
    proxy.signal("-HUP");
    let t = std::time::Instant::now();
    while !proxy.logs().contains("reload refused") {
        assert!(t.elapsed().as_secs() < 10, "{}", proxy.logs());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(http(&proxy.addr, "GET", &data, &[("Origin", PAGE)]).0, 200);
    std::fs::write(
        &config,
        text.replace(
            &format!("origins = [\"{PAGE}\"]"),
            &format!("origins = [\"{PAGE}\", \"{admin}\"]"),
        ),
    )
    .unwrap();
    proxy.signal("-HUP");
    let t = std::time::Instant::now();
    while http(&proxy.addr, "GET", &data, &[("Origin", admin)]).0 != 200 {
        assert!(t.elapsed().as_secs() < 10, "{}", proxy.logs());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Issue 17's review of the proxy: the rate limit counts the client, not the Origin it sends;
/// the page's Authorization stops at a redirect to another origin; headers that act on the
/// proxy's whole origin never reach the page; client-address headers and the names a
/// Connection field lists never go upstream; a client stalling mid-body is cut off.
#[test]
fn the_limit_counts_clients_and_nothing_crosses_origins_it_should_not() {
    let up = Server::start(1);
    let p = up.ports[0];
    up.route(
        p,
        "/data",
        Route {
            preflight: Resp::new(204),
            actual: Resp::new(200)
                .h("Vary", "Accept-Encoding")
                .h("Clear-Site-Data", "\"cookies\"")
                .h("Strict-Transport-Security", "max-age=31536000")
                .h("Connection", "X-Upstream-Private")
                .h("X-Upstream-Private", "1")
                .body("ok"),
        },
    );
    for (path, to) in [
        ("/to-cdn", format!("http://cdn.test:{p}/data")),
        ("/to-self", "/data".to_string()),
    ] {
        up.route(
            p,
            path,
            Route {
                preflight: Resp::new(204),
                actual: Resp::new(302).h("Location", to),
            },
        );
    }
    let config = write_config(
        "review",
        &format!(
            r#"admin = "127.0.0.1:0"
[proxy]
origins = ["https://*.app.example.com"]
targets = ["http://api.test:{p}", "http://cdn.test:{p}"]
allow_private = ["api.test:{p}", "cdn.test:{p}"]
rate_limit = "6/minute"
timeout = 1
"#
        ),
    );
    let resolve: Vec<String> = ["api", "cdn"]
        .iter()
        .map(|h| format!("{h}.test:{p}:127.0.0.1"))
        .collect();
    let proxy = spawn_proxy(&config, &resolve, &[]);
    let a = proxy.addr.as_str();
    let page = |i: usize| format!("https://p{i}.app.example.com");

    // A cross-origin redirect drops the page's Authorization; a same-origin one keeps it.
    for (path, want) in [("/to-cdn", "-"), ("/to-self", "Bearer page-token")] {
        let (status, _, body) = http(
            a,
            "GET",
            &format!("/http://api.test:{p}{path}"),
            &[
                ("Origin", page(0).as_str()),
                ("Authorization", "Bearer page-token"),
                ("X-Real-IP", "10.9.9.9"),
                ("Connection", "X-Page-Private"),
                ("X-Page-Private", "1"),
            ],
        );
        assert_eq!(status, 200, "{path}: {body}");
        let seen = up.take_log();
        assert_eq!(seen.len(), 2, "{path}");
        assert_eq!(seen[0].header("authorization"), "Bearer page-token");
        assert_eq!(seen[1].header("authorization"), want, "{path}");
        for s in &seen {
            assert_eq!(s.header("x-real-ip"), "-");
            assert_eq!(s.header("x-page-private"), "-");
        }
    }
    // What acts on the proxy's whole origin stays out; the upstream's Vary goes on.
    let (_, hs, _) = http(
        a,
        "GET",
        &format!("/http://api.test:{p}/data"),
        &[("Origin", page(0).as_str())],
    );
    for h in [
        "clear-site-data",
        "strict-transport-security",
        "x-upstream-private",
    ] {
        assert_eq!(header(&hs, h), None, "{h}: {hs:?}");
    }
    let vary: Vec<&str> = hs
        .iter()
        .filter(|(n, _)| n == "vary")
        .map(|(_, v)| v.as_str())
        .collect();
    assert!(
        vary.iter().any(|v| v.contains("Accept-Encoding"))
            && vary.iter().any(|v| v.contains("Origin")),
        "{vary:?}"
    );
    // A body that stops coming is cut off after `timeout` (1 s).
    let mut s = std::net::TcpStream::connect(a).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let head = format!(
        "POST /http://api.test:{p}/data HTTP/1.1\r\nHost: {a}\r\nOrigin: {}\r\nContent-Length: \
            1000\r\n\r\nfirst",
        page(9)
    );
    s.write_all(head.as_bytes()).unwrap();
    let t = std::time::Instant::now();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let out = String::from_utf8_lossy(&out);
    assert!(out.starts_with("HTTP/1.1 408"), "{out}");
    assert!(t.elapsed() < std::time::Duration::from_secs(5));
    // Four requests so far from this client; two more fit the budget of six, whatever Origin
    // each claims, and the next is refused.
    let statuses: Vec<u16> = (1..=3)
        .map(|i| {
            http(
                a,
                "GET",
                &format!("/http://api.test:{p}/data"),
                &[("Origin", page(i).as_str())],
            )
            .0
        })
        .collect();
    assert_eq!(statuses, [200, 200, 429]);
}
