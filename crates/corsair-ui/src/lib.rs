//! `corsair ui`: the debugger as a local web page. One listener serves the single-page app
//! (embedded in the binary: no CDN, works offline) and its JSON API; a second loopback listener
//! serves the Live page from another origin, so the browser's own fetch is cross-origin.
//!
//! The API makes outbound requests for whoever calls it, so it only answers its own page:
//! - `Host` must be the ui's own address (DNS rebinding);
//! - `Origin` must be the ui's own origin, the same as `Host` (no CORS headers are ever granted,
//!   `null` and every other origin are refused);
//! - calls are POST with `Content-Type: application/json`, which a cross-origin page cannot send
//!   without a preflight that is never answered;
//! - on a non-loopback address, a per-launch token printed on the command line is required too.

mod error;

pub use error::{BadRequest, LiveOriginError, StartError};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Value};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

const INDEX: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const APP_CSS: &str = include_str!("assets/app.css");
const FAVICON: &str = include_str!("assets/favicon.svg");
const LIVE_HTML: &str = include_str!("assets/live.html");
const LIVE_JS: &str = include_str!("assets/live.js");

/// API request bodies larger than this are refused.
const MAX_BODY: usize = 1024 * 1024;

/// An API call of the page, by its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Call {
    /// `/api/check`: the check form.
    Check,
    /// `/api/import`: a request copied from DevTools, read for the check form.
    Import,
    /// `/api/explain`: a pasted console message.
    Explain,
    /// `/api/policy`: the policy editor (lint and every gen target).
    Policy,
}

/// What an API call answers: its JSON, or why the request is refused (answered 400).
pub type Answer<'a> = Pin<Box<dyn Future<Output = Result<Value, BadRequest>> + Send + 'a>>;

/// What the API calls do. The ui serves the page and guards the API; the work is the
/// caller's (the `corsair` binary answers with the same code as its commands).
pub trait Backend: Send + Sync + 'static {
    /// Fields added to `/api/config`'s answer (e.g. the gen targets and stacks offered).
    fn about(&self) -> serde_json::Map<String, Value>;
    /// The answer to `call` with the request body `body` (JSON, at most 1 MiB).
    fn answer<'a>(&'a self, call: Call, body: &'a [u8]) -> Answer<'a>;
}

/// Where the ui listens and what it requires.
pub struct Settings {
    /// The main listener (`--listen`); beyond loopback, the API asks for a token.
    pub listen: SocketAddr,
    /// Open the page in the desktop's browser (`xdg-open`).
    pub open: bool,
    /// Stop after this long (for tests); else at Ctrl-C.
    pub serve_for: Option<Duration>,
    /// `--live-origin`: the user's app origin and the loopback address to serve it on.
    pub app_origin: Option<(String, SocketAddr)>,
    /// What the API calls do.
    pub backend: Arc<dyn Backend>,
}

/// Reads `--live-origin`: an http origin on loopback, with its port. Anything else is an error
/// naming the fix, never a fetch from some other origin.
pub fn app_origin(raw: &str) -> Result<(String, SocketAddr), LiveOriginError> {
    let origin = corsair_model::Origin::parse_serialized(raw)
        .map_err(|e| LiveOriginError::NotOrigin(e.to_string()))?;
    let t = origin.tuple().ok_or(LiveOriginError::Opaque)?;
    if t.scheme != "http" {
        return Err(LiveOriginError::NotHttp(raw.to_string()));
    }
    let ip: std::net::IpAddr = match t.host.as_str() {
        "localhost" => std::net::IpAddr::from([127, 0, 0, 1]),
        h => h
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| LiveOriginError::NotLoopback(raw.to_string()))?,
    };
    if !ip.is_loopback() {
        return Err(LiveOriginError::NotLoopback(raw.to_string()));
    }
    let port = t
        .port
        .ok_or_else(|| LiveOriginError::NoPort(raw.to_string()))?;
    Ok((origin.to_string(), SocketAddr::new(ip, port)))
}

/// What every request is checked against.
struct Guard {
    /// The main listener's port, the live listener's port and origin.
    port: u16,
    live_port: u16,
    live_origin: String,
    /// Host names the ui answers to (loopback names, or the listen address).
    hosts: Vec<String>,
    /// Required on API calls when listening beyond loopback.
    token: Option<String>,
    /// `--live-origin`: the user's app origin, where the live page is served too.
    app_origin: Option<String>,
    /// What the API calls do.
    backend: Arc<dyn Backend>,
}

impl Guard {
    fn host_ok(&self, host: Option<&str>, port: u16) -> bool {
        let Some(host) = host else { return false };
        let (name, p) = match host.rsplit_once(':') {
            Some((n, p)) if !n.ends_with(']') || n.starts_with('[') => (n, p),
            _ => return false,
        };
        p.parse::<u16>().ok() == Some(port)
            && (self.token.is_some() || self.hosts.iter().any(|h| h.eq_ignore_ascii_case(name)))
    }

    /// The ui's own origin, as its page sees it: `http://` + the Host it was loaded from.
    fn origin_ok(&self, origin: Option<&str>, host: &str) -> bool {
        origin == Some(format!("http://{host}").as_str())
    }

    fn token_ok(&self, given: Option<&str>) -> bool {
        match &self.token {
            None => true,
            Some(t) => given.is_some_and(|g| {
                g.len() == t.len() && g.bytes().zip(t.bytes()).fold(0, |a, (x, y)| a | (x ^ y)) == 0
            }),
        }
    }
}

fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}

/// A random token from the OS.
fn token() -> Result<String, StartError> {
    let mut buf = [0u8; 16];
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(StartError::Token)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// Serves the ui until Ctrl-C (or `serve_for`).
pub fn run(settings: Settings) -> Result<(), StartError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(serve(settings))
}

async fn serve(settings: Settings) -> Result<(), StartError> {
    let main = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|source| StartError::Listen {
            addr: settings.listen,
            source,
        })?;
    let addr = main.local_addr()?;
    // The live page's origin: the same loopback host, another port.
    let live_ip = if is_loopback(&addr) {
        addr.ip()
    } else {
        std::net::IpAddr::from([127, 0, 0, 1])
    };
    let live = tokio::net::TcpListener::bind((live_ip, 0))
        .await
        .map_err(|source| StartError::LivePage {
            ip: live_ip,
            source,
        })?;
    let live_addr = live.local_addr()?;
    let app = match &settings.app_origin {
        None => None,
        Some((origin, addr)) => Some((
            origin.clone(),
            addr.port(),
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| StartError::AppOrigin {
                    origin: origin.clone(),
                    source,
                })?,
        )),
    };
    let token = if is_loopback(&addr) {
        None
    } else {
        Some(token()?)
    };
    let mut hosts = vec![
        "127.0.0.1".to_string(),
        "localhost".to_string(),
        "[::1]".to_string(),
    ];
    hosts.push(match addr.ip() {
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    });
    let guard = Arc::new(Guard {
        port: addr.port(),
        live_port: live_addr.port(),
        live_origin: format!("http://{}:{}", hosts_for_url(&live_addr), live_addr.port()),
        hosts,
        token: token.clone(),
        app_origin: app.as_ref().map(|(o, _, _)| o.clone()),
        backend: settings.backend.clone(),
    });
    let shown_host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        hosts_for_url(&addr)
    };
    let url = match &token {
        Some(t) => format!("http://{shown_host}:{}/?token={t}", addr.port()),
        None => format!("http://{shown_host}:{}/", addr.port()),
    };
    println!("corsair ui on {url}");
    println!("  live page (a second origin): {}/live", guard.live_origin);
    if let Some((origin, _, _)) = &app {
        println!("  live page at your app's origin: {origin}/live");
    }
    if token.is_some() {
        println!("  listening beyond loopback: the API needs the token in that URL");
    }
    if settings.open {
        let _ = std::process::Command::new("xdg-open")
            .arg(&url)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();

    let g = guard.clone();
    let live_port = guard.live_port;
    let live_task = tokio::spawn(accept(live, move |req| {
        let g = g.clone();
        async move { live_page(&g, req, live_port) }
    }));
    let app_task = app.map(|(_, port, listener)| {
        let g = guard.clone();
        tokio::spawn(accept(listener, move |req| {
            let g = g.clone();
            async move { live_page(&g, req, port) }
        }))
    });
    let g = guard.clone();
    let main_task = tokio::spawn(accept(main, move |req| {
        let g = g.clone();
        async move { handle(&g, req).await }
    }));
    match settings.serve_for {
        Some(d) => tokio::time::sleep(d).await,
        None => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
    live_task.abort();
    if let Some(t) = app_task {
        t.abort();
    }
    main_task.abort();
    Ok(())
}

fn hosts_for_url(addr: &SocketAddr) -> String {
    match addr.ip() {
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    }
}

type Resp = Response<Full<Bytes>>;

async fn accept<F, Fut>(listener: tokio::net::TcpListener, handler: F)
where
    F: Fn(Request<hyper::body::Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Resp> + Send + 'static,
{
    let stop = corsair_net::serving::shutdown_signal();
    corsair_net::serving::accept_until(&listener, stop, |stream, _| {
        let handler = handler.clone();
        async move {
            let svc = hyper::service::service_fn(move |req| {
                let handler = handler.clone();
                async move { Ok::<_, std::convert::Infallible>(handler(req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .header_read_timeout(Duration::from_secs(10))
                .timer(hyper_util::rt::TokioTimer::new())
                .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                .await;
        }
    })
    .await;
}

fn header<'a>(req: &'a Request<hyper::body::Incoming>, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

fn plain(status: StatusCode, text: &str) -> Resp {
    Response::builder()
        .status(status)
        .header("Content-Type", "text/plain; charset=utf-8")
        .header("Cache-Control", "no-store")
        .body(Full::new(Bytes::from(text.to_string())))
        .expect("a valid response")
}

fn asset(content_type: &str, body: &'static str, csp: &str) -> Resp {
    Response::builder()
        .header("Content-Type", content_type)
        .header("Content-Security-Policy", csp)
        .header("X-Content-Type-Options", "nosniff")
        .header("Referrer-Policy", "no-referrer")
        .header("Cache-Control", "no-store")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .expect("a valid response")
}

fn json_resp(status: StatusCode, v: &Value) -> Resp {
    Response::builder()
        .status(status)
        .header("Content-Type", "application/json")
        .header("Cache-Control", "no-store")
        .header("X-Content-Type-Options", "nosniff")
        .body(Full::new(Bytes::from(v.to_string())))
        .expect("a valid response")
}

fn refuse(status: StatusCode, why: &str) -> Resp {
    json_resp(status, &json!({"error": why}))
}

async fn handle(g: &Guard, req: Request<hyper::body::Incoming>) -> Resp {
    let host = header(&req, "host").map(str::to_string);
    if !g.host_ok(host.as_deref(), g.port) {
        return refuse(
            StatusCode::MISDIRECTED_REQUEST,
            "this Host is not the corsair ui's address (DNS rebinding protection): open the URL \
                corsair ui printed",
        );
    }
    let host = host.unwrap_or_default();
    let path = req.uri().path().to_string();
    let page_csp = format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src \
        'self' data:; connect-src 'self'; frame-src 'self' {} {}; frame-ancestors 'none'; base-uri \
        'none'; form-action 'self'",
        g.live_origin,
        g.app_origin.as_deref().unwrap_or("")
    );
    let live_csp = "default-src 'self'; script-src 'self'; connect-src *; frame-ancestors 'self'; \
        base-uri 'none'";
    match (req.method(), path.as_str()) {
        (&Method::GET, "/") | (&Method::GET, "/index.html") => {
            asset("text/html; charset=utf-8", INDEX, &page_csp)
        }
        (&Method::GET, "/app.js") => asset("text/javascript; charset=utf-8", APP_JS, &page_csp),
        (&Method::GET, "/app.css") => asset("text/css; charset=utf-8", APP_CSS, &page_csp),
        (&Method::GET, "/favicon.svg") | (&Method::GET, "/favicon.ico") => {
            asset("image/svg+xml", FAVICON, &page_csp)
        }
        // The same live page at the ui's own origin: a same-origin frame.
        (&Method::GET, "/live") => asset("text/html; charset=utf-8", LIVE_HTML, live_csp),
        (&Method::GET, "/live.js") => asset("text/javascript; charset=utf-8", LIVE_JS, live_csp),
        (&Method::POST, _) if path.starts_with("/api/") => api(g, req, &host, &path).await,
        _ => plain(StatusCode::NOT_FOUND, "not found"),
    }
}

async fn api(g: &Guard, req: Request<hyper::body::Incoming>, host: &str, path: &str) -> Resp {
    if !g.origin_ok(header(&req, "origin"), host) {
        return refuse(
            StatusCode::FORBIDDEN,
            "the corsair ui's API answers its own page only: this Origin is refused",
        );
    }
    if !g.token_ok(header(&req, "x-corsair-token")) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "the ui listens beyond loopback: send the token printed by corsair ui (open the URL it \
                printed)",
        );
    }
    let json_type = header(&req, "content-type")
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("application/json"));
    if !json_type {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the API call as Content-Type: application/json",
        );
    }
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is over 1 MiB",
            )
        }
    };
    let call = match path {
        "/api/config" => {
            let mut about = json!({
                "origin": format!("http://{host}"),
                "live_origin": g.live_origin,
                "app_origin": g.app_origin,
                "version": env!("CARGO_PKG_VERSION"),
            });
            if let Value::Object(m) = &mut about {
                m.extend(g.backend.about());
            }
            return json_resp(StatusCode::OK, &about);
        }
        "/api/check" => Call::Check,
        "/api/import" => Call::Import,
        "/api/explain" => Call::Explain,
        "/api/policy" => Call::Policy,
        _ => return refuse(StatusCode::NOT_FOUND, "no such API call"),
    };
    match g.backend.answer(call, &body).await {
        Ok(v) => json_resp(StatusCode::OK, &v),
        Err(e) => refuse(StatusCode::BAD_REQUEST, &e.0),
    }
}

/// The live page, served on the second origin: it runs the fetch it is asked to by the ui's page
/// (and only by it) and reports what the browser let it see.
/// The live page, served at the second origin and at `--live-origin`'s (each on `port`).
fn live_page(g: &Guard, req: Request<hyper::body::Incoming>, port: u16) -> Resp {
    if !g.host_ok(header(&req, "host"), port) {
        return plain(StatusCode::MISDIRECTED_REQUEST, "unknown Host");
    }
    // CSP has no syntax for an IPv6 literal host (Chromium logs an error and ignores one), so
    // the ui's IPv4 and name origins are listed.
    let csp = format!(
        "default-src 'self'; script-src 'self'; connect-src *; frame-ancestors \
            http://127.0.0.1:{0} http://localhost:{0}; base-uri 'none'",
        g.port
    );
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/live") => asset("text/html; charset=utf-8", LIVE_HTML, &csp),
        (&Method::GET, "/live.js") => asset("text/javascript; charset=utf-8", LIVE_JS, &csp),
        _ => plain(StatusCode::NOT_FOUND, "not found"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_origin_is_a_loopback_http_origin_with_its_port() {
        assert_eq!(
            app_origin("http://localhost:5173").unwrap(),
            (
                "http://localhost:5173".to_string(),
                "127.0.0.1:5173".parse().unwrap()
            )
        );
        assert_eq!(
            app_origin("http://[::1]:8080").unwrap().1,
            "[::1]:8080".parse().unwrap()
        );
        for (bad, says) in [
            ("localhost:5173", "did you mean http://localhost:5173?"),
            ("https://localhost:5173", "is not http"),
            ("http://app.example.com:8080", "not on this machine"),
            ("http://10.0.0.1:8080", "not on this machine"),
            ("http://localhost", "has no port"),
            ("http://localhost:5173/app", "did you mean"),
        ] {
            let e = app_origin(bad).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    struct Nothing;
    impl Backend for Nothing {
        fn about(&self) -> serde_json::Map<String, Value> {
            Default::default()
        }
        fn answer<'a>(&'a self, _: Call, _: &'a [u8]) -> Answer<'a> {
            Box::pin(async { Err(BadRequest("no backend".into())) })
        }
    }

    fn guard(token: Option<&str>) -> Guard {
        Guard {
            port: 7070,
            live_port: 7071,
            live_origin: "http://127.0.0.1:7071".into(),
            hosts: vec!["127.0.0.1".into(), "localhost".into(), "[::1]".into()],
            token: token.map(str::to_string),
            app_origin: None,
            backend: Arc::new(Nothing),
        }
    }

    #[test]
    fn host_origin_and_token_checks() {
        let g = guard(None);
        assert!(g.host_ok(Some("127.0.0.1:7070"), 7070));
        assert!(g.host_ok(Some("localhost:7070"), 7070));
        assert!(g.host_ok(Some("[::1]:7070"), 7070));
        assert!(!g.host_ok(Some("evil.example:7070"), 7070), "rebinding");
        assert!(!g.host_ok(Some("127.0.0.1:7071"), 7070), "other port");
        assert!(!g.host_ok(Some("127.0.0.1"), 7070));
        assert!(!g.host_ok(None, 7070));
        assert!(g.origin_ok(Some("http://127.0.0.1:7070"), "127.0.0.1:7070"));
        assert!(!g.origin_ok(Some("null"), "127.0.0.1:7070"));
        assert!(!g.origin_ok(Some("http://localhost:7070"), "127.0.0.1:7070"));
        assert!(!g.origin_ok(None, "127.0.0.1:7070"));
        assert!(g.token_ok(None));
        let t = guard(Some("abc123"));
        assert!(t.token_ok(Some("abc123")));
        assert!(!t.token_ok(Some("abc124")) && !t.token_ok(Some("abc")) && !t.token_ok(None));
    }
}
