//! `corsair proxy`: the CORS relay's server. A page on `origins` asks
//! `http://PROXY/https://api.example.com/path?q`; the relay checks the page, the target, each
//! address the target resolves to (the SSRF guard, `corsair_core::relay`), connects to the
//! address it checked (never a second lookup), strips cookies both ways, adds injected
//! secrets, follows redirects only to targets that pass the same checks, and answers with the
//! policy's CORS headers, `nosniff` and `Content-Security-Policy: sandbox`.

use crate::client::Resolve;
use arc_swap::ArcSwap;
use bytes::Bytes;
use corsair_core::policy::{self, Diagnostic, RequestKind, RequestView, Severity};
use corsair_core::relay::{self, Leak, Limiter, Refusal, Relay, RelaySpec, Scanner, Secrets};
use http_body_util::{combinators::BoxBody, BodyExt, Full, Limited};
use hyper::{HeaderMap, Request, Response};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::net::{TcpListener, TcpStream};

type Body = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// The file: `listen`, `admin` and `[proxy]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyFile {
    /// Where to listen.
    pub listen: Option<String>,
    /// Where to serve `/metrics` and `/healthz`.
    pub admin: Option<String>,
    /// The relay.
    #[serde(default)]
    pub proxy: RelaySpec,
}

/// Reads and checks a proxy file: the relay, the file, and warnings; or every problem,
/// rendered `FILE: key: message; fix: ...`.
pub fn load(path: &Path) -> Result<(Relay, ProxyFile, Vec<String>), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let file: ProxyFile = toml::from_str(&text).map_err(|e| {
        let at = e
            .span()
            .map(|_| {
                let d = Diagnostic::of_toml(&text, &e);
                format!("{}:{}: ", d.line, d.column)
            })
            .unwrap_or_default();
        format!("{}:{at}error: {}", path.display(), e.message())
    })?;
    let env = |k: &str| std::env::var(k).ok();
    let render = |l: &relay::Lint| {
        let sev = match l.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let at = position(&text, &l.key)
            .map(|(line, col)| format!("{line}:{col}:"))
            .unwrap_or_default();
        format!(
            "{}:{at} {sev}: [proxy] {}: {}; fix: {}",
            path.display(),
            l.key,
            l.message,
            l.fix
        )
    };
    match relay::build(&file.proxy, &env) {
        Ok((r, warnings)) => {
            let w = warnings.iter().map(render).collect();
            Ok((r, file, w))
        }
        Err(lints) => Err(lints.iter().map(render).collect::<Vec<_>>().join("\n")),
    }
}

/// The line and column of a `[proxy]` key named as the lint names it (`targets[1]`,
/// `inject[0].value_env`), or of the table when the key is not written.
fn position(text: &str, key: &str) -> Option<(usize, usize)> {
    use toml_edit::{ImDocument, Item, Value};
    let doc = ImDocument::parse(text).ok()?;
    let proxy = doc.as_table().get("proxy")?;
    let mut span = match proxy {
        Item::Table(t) => t.span(),
        Item::Value(v) => v.span(),
        _ => None,
    };
    let mut item: Option<Item> = Some(proxy.clone());
    for part in key.split('.') {
        let (name, index) = match part.split_once('[') {
            Some((n, i)) => (n, i.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        let next = item.as_ref().and_then(|i| i.get(name)).cloned();
        let next = match (next, index) {
            (Some(Item::ArrayOfTables(a)), Some(i)) => a.get(i).map(|t| Item::Table(t.clone())),
            (Some(Item::Value(Value::Array(a))), Some(i)) => {
                a.get(i).map(|v| Item::Value(v.clone()))
            }
            (n, _) => n,
        };
        let s = match &next {
            Some(Item::Value(v)) => v.span(),
            Some(Item::Table(t)) => t.span(),
            _ => None,
        };
        if s.is_none() {
            break;
        }
        span = s;
        item = next;
    }
    let d = Diagnostic::at(
        text,
        &span?,
        Severity::Error,
        String::new(),
        String::new(),
        String::new(),
    );
    Some((d.line, d.column))
}

/// Counters for `/metrics`.
#[derive(Default)]
struct Metrics {
    proxied: AtomicU64,
    preflights: AtomicU64,
    refused_origin: AtomicU64,
    refused_target: AtomicU64,
    refused_address: AtomicU64,
    rate_limited: AtomicU64,
    upstream_errors: AtomicU64,
    redis_errors: AtomicU64,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
    /// Responses withheld or cut off because they carried an injected secret.
    secret_cuts: Arc<AtomicU64>,
    /// Requests refused because the proxy and the upstream could read them differently.
    ambiguous: AtomicU64,
}

impl Metrics {
    fn render(&self) -> String {
        let mut s = String::from("# HELP corsair_proxy_requests_total Requests by outcome.\n# TYPE corsair_proxy_requests_total counter\n");
        for (name, v) in [
            ("proxied", &self.proxied),
            ("preflight", &self.preflights),
            ("refused_origin", &self.refused_origin),
            ("refused_target", &self.refused_target),
            ("refused_address", &self.refused_address),
            ("rate_limited", &self.rate_limited),
            ("upstream_error", &self.upstream_errors),
            ("ambiguous", &self.ambiguous),
        ] {
            s.push_str(&format!(
                "corsair_proxy_requests_total{{outcome=\"{name}\"}} {}\n",
                v.load(Ordering::Relaxed)
            ));
        }
        s.push_str(&format!(
            "# HELP corsair_proxy_redis_errors_total Rate-limit checks Redis could not answer (the request went on).\n# TYPE corsair_proxy_redis_errors_total counter\ncorsair_proxy_redis_errors_total {}\n",
            self.redis_errors.load(Ordering::Relaxed)
        ));
        s.push_str(&format!(
            "# HELP corsair_proxy_secret_cuts_total Responses withheld or cut off because they carried an injected secret.\n# TYPE corsair_proxy_secret_cuts_total counter\ncorsair_proxy_secret_cuts_total {}\n",
            self.secret_cuts.load(Ordering::Relaxed)
        ));
        s.push_str("# TYPE corsair_proxy_reloads_total counter\n");
        s.push_str(&format!(
            "corsair_proxy_reloads_total{{result=\"ok\"}} {}\ncorsair_proxy_reloads_total{{result=\"failed\"}} {}\n",
            self.reloads_ok.load(Ordering::Relaxed),
            self.reloads_failed.load(Ordering::Relaxed)
        ));
        s
    }
}

/// What every request handler shares.
pub struct State {
    relay: ArcSwap<Relay>,
    limiter: Mutex<Option<Limiter>>,
    /// With `redis`: the shared counters (the in-memory limiter is then unused).
    redis: Option<redis::aio::ConnectionManager>,
    resolve: Vec<Resolve>,
    tls: tokio_rustls::TlsConnector,
    metrics: Metrics,
    epoch: Instant,
    pool: Arc<Pool>,
}

/// How to start the proxy.
pub struct Settings {
    pub path: PathBuf,
    pub relay: Relay,
    pub listen: SocketAddr,
    pub admin: Option<SocketAddr>,
    pub resolve: Vec<Resolve>,
    pub cacert: Option<PathBuf>,
}

/// Runs the proxy until SIGTERM or Ctrl-C.
pub fn run(settings: Settings) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    rt.block_on(serve(settings))
}

async fn serve(settings: Settings) -> Result<(), String> {
    let tls = crate::client::tls_connector(settings.cacert.as_deref(), false)?;
    let limiter = settings.relay.rate.map(Limiter::new);
    let redis = match (&settings.relay.redis, settings.relay.rate) {
        (Some(url), Some(_)) => {
            let client = redis::Client::open(url.as_str())
                .map_err(|e| format!("[proxy] redis '{url}': {e}"))?;
            let manager = tokio::time::timeout(Duration::from_secs(5), client.get_connection_manager())
                .await
                .map_err(|_| format!("[proxy] redis '{url}': no answer within 5 s; start Redis or remove `redis` to count in memory"))?
                .map_err(|e| format!("[proxy] redis '{url}': {e}; start Redis or remove `redis` to count in memory"))?;
            Some(manager)
        }
        _ => None,
    };
    let state = Arc::new(State {
        relay: ArcSwap::from_pointee(settings.relay),
        limiter: Mutex::new(limiter),
        redis,
        resolve: settings.resolve,
        tls,
        metrics: Metrics::default(),
        epoch: Instant::now(),
        pool: Arc::new(Pool::default()),
    });
    let listener = TcpListener::bind(settings.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    println!("listening on http://{local}");
    if let Some(a) = settings.admin {
        let l = TcpListener::bind(a)
            .await
            .map_err(|e| format!("cannot listen on admin address {a}: {e}"))?;
        println!(
            "metrics on http://{}/metrics",
            l.local_addr().map_err(|e| e.to_string())?
        );
        let metrics = state.clone();
        tokio::spawn(crate::serving::admin_server(
            l,
            Arc::new(move || metrics.metrics.render()),
        ));
    }
    tokio::spawn(watch(
        state.clone(),
        settings.path,
        crate::serving::hangups(),
    ));
    tracing::info!(listen = %local, "corsair proxy ready");
    let shutdown = crate::serving::shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            a = listener.accept() => match a {
                Ok(x) => x,
                Err(_) => continue,
            },
        };
        let state = state.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let state = state.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(req, peer, &state).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .header_read_timeout(Duration::from_secs(10))
                .timer(hyper_util::rt::TokioTimer::new())
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
    tracing::info!("corsair proxy stopped");
    Ok(())
}

/// Reloads the file on SIGHUP and when it changes; a file that does not check keeps the old
/// relay serving.
async fn watch(state: Arc<State>, path: PathBuf, hup: Option<tokio::signal::unix::Signal>) {
    let file = path.clone();
    crate::serving::watch_file(path, hup, move |reason| match load(&file) {
        Ok((relay, _, warnings)) => {
            for w in warnings {
                tracing::warn!("{w}");
            }
            let rate = relay.rate;
            if state.relay.load().rate != rate {
                *state.limiter.lock().unwrap_or_else(|p| p.into_inner()) = rate.map(Limiter::new);
            }
            state.relay.store(Arc::new(relay));
            state.metrics.reloads_ok.fetch_add(1, Ordering::Relaxed);
            tracing::info!(reason, file = %file.display(), "proxy configuration reloaded");
        }
        Err(e) => {
            state.metrics.reloads_failed.fetch_add(1, Ordering::Relaxed);
            tracing::error!(
                reason,
                "reload refused; the previous configuration keeps serving:\n{e}"
            );
        }
    })
    .await
}

fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).map_err(|e| match e {}).boxed()
}

/// A JSON answer of the proxy's own, with `headers` (the CORS ones, when the origin may read it).
fn json(status: u16, value: serde_json::Value, headers: &[(&str, String)]) -> Response<Body> {
    let mut b = Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("x-content-type-options", "nosniff")
        .header("content-security-policy", "sandbox");
    for (n, v) in headers {
        b = b.header(*n, v.as_str());
    }
    b.body(full(value.to_string())).expect("valid proxy answer")
}

/// The CORS headers the relay's policy gives `origin` on a response.
fn cors_headers(relay: &Relay, origin: &str, method: &str) -> Vec<(&'static str, String)> {
    let view = RequestView {
        method,
        origin: Some(origin.as_bytes()),
        request_method: None,
        request_headers: None,
    };
    policy::decide(&relay.policy, &view)
        .headers
        .iter()
        .map(|(n, v)| (n, v.to_string()))
        .collect()
}

async fn handle(
    req: Request<hyper::body::Incoming>,
    peer: SocketAddr,
    state: &State,
) -> Response<Body> {
    let started = Instant::now();
    let relay = state.relay.load_full();
    let method = req.method().as_str().to_string();
    let path = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let origin = req
        .headers()
        .get("origin")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let resp = answer(req, peer, state, &relay, origin.as_deref(), &path).await;
    tracing::info!(
        target: "access",
        client = %peer.ip(),
        origin = origin.as_deref().unwrap_or("-"),
        method,
        target = path.trim_start_matches('/'),
        status = resp.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
    );
    resp
}

async fn answer(
    req: Request<hyper::body::Incoming>,
    peer: SocketAddr,
    state: &State,
    relay: &Relay,
    origin: Option<&str>,
    path: &str,
) -> Response<Body> {
    let m = &state.metrics;
    // What the proxy could decide on differently from what the upstream sees: several Origin
    // or Host fields, an absolute-form target whose host is not the Host, a Connection option
    // naming a field the decision reads (hyper refuses conflicting Content-Length itself).
    let authority = req.uri().authority().map(|a| a.as_str().as_bytes());
    if let Some(r) = corsair_http1::refusal(
        req.method().as_str(),
        authority,
        req.headers()
            .iter()
            .map(|(n, v)| (n.as_str().as_bytes(), v.as_bytes())),
    ) {
        m.ambiguous.fetch_add(1, Ordering::Relaxed);
        return json(
            r.status,
            serde_json::json!({"error": "ambiguous-request", "detail": r.text.trim_start_matches("corsair: ").trim_end()}),
            &[],
        );
    }
    // The page first: no CORS header at all for an origin that is not on the list, preflights
    // included, so nothing of the proxy's answer is readable to it.
    let Some(origin) = origin.filter(|o| relay.policy.allows_origin(o)) else {
        m.refused_origin.fetch_add(1, Ordering::Relaxed);
        return json(
            403,
            serde_json::json!({"error": "origin-not-allowed", "origin": origin, "rule": "the request's Origin must be on [proxy] origins"}),
            &[],
        );
    };
    let cors = cors_headers(relay, origin, req.method().as_str());
    let url = match relay::target_of(path).and_then(|u| relay.check_target(&u).map(|_| u)) {
        Ok(u) => u,
        Err(r) => {
            m.refused_target.fetch_add(1, Ordering::Relaxed);
            return refusal(&r, &cors);
        }
    };
    if req.method() == hyper::Method::OPTIONS
        && req.headers().contains_key("access-control-request-method")
    {
        m.preflights.fetch_add(1, Ordering::Relaxed);
        let h = req.headers();
        let view = RequestView {
            method: "OPTIONS",
            origin: Some(origin.as_bytes()),
            request_method: h.get("access-control-request-method").map(|v| v.as_bytes()),
            request_headers: h
                .get("access-control-request-headers")
                .map(|v| v.as_bytes()),
        };
        let d = policy::decide(&relay.policy, &view);
        debug_assert_eq!(d.kind, RequestKind::Preflight);
        let mut b = Response::builder().status(d.status);
        for (n, v) in d.headers.iter() {
            b = b.header(n, v);
        }
        return b.body(full(Bytes::new())).expect("valid preflight answer");
    }
    if let Some(retry) = rate_limited(state, relay, peer.ip()).await {
        m.rate_limited.fetch_add(1, Ordering::Relaxed);
        let mut h = cors.clone();
        h.push(("retry-after", retry.div_ceil(1000).to_string()));
        return json(
            429,
            serde_json::json!({"error": "rate-limited", "retry_after_ms": retry, "rule": "[proxy] rate_limit, per client address"}),
            &h,
        );
    }
    let too_big = |cors: &[(&'static str, String)]| {
        json(
            413,
            serde_json::json!({"error": "body-too-large", "max_body_bytes": relay.max_body_bytes}),
            cors,
        )
    };
    let declared = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > relay.max_body_bytes) {
        return too_big(&cors);
    }
    let (mut parts, body) = req.into_parts();
    let timeout = Duration::from_secs_f64(relay.timeout);
    // The request body is read whole (up to max_body_bytes) so a 307/308 can send it again,
    // within `timeout`: a client that stalls mid-body holds nothing for longer.
    let body = match tokio::time::timeout(
        timeout,
        Limited::new(body, relay.max_body_bytes as usize).collect(),
    )
    .await
    {
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(_)) => return too_big(&cors),
        Err(_) => {
            return json(
                408,
                serde_json::json!({"error": "request-body-timeout", "timeout_s": relay.timeout}),
                &cors,
            )
        }
    };
    // The page's headers, without the hop-by-hop ones and those its Connection field names.
    let mut page_headers = std::mem::take(&mut parts.headers);
    crate::serving::strip_hop_by_hop(&mut page_headers);
    let mut method = parts.method.clone();
    let mut body = (!body.is_empty()).then_some(body);
    let mut url = url;
    let mut hops = 0;
    let upstream = loop {
        let sent = tokio::time::timeout(
            timeout,
            send(state, relay, &url, &method, &page_headers, body.clone()),
        )
        .await;
        let resp = match sent {
            Ok(Ok(r)) => r,
            Ok(Err(Failure::Refused(r))) => {
                m.refused_address.fetch_add(1, Ordering::Relaxed);
                return refusal(&r, &cors);
            }
            Ok(Err(Failure::Upstream(e))) => {
                m.upstream_errors.fetch_add(1, Ordering::Relaxed);
                return json(
                    502,
                    serde_json::json!({"error": "upstream-unreachable", "target": url.as_str(), "detail": e}),
                    &cors,
                );
            }
            Err(_) => {
                m.upstream_errors.fetch_add(1, Ordering::Relaxed);
                return json(
                    504,
                    serde_json::json!({"error": "upstream-timeout", "target": url.as_str(), "timeout_s": relay.timeout}),
                    &cors,
                );
            }
        };
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let (Some(location), 301 | 302 | 303 | 307 | 308) = (location, status) else {
            break resp;
        };
        hops += 1;
        if hops > relay.max_redirects {
            m.upstream_errors.fetch_add(1, Ordering::Relaxed);
            return json(
                502,
                serde_json::json!({"error": "too-many-redirects", "max_redirects": relay.max_redirects}),
                &cors,
            );
        }
        // Every hop passes the same checks as the first target.
        let next = match url.join(&location) {
            Ok(n) if matches!(n.scheme(), "http" | "https") => n,
            _ => {
                // The Location is the upstream's: it could carry a secret back.
                let location = if relay.echoes_secret(location.as_bytes()) {
                    "(withheld: it carries an injected secret)".to_string()
                } else {
                    location
                };
                return json(
                    502,
                    serde_json::json!({"error": "bad-redirect", "location": location}),
                    &cors,
                );
            }
        };
        if let Err(r) = relay.check_target(&next) {
            m.refused_target.fetch_add(1, Ordering::Relaxed);
            return refusal(&r, &cors);
        }
        // As the Fetch standard has a browser do: the page's Authorization does not follow a
        // redirect to another origin (injected secrets are chosen again for each hop).
        if next.origin() != url.origin() {
            page_headers.remove(hyper::header::AUTHORIZATION);
        }
        if status == 303 || (matches!(status, 301 | 302) && method == hyper::Method::POST) {
            if method != hyper::Method::HEAD {
                method = hyper::Method::GET;
            }
            body = None;
        }
        url = next;
    };
    m.proxied.fetch_add(1, Ordering::Relaxed);
    let (mut up, up_body) = upstream.into_parts();
    crate::serving::strip_hop_by_hop(&mut up.headers);
    // A body is scanned for the injected secrets as it streams, which needs its bytes as they
    // are: the upstream was asked for `identity`, and one that encodes anyway is not relayed.
    let scan = !relay.secrets.is_empty();
    if scan {
        let encoded = up
            .headers
            .get_all("content-encoding")
            .iter()
            .any(|v| !v.as_bytes().eq_ignore_ascii_case(b"identity"));
        if encoded {
            m.secret_cuts.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(target: "corsair::proxy", url = %url, "withheld a response with Content-Encoding: with injected secrets, only identity bodies can be scanned");
            return json(
                502,
                serde_json::json!({"error": "encoded-response", "rule": "with [[proxy.inject]], the upstream must answer Accept-Encoding: identity, so the body can be scanned for the secret"}),
                &cors,
            );
        }
    }
    let mut b = Response::builder().status(up.status);
    let mut exposed = Vec::new();
    for (n, v) in up.headers.iter() {
        if !relay::forwards_response_header(n.as_str())
            || relay.echoes_secret(n.as_str().as_bytes())
            || relay.echoes_secret(v.as_bytes())
        {
            continue;
        }
        if !matches!(
            n.as_str(),
            "content-type"
                | "cache-control"
                | "content-language"
                | "expires"
                | "last-modified"
                | "pragma"
        ) && !exposed.contains(&n.as_str())
        {
            exposed.push(n.as_str());
        }
        b = b.header(n, v);
    }
    for (n, v) in &cors {
        b = b.header(*n, v.as_str());
    }
    if !exposed.is_empty() {
        b = b.header("access-control-expose-headers", exposed.join(", "));
    }
    b = b
        .header("x-content-type-options", "nosniff")
        .header("content-security-policy", "sandbox");
    let mut limited = Limited::new(up_body, relay.max_response_bytes as usize)
        .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { e })
        .boxed();
    if scan {
        limited = Scanned {
            inner: limited,
            secrets: relay.secrets.clone(),
            scanner: Some(Scanner::new()),
            cuts: m.secret_cuts.clone(),
            target: url.to_string(),
        }
        .boxed();
    }
    b.body(limited).unwrap_or_else(|_| {
        json(
            502,
            serde_json::json!({"error": "bad-upstream-response"}),
            &cors,
        )
    })
}

fn refusal(r: &Refusal, cors: &[(&'static str, String)]) -> Response<Body> {
    json(
        r.status(),
        serde_json::to_value(r).unwrap_or_default(),
        cors,
    )
}

/// `Some(ms until the window ends)` when the client's budget is spent. With Redis, every
/// replica counts in the same window (wall-clock windows, one key per client and window); when
/// Redis does not answer, the request goes on and the error is logged and counted.
async fn rate_limited(state: &State, relay: &Relay, ip: IpAddr) -> Option<u64> {
    let rate = relay.rate?;
    // The client is its address, never the Origin it sends (any non-browser client picks one
    // per request); an IPv6 client is its /64, which one host usually has whole.
    let client = match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    };
    if let Some(mut conn) = state.redis.clone() {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let window = now / rate.per_ms;
        let key = format!("corsair:proxy:{client}:{}:{window}", rate.per_ms);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .incr(&key, 1u64)
            .pexpire(&key, rate.per_ms as i64)
            .ignore();
        let query = pipe.query_async::<(u64,)>(&mut conn);
        let counted = match tokio::time::timeout(Duration::from_secs(1), query).await {
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(_) => Err("no answer within 1 s".to_string()),
        };
        return match counted {
            Ok((n,)) if n > u64::from(rate.count) => Some((window + 1) * rate.per_ms - now),
            Ok(_) => None,
            Err(e) => {
                state.metrics.redis_errors.fetch_add(1, Ordering::Relaxed);
                tracing::error!("rate limit not checked, Redis did not answer: {e}");
                None
            }
        };
    }
    let mut guard = state.limiter.lock().unwrap_or_else(|p| p.into_inner());
    let limiter = guard.as_mut()?;
    let now = state.epoch.elapsed().as_millis() as u64;
    if limiter.len() > 100_000 {
        limiter.sweep(now);
    }
    limiter.hit(&client, now).err()
}

enum Failure {
    Refused(Refusal),
    Upstream(String),
}

/// Resolves the target once, checks every address, connects to a checked one, and sends.
async fn send(
    state: &State,
    relay: &Relay,
    url: &url::Url,
    method: &hyper::Method,
    headers: &HeaderMap,
    body: Option<Bytes>,
) -> Result<Response<PooledBody>, Failure> {
    let host = url
        .host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = url.port_or_known_default().unwrap_or(80);
    let addrs: Vec<IpAddr> = crate::client::lookup(&state.resolve, &host, port)
        .await
        .map_err(|e| Failure::Upstream(e.detail))?
        .into_iter()
        .map(|a| a.ip())
        .collect();
    // Every address must pass: a name with one private address among public ones is refused.
    for ip in &addrs {
        relay.check_address(url, *ip).map_err(Failure::Refused)?;
    }
    let mut b = Request::builder()
        .method(method.clone())
        .uri(match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        });
    let authority = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    };
    b = b.header("host", authority);
    let injected: Vec<(&str, &str)> = relay.injected(url).collect();
    for (n, v) in headers.iter() {
        if relay::forwards_request_header(n.as_str())
            && (n != hyper::header::ACCEPT_ENCODING || relay.secrets.is_empty())
            && !injected
                .iter()
                .any(|(i, _)| i.eq_ignore_ascii_case(n.as_str()))
        {
            b = b.header(n, v);
        }
    }
    for (n, v) in &injected {
        b = b.header(*n, *v);
    }
    if !relay.secrets.is_empty() {
        // The body is scanned for the secrets: it must come as it is (see `answer`).
        b = b.header("accept-encoding", "identity");
    }
    let mut req = b
        .body(Full::new(body.unwrap_or_default()))
        .map_err(|e| Failure::Upstream(e.to_string()))?;
    let https = url.scheme() == "https";
    let checked: Vec<SocketAddr> = addrs.iter().map(|ip| SocketAddr::new(*ip, port)).collect();
    loop {
        // A kept-alive connection to one of the addresses just checked, else a new one.
        let (mut sender, reused) = match state.pool.checkout(https, &host, &checked) {
            Some(s) => (s, true),
            None => (connect(state, https, &host, &checked).await?, false),
        };
        if sender.1.ready().await.is_err() {
            if reused {
                continue;
            }
            return Err(Failure::Upstream(
                "the new connection closed at once".into(),
            ));
        }
        match sender.1.try_send_request(req).await {
            Ok(resp) => {
                let pool = state.pool.clone();
                let key = (https, host.clone(), sender.0);
                // An empty body may never be polled; the connection is free already.
                let sender = if hyper::body::Body::is_end_stream(resp.body()) {
                    pool.checkin(key.clone(), sender.1);
                    None
                } else {
                    Some(sender.1)
                };
                return Ok(resp.map(|body| PooledBody {
                    body,
                    sender,
                    pool,
                    key,
                }));
            }
            Err(mut e) => match e.take_message() {
                // Nothing was sent: the idle connection had been closed by the upstream.
                Some(back) if reused => req = back,
                _ => return Err(Failure::Upstream(e.error().to_string())),
            },
        }
    }
}

/// A new connection to the first of `addrs` that answers (each already checked).
async fn connect(
    state: &State,
    https: bool,
    host: &str,
    addrs: &[SocketAddr],
) -> Result<(SocketAddr, Sender), Failure> {
    let mut last = String::new();
    for addr in addrs {
        let stream = match TcpStream::connect(addr).await {
            Ok(s) => s,
            Err(e) => {
                last = format!("{addr}: {e}");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let sender = if https {
            let name = ServerName::try_from(host.to_string())
                .map_err(|_| Failure::Upstream(format!("'{host}' is not a TLS server name")))?;
            let tls = state
                .tls
                .connect(name, stream)
                .await
                .map_err(|e| Failure::Upstream(format!("TLS: {e}")))?;
            handshake(TokioIo::new(tls)).await?
        } else {
            handshake(TokioIo::new(stream)).await?
        };
        return Ok((*addr, sender));
    }
    Err(Failure::Upstream(format!("cannot connect: {last}")))
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;
type PoolKey = (bool, String, SocketAddr);

/// Kept-alive upstream connections, by scheme, host (the TLS name) and checked address.
#[derive(Default)]
struct Pool {
    idle: Mutex<std::collections::HashMap<PoolKey, Vec<Sender>>>,
}

/// Idle connections kept per upstream address.
const MAX_IDLE: usize = 256;

impl Pool {
    fn checkout(
        &self,
        https: bool,
        host: &str,
        addrs: &[SocketAddr],
    ) -> Option<(SocketAddr, Sender)> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        for addr in addrs {
            if let Some(list) = idle.get_mut(&(https, host.to_string(), *addr)) {
                while let Some(s) = list.pop() {
                    if !s.is_closed() {
                        return Some((*addr, s));
                    }
                }
            }
        }
        None
    }

    fn checkin(&self, key: PoolKey, s: Sender) {
        if s.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let list = idle.entry(key).or_default();
        if list.len() < MAX_IDLE {
            list.push(s);
        }
    }
}

/// A response body on its way to the page, scanned for the injected secrets as it streams
/// (`corsair_core::relay::Scanner`): it goes out as it comes but for the few bytes that could
/// begin a secret, and is cut off (the connection closed mid-body, logged and counted) the
/// moment a secret shows. Trailers are dropped: a page cannot read them, and they are not
/// scanned.
struct Scanned {
    inner: Body,
    secrets: Arc<Secrets>,
    /// `None` once the body has ended or was cut off.
    scanner: Option<Scanner>,
    cuts: Arc<AtomicU64>,
    target: String,
}

impl hyper::body::Body for Scanned {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        use std::task::Poll;
        let this = self.get_mut();
        loop {
            let Some(scanner) = this.scanner.as_mut() else {
                return Poll::Ready(None);
            };
            let frame = match std::pin::Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(e))) => {
                    this.scanner = None;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => {
                    let held = this.scanner.take().map(Scanner::finish).unwrap_or_default();
                    if held.is_empty() {
                        return Poll::Ready(None);
                    }
                    return Poll::Ready(Some(Ok(hyper::body::Frame::data(Bytes::from(held)))));
                }
                Poll::Ready(Some(Ok(frame))) => frame,
            };
            let Ok(data) = frame.into_data() else {
                continue;
            };
            match scanner.push(&this.secrets, &data) {
                Ok(out) if out.is_empty() => {}
                Ok(out) => {
                    return Poll::Ready(Some(Ok(hyper::body::Frame::data(Bytes::from(out)))))
                }
                Err(Leak) => {
                    this.scanner = None;
                    this.cuts.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(target: "corsair::proxy", url = %this.target, "cut off a response body that carried an injected secret");
                    return Poll::Ready(Some(Err(Box::new(Leak))));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.scanner.is_none()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        // Every byte that is not cut off goes out: the upstream's length stands.
        self.inner.size_hint()
    }
}

/// A response body that hands its connection back to the pool once read to the end.
struct PooledBody {
    body: hyper::body::Incoming,
    sender: Option<Sender>,
    pool: Arc<Pool>,
    key: PoolKey,
}

impl hyper::body::Body for PooledBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, hyper::Error>>> {
        let this = &mut *self;
        let r = std::pin::Pin::new(&mut this.body).poll_frame(cx);
        if matches!(r, std::task::Poll::Ready(None)) || hyper::body::Body::is_end_stream(&this.body)
        {
            if let Some(s) = this.sender.take() {
                this.pool.checkin(this.key.clone(), s);
            }
        }
        r
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

async fn handshake<T>(io: TokioIo<T>) -> Result<Sender, Failure>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| Failure::Upstream(e.to_string()))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}
