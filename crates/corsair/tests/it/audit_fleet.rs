//! The audit test fleet: one loopback server (plain and TLS) whose paths each implement one CORS
//! misconfiguration, or a safe configuration, for the trusted host `api.fleet.test` (site
//! `fleet.test`). Targets are `http://api.fleet.test:PORT/PATH`, reached with `--resolve`.

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response};

/// (path, expected classes). The TLS listener serves the same paths.
pub const CASES: &[(&str, &[&str])] = &[
    ("/reflect", &["reflect-origin"]),
    ("/reflect-anonymous", &["reflect-origin"]),
    ("/null", &["null-origin"]),
    ("/prefix", &["prefix-bypass"]),
    ("/suffix", &["suffix-bypass"]),
    ("/substring", &["substring-bypass"]),
    // Trusts any origin containing the trusted host: one root cause, not a prefix, a
    // special-character, a subdomain, a port and an http finding.
    ("/contains", &["substring-bypass"]),
    ("/dot", &["unescaped-dot"]),
    ("/special", &["special-char-bypass"]),
    ("/subdomain", &["any-subdomain"]),
    // A development allowance that is not anchored: `^https?://localhost`.
    ("/localhost", &["localhost-bypass"]),
    // Corsy's broken parser: %60 decoded, the backtick origin echoed.
    ("/backtick", &["special-char-bypass"]),
    // An https front end whose http twin is trusted, found on the http API too.
    ("/http", &["http-origin-trusted"]),
    ("/third-party", &["third-party-origin"]),
    ("/port", &["port-ignored"]),
    ("/wildcard-credentials", &["wildcard-credentials"]),
    ("/wildcard-sensitive", &["wildcard-sensitive"]),
    // `*` on a body with secrets and personal data, whoever asks.
    ("/wildcard-secrets", &["wildcard-sensitive"]),
    // A fixed Access-Control-Allow-Origin naming a page on github.io, with credentials.
    ("/shared-hosting", &["third-party-origin"]),
    // A list of origins in one Access-Control-Allow-Origin: CORS never works.
    ("/invalid-list", &["invalid-allow-origin"]),
    ("/preflight-reflect", &["preflight-reflect"]),
    ("/preflight-auth", &["preflight-auth"]),
    // A 403 without CORS headers on the preflight, while the GET is allowed.
    ("/preflight-403", &["preflight-auth"]),
    ("/no-vary", &["missing-vary"]),
    // An exact allowlist that still sends the Private Network Access opt-in.
    ("/private-network", &["private-network-header"]),
    // CORS on success only: a path under it that no route serves answers 404 without CORS.
    ("/errors-bare", &["errors-without-cors"]),
    // Safe configurations: nothing to find (public `*` is informational only).
    ("/safe-exact", &[]),
    ("/safe-list", &[]),
    ("/safe-none", &[]),
    ("/safe-public", &["wildcard-public"]),
];

/// Served on the TLS listener too: an https API whose front end's http twin is trusted.
pub const TLS_CASE: (&str, &[&str]) = ("/http", &["http-origin-trusted"]);

const TRUSTED: &str = "https://api.fleet.test";

fn host_of(origin: &str) -> &str {
    origin.split_once("://").map(|(_, h)| h).unwrap_or_default()
}

/// A compiled regex, compiled once: the fleet must not be what a throughput run measures.
fn regex(p: &'static str) -> regex::Regex {
    static CACHE: std::sync::LazyLock<
        std::sync::Mutex<std::collections::HashMap<&'static str, regex::Regex>>,
    > = std::sync::LazyLock::new(Default::default);
    CACHE
        .lock()
        .unwrap()
        .entry(p)
        .or_insert_with(|| regex::Regex::new(p).unwrap())
        .clone()
}

/// Whether the path's (mis)configuration allows `origin`.
fn allows(path: &str, origin: &str) -> bool {
    let re = |p: &'static str| regex(p).is_match(origin);
    match path {
        "/reflect" | "/reflect-anonymous" => true,
        "/null" => origin == "null" || origin == TRUSTED,
        "/prefix" => re(r"^https?://api\.fleet\.test"),
        "/contains" => origin.contains("api.fleet.test"),
        "/localhost" => re(r"^https?://localhost") || origin == TRUSTED,
        "/backtick" => {
            origin == TRUSTED || origin == "https://api.fleet.test`.corsair-attacker.example"
        }
        "/suffix" => origin.ends_with("fleet.test"),
        "/substring" => !host_of(origin).is_empty() && "api.fleet.test".contains(host_of(origin)),
        "/dot" => re(r"^https://api.fleet.test$"),
        "/special" => regex(r"^https://([a-z0-9.:-]+)")
            .captures(origin)
            .is_some_and(|c| &c[1] == "api.fleet.test"),
        "/subdomain" => re(r"^https://([a-z0-9-]+\.)*fleet\.test$"),
        "/third-party" => {
            origin == TRUSTED
                || re(r"^https://[a-z0-9-]+\.github\.io$")
                || origin == "https://codepen.io"
        }
        "/port" => re(r"^https://api\.fleet\.test(:[0-9]+)?$"),
        "/http" => origin == TRUSTED || origin == "http://api.fleet.test",
        "/preflight-reflect" | "/preflight-auth" | "/preflight-403" | "/no-vary"
        | "/safe-exact" | "/private-network" | "/errors-bare" => origin == TRUSTED,
        "/safe-list" => [
            TRUSTED,
            "https://app.fleet.test",
            "https://admin.fleet.test",
        ]
        .contains(&origin),
        _ => false,
    }
}

/// Every request the fleets of this test process received: (Host header, when).
pub static SEEN: std::sync::Mutex<Vec<(String, std::time::Instant)>> =
    std::sync::Mutex::new(Vec::new());

fn respond(req: &Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    if let Some(h) = req.headers().get("host").and_then(|v| v.to_str().ok()) {
        SEEN.lock()
            .unwrap()
            .push((h.to_string(), std::time::Instant::now()));
    }
    // A path under a case's that no route serves: the case's answer with 404 (CORS on errors
    // too, as corsair serve does), except where the case is that errors have no CORS.
    let full = req.uri().path();
    let missing_suffix = format!("/{}", corsair_core::audit::MISSING_SEGMENT);
    let (path, missing) = match full.strip_suffix(missing_suffix.as_str()) {
        Some(base) => (base.to_string(), true),
        None => (full.to_string(), false),
    };
    if missing && path == "/errors-bare" {
        return Response::builder()
            .status(404)
            .header("Content-Type", "text/plain")
            .body(Full::new(Bytes::from_static(b"Not Found")))
            .unwrap();
    }
    let origin = req
        .headers()
        .get("origin")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let preflight = req.method() == hyper::Method::OPTIONS
        && req.headers().contains_key("access-control-request-method");
    let authorized = req.headers().contains_key("authorization");
    let mut b = Response::builder();
    let mut body = "{\"items\":[1,2,3]}".to_string();
    // The server decodes the Origin's %60 before comparing and echoing it.
    let origin = if path == "/backtick" {
        origin.replace("%60", "`")
    } else {
        origin
    };
    match path.as_str() {
        "/wildcard-secrets" => {
            b = b.header("Access-Control-Allow-Origin", "*");
            body =
                "{\"account\":{\"email\":\"alice@fleet.test\",\"session_token\":\"6f1e0c9a77b2\"}}"
                    .into();
        }
        "/shared-hosting" => {
            b = b
                .header(
                    "Access-Control-Allow-Origin",
                    "https://fleet-docs.github.io",
                )
                .header("Access-Control-Allow-Credentials", "true");
        }
        "/invalid-list" => {
            b = b.header(
                "Access-Control-Allow-Origin",
                "https://api.fleet.test, https://app.fleet.test",
            );
        }
        "/preflight-403" if preflight => {
            return Response::builder()
                .status(403)
                .body(Full::new(Bytes::new()))
                .unwrap();
        }
        "/wildcard-credentials" => {
            b = b
                .header("Access-Control-Allow-Origin", "*")
                .header("Access-Control-Allow-Credentials", "true");
        }
        "/wildcard-sensitive" => {
            b = b.header("Access-Control-Allow-Origin", "*");
            if authorized {
                body = "{\"user\":\"alice\",\"email\":\"alice@fleet.test\"}".into();
            }
        }
        "/safe-public" => {
            b = b.header("Access-Control-Allow-Origin", "*");
        }
        "/safe-none" if req.method() == hyper::Method::OPTIONS => {
            return Response::builder()
                .status(405)
                .body(Full::new(Bytes::new()))
                .unwrap();
        }
        "/preflight-auth" if preflight => {
            return Response::builder()
                .status(401)
                .header("WWW-Authenticate", "Bearer")
                .body(Full::new(Bytes::new()))
                .unwrap();
        }
        p if !origin.is_empty() && allows(p, &origin) => {
            b = b.header("Access-Control-Allow-Origin", origin.as_str());
            if p != "/reflect-anonymous" {
                b = b.header("Access-Control-Allow-Credentials", "true");
            }
            if preflight {
                if p == "/preflight-reflect" {
                    for (req_h, resp_h) in [
                        (
                            "access-control-request-method",
                            "Access-Control-Allow-Methods",
                        ),
                        (
                            "access-control-request-headers",
                            "Access-Control-Allow-Headers",
                        ),
                    ] {
                        if let Some(v) = req.headers().get(req_h) {
                            b = b.header(resp_h, v.clone());
                        }
                    }
                } else {
                    b = b
                        .header("Access-Control-Allow-Methods", "GET, POST, PUT")
                        .header(
                            "Access-Control-Allow-Headers",
                            "Authorization, Content-Type",
                        );
                }
            }
        }
        _ => {}
    }
    if path == "/private-network" {
        b = b.header("Access-Control-Allow-Private-Network", "true");
    }
    if path == "/no-vary" {
        b = b.header("Cache-Control", "public, max-age=60");
    } else if !path.starts_with("/wildcard") && path != "/safe-public" && path != "/shared-hosting"
    {
        b = b.header("Vary", "Origin");
    }
    if preflight {
        return b.status(204).body(Full::new(Bytes::new())).unwrap();
    }
    b.status(if missing { 404 } else { 200 })
        .header("Content-Type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

/// Starts the fleet on loopback: returns (plain port, TLS port). It serves until the test
/// process exits.
pub fn start() -> (u16, u16) {
    let plain = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let tls = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let ports = (
        plain.local_addr().unwrap().port(),
        tls.local_addr().unwrap().port(),
    );
    plain.set_nonblocking(true).unwrap();
    tls.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let plain = tokio::net::TcpListener::from_std(plain).unwrap();
            let tls = tokio::net::TcpListener::from_std(tls).unwrap();
            let (acceptor, _) = crate::support::tls_acceptor("api.fleet.test");
            tokio::spawn(async move {
                while let Ok((s, _)) = tls.accept().await {
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        if let Ok(s) = acceptor.accept(s).await {
                            serve(hyper_util::rt::TokioIo::new(s)).await;
                        }
                    });
                }
            });
            while let Ok((s, _)) = plain.accept().await {
                tokio::spawn(serve(hyper_util::rt::TokioIo::new(s)));
            }
        });
    });
    ports
}

async fn serve<T>(io: hyper_util::rt::TokioIo<T>)
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let svc = hyper::service::service_fn(move |req| async move {
        Ok::<_, std::convert::Infallible>(respond(&req))
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, svc)
        .await;
}
