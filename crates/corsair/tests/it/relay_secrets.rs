//! `corsair proxy` under attack (issue 32): an injected secret never reaches the page in any
//! form, in front of a real echo service (httpbin, which reflects the request's headers in its
//! JSON) and of an upstream that reflects it in every derived form, in headers and in bodies
//! split across chunks; ambiguous requests are refused; every cookie header is stripped; and a
//! name with one private address among public ones (`--resolve` with several addresses, or
//! repeated) is refused before any connection, inside a network namespace of its own where a
//! public address is this namespace's own.

use crate::relay::spawn_proxy;
use crate::support::peers::venv;
use crate::support::{free_port, http, wait_port, Proc};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PAGE: &str = "https://app.example.com";
const TOKEN: &str = "s3cret-relay-token";

/// An upstream that answers each path by reflecting the request's `Authorization` in another
/// form, and records the header names it received.
struct Echo {
    port: u16,
    seen: Arc<Mutex<Vec<Headers>>>,
}

type Headers = Vec<(String, String)>;

fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

impl Echo {
    fn start() -> Echo {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for s in l.incoming().take(200) {
                let Ok(s) = s else { continue };
                let log = log.clone();
                std::thread::spawn(move || Echo::answer(s, &log));
            }
        });
        Echo { port, seen }
    }

    fn answer(mut s: TcpStream, log: &Mutex<Vec<Headers>>) {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && s.read(&mut byte).unwrap_or(0) == 1 {
            head.push(byte[0]);
        }
        let text = String::from_utf8_lossy(&head).to_string();
        let mut lines = text.lines();
        let path = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .unwrap_or("/")
            .to_string();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        log.lock().unwrap().push(headers.clone());
        let auth = headers
            .iter()
            .find(|(n, _)| n == "authorization")
            .map_or(String::new(), |(_, v)| v.clone());
        let token = auth.split_once(' ').map_or(auth.as_str(), |(_, t)| t);
        let mut extra = String::new();
        let mut body: Vec<String> = vec!["{\"ok\":true}".into()];
        let mut encoding = "";
        match path.as_str() {
            "/h/token" => extra = format!("X-Echo-Token: {token}\r\n"),
            "/h/link" => extra = format!("Link: <https://x.example/?t={}>\r\n", pct(&auth)),
            "/h/upper" => extra = format!("X-Echo: {}\r\n", auth.to_uppercase()),
            "/h/name" => extra = format!("X-{token}: 1\r\n"),
            "/h/b64" => extra = format!("X-Echo: {}\r\n", b64(token)),
            "/b/split" => {
                body = vec![
                    format!("{{\"echo\":\"{}", &token[..4]),
                    format!("{}\"}}", &token[4..]),
                ]
            }
            "/b/json" => body = vec![format!("{{\"headers\":{{\"Authorization\":\"{auth}\"}}}}")],
            "/b/form" => body = vec![format!("t={}", auth.replace(' ', "+"))],
            "/b/b64" => body = vec![format!("{{\"blob\":\"{}\"}}", b64(&format!("x{auth}y")))],
            "/b/clean" => {
                body = (0..200)
                    .map(|i| format!("[{i},\"s3cr\",\"{}\"]", "y".repeat(500)))
                    .collect()
            }
            "/b/gzip" => encoding = "Content-Encoding: gzip\r\n",
            _ => {}
        }
        let mut out = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: \
                chunked\r\nConnection: close\r\n{encoding}{extra}\r\n"
        )
        .into_bytes();
        let _ = s.write_all(&out);
        for (i, part) in body.iter().enumerate() {
            if i > 0 && path == "/b/split" {
                std::thread::sleep(Duration::from_millis(150));
            }
            out = format!("{:x}\r\n{part}\r\n", part.len()).into_bytes();
            if s.write_all(&out).is_err() {
                return;
            }
        }
        let _ = s.write_all(b"0\r\n\r\n");
    }
}

fn httpbin() -> (Proc, u16) {
    let port = free_port();
    let mut c = Command::new(venv())
        .args([
            "-m",
            "httpbin.core",
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_port(port, "httpbin", &mut c);
    (Proc(c), port)
}

fn config(echo: u16, bin: u16) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("corsair-relay-secrets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("proxy.toml");
    std::fs::write(
        &p,
        format!(
            r#"admin = "127.0.0.1:0"
[proxy]
origins = ["{PAGE}"]
targets = ["http://echo.test:{echo}", "http://bin.test:{bin}"]
allow_private = ["echo.test:{echo}", "bin.test:{bin}"]
[[proxy.inject]]
target = "http://echo.test:{echo}"
header = "Authorization"
value_env = "CORSAIR_TEST_TOKEN"
[[proxy.inject]]
target = "http://bin.test:{bin}"
header = "Authorization"
value_env = "CORSAIR_TEST_TOKEN"
"#
        ),
    )
    .unwrap();
    p
}

/// A chunked body (as `http` returns it, undecoded) decoded; panics on a malformed one.
fn dechunk(raw: &str) -> String {
    let mut out = String::new();
    let mut rest = raw;
    loop {
        let (size, after) = rest.split_once("\r\n").expect("a chunk-size line");
        let n = usize::from_str_radix(size.trim(), 16).expect("a hex chunk size");
        if n == 0 {
            return out;
        }
        out.push_str(&after[..n]);
        rest = &after[n + 2..];
    }
}

fn carries_secret(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.contains(TOKEN) || lower.contains(&b64(TOKEN).to_ascii_lowercase()[..16])
}

#[test]
fn an_injected_secret_never_reaches_the_page_in_any_form() {
    let echo = Echo::start();
    let (_bin, bin) = httpbin();
    let cfg = config(echo.port, bin);
    let resolve = vec![
        format!("echo.test:{}:127.0.0.1", echo.port),
        format!("bin.test:{bin}:127.0.0.1"),
    ];
    let secret = format!("Bearer {TOKEN}");
    let proxy = spawn_proxy(&cfg, &resolve, &[("CORSAIR_TEST_TOKEN", secret.as_str())]);
    let get = |url: String| {
        http(
            &proxy.addr,
            "GET",
            &format!("/{url}"),
            &[
                ("Origin", PAGE),
                ("Accept-Encoding", "gzip, br"),
                ("Cookie2", "$Version=1"),
            ],
        )
    };
    let e = |path: &str| format!("http://echo.test:{}{path}", echo.port);

    // Headers: the reflecting header is dropped, the rest of the answer goes through.
    for path in ["/h/token", "/h/link", "/h/upper", "/h/name", "/h/b64"] {
        let (status, headers, body) = get(e(path));
        assert_eq!(status, 200, "{path}: {body}");
        let all = format!("{headers:?}");
        assert!(!carries_secret(&all), "{path}: {all}");
        assert!(body.contains("\"ok\":true"), "{path}: {body}");
    }
    // Bodies: cut off before the secret, whichever form it takes and however it is split.
    for path in ["/b/split", "/b/json", "/b/form", "/b/b64"] {
        let (status, _, body) = get(e(path));
        // Cut off mid-body (200 and a truncated body), or before the head went out when the
        // secret is in the first bytes (no answer at all): the page sees a network error.
        assert!(matches!(status, 0 | 200), "{path}: {status}");
        assert!(!carries_secret(&body), "{path}: {body}");
        assert!(
            !body.contains("0\r\n\r\n"),
            "{path}: the body must be cut off, not ended: {body:?}"
        );
    }
    let (_, _, split) = get(e("/b/split"));
    assert!(
        !split.contains("s3cr"),
        "not even the secret's first bytes: {split:?}"
    );
    // A clean body goes through whole, though it holds the first bytes of the secret.
    let (status, headers, body) = get(e("/b/clean"));
    assert_eq!(status, 200);
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    // Where the chunks split it depends on the reads: count in the decoded body.
    let body = if chunked { dechunk(&body) } else { body };
    assert_eq!(body.matches("\"s3cr\"").count(), 200, "{}", body.len());
    assert!(body.ends_with(&format!("[199,\"s3cr\",\"{}\"]", "y".repeat(500))));
    // The upstream was asked for identity and got no Cookie2; one that encodes anyway is not
    // relayed (its body could not be scanned).
    let seen = echo.seen.lock().unwrap().clone();
    assert!(!seen.is_empty());
    for h in &seen {
        assert!(
            h.iter()
                .any(|(n, v)| n == "accept-encoding" && v == "identity"),
            "{h:?}"
        );
        assert!(h.iter().all(|(n, _)| n != "cookie2"), "{h:?}");
        assert!(
            h.iter().any(|(n, v)| n == "authorization" && *v == secret),
            "{h:?}"
        );
    }
    let (status, _, body) = get(e("/b/gzip"));
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("encoded-response"), "{body}");

    // httpbin, the echo service people test with: the headers it reflects in JSON, the token
    // alone, and a gzip-encoded echo.
    let b = |path: &str| format!("http://bin.test:{bin}{path}");
    for path in ["/headers", "/anything", "/bearer"] {
        let (status, _, body) = get(b(path));
        assert!(matches!(status, 0 | 200), "{path}: {status}");
        assert!(!carries_secret(&body), "{path}: {body}");
        assert!(
            !body.trim_end().ends_with('}'),
            "{path}: cut off, not whole: {body}"
        );
    }
    let (status, _, body) = get(b("/gzip"));
    assert_eq!(status, 502, "{body}");
    // A clean httpbin answer still arrives whole.
    let (status, _, body) = get(b("/uuid"));
    assert_eq!(status, 200);
    assert!(body.contains("uuid"), "{body}");

    let metrics = http(&proxy.admin, "GET", "/metrics", &[]).2;
    let cuts: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("corsair_proxy_secret_cuts_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    assert!(cuts >= 10, "{metrics}");
    assert!(proxy
        .logs()
        .contains("cut off a response body that carried an injected secret"));
}

#[test]
fn ambiguous_requests_are_refused() {
    let echo = Echo::start();
    let cfg = config(echo.port, 1);
    let resolve = vec![format!("echo.test:{}:127.0.0.1", echo.port)];
    let proxy = spawn_proxy(
        &cfg,
        &resolve,
        &[("CORSAIR_TEST_TOKEN", "Bearer s3cret-relay-token")],
    );
    let target = format!("/http://echo.test:{}/h/token", echo.port);
    for headers in [
        vec![("Origin", PAGE), ("Origin", "https://evil.example")],
        vec![("Origin", "https://evil.example"), ("Origin", PAGE)],
        vec![("Origin", PAGE), ("Host", "other.example")],
        vec![("Origin", PAGE), ("Connection", "Origin")],
    ] {
        let (status, h, body) = http(&proxy.addr, "GET", &target, &headers);
        assert_eq!(status, 400, "{headers:?}: {body}");
        assert!(body.contains("ambiguous-request"), "{body}");
        assert!(
            h.iter().all(|(n, _)| !n.starts_with("access-control-")),
            "{h:?}"
        );
    }
    // An absolute-form target whose host is not the Host.
    let mut s = TcpStream::connect(&proxy.addr).unwrap();
    write!(
        s,
        "GET http://elsewhere.example{target} HTTP/1.1\r\nHost: {}\r\nOrigin: \
            {PAGE}\r\nConnection: close\r\n\r\n",
        proxy.addr
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        echo.seen.lock().unwrap().is_empty(),
        "nothing reached the upstream"
    );
}

/// A public address among private ones, inside a network namespace made here: the public
/// address is this namespace's own loopback, so no packet can leave it whatever happens.
#[test]
fn a_name_with_a_private_address_among_public_ones_is_refused_before_connecting() {
    let bin = env!("CARGO_BIN_EXE_corsair");
    let dir = std::env::temp_dir().join(format!("corsair-relay-netns-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("proxy.toml"),
        format!(
            "[proxy]\norigins = [\"{PAGE}\"]\ntargets = \
                [\"http://public.test:8080\", \"http://mixed1.test:8080\", \"http://mixed2.test:8080\", \"http://mixed3.test:8080\"]\n"
        ),
    )
    .unwrap();
    let script = format!(
        r#"set -e
ip link set lo up
ip addr add 1.2.3.4/32 dev lo
cd {dir}
python3 -m http.server 8080 --bind 0.0.0.0 2> upstream.log > /dev/null &
up=$!
{bin} proxy --config proxy.toml --listen 127.0.0.1:8787 \
  --resolve public.test:8080:1.2.3.4 \
  --resolve mixed1.test:8080:1.2.3.4,127.0.0.1 \
  --resolve mixed2.test:8080:127.0.0.1 --resolve mixed2.test:8080:1.2.3.4 \
  --resolve 'mixed3.test:8080:1.2.3.4,[::1]' > /dev/null 2> proxy.log &
px=$!
for i in $(seq 100); do (echo > /dev/tcp/127.0.0.1/8787) 2>/dev/null && (echo > /dev/tcp/127.0.0.1/8080) 2>/dev/null && break; sleep 0.1; done
for h in public mixed1 mixed2 mixed3; do
  printf '%s %s\n' "$h" "$(curl -s -m 5 -o /dev/null -w '%{{http_code}}' -H 'Origin: {PAGE}' \
      http://127.0.0.1:8787/http://$h.test:8080/)"
done
kill $px $up
wait 2>/dev/null || true
"#,
        dir = dir.display(),
        bin = bin
    );
    let out = Command::new("unshare")
        .args(["--net", "--", "bash", "-c", &script])
        .output()
        .expect("unshare (util-linux) is installed by scripts/test.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let codes: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        codes,
        ["public 200", "mixed1 403", "mixed2 403", "mixed3 403"],
        "{stdout}\n{}",
        std::fs::read_to_string(dir.join("proxy.log")).unwrap_or_default()
    );
    // The upstream saw the one request to the public name, and no connection for the others.
    let log = std::fs::read_to_string(dir.join("upstream.log")).unwrap();
    assert_eq!(log.matches("\"GET / HTTP/1.1\"").count(), 1, "{log}");
}
