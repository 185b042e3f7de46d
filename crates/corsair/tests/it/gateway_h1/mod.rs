//! corsair's own HTTP/1.1 path in `corsair serve`, against a scripted upstream that answers with
//! exact bytes: every response framing (length, chunked, until close, none), interim answers,
//! keep-alive and pipelining, request bodies, requests handed to hyper (chunked bodies,
//! `Expect`, HTTP/1.0), smuggling attempts and malformed heads refused, broken upstream answers,
//! and upstream connections reused, dropped and recovered. hyper's client is the judge of what
//! a strict HTTP/1.1 client makes of the gateway's bytes. All on loopback.

use crate::support::Gateway;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const APP: &str = "https://app.example.com";
/// A body larger than the socket buffers on both sides of the gateway can hold.
const BIG: usize = 48 << 20;

/// What the upstream saw of one request.
#[derive(Clone, Debug)]
struct Seen {
    conn: usize,
    path: String,
    headers: Vec<(String, String)>,
}

/// A hand-written HTTP/1.1 upstream: thread per connection, a scripted answer per path.
struct Upstream {
    port: u16,
    accepted: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

fn read_head(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<usize> {
    loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            return Some(i + 4);
        }
        let mut chunk = [0u8; 8192];
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn fill(s: &mut TcpStream, buf: &mut Vec<u8>, want: usize) -> bool {
    while buf.len() < want {
        let mut chunk = [0u8; 65536];
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    true
}

/// Decodes a chunked body at the start of `buf` (test data: no extensions or trailers).
fn read_chunked(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = loop {
            if let Some(i) = buf.windows(2).position(|w| w == b"\r\n") {
                break i;
            }
            if !fill(s, buf, buf.len() + 1) {
                return None;
            }
        };
        let size = usize::from_str_radix(std::str::from_utf8(&buf[..line_end]).ok()?, 16).ok()?;
        buf.drain(..line_end + 2);
        if !fill(s, buf, size + 2) {
            return None;
        }
        body.extend_from_slice(&buf[..size]);
        buf.drain(..size + 2);
        if size == 0 {
            return Some(body);
        }
    }
}

fn answer(path: &str, method: &str, body: &[u8]) -> (Vec<u8>, bool) {
    let ok = |b: &str| format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{b}", b.len());
    let (text, close): (String, bool) = match path {
        "/plain" => (ok("hello"), false),
        "/big" => (ok(&"x".repeat(BIG)), false),
        "/chunked" => (
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nVary: \
                Accept-Encoding\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
                .into(),
            false,
        ),
        "/until-close" => (
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nstreamed until the upstream closed"
                .into(),
            true,
        ),
        "/head" if method == "HEAD" => (
            "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n".into(),
            false,
        ),
        "/no-content" => ("HTTP/1.1 204 No Content\r\n\r\n".into(), false),
        "/not-modified" => (
            "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n".into(),
            false,
        ),
        "/early-hints" => (
            format!(
                "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n{}",
                ok("after \
                hints")
            ),
            false,
        ),
        "/echo" => (
            ok(&format!(
                "{} bytes, sum {}",
                body.len(),
                body.iter().map(|&b| b as u64).sum::<u64>()
            )),
            false,
        ),
        "/cors" => (
            "HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: *\r\nAccess-Control-Allow-Methods: \
                PATCH\r\nConnection: x-private\r\nX-Private: 1\r\nContent-Length: 2\r\n\r\nok"
                .into(),
            false,
        ),
        "/close" => (
            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok".into(),
            true,
        ),
        "/bad-length" => (
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!".into(),
            true,
        ),
        "/bad-chunked" => (
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n".into(),
            true,
        ),
        "/bad-chunked-late" => (
            format!(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8000\r\n{}\r\nzz\r\n",
                "a".repeat(0x8000)
            ),
            true,
        ),
        "/not-http" => ("SSH-2.0-OpenSSH_9.2\r\n\r\n".into(), true),
        "/status-99" => (
            "HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n".into(),
            false,
        ),
        "/partial-cors" => (
            "HTTP/1.1 200 OK\r\nAccess-Control-Allow-Credentials: true\r\nContent-Length: \
                2\r\n\r\nok"
                .into(),
            false,
        ),
        _ => (
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".into(),
            false,
        ),
    };
    (text.into_bytes(), close)
}

impl Upstream {
    fn start() -> Upstream {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (acc, log) = (accepted.clone(), seen.clone());
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { continue };
                let conn = acc.fetch_add(1, Ordering::SeqCst);
                let log = log.clone();
                std::thread::spawn(move || {
                    let mut buf = Vec::new();
                    while let Some(n) = read_head(&mut s, &mut buf) {
                        let head = String::from_utf8_lossy(&buf[..n]).to_string();
                        buf.drain(..n);
                        let mut lines = head.split("\r\n");
                        let mut first = lines.next().unwrap_or("").split(' ');
                        let method = first.next().unwrap_or("").to_string();
                        let path = first.next().unwrap_or("").to_string();
                        let headers: Vec<(String, String)> = lines
                            .filter_map(|l| l.split_once(':'))
                            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
                            .collect();
                        let get =
                            |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
                        // Answers before reading the body (a 401 to an upload), then reads it.
                        if path == "/early-401" {
                            let _ = s.write_all(
                                b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n",
                            );
                        }
                        let body = if get("transfer-encoding").is_some() {
                            match read_chunked(&mut s, &mut buf) {
                                Some(b) => b,
                                None => return,
                            }
                        } else {
                            let len: usize = get("content-length")
                                .and_then(|v| v.parse().ok())
                                .unwrap_or(0);
                            if !fill(&mut s, &mut buf, len) {
                                return;
                            }
                            buf.drain(..len).collect()
                        };
                        if path == "/early-401" {
                            continue;
                        }
                        let (bytes, close) = answer(&path, &method, &body);
                        log.lock().unwrap().push(Seen {
                            conn,
                            path: path.clone(),
                            headers,
                        });
                        // Reads the request and closes without a word.
                        if path == "/swallow" {
                            return;
                        }
                        // Part of a body delimited by the close, then silence.
                        if path == "/until-stall" {
                            let _ = s.write_all(b"HTTP/1.1 200 OK\r\n\r\npartial");
                            std::thread::sleep(Duration::from_secs(2));
                            return;
                        }
                        if path == "/drip" {
                            // A chunk every 150 ms: slower in total than the gateway's stall
                            // timeout, never silent for as long.
                            let _ = s.write_all(
                                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                            );
                            for i in 0..8 {
                                std::thread::sleep(Duration::from_millis(150));
                                let _ = s.write_all(format!("1\r\n{i}\r\n").as_bytes());
                            }
                            let _ = s.write_all(b"0\r\n\r\n");
                            continue;
                        }
                        if s.write_all(&bytes).is_err() || close {
                            return;
                        }
                        // Closes a kept-alive connection while it sits idle in the gateway's pool.
                        if path == "/then-idle-close" {
                            std::thread::sleep(Duration::from_millis(100));
                            return;
                        }
                    }
                });
            }
        });
        Upstream {
            port,
            accepted,
            seen,
        }
    }

    fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

fn gateway(up: &Upstream, name: &str) -> Gateway {
    gateway_with(up, name, "")
}

fn gateway_with(up: &Upstream, name: &str, settings: &str) -> Gateway {
    gateway_file(up, name, "", settings)
}

/// A gateway on one HTTP/1.1 implementation (`corsair` or `hyper`), with `settings` in
/// `[gateway]`.
fn gateway_on(up: &Upstream, name: &str, engine: &str, settings: &str) -> Gateway {
    gateway_with(
        up,
        &format!("{name}-{engine}"),
        &format!("{settings}\nhttp1 = \"{engine}\""),
    )
}

/// A gateway with `top` lines before `[gateway]` and `settings` in it.
fn gateway_file(up: &Upstream, name: &str, top: &str, settings: &str) -> Gateway {
    let dir = std::env::temp_dir().join(format!("corsair-h1-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("corsair.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"upstream = "http://127.0.0.1:{}"
{top}
[gateway]
upstream_timeout = 2.0
max_header_bytes = 8192
{settings}
[policy]
origins = ["{APP}"]
methods = ["GET", "POST", "PUT"]
request_headers = ["Content-Type"]
credentials = true
"#,
            up.port
        ),
    )
    .unwrap();
    Gateway::start(&cfg, &[])
}

type Client = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// One kept-alive client connection, strict about framing.
async fn client(addr: &str) -> Client {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (send, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(async move {
        let _ = conn.await;
    });
    send
}

struct Got {
    status: u16,
    headers: hyper::HeaderMap,
    body: Result<Vec<u8>, String>,
}

async fn send(c: &mut Client, method: &str, path: &str, body: &[u8]) -> Result<Got, String> {
    c.ready().await.map_err(|e| e.to_string())?;
    let req = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "api.test")
        .header("origin", APP)
        .body(Full::new(Bytes::copy_from_slice(body)))
        .unwrap();
    let resp = c.send_request(req).await.map_err(|e| e.to_string())?;
    let (parts, b) = resp.into_parts();
    let body = b
        .collect()
        .await
        .map(|c| c.to_bytes().to_vec())
        .map_err(|e| e.to_string());
    Ok(Got {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
    })
}

fn header<'a>(g: &'a Got, name: &str) -> Vec<&'a str> {
    g.headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Raw bytes out, everything the gateway sends back until it closes.
fn raw(addr: &str, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(bytes).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).to_string()
}

#[test]
fn every_response_framing_arrives_whole_on_one_kept_alive_connection() {
    let up = Upstream::start();
    let gw = gateway(&up, "framing");
    rt().block_on(async {
        let mut c = client(&gw.addr).await;
        let g = send(&mut c, "GET", "/plain", b"").await.unwrap();
        assert_eq!(
            (g.status, g.body.clone().unwrap()),
            (200, b"hello".to_vec())
        );
        assert_eq!(header(&g, "access-control-allow-origin"), [APP]);
        assert_eq!(header(&g, "vary"), ["Origin"]);

        // Chunked: decoded and re-encoded; extensions and trailers are not passed on; Vary
        // merged into the upstream's.
        let g = send(&mut c, "GET", "/chunked", b"").await.unwrap();
        assert_eq!(g.body.clone().unwrap(), b"hello world");
        assert_eq!(header(&g, "transfer-encoding"), ["chunked"]);
        assert_eq!(header(&g, "vary"), ["Accept-Encoding, Origin"]);
        assert_eq!(header(&g, "access-control-allow-origin"), [APP]);

        // HEAD: the length of the GET body, no body.
        let g = send(&mut c, "HEAD", "/head", b"").await.unwrap();
        assert_eq!(g.status, 200);
        assert_eq!(header(&g, "content-length"), ["100"]);
        assert_eq!(g.body.clone().unwrap(), b"");

        for (path, status) in [("/no-content", 204), ("/not-modified", 304)] {
            let g = send(&mut c, "GET", path, b"").await.unwrap();
            assert_eq!(
                (g.status, g.body.clone().unwrap()),
                (status, vec![]),
                "{path}"
            );
            assert_eq!(header(&g, "access-control-allow-origin"), [APP], "{path}");
        }

        // An interim 103 is dropped; the final answer comes through.
        let g = send(&mut c, "GET", "/early-hints", b"").await.unwrap();
        assert_eq!(
            (g.status, g.body.clone().unwrap()),
            (200, b"after hints".to_vec())
        );

        // The upstream's CORS headers are replaced, and the headers its Connection names are
        // hop-by-hop: not forwarded.
        let g = send(&mut c, "GET", "/cors", b"").await.unwrap();
        assert_eq!(header(&g, "access-control-allow-origin"), [APP]);
        assert!(header(&g, "access-control-allow-methods").is_empty());
        assert!(header(&g, "x-private").is_empty(), "{:?}", g.headers);

        // Delimited by the upstream closing: sent on chunked, and the client's connection
        // carries on.
        let g = send(&mut c, "GET", "/until-close", b"").await.unwrap();
        assert_eq!(
            g.body.clone().unwrap(),
            b"streamed until the upstream closed"
        );
        assert_eq!(header(&g, "transfer-encoding"), ["chunked"]);
        assert!(header(&g, "connection").is_empty(), "{:?}", g.headers);
        let g = send(&mut c, "GET", "/plain", b"").await.unwrap();
        assert_eq!(g.body.clone().unwrap(), b"hello");
    });
    // One upstream connection up to the one the upstream closed, then a new one.
    let seen = up.take();
    assert_eq!(seen.len(), 9);
    assert!(seen[..8].iter().all(|s| s.conn == seen[0].conn), "{seen:?}");
    assert_ne!(seen[8].conn, seen[0].conn);
    // What the upstream was told about the client.
    let h = &seen[0].headers;
    let get = |n: &str| {
        h.iter()
            .filter(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(get("host"), [format!("127.0.0.1:{}", up.port)]);
    assert_eq!(get("x-forwarded-host"), ["api.test"]);
    assert_eq!(get("x-forwarded-proto"), ["http"]);
    assert_eq!(get("x-forwarded-for"), ["127.0.0.1"]);
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let up = Upstream::start();
    let gw = gateway(&up, "pipeline");
    let out = raw(
        &gw.addr,
        format!(
            "GET /plain HTTP/1.1\r\nHost: a\r\nOrigin: {APP}\r\n\r\n\
             OPTIONS /plain HTTP/1.1\r\nHost: a\r\nOrigin: {APP}\r\nAccess-Control-Request-Method: PUT\r\n\r\n\
             GET /chunked HTTP/1.1\r\nHost: a\r\n\r\n\
             POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc"
        )
        .as_bytes(),
    );
    let statuses: Vec<&str> = out
        .match_indices("HTTP/1.1 ")
        .map(|(i, _)| &out[i + 9..i + 12])
        .collect();
    assert_eq!(statuses, ["200", "204", "200", "200"], "{out}");
    let (a, b, c, d) = (
        out.find("hello").unwrap(),
        out.find("access-control-allow-methods").unwrap(),
        out.find(" world").unwrap(),
        out.find("3 bytes, sum 294").unwrap(),
    );
    assert!(a < b && b < c && c < d, "{out}");
    let seen = up.take();
    assert_eq!(
        seen.iter().map(|s| s.path.as_str()).collect::<Vec<_>>(),
        ["/plain", "/chunked", "/echo"],
        "the preflight is answered by the gateway"
    );
}

#[test]
fn request_bodies_arrive_intact_on_both_paths() {
    let up = Upstream::start();
    let gw = gateway(&up, "bodies");
    // A chunked body on a GET reaches the upstream (hyper's client used to drop it silently).
    let out = raw(
        &gw.addr,
        b"GET /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: \
            close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    );
    assert!(out.ends_with("5 bytes, sum 532"), "{out:?}");
    let big: Vec<u8> = (0..(1 << 20) + 17).map(|i| (i * 31 % 251) as u8).collect();
    let sum: u64 = big.iter().map(|&b| b as u64).sum();
    rt().block_on(async {
        let mut c = client(&gw.addr).await;
        // Content-Length: corsair's path.
        let g = send(&mut c, "POST", "/echo", &big).await.unwrap();
        assert_eq!(
            String::from_utf8(g.body.clone().unwrap()).unwrap(),
            format!("{} bytes, sum {sum}", big.len())
        );
        // Chunked: handed to hyper, which serves the connection from then on.
        let stream = tokio::net::TcpStream::connect(&gw.addr).await.unwrap();
        let (mut send2, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .unwrap();
        tokio::spawn(conn);
        let chunks: Vec<Result<hyper::body::Frame<Bytes>, std::convert::Infallible>> = big
            .chunks(100_000)
            .map(|c| Ok(hyper::body::Frame::data(Bytes::copy_from_slice(c))))
            .collect();
        let req = hyper::Request::builder()
            .method("POST")
            .uri("/echo")
            .header("host", "a")
            .header("origin", APP)
            .body(StreamBody::new(futures_stream(chunks)))
            .unwrap();
        let resp = send2.send_request(req).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.headers()["access-control-allow-origin"],
            APP,
            "hyper's path applies the policy too"
        );
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, format!("{} bytes, sum {sum}", big.len()).as_bytes());
    });
    // Expect: 100-continue goes to hyper, which asks for the body.
    let mut s = TcpStream::connect(&gw.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(
        b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: \
        100-continue\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut first = [0u8; 25];
    s.read_exact(&mut first).unwrap();
    assert!(
        first.starts_with(b"HTTP/1.1 100 Continue"),
        "{:?}",
        String::from_utf8_lossy(&first)
    );
    s.write_all(b"wxyz").unwrap();
    let mut rest = String::new();
    let _ = s.read_to_string(&mut rest);
    assert!(rest.contains("4 bytes, sum 482"), "{rest}");
    // HTTP/1.0 goes to hyper.
    let out = raw(
        &gw.addr,
        format!("GET /plain HTTP/1.0\r\nOrigin: {APP}\r\n\r\n").as_bytes(),
    );
    assert!(
        out.starts_with("HTTP/1.0 200") || out.starts_with("HTTP/1.1 200"),
        "{out}"
    );
    assert!(out.contains("hello"), "{out}");
}

fn futures_stream<T>(items: Vec<T>) -> impl futures_core::Stream<Item = T> {
    struct Iter<T>(std::vec::IntoIter<T>);
    impl<T> futures_core::Stream for Iter<T> {
        type Item = T;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<T>> {
            std::task::Poll::Ready(self.0.next())
        }
    }
    impl<T> Unpin for Iter<T> {}
    Iter(items.into_iter())
}

#[test]
fn a_slow_body_with_progress_is_not_cut_off() {
    slow_body("corsair");
}

#[test]
fn a_slow_body_with_progress_is_not_cut_off_with_hyper() {
    slow_body("hyper");
}

fn slow_body(engine: &str) {
    let up = Upstream::start();
    let gw = gateway_on(&up, "drip", engine, "stall_timeout = 0.5");
    rt().block_on(async {
        let mut c = client(&gw.addr).await;
        let t = std::time::Instant::now();
        let g = send(&mut c, "GET", "/drip", b"").await.unwrap();
        assert_eq!(g.body.clone().unwrap(), b"01234567");
        assert!(t.elapsed() > Duration::from_millis(1000));
    });
    // Each chunk goes out as it arrives (server-sent events, long polls): the head and the first
    // chunk reach the client long before the upstream sends its last (at 1.2 s). The own path
    // once held a chunked body back until 16 KiB or its end.
    let mut s = TcpStream::connect(&gw.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let t = std::time::Instant::now();
    s.write_all(b"GET /drip HTTP/1.1\r\nHost: a\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let first: &[u8] = b"\r\n\r\n1\r\n0\r\n";
    while !got.windows(first.len()).any(|w| w == first) {
        let n = s.read(&mut buf).unwrap();
        assert!(
            n > 0,
            "{engine}: closed after {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
    assert!(
        t.elapsed() < Duration::from_millis(900),
        "{engine}: the first chunk took {:?}",
        t.elapsed()
    );
}

#[test]
fn a_client_that_stops_reading_is_cut_off() {
    stops_reading("corsair");
}

#[test]
fn a_client_that_stops_reading_is_cut_off_with_hyper() {
    stops_reading("hyper");
}

fn stops_reading(engine: &str) {
    let up = Upstream::start();
    let gw = gateway_on(&up, "stall", engine, "stall_timeout = 0.5");
    let mut s = TcpStream::connect(&gw.addr).unwrap();
    s.write_all(b"GET /big HTTP/1.1\r\nHost: a\r\n\r\n")
        .unwrap();
    // Read nothing while the gateway's writes fill the buffers and stall past the timeout.
    std::thread::sleep(Duration::from_secs(3));
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    assert!(
        got.len() < BIG,
        "the gateway should have given up on a client that read nothing for 3 s ({} bytes)",
        got.len()
    );
    assert!(
        got.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&got[..got.len().min(100)])
    );
}

mod refusals;
