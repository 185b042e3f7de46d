//! `corsair check` and `corsair origin` as a user runs them: exit codes, messages for bad input,
//! and verdicts against hostile or broken servers (raw TCP on loopback), TLS with --cacert,
//! --insecure and --resolve.

use crate::support::{Resp, Route, Server};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn corsair(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args(args)
        .output()
        .expect("run corsair")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("no JSON ({e}): {}", text(o)))
}

/// A server that answers every connection with `reply` (raw bytes), then waits for `hold`
/// before closing. Runs for `conns` connections, then stops.
fn raw_server(reply: Vec<u8>, hold: Duration, conns: usize) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().take(conns) {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = s.read(&mut buf);
            let _ = s.write_all(&reply);
            std::thread::sleep(hold);
        }
    });
    port
}

const PAGE: &str = "http://127.0.0.1:1";

#[test]
fn usage_errors_exit_2_with_a_fix() {
    let cases: &[(&[&str], &str)] = &[
        (&["check", "not a url", "--origin", PAGE], "not a valid URL"),
        // These reached Duration::from_secs_f64 and panicked (exit 101).
        (
            &["demo", "--serve", "--serve-for=-1"],
            "-1 is not a number of seconds above 0",
        ),
        (
            &["ui", "--serve-for", "nan"],
            "nan is not a number of seconds",
        ),
        (
            &["check", "ftp://x/", "--origin", PAGE],
            "http:// and https://",
        ),
        (
            &["check", "http://127.0.0.1:9/", "--origin", "example.com"],
            "did you mean https://example.com?",
        ),
        // Issue 11, finding 9: an origin typo is an error naming the origin, never `null`.
        (
            &["check", "http://127.0.0.1:9/", "--origin", "localhost:5173"],
            "did you mean http://localhost:5173?",
        ),
        (
            &[
                "check",
                "http://127.0.0.1:9/",
                "--origin",
                "http://localhost:5173/",
            ],
            "did you mean http://localhost:5173?",
        ),
        (
            &[
                "check",
                "http://127.0.0.1:9/",
                "--origin",
                "HTTPS://App.example.com:443",
            ],
            "did you mean https://app.example.com?",
        ),
        (
            &["origin", "localhost:5173"],
            "did you mean http://localhost:5173?",
        ),
        (
            &[
                "check",
                "http://127.0.0.1:9/",
                "--origin",
                PAGE,
                "-H",
                "NoColon",
            ],
            "'Name: value'",
        ),
        (
            &[
                "check",
                "http://127.0.0.1:9/",
                "--origin",
                PAGE,
                "-X",
                "TRACE",
            ],
            "forbidden method",
        ),
        (
            &[
                "check",
                "http://127.0.0.1:9/",
                "--origin",
                PAGE,
                "-X",
                "GE T",
            ],
            "not a valid HTTP method",
        ),
        (
            &[
                "check",
                "http://127.0.0.1:9/",
                "--origin",
                PAGE,
                "-H",
                "Bad Name: x",
            ],
            "not a valid header name",
        ),
        (
            &[
                "check",
                "http://127.0.0.1:9/",
                "--origin",
                PAGE,
                "--data",
                "x",
            ],
            "cannot have a body",
        ),
        (
            &[
                "check",
                "http://127.0.0.1:9/",
                "--origin",
                PAGE,
                "--resolve",
                "nope",
            ],
            "HOST:PORT:ADDR",
        ),
        (
            &[
                "check",
                "http://127.0.0.1:9/",
                "--origin",
                PAGE,
                "--timeout",
                "0",
            ],
            "--timeout",
        ),
        (
            &[
                "check",
                "https://127.0.0.1:9/",
                "--origin",
                PAGE,
                "--cacert",
                "/nonexistent.pem",
            ],
            "cannot read --cacert",
        ),
        (&["origin", "::"], "scheme://host"),
    ];
    for (args, needle) in cases {
        let o = corsair(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(
            text(&o).contains(needle),
            "{args:?}: expected '{needle}' in {}",
            text(&o)
        );
    }
}

#[test]
fn origin_command_compares_and_exits_by_result() {
    let o = corsair(&["origin", "https://Example.com:443/a", "https://example.com"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("same-origin"));
    let o = corsair(&[
        "origin",
        "http://example.com",
        "https://example.com:8443",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(v["same_origin"], false);
    assert_eq!(v["differs"], serde_json::json!(["scheme", "port"]));
    let o = corsair(&["origin", "https://bücher.example/x"]);
    assert!(
        text(&o).contains("https://xn--bcher-kva.example"),
        "{}",
        text(&o)
    );
}

#[test]
fn unreachable_server_exits_2_in_the_browsers_terms() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let o = corsair(&[
        "check",
        &format!("http://127.0.0.1:{port}/"),
        "--origin",
        PAGE,
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let v = json(&o);
    assert_eq!(v["allowed"], false);
    assert_eq!(v["net_error"]["code"], "ERR_CONNECTION_REFUSED");
    assert!(v["console"]
        .as_str()
        .unwrap()
        .ends_with("net::ERR_CONNECTION_REFUSED"));
}

#[test]
fn hostile_servers_get_a_verdict_or_a_clear_error_never_a_panic() {
    let ok_head =
        |extra: &str| format!("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n{extra}\r\n").into_bytes();
    let huge = format!("X-Big: {}\r\n", "a".repeat(300 * 1024));
    let many: String = (0..2000).map(|i| format!("X-H{i}: v\r\n")).collect();
    type Case<'a> = (&'a str, Vec<u8>, Option<&'a str>, Option<&'a str>);
    let cases: Vec<Case> = vec![
        // (name, reply, expected net error code, expected console substring)
        (
            // Browsers parse it and refuse the value (WPT's cors/origin.htm, in all three
            // engines); NUL alone fails the response.
            "control byte in ACAO",
            ok_head("Access-Control-Allow-Origin: a\x01b\r\n"),
            None,
            Some("contains the invalid value 'a\\u0001b'"),
        ),
        (
            "duplicate ACAO",
            ok_head(&format!(
                "Access-Control-Allow-Origin: {PAGE}\r\nAccess-Control-Allow-Origin: {PAGE}\r\n"
            )),
            None,
            Some("contains multiple values"),
        ),
        (
            "latin-1 bytes in ACAO",
            ok_head("Access-Control-Allow-Origin: http://\u{e9}\r\n")
                .into_iter()
                .collect(),
            None,
            Some("\\u00C3\\u00A9"),
        ),
        (
            "huge header",
            ok_head(&huge),
            Some("ERR_RESPONSE_HEADERS_TOO_BIG"),
            None,
        ),
        (
            "2000 headers",
            ok_head(&many),
            None,
            Some("No 'Access-Control-Allow-Origin' header"),
        ),
        ("no response", Vec::new(), Some("ERR_EMPTY_RESPONSE"), None),
        (
            "garbage",
            b"hello there\r\n\r\n".to_vec(),
            Some("ERR_INVALID_HTTP_RESPONSE"),
            None,
        ),
    ];
    for (name, reply, net, console) in cases {
        let port = raw_server(reply, Duration::from_millis(10), 1);
        let o = corsair(&[
            "check",
            &format!("http://127.0.0.1:{port}/"),
            "--origin",
            PAGE,
            "--format",
            "json",
            "--timeout",
            "5",
        ]);
        let v = json(&o);
        assert_eq!(v["allowed"], false, "{name}");
        match net {
            Some(code) => {
                assert_eq!(o.status.code(), Some(2), "{name}: {}", text(&o));
                assert_eq!(v["net_error"]["code"], code, "{name}: {v}");
                assert!(
                    !v["net_error"]["detail"].as_str().unwrap().is_empty(),
                    "{name}"
                );
            }
            None => {
                assert_eq!(o.status.code(), Some(1), "{name}: {}", text(&o));
                let c = v["console"].as_str().unwrap();
                assert!(c.contains(console.unwrap()), "{name}: {c}");
            }
        }
    }
}

#[test]
fn a_servers_control_bytes_never_reach_the_terminal() {
    // 0x9B is an 8-bit CSI on some terminals; httparse lets it through as obs-text, and the
    // model reads header bytes as Latin-1 (U+009B).
    let mut reply =
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nAccess-Control-Allow-Origin: x".to_vec();
    reply.extend_from_slice(b"\x9b2J\r\n\r\n");
    for browser in ["chromium", "firefox", "safari"] {
        let port = raw_server(reply.clone(), Duration::from_millis(10), 1);
        let o = corsair(&[
            "check",
            &format!("http://127.0.0.1:{port}/"),
            "--origin",
            PAGE,
            "--browser",
            browser,
            "--timeout",
            "5",
        ]);
        let out = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(1), "{browser}: {out}");
        assert!(
            !out.chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\u{1b}'),
            "{browser}: {out:?}"
        );
    }
}

#[test]
fn a_silent_server_is_cut_off_by_the_timeout() {
    let port = raw_server(Vec::new(), Duration::from_secs(5), 1);
    let t = Instant::now();
    let o = corsair(&[
        "check",
        &format!("http://127.0.0.1:{port}/"),
        "--origin",
        PAGE,
        "--format",
        "json",
        "--timeout",
        "1",
    ]);
    assert!(
        t.elapsed() < Duration::from_secs(4),
        "took {:?}",
        t.elapsed()
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(json(&o)["net_error"]["code"], "ERR_TIMED_OUT");
}

mod reports;
