//! `corsair proxy`: the CORS relay's server. A page on `origins` asks
//! `http://PROXY/https://api.example.com/path?q`; the relay checks the page, the target, each
//! address the target resolves to (the SSRF guard, `corsair_relay`), connects to the
//! address it checked (never a second lookup), strips cookies both ways, adds injected
//! secrets, follows redirects only to targets that pass the same checks, and answers with the
//! policy's CORS headers, `nosniff` and `Content-Security-Policy: sandbox`.

mod body;
mod error;
mod file;
mod metrics;
mod upstream;

pub use error::{LoadError, StartError};
pub use file::{load, ProxyFile};

use arc_swap::ArcSwap;
use body::Scanned;
use bytes::Bytes;
use corsair_net::client::Resolve;
use corsair_net::serving::{BindError, Listener};
use corsair_policy::{self as policy, RequestKind, RequestView};
use corsair_relay::{self as relay, Limiter, Refusal, Relay, Scanner};
use http_body_util::{combinators::BoxBody, BodyExt, Full, Limited};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use metrics::Metrics;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::net::TcpListener;
use upstream::{send, Failure, Pool};

type Body = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// The fix when Redis cannot be used.
const START_REDIS: &str = "start Redis or remove `redis` to count in memory";
/// Redis did not answer in time.
const NO_REDIS_ANSWER: &str =
    "no answer within 5 s; start Redis or remove `redis` to count in memory";

/// What every request handler shares.
pub(crate) struct State {
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
    /// The proxy file, read again on SIGHUP and when it changes.
    pub path: PathBuf,
    /// The relay the file was checked into.
    pub relay: Relay,
    /// Where pages connect.
    pub listen: SocketAddr,
    /// Where `/metrics` and `/healthz` are served, if anywhere.
    pub admin: Option<SocketAddr>,
    /// curl-style `--resolve` entries, used instead of DNS (and checked like its answers).
    pub resolve: Vec<Resolve>,
    /// More roots for the targets' TLS certificates.
    pub cacert: Option<PathBuf>,
}

/// Runs the proxy until SIGTERM or Ctrl-C.
pub fn run(settings: Settings) -> Result<(), StartError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(serve(settings))
}

async fn serve(settings: Settings) -> Result<(), StartError> {
    let tls = corsair_net::client::tls_connector(settings.cacert.as_deref(), false)?;
    let limiter = settings.relay.rate.map(Limiter::new);
    let redis = match (&settings.relay.redis, settings.relay.rate) {
        (Some(url), Some(_)) => {
            let refused = |reason: String| StartError::Redis {
                url: url.clone(),
                reason,
            };
            let client = redis::Client::open(url.as_str()).map_err(|e| refused(e.to_string()))?;
            let manager =
                tokio::time::timeout(Duration::from_secs(5), client.get_connection_manager())
                    .await
                    .map_err(|_| refused(NO_REDIS_ANSWER.to_string()))?
                    .map_err(|e| refused(format!("{e}; {START_REDIS}")))?;
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
        .map_err(BindError::on(Listener::Main, settings.listen))?;
    let local = listener.local_addr()?;
    println!("listening on http://{local}");
    if let Some(a) = settings.admin {
        let l = TcpListener::bind(a)
            .await
            .map_err(BindError::on(Listener::Admin, a))?;
        println!("metrics on http://{}/metrics", l.local_addr()?);
        let metrics = state.clone();
        tokio::spawn(corsair_net::serving::admin_server(
            l,
            Arc::new(move || metrics.metrics.render()),
        ));
    }
    tokio::spawn(watch(
        state.clone(),
        settings.path,
        corsair_net::serving::hangups(),
    ));
    tracing::info!(listen = %local, "corsair proxy ready");
    let stop = corsair_net::serving::shutdown_signal();
    corsair_net::serving::accept_until(&listener, stop, |stream, peer| {
        let state = state.clone();
        async move {
            let svc = hyper::service::service_fn(move |req| {
                let state = state.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(req, peer, &state).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .header_read_timeout(Duration::from_secs(10))
                .timer(hyper_util::rt::TokioTimer::new())
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        }
    })
    .await;
    tracing::info!("corsair proxy stopped");
    Ok(())
}

/// Reloads the file on SIGHUP and when it changes; a file that does not check keeps the old
/// relay serving.
async fn watch(state: Arc<State>, path: PathBuf, hup: Option<tokio::signal::unix::Signal>) {
    let file = path.clone();
    corsair_net::serving::watch_file(path, hup, move |reason| match load(&file) {
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
            serde_json::json!({"error": "origin-not-allowed", "origin": origin, "rule": "the \
                request's Origin must be on [proxy] origins"}),
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
            serde_json::json!({"error": "rate-limited", "retry_after_ms": retry, "rule": "[proxy] \
                rate_limit, per client address"}),
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
    corsair_net::serving::strip_hop_by_hop(&mut page_headers);
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
    corsair_net::serving::strip_hop_by_hop(&mut up.headers);
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
            tracing::warn!(target: "corsair::proxy", url = %url, "withheld a response with \
                Content-Encoding: with injected secrets, only identity bodies can be scanned");
            return json(
                502,
                serde_json::json!({"error": "encoded-response", "rule": "with [[proxy.inject]], \
                    the upstream must answer Accept-Encoding: identity, so the body can be scanned \
                    for the secret"}),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn relay(origins: &str) -> Relay {
        let spec: corsair_relay::RelaySpec = toml::from_str(&format!(
            "origins = {origins}\ntargets = [\"https://api.example.com\"]\n"
        ))
        .unwrap();
        relay::build(&spec, &|_: &str| None).unwrap().0
    }

    fn header<'a>(h: &'a [(&'static str, String)], name: &str) -> Option<&'a str> {
        h.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn the_page_allowed_gets_cors_headers_and_others_none() {
        let r = relay("[\"https://app.example.com\"]");
        let h = cors_headers(&r, "https://app.example.com", "GET");
        assert_eq!(
            header(&h, "access-control-allow-origin"),
            Some("https://app.example.com")
        );
        let h = cors_headers(&r, "https://evil.example", "GET");
        assert_eq!(header(&h, "access-control-allow-origin"), None);
    }

    #[test]
    fn a_refusal_is_json_with_its_status_nosniff_and_the_cors_headers_given() {
        let r = relay("[\"https://app.example.com\"]");
        let url = url::Url::parse("http://127.0.0.1/").unwrap();
        let refused = r
            .check_address(&url, "127.0.0.1".parse().unwrap())
            .unwrap_err();
        let cors = cors_headers(&r, "https://app.example.com", "GET");
        let resp = refusal(&refused, &cors);
        assert_eq!(resp.status().as_u16(), refused.status());
        let h = resp.headers();
        assert_eq!(h["content-type"], "application/json");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["access-control-allow-origin"], "https://app.example.com");
    }

    #[test]
    fn the_metrics_render_every_counter() {
        let m = Metrics::default();
        m.secret_cuts.fetch_add(2, Ordering::Relaxed);
        let text = m.render();
        assert!(text.contains("corsair_proxy_secret_cuts_total 2"), "{text}");
        for name in [
            "corsair_proxy_requests_total",
            "corsair_proxy_redis_errors_total",
        ] {
            assert!(text.contains(name), "{name} in {text}");
        }
    }
}
