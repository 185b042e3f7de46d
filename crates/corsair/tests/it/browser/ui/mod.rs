//! `corsair ui`: the page driven in headless Chromium (check, live, explain, policy, keyboard,
//! dark mode, phone width; screenshots in target/ui-screenshots/), and its API refusing other
//! origins, `null`, a rebinding Host, and (beyond loopback) calls without the token.

use crate::support::{Resp, Route, Server};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Ui {
    child: Child,
    /// `http://127.0.0.1:PORT/` (with `?token=` beyond loopback).
    url: String,
    addr: String,
    live_origin: String,
}

impl Drop for Ui {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_ui(listen: &str) -> Ui {
    start_ui_with(listen, &[])
}

fn start_ui_with(listen: &str, extra: &[&str]) -> Ui {
    let mut child = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args(["ui", "--listen", listen, "--serve-for", "300"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let mut second = String::new();
    out.read_line(&mut second).unwrap();
    let url = first
        .trim()
        .strip_prefix("corsair ui on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .to_string();
    let live_origin = second
        .trim()
        .rsplit_once(": ")
        .unwrap()
        .1
        .trim_end_matches("/live")
        .to_string();
    let addr = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    // Keep reading so the child never blocks on a full pipe.
    std::thread::spawn(move || {
        let mut sink = String::new();
        let _ = out.read_to_string(&mut sink);
    });
    Ui {
        child,
        url,
        addr,
        live_origin,
    }
}

/// A raw request with exactly these headers (Host included): (status, raw head, body).
fn raw(
    connect: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let mut s = TcpStream::connect(connect).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (n, v) in headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let text = String::from_utf8_lossy(&buf).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_string())
}

const EXPLAIN_BODY: &str = r#"{"text":"Access to fetch at 'https://api.example.com/x' from origin 'https://app.example.com' has been blocked by CORS policy: No 'Access-Control-Allow-Origin' header is present on the requested resource."}"#;

#[test]
fn the_api_answers_its_own_page_only() {
    let ui = start_ui("127.0.0.1:0");
    let a = ui.addr.as_str();
    let own = format!("http://{a}");
    let json = ("Content-Type", "application/json");
    let call = |headers: &[(&str, &str)]| raw(a, "POST", "/api/explain", headers, EXPLAIN_BODY);

    let (status, head, body) = call(&[("Host", a), ("Origin", &own), json]);
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("missing-allow-origin-header") || body.contains("\"kind\""),
        "{body}"
    );
    assert!(!head.contains("access-control-allow-origin"));

    for (why, headers, want) in [
        (
            "a forged Origin",
            vec![("Host", a), ("Origin", "https://evil.example"), json],
            403,
        ),
        ("null", vec![("Host", a), ("Origin", "null"), json], 403),
        ("no Origin", vec![("Host", a), json], 403),
        (
            "the other loopback name",
            vec![("Host", a), ("Origin", "http://localhost:1"), json],
            403,
        ),
        (
            "a rebinding Host",
            vec![
                ("Host", "evil.example:7070"),
                ("Origin", "http://evil.example:7070"),
                json,
            ],
            421,
        ),
        ("no Host", vec![("Origin", own.as_str()), json], 421),
        (
            "a simple-request content type",
            vec![
                ("Host", a),
                ("Origin", &own),
                ("Content-Type", "text/plain"),
            ],
            415,
        ),
    ] {
        let (status, head, body) = call(&headers);
        assert_eq!(status, want, "{why}: {body}");
        assert!(
            !head.contains("access-control-allow"),
            "{why}: no CORS grant\n{head}"
        );
    }
    // The page itself is not served to a rebinding Host either.
    let (status, _, _) = raw(a, "GET", "/", &[("Host", "evil.example")], "");
    assert_eq!(status, 421);
    // A preflight from another origin gets nothing that would let it through.
    let (_, head, _) = raw(
        a,
        "OPTIONS",
        "/api/check",
        &[
            ("Host", a),
            ("Origin", "https://evil.example"),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type"),
        ],
        "",
    );
    assert!(!head.contains("access-control-allow"), "{head}");
    // The page is locked down: no framing by others, no inline script.
    let (status, head, body) = raw(a, "GET", "/", &[("Host", a)], "");
    assert_eq!(status, 200);
    assert!(
        head.contains("frame-ancestors 'none'") && head.contains("script-src 'self'"),
        "{head}"
    );
    assert!(body.contains("<script src=\"/app.js\""));
}

#[test]
fn beyond_loopback_the_api_needs_the_printed_token() {
    // Listening on every address; the test still talks to 127.0.0.1 only.
    let ui = start_ui("0.0.0.0:0");
    let token = ui
        .url
        .split("token=")
        .nth(1)
        .expect("a token in the printed URL")
        .to_string();
    assert!(token.len() >= 32);
    let port = ui.addr.rsplit(':').next().unwrap();
    let a = format!("127.0.0.1:{port}");
    let own = format!("http://{a}");
    let json = ("Content-Type", "application/json");
    let (status, _, _) = raw(
        &a,
        "POST",
        "/api/explain",
        &[("Host", &a), ("Origin", &own), json],
        EXPLAIN_BODY,
    );
    assert_eq!(status, 401);
    let (status, _, _) = raw(
        &a,
        "POST",
        "/api/explain",
        &[
            ("Host", &a),
            ("Origin", &own),
            json,
            ("X-Corsair-Token", "0000"),
        ],
        EXPLAIN_BODY,
    );
    assert_eq!(status, 401);
    let (status, _, body) = raw(
        &a,
        "POST",
        "/api/explain",
        &[
            ("Host", &a),
            ("Origin", &own),
            json,
            ("X-Corsair-Token", &token),
        ],
        EXPLAIN_BODY,
    );
    assert_eq!(status, 200, "{body}");
}

fn check_console(url: &str, origin: &str, method: &str, headers: &[&str]) -> String {
    let mut c = Command::new(env!("CARGO_BIN_EXE_corsair"));
    // The test's API stands in for a public server, as the ui test sets it.
    c.args([
        "check",
        url,
        "--origin",
        origin,
        "-X",
        method,
        "--format",
        "json",
        "--target-space",
        "public",
    ]);
    for h in headers {
        c.args(["-H", h]);
    }
    let v: serde_json::Value = serde_json::from_slice(&c.output().unwrap().stdout).unwrap();
    v["console"].as_str().unwrap_or_default().to_string()
}

mod page;
