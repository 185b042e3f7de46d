//! `corsair dev` on loopback: the front end and two APIs under one origin (longest prefix,
//! path unchanged), Location and Set-Cookie kept on the dev origin, a WebSocket upgrade passed
//! through both ways, and a clear 502 when an upstream is down.

use crate::support::{free_port, http, Gateway, Resp, Route, Server};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

/// An upstream that accepts one WebSocket-style upgrade on any path and echoes what follows.
fn echo_upgrade_server() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = l.accept() {
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut head = Vec::new();
            let mut b = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && s.read(&mut b).unwrap_or(0) == 1 {
                head.push(b[0]);
            }
            let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
            assert!(text.contains("upgrade: websocket"), "{text}");
            s.write_all(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n").unwrap();
            let mut buf = [0u8; 64];
            while let Ok(n) = s.read(&mut buf) {
                if n == 0 || s.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    });
    port
}

#[test]
fn one_origin_for_the_front_end_and_the_apis() {
    let s = Server::start(3);
    let (front, api, api2) = (s.ports[0], s.ports[1], s.ports[2]);
    let ok = |body: &str| Route {
        preflight: Resp::new(204),
        actual: Resp::new(200)
            .h("Content-Type", "text/plain")
            .body(body.to_string()),
    };
    s.route(front, "/app.js", ok("front"));
    s.route(
        api,
        "/api/items",
        Route {
            preflight: Resp::new(204),
            actual: Resp::new(200)
                .h("Set-Cookie", "sid=1; Domain=127.0.0.1; Path=/; HttpOnly")
                .body("api"),
        },
    );
    s.route(
        api,
        "/api/login",
        Route {
            preflight: Resp::new(204),
            actual: Resp::new(302).h("Location", format!("http://127.0.0.1:{api}/api/items")),
        },
    );
    s.route(api2, "/api/v2/items", ok("api2"));
    let ws = echo_upgrade_server();
    let down = free_port();
    let to = format!("http://127.0.0.1:{front}");
    let r1 = format!("/api=http://127.0.0.1:{api}");
    let r2 = format!("/api/v2=http://127.0.0.1:{api2}");
    let r3 = format!("/ws=http://127.0.0.1:{ws}");
    let r4 = format!("/down=http://127.0.0.1:{down}");
    let dev = Gateway::spawn(
        &[
            "dev",
            "--listen",
            "127.0.0.1:0",
            "--to",
            &to,
            "--route",
            &r1,
            "--route",
            &r2,
            "--route",
            &r3,
            "--route",
            &r4,
        ],
        &[],
    );
    let a = dev.addr.as_str();
    assert_eq!(http(a, "GET", "/app.js", &[]).2, "front");
    let (status, hs, body) = http(a, "GET", "/api/items?x=1", &[]);
    assert_eq!((status, body.as_str()), (200, "api"));
    let cookie = hs
        .iter()
        .find(|(n, _)| n == "set-cookie")
        .map(|(_, v)| v.as_str());
    assert_eq!(
        cookie,
        Some("sid=1; Path=/; HttpOnly"),
        "Domain dropped: the cookie is the dev host's"
    );
    assert_eq!(
        http(a, "GET", "/api/v2/items", &[]).2,
        "api2",
        "the longest prefix wins"
    );
    let (status, hs, _) = http(a, "GET", "/api/login", &[]);
    assert_eq!(status, 302);
    let loc = hs
        .iter()
        .find(|(n, _)| n == "location")
        .map(|(_, v)| v.clone());
    assert_eq!(
        loc,
        Some(format!("http://{a}/api/items")),
        "the browser stays on the dev origin"
    );
    // Paths go unchanged, with the upstream's own Host and the dev origin in X-Forwarded-Host.
    let seen = s.take_log();
    let items = seen
        .iter()
        .find(|x| x.path == "/api/items" && x.port == api)
        .unwrap();
    let h = |n: &str| {
        items
            .headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(h("host"), Some(format!("127.0.0.1:{api}")));
    assert_eq!(h("x-forwarded-host").as_deref(), Some(a));
    // A WebSocket passes through both ways.
    let mut c = TcpStream::connect(a).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(format!("GET /ws/hmr HTTP/1.1\r\nHost: {a}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").as_bytes()).unwrap();
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(
            c.read(&mut b).unwrap(),
            1,
            "the connection closed during the upgrade"
        );
        head.push(b[0]);
    }
    assert!(
        String::from_utf8_lossy(&head).starts_with("HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    c.write_all(b"ping from the page").unwrap();
    let mut echo = [0u8; 18];
    c.read_exact(&mut echo).unwrap();
    assert_eq!(&echo, b"ping from the page");
    // An upstream that is down: a 502 that says which and asks whether it runs.
    let (status, _, body) = http(a, "GET", "/down/x", &[]);
    assert_eq!(status, 502);
    assert!(
        body.contains(&format!("127.0.0.1:{down} did not answer"))
            && body.contains("Is it running?"),
        "{body}"
    );
}

#[test]
fn bad_flags_are_refused_with_the_fix() {
    for (args, want) in [
        (
            vec!["dev", "--to", "127.0.0.1:5173"],
            "did you mean http://127.0.0.1:5173",
        ),
        (
            vec![
                "dev",
                "--to",
                "http://127.0.0.1:5173",
                "--route",
                "api=http://127.0.0.1:8080",
            ],
            "must start with '/'",
        ),
        (
            vec![
                "dev",
                "--to",
                "http://127.0.0.1:5173",
                "--route",
                "/api=http://127.0.0.1:8080/api",
            ],
            "forwarded unchanged",
        ),
        (
            vec![
                "dev",
                "--to",
                "http://127.0.0.1:5173",
                "--listen",
                "localhost",
            ],
            "is not ADDR:PORT",
        ),
    ] {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_corsair"))
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(want),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}
