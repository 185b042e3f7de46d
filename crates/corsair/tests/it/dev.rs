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
            s.write_all(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: \
                Upgrade\r\n\r\n",
            )
            .unwrap();
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

/// The upstreams of a one-origin setup: a front end, two APIs, a WebSocket echo.
pub struct Upstreams {
    pub s: Server,
    pub front: u16,
    pub api: u16,
    pub api2: u16,
    pub ws: u16,
}

impl Upstreams {
    pub fn start() -> Upstreams {
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
                    .h("Content-Type", "text/plain")
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
        Upstreams {
            s,
            front,
            api,
            api2,
            ws,
        }
    }

    /// The routes, as `corsair dev --route` takes them.
    pub fn routes(&self) -> Vec<String> {
        vec![
            format!("/api=http://127.0.0.1:{}", self.api),
            format!("/api/v2=http://127.0.0.1:{}", self.api2),
            format!("/live=http://127.0.0.1:{}", self.ws),
        ]
    }

    /// What every one-origin setup must do, through the server at `a`: the longest prefix on a
    /// segment boundary, the path unchanged, the upstream's own Host, Location and Set-Cookie
    /// kept on the dev origin, and a WebSocket passed through both ways.
    pub fn assert_one_origin(&self, a: &str, who: &str) {
        let (status, hs, body) = http(a, "GET", "/api/items?x=1", &[]);
        assert_eq!((status, body.as_str()), (200, "api"), "{who}: {hs:?}");
        let cookie = hs
            .iter()
            .find(|(n, _)| n == "set-cookie")
            .map(|(_, v)| v.as_str());
        assert_eq!(
            cookie,
            Some("sid=1; Path=/; HttpOnly"),
            "{who}: Domain dropped: the cookie is the dev host's"
        );
        assert_eq!(
            http(a, "GET", "/api/v2/items", &[]).2,
            "api2",
            "{who}: the longest prefix wins"
        );
        let (status, hs, _) = http(a, "GET", "/api/login", &[]);
        assert_eq!(status, 302, "{who}");
        let loc = hs
            .iter()
            .find(|(n, _)| n == "location")
            .map(|(_, v)| v.clone());
        assert_eq!(
            loc,
            Some(format!("http://{a}/api/items")),
            "{who}: the browser stays on the dev origin"
        );
        let _ = http(a, "GET", "/apiary", &[]);
        let seen = self.s.take_log();
        assert!(
            !seen
                .iter()
                .any(|x| x.path == "/apiary" && x.port != self.front),
            "{who}: /apiary is not under /api"
        );
        let items = seen
            .iter()
            .find(|x| x.path == "/api/items" && x.port == self.api)
            .unwrap_or_else(|| panic!("{who}: the API saw no /api/items: {seen:?}"));
        let host = items
            .headers
            .iter()
            .find(|(k, _)| k == "host")
            .map(|(_, v)| v.clone());
        assert_eq!(
            host,
            Some(format!("127.0.0.1:{}", self.api)),
            "{who}: the upstream's own Host"
        );
        // A WebSocket passes through both ways.
        let mut c = TcpStream::connect(a).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        c.write_all(
            format!(
                "GET /live/updates HTTP/1.1\r\nHost: {a}\r\nOrigin: \
            http://{a}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: \
            13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
            )
            .as_bytes(),
        )
        .unwrap();
        let mut head = Vec::new();
        let mut b = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            assert_eq!(
                c.read(&mut b).unwrap(),
                1,
                "{who}: the connection closed during the upgrade"
            );
            head.push(b[0]);
        }
        assert!(
            String::from_utf8_lossy(&head).starts_with("HTTP/1.1 101"),
            "{who}: {}",
            String::from_utf8_lossy(&head)
        );
        c.write_all(b"ping from the page").unwrap();
        let mut echo = [0u8; 18];
        c.read_exact(&mut echo).unwrap();
        assert_eq!(&echo, b"ping from the page", "{who}");
    }
}

#[test]
fn one_origin_for_the_front_end_and_the_apis() {
    let u = Upstreams::start();
    let down = free_port();
    let to = format!("http://127.0.0.1:{}", u.front);
    let mut args = vec![
        "dev".to_string(),
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--to".into(),
        to,
        "--allow-host".into(),
        "myapp.test".into(),
    ];
    for r in u
        .routes()
        .into_iter()
        .chain([format!("/down=http://127.0.0.1:{down}")])
    {
        args.extend(["--route".to_string(), r]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let dev = Gateway::spawn(&args, &[]);
    let a = dev.addr.as_str();
    assert_eq!(http(a, "GET", "/app.js", &[]).2, "front");
    u.assert_one_origin(a, "corsair dev");
    // corsair dev also names the dev origin in X-Forwarded-Host, by serve's rule: a client's
    // own X-Forwarded-Host and -Proto are replaced, its X-Forwarded-For chain appended to.
    let _ = http(
        a,
        "GET",
        "/api/items",
        &[
            ("X-Forwarded-Host", "evil.example"),
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-For", "203.0.113.9"),
        ],
    );
    let seen = u.s.take_log();
    let all = |n: &str| {
        seen[0]
            .headers
            .iter()
            .filter(|(k, _)| k == n)
            .flat_map(|(_, v)| v.split(',').map(|s| s.trim().to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(all("x-forwarded-host"), [a]);
    assert_eq!(all("x-forwarded-proto"), ["http"]);
    assert_eq!(all("x-forwarded-for"), ["203.0.113.9", "127.0.0.1"]);
    // DNS rebinding: a page on a name that resolves here sends its own name as Host, and is
    // refused; localhost, IP addresses and --allow-host names are served. A redirect follows
    // the host the browser is on (the listen address would be another origin).
    let port = a.rsplit(':').next().unwrap();
    let raw = |host: &str, path: &str| {
        let mut c = TcpStream::connect(a).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        c.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .unwrap();
        let mut out = String::new();
        let _ = c.read_to_string(&mut out);
        out
    };
    let refused = raw(&format!("rebind.evil.example:{port}"), "/app.js");
    assert!(
        refused.starts_with("HTTP/1.1 403") && refused.contains("--allow-host"),
        "{refused}"
    );
    assert!(
        u.s.take_log().is_empty(),
        "a refused request reaches no upstream"
    );
    for host in [format!("localhost:{port}"), format!("myapp.test:{port}")] {
        let ok = raw(&host, "/app.js");
        assert!(
            ok.starts_with("HTTP/1.1 200") && ok.ends_with("front"),
            "{host}: {ok}"
        );
    }
    let moved = raw(&format!("localhost:{port}"), "/api/login");
    assert!(
        moved
            .to_ascii_lowercase()
            .contains(&format!("location: http://localhost:{port}/api/items")),
        "{moved}"
    );
    let _ = u.s.take_log();
    // A client that never finishes its request head is cut off (10 s), not held for ever.
    let mut slow = TcpStream::connect(a).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    slow.write_all(b"GET /app.js HTTP/1.1\r\nHost: localhost\r\n")
        .unwrap();
    let t = std::time::Instant::now();
    let mut rest = Vec::new();
    let _ = slow.read_to_end(&mut rest);
    assert!(
        t.elapsed() < Duration::from_secs(20),
        "the half-sent head was held for {:?}",
        t.elapsed()
    );
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
        (vec!["gen", "vite"], "add --dev --to URL --route PREFIX=URL"),
        (
            vec!["gen", "angular", "--dev", "--to", "http://127.0.0.1:4200"],
            "no --route",
        ),
        (
            vec![
                "gen",
                "nginx",
                "--dev",
                "--to",
                "http://127.0.0.1:4200",
                "--route",
                "/api=http://127.0.0.1:1",
            ],
            "has no --dev form",
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
