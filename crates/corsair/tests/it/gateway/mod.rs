//! `corsair serve` as a process in front of a real upstream, all on loopback: preflights answered
//! here, headers on every response (upstream errors, 502, 504), the upstream's own CORS headers
//! replaced, routes, report-only mode, reload on file change and SIGHUP with a broken file
//! refused, graceful SIGTERM, HTTP/2, and `corsair policy lint`.

use crate::support::{cert, http, Gateway, Resp, Route, Server, SAMPLE_POLICY};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const APP: &str = "https://app.example.com";

fn all<'a>(h: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    h.iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("corsair-gw-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Whether the gateway at `addr` answers a GET from `origin` with Access-Control-Allow-Origin.
fn allows(addr: &str, origin: &str) -> bool {
    !all(
        &http(addr, "GET", "/items", &[("Origin", origin)]).1,
        "access-control-allow-origin",
    )
    .is_empty()
}

fn write_config(dir: &Path, upstream: &str, extra_policy: &str, tail: &str) -> PathBuf {
    let p = dir.join("corsair.toml");
    std::fs::write(
        &p,
        format!(
            r#"upstream = "{upstream}"
[gateway]
upstream_timeout = 1.0
shutdown_grace = 5.0
{SAMPLE_POLICY}{extra_policy}
[[routes]]
path = "/public"
policy = {{ origins = ["*"], credentials = false }}
{tail}"#
        ),
    )
    .unwrap();
    p
}

fn upstream() -> Server {
    let s = Server::start(1);
    let p = s.ports[0];
    let star = |status: u16| {
        Resp::new(status)
            .h("Access-Control-Allow-Origin", "*")
            .h("Vary", "Accept-Encoding")
            .h("X-Total-Count", "3")
    };
    s.route(
        p,
        "/items",
        Route {
            preflight: star(200),
            actual: star(200),
        },
    );
    s.route(
        p,
        "/boom",
        Route {
            preflight: Resp::new(500),
            actual: Resp::new(500),
        },
    );
    s.route(
        p,
        "/public/x",
        Route {
            preflight: Resp::new(200),
            actual: Resp::new(200),
        },
    );
    let mut slow = Resp::new(200);
    slow.delay = Some(Duration::from_millis(2500));
    s.route(
        p,
        "/slow",
        Route {
            preflight: slow.clone(),
            actual: slow,
        },
    );
    let mut medium = Resp::new(200);
    medium.delay = Some(Duration::from_millis(800));
    s.route(
        p,
        "/medium",
        Route {
            preflight: medium.clone(),
            actual: medium,
        },
    );
    s
}

#[test]
fn enforces_the_policy_on_every_response() {
    enforce_policy("corsair");
}

/// The same table through hyper's HTTP/1.1 path (`[gateway] http1 = "hyper"`): both
/// implementations must answer alike.
#[test]
fn enforces_the_policy_on_every_response_with_hyper() {
    enforce_policy("hyper");
}

fn enforce_policy(engine: &str) {
    let up = upstream();
    let dir = temp_dir(&format!("table-{engine}"));
    let cfg = write_config(&dir, &up.origin(0), "", "");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        text.replace("[gateway]\n", &format!("[gateway]\nhttp1 = \"{engine}\"\n")),
    )
    .unwrap();
    let gw = Gateway::start(&cfg, &[]);
    let a = gw.addr.as_str();

    let (st, h, _) = http(
        a,
        "OPTIONS",
        "/items",
        &[
            ("Origin", APP),
            ("Access-Control-Request-Method", "PUT"),
            ("Access-Control-Request-Headers", "authorization"),
        ],
    );
    assert_eq!(st, 204);
    assert_eq!(all(&h, "access-control-allow-origin"), [APP]);
    assert_eq!(
        all(&h, "access-control-allow-methods"),
        ["GET, POST, PUT, DELETE"]
    );
    assert_eq!(all(&h, "access-control-max-age"), ["600"]);
    assert!(
        up.take_log().iter().all(|r| r.method != "OPTIONS"),
        "preflights never reach the upstream"
    );

    let (st, h, _) = http(
        a,
        "OPTIONS",
        "/items",
        &[
            ("Origin", "https://evil.example.org"),
            ("Access-Control-Request-Method", "GET"),
        ],
    );
    assert_eq!(st, 403);
    assert!(all(&h, "access-control-allow-origin").is_empty());

    type Row<'a> = (&'a str, Option<&'a str>, u16, Option<&'a str>);
    let rows: &[Row] = &[
        ("/items", Some(APP), 200, Some(APP)),
        (
            "/items",
            Some("https://deep.sub.example.com"),
            200,
            Some("https://deep.sub.example.com"),
        ),
        ("/items", Some("https://evil.example.org"), 200, None),
        ("/items", None, 200, None),
        ("/boom", Some(APP), 500, Some(APP)),
        ("/slow", Some(APP), 504, Some(APP)),
        (
            "/public/x",
            Some("https://anyone.example.net"),
            200,
            Some("*"),
        ),
    ];
    for (path, origin, status, acao) in rows {
        let hs: Vec<(&str, &str)> = origin.iter().map(|o| ("Origin", *o)).collect();
        let (st, h, _) = http(a, "GET", path, &hs);
        assert_eq!(st, *status, "{path} {origin:?}");
        let got = all(&h, "access-control-allow-origin");
        assert_eq!(
            got.first().copied(),
            *acao,
            "{path} {origin:?}: the upstream's '*' must be replaced: {h:?}"
        );
        assert!(got.len() <= 1, "{path}: a single ACAO");
        if *path == "/items" {
            assert_eq!(all(&h, "vary"), ["Accept-Encoding, Origin"], "{origin:?}");
            assert_eq!(all(&h, "x-total-count"), ["3"]);
        }
    }
    let logs = gw.logs();
    assert!(logs.contains("origin-not-allowed"), "{logs}");
    let metrics = http(&gw.admin, "GET", "/metrics", &[]).2;
    assert!(metrics.contains(r#"corsair_cors_requests_total{kind="preflight",result="allowed",reason="allowed",origin="https://app.example.com"} 1"#), "{metrics}");
    assert!(
        metrics.contains(r#"corsair_upstream_errors_total{kind="timeout"} 1"#),
        "{metrics}"
    );
}

#[test]
fn unreachable_upstream_gets_a_502_the_browser_can_read() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let dir = temp_dir("502");
    let gw = Gateway::start(
        &write_config(&dir, &format!("http://127.0.0.1:{port}"), "", ""),
        &[],
    );
    let (st, h, body) = http(&gw.addr, "GET", "/items", &[("Origin", APP)]);
    assert_eq!(st, 502, "{body}");
    assert_eq!(all(&h, "access-control-allow-origin"), [APP]);
}

#[test]
fn report_only_passes_traffic_and_logs_what_it_would_refuse() {
    let up = upstream();
    let dir = temp_dir("report");
    let cfg = write_config(&dir, &up.origin(0), "", "");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, format!("mode = \"report-only\"\n{text}")).unwrap();
    let gw = Gateway::start(&cfg, &[]);
    let (st, h, _) = http(
        &gw.addr,
        "GET",
        "/items",
        &[("Origin", "https://evil.example.org")],
    );
    assert_eq!(st, 200);
    assert_eq!(
        all(&h, "access-control-allow-origin"),
        ["*"],
        "the upstream's headers pass untouched"
    );
    let (st, _, _) = http(
        &gw.addr,
        "OPTIONS",
        "/items",
        &[
            ("Origin", "https://evil.example.org"),
            ("Access-Control-Request-Method", "GET"),
        ],
    );
    assert_eq!(st, 200, "the preflight reaches the upstream");
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        gw.logs().contains("report-only: would refuse"),
        "{}",
        gw.logs()
    );
}

#[test]
fn reloads_on_change_and_sighup_and_refuses_a_broken_file() {
    let up = upstream();
    let dir = temp_dir("reload");
    let cfg = write_config(&dir, &up.origin(0), "", "");
    let gw = Gateway::start(&cfg, &[]);
    let newcomer = "https://partner.example.net";
    let allowed = || allows(&gw.addr, newcomer);
    assert!(!allowed());
    // A broken file is refused; the old policy keeps serving.
    std::fs::write(&cfg, "[policy]\norigins = [\"*\"]\ncredentials = true\n").unwrap();
    let wait = |cond: &dyn Fn() -> bool| {
        let t = Instant::now();
        while !cond() && t.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(100));
        }
        cond()
    };
    assert!(
        wait(&|| gw.logs().contains("policy reload refused")),
        "{}",
        gw.logs()
    );
    assert!(!allowed());
    assert_eq!(
        all(
            &http(&gw.addr, "GET", "/items", &[("Origin", APP)]).1,
            "access-control-allow-origin"
        ),
        [APP]
    );
    // A valid change is picked up by the file watcher.
    let text = std::fs::read_to_string(write_config(&dir, &up.origin(0), "", ""))
        .unwrap()
        .replace(
            &format!("\"{APP}\","),
            &format!("\"{APP}\", \"{newcomer}\","),
        );
    std::fs::write(&cfg, &text).unwrap();
    assert!(wait(&|| allowed()), "{}", gw.logs());
    // SIGHUP reloads too.
    let before = gw.logs().matches("policy reloaded").count();
    gw.signal("-HUP");
    assert!(
        wait(&|| gw.logs().matches("policy reloaded").count() > before),
        "{}",
        gw.logs()
    );
    assert!(gw.logs().contains("reason=\"SIGHUP\""));
    let metrics = http(&gw.admin, "GET", "/metrics", &[]).2;
    assert!(
        metrics.contains("corsair_policy_reloads_total{result=\"refused\"} 1"),
        "{metrics}"
    );
}

#[test]
fn a_reload_takes_max_body_bytes_on_both_paths_and_keeps_the_other_gateway_keys() {
    let up = upstream();
    for engine in ["corsair", "hyper"] {
        let dir = temp_dir(&format!("reload-body-{engine}"));
        let cfg = dir.join("corsair.toml");
        let write = |max: u32, stall: f64| {
            std::fs::write(
                &cfg,
                format!(
                    "upstream = \"{}\"\n[gateway]\nhttp1 = \"{engine}\"\nmax_body_bytes = \
                        {max}\nstall_timeout = {stall}\n{SAMPLE_POLICY}",
                    up.origin(0)
                ),
            )
            .unwrap()
        };
        write(1000, 10.0);
        let gw = Gateway::start(&cfg, &[]);
        let post = || {
            let mut s = TcpStream::connect(&gw.addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let body = "x".repeat(2000);
            s.write_all(
                format!(
                    "POST /items HTTP/1.1\r\nHost: a\r\nContent-Length: \
                2000\r\nConnection: close\r\n\r\n{body}"
                )
                .as_bytes(),
            )
            .unwrap();
            let mut got = String::new();
            let _ = s.read_to_string(&mut got);
            got.split(' ').nth(1).unwrap_or("").to_string()
        };
        assert_eq!(post(), "413", "{engine}");
        let before = gw.logs().matches("policy reloaded").count();
        write(5000, 3.0);
        // SIGHUP: the watcher compares modification times, which may not have moved yet.
        gw.signal("-HUP");
        let t = Instant::now();
        while gw.logs().matches("policy reloaded").count() == before {
            assert!(
                t.elapsed() < Duration::from_secs(5),
                "{engine}: {}",
                gw.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_ne!(post(), "413", "{engine}: the new max_body_bytes applies");
        assert!(
            gw.logs()
                .contains("take a restart and are ignored until then"),
            "{engine}: stall_timeout changed too: {}",
            gw.logs()
        );
    }
}

#[test]
fn sigterm_lets_requests_in_flight_finish() {
    let up = upstream();
    let dir = temp_dir("term");
    let mut gw = Gateway::start(&write_config(&dir, &up.origin(0), "", ""), &[]);
    let addr = gw.addr.clone();
    let inflight = std::thread::spawn(move || http(&addr, "GET", "/medium", &[("Origin", APP)]));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(http(&gw.admin, "GET", "/readyz", &[]).0, 200);
    gw.signal("-TERM");
    // While it drains, the readiness probe says so and the liveness probe does not.
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(http(&gw.admin, "GET", "/readyz", &[]).0, 503);
    assert_eq!(http(&gw.admin, "GET", "/healthz", &[]).0, 200);
    let (st, h, _) = inflight.join().unwrap();
    assert_eq!(st, 200, "the request in flight completes");
    assert_eq!(all(&h, "access-control-allow-origin"), [APP]);
    let t = Instant::now();
    let status = loop {
        if let Some(s) = gw.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "the gateway did not exit"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    assert!(
        TcpStream::connect(&gw.addr).is_err(),
        "no new connections after SIGTERM"
    );
}

#[test]
fn speaks_http2_to_clients() {
    let up = upstream();
    let dir = temp_dir("h2");
    let gw = Gateway::start(&write_config(&dir, &up.origin(0), "", ""), &[]);
    let addr = gw.addr.clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ((status, acao), refused) = rt.block_on(async move {
        let mut send = crate::support::h2_client(&addr).await;
        let req = hyper::Request::builder()
            .uri(format!("http://{addr}/items"))
            .header("origin", APP)
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .unwrap();
        let resp = send.send_request(req).await.unwrap();
        let answer = (
            resp.status().as_u16(),
            resp.headers()
                .get("access-control-allow-origin")
                .map(|v| v.to_str().unwrap().to_string()),
        );
        // Over HTTP/2 too: a host that differs from :authority, and two Origin fields, are
        // refused before any decision.
        let mut refused = Vec::new();
        for headers in [
            vec![("host", "evil.example"), ("origin", APP)],
            vec![("origin", APP), ("origin", "https://evil.example")],
        ] {
            let mut b = hyper::Request::builder().uri(format!("http://{addr}/items"));
            for (n, v) in headers {
                b = b.header(n, v);
            }
            let req = b
                .body(http_body_util::Empty::<bytes::Bytes>::new())
                .unwrap();
            let resp = send.send_request(req).await.unwrap();
            let status = resp.status().as_u16();
            let body = http_body_util::BodyExt::collect(resp.into_body())
                .await
                .unwrap()
                .to_bytes();
            refused.push((status, String::from_utf8_lossy(&body).into_owned()));
        }
        (answer, refused)
    });
    assert_eq!(status, 200);
    assert_eq!(acao.as_deref(), Some(APP));
    // The upstream learns the client's host from :authority, as from an HTTP/1.1 Host.
    let seen = up.take_log();
    assert_eq!(
        seen.len(),
        1,
        "the refused requests must not reach the upstream"
    );
    assert_eq!(
        seen[0].header("x-forwarded-host"),
        gw.addr,
        "{:?}",
        seen[0].headers
    );
    assert_eq!(refused[0].0, 400);
    assert!(
        refused[0].1.contains("host differs from :authority"),
        "{refused:?}"
    );
    assert_eq!(refused[1].0, 400);
    assert!(refused[1].1.contains("more than one Origin"), "{refused:?}");
}

mod operations;
