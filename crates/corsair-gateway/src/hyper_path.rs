//! One request through the gateway: decide, answer preflights, forward the rest with streaming
//! bodies, put the policy's headers on whatever comes back (or on the gateway's own 502/504).

use super::pool::{Pool, PooledBody};
use super::State;
use crate::config::{ConfigFile, Serve};
use bytes::Bytes;
use corsair_net::serving::{set_forwarded, strip_hop_by_hop};
use corsair_policy::{decide, Ambiguous, Decision, PolicyFile, RequestKind};
use corsair_tower::PolicyHeaders;
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::http::uri::{Authority, PathAndQuery};
use hyper::{Request, Response, StatusCode, Uri};
use std::borrow::Cow;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub type Body = Either<PooledBody, Full<Bytes>>;

/// Where requests go, prepared once per loaded config.
pub struct Upstream {
    pub host: HeaderValue,
    /// A path prefix from the upstream URL (`http://host/api` → `/api`), without the final `/`.
    pub base: String,
    pub pool: Arc<Pool>,
}

/// A loaded config with each policy's header values prepared, swapped as a whole on reload.
pub struct Compiled {
    /// The file's policy part.
    pub policy: PolicyFile,
    /// The file's serving part.
    pub serve: Serve,
    default: PolicyHeaders,
    routes: Vec<PolicyHeaders>,
    upstream: Option<Upstream>,
    timeout: Duration,
}

impl Compiled {
    /// Prepares `config`; `previous` lends its connection pool when the upstream is unchanged, so
    /// a reload keeps the warm connections.
    pub fn new(config: ConfigFile, previous: Option<&Compiled>) -> Self {
        let ConfigFile { policy, serve } = config;
        let upstream = serve
            .upstream
            .as_deref()
            .and_then(|u| url::Url::parse(u).ok())
            .and_then(|u| {
                let host = u.host_str()?.to_string();
                let text = match u.port() {
                    Some(p) => format!("{host}:{p}"),
                    None => host,
                };
                let addr = format!("{}:{}", u.host_str()?, u.port_or_known_default()?);
                let pool = match previous.and_then(|p| p.upstream.as_ref()) {
                    Some(old) if old.pool.addr() == addr => old.pool.clone(),
                    _ => Pool::new(
                        addr,
                        Duration::from_secs_f64(serve.gateway.upstream_connect_timeout),
                    ),
                };
                text.parse::<Authority>().ok()?;
                Some(Upstream {
                    host: HeaderValue::from_str(&text).ok()?,
                    base: u.path().trim_end_matches('/').to_string(),
                    pool,
                })
            });
        Compiled {
            default: PolicyHeaders::new(policy.policy.clone()),
            routes: policy
                .routes
                .iter()
                .map(|r| PolicyHeaders::new(r.policy.clone()))
                .collect(),
            upstream,
            timeout: Duration::from_secs_f64(serve.gateway.upstream_timeout),
            policy,
            serve,
        }
    }

    /// The upstream, when one is configured (and valid).
    pub fn upstream(&self) -> Option<&Upstream> {
        self.upstream.as_ref()
    }

    /// How long to wait for the upstream's response head.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The prepared policy for a request path without its query (its route's, or the
    /// default), or why the path's route cannot be told: the request is answered 400.
    pub fn headers_for(&self, path: &str) -> Result<&PolicyHeaders, Ambiguous> {
        if self.routes.is_empty() {
            return Ok(&self.default);
        }
        Ok(self
            .policy
            .route_for(path)?
            .map_or(&self.default, |i| &self.routes[i]))
    }
}

fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut r = Response::new(Either::Right(Full::new(Bytes::from_static(
        text.as_bytes(),
    ))));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// Per-connection facts, computed once when the client connects.
pub struct Peer {
    pub forwarded_for: HeaderValue,
    /// `http`, or `https` on a TLS connection: the `X-Forwarded-Proto` sent upstream.
    pub proto: HeaderValue,
    /// The connection's watchdog: a request in progress keeps the connection open.
    pub activity: Arc<super::watchdog::Activity>,
}

/// Marks a request in progress on its connection for as long as it lives.
struct Busy<'a>(&'a super::watchdog::Activity);

impl<'a> Busy<'a> {
    fn new(a: &'a super::watchdog::Activity) -> Self {
        a.busy.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Busy(a)
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0
            .busy
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Counts a CORS decision in the metrics.
pub fn count(state: &State, d: &Decision<'_>) {
    if let Some(kind) = metric_kind(d) {
        state
            .metrics
            .decision(kind, d.allowed, d.reason.id(), d.origin.unwrap_or(""));
    }
}

/// The `kind` label of a CORS decision; `None` for a request that is not CORS.
pub fn metric_kind(d: &Decision<'_>) -> Option<&'static str> {
    metric_kind_of(d.kind)
}

fn metric_kind_of(kind: RequestKind) -> Option<&'static str> {
    match kind {
        RequestKind::NotCors => None,
        RequestKind::Preflight => Some("preflight"),
        RequestKind::Actual => Some("actual"),
    }
}

/// An access log line in the making (see [`crate::access_log`]): every request, when the log
/// is on; a report-only refusal is also a warning. Nothing is gathered for a line that will
/// not be written. The method, path and origin are borrowed from the request where it outlives
/// the answer (corsair's own HTTP/1.1 path) and copied where it does not (hyper's, which hands
/// the request to the upstream).
pub struct AccessLog<'a> {
    started: Instant,
    method: Cow<'a, str>,
    path: Cow<'a, str>,
    origin: Option<Cow<'a, str>>,
    kind: RequestKind,
    allowed: bool,
    reason: corsair_policy::Reason,
    report_only: bool,
    protocol: &'static str,
    /// `Referer` and `User-Agent`, for the `combined` format only.
    agent: Option<(Option<String>, Option<String>)>,
}

/// The method, path and origin of a logged request.
pub type LogNames<'a> = (Cow<'a, str>, Cow<'a, str>, Option<Cow<'a, str>>);

impl<'a> AccessLog<'a> {
    /// `names` gives the method, path and origin, called only when a line will be written.
    pub fn begin(
        d: &Decision<'_>,
        report_only: bool,
        protocol: &'static str,
        names: impl FnOnce() -> LogNames<'a>,
        agent: impl FnOnce() -> (Option<String>, Option<String>),
    ) -> Option<Self> {
        let warn = report_only
            && !d.allowed
            && d.kind != RequestKind::NotCors
            && tracing::enabled!(target: "access", tracing::Level::WARN);
        (crate::access_log::enabled() || warn).then(|| {
            let (method, path, origin) = names();
            AccessLog {
                started: Instant::now(),
                method,
                path,
                origin,
                kind: d.kind,
                allowed: d.allowed,
                reason: d.reason,
                report_only,
                protocol,
                agent: crate::access_log::wants_agent().then(agent),
            }
        })
    }

    /// Writes the line for the answer: its status and, when known, its body's length.
    pub fn end(self, client: &HeaderValue, status: u16, bytes: Option<u64>) {
        let micros = self.started.elapsed().as_micros() as u64;
        let cors = metric_kind_of(self.kind);
        if self.report_only && !self.allowed && cors.is_some() {
            let (method, path, origin, reason) = (
                &*self.method,
                &*self.path,
                self.origin.as_deref(),
                self.reason,
            );
            let ms = micros as f64 / 1000.0;
            tracing::warn!(target: "access", method, path, status, ms, origin, reason = reason.id(), "report-only: \
                would refuse ({})", reason.describe());
        }
        let (referer, user_agent) = self.agent.unwrap_or_default();
        crate::access_log::record(&crate::access_log::Entry {
            client: client.to_str().unwrap_or("-"),
            method: &self.method,
            path: &self.path,
            protocol: self.protocol,
            status,
            bytes,
            micros,
            cors,
            origin: self.origin.as_deref(),
            allowed: self.allowed,
            reason: self.reason.id(),
            referer: referer.as_deref(),
            user_agent: user_agent.as_deref(),
        });
    }
}

/// A request's protocol as an access line spells it (nginx's `$server_protocol`).
pub fn protocol_name(v: hyper::Version) -> &'static str {
    match v {
        hyper::Version::HTTP_2 => "HTTP/2.0",
        hyper::Version::HTTP_10 => "HTTP/1.0",
        hyper::Version::HTTP_09 => "HTTP/0.9",
        _ => "HTTP/1.1",
    }
}

/// The line for a request refused before any decision (a malformed or ambiguous head, a body
/// over the limit): its status, and no CORS fields.
pub fn log_refused(client: &HeaderValue, method: &str, path: &str, protocol: &str, status: u16) {
    if !crate::access_log::enabled() {
        return;
    }
    crate::access_log::record(&crate::access_log::Entry {
        client: client.to_str().unwrap_or("-"),
        method,
        path,
        protocol,
        status,
        bytes: None,
        micros: 0,
        cors: None,
        origin: None,
        allowed: false,
        reason: "",
        referer: None,
        user_agent: None,
    });
}

pub async fn handle(
    req: Request<Incoming>,
    state: Arc<State>,
    peer: Arc<Peer>,
) -> Result<Response<Body>, Infallible> {
    let _busy = Busy::new(&peer.activity);
    // What no decision can be made on consistently: refused before deciding. Over HTTP/2 the
    // `:authority` stands for Host; an HTTP/1.0 request needs no Host.
    let h2 = req.version() == hyper::Version::HTTP_2;
    let authority = match req.version() {
        hyper::Version::HTTP_2 => req.uri().authority().map(|a| a.as_str().as_bytes()),
        hyper::Version::HTTP_10 if !req.headers().contains_key(header::HOST) => Some(&b""[..]),
        _ => None,
    };
    let refused = corsair_http1::refusal(
        req.method().as_str(),
        authority,
        req.headers()
            .iter()
            .map(|(n, v)| (n.as_str().as_bytes(), v.as_bytes())),
    )
    .or_else(|| corsair_http1::path_refusal(req.uri().path().as_bytes()));
    if let Some(r) = refused {
        let protocol = protocol_name(req.version());
        log_refused(
            &peer.forwarded_for,
            req.method().as_str(),
            req.uri().path(),
            protocol,
            r.status,
        );
        let mut resp = plain(
            StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_REQUEST),
            r.text,
        );
        if !h2 {
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        return Ok(resp);
    }
    // A borrowed snapshot: no reference count is touched unless the request is forwarded.
    let compiled = state.config.load();
    let headers = match compiled.headers_for(req.uri().path()) {
        Ok(h) => h,
        // A path that upstreams read as different routes (see corsair_policy::route).
        Err(a) => {
            log_refused(
                &peer.forwarded_for,
                req.method().as_str(),
                req.uri().path(),
                protocol_name(req.version()),
                400,
            );
            let mut resp = plain(StatusCode::BAD_REQUEST, a.answer());
            if !h2 {
                resp.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            return Ok(resp);
        }
    };
    let (view, origin) = corsair_tower::view_with_origin(&req);
    let d = decide(headers.policy(), &view);
    let report_only = compiled.policy.report_only;
    count(&state, &d);
    let log = AccessLog::begin(
        &d,
        report_only,
        protocol_name(req.version()),
        || {
            // Owned: the request goes to the upstream before the line is written.
            (
                Cow::Owned(req.method().as_str().to_string()),
                Cow::Owned(req.uri().path().to_string()),
                d.origin.map(|o| Cow::Owned(o.to_string())),
            )
        },
        || {
            let h = |n: header::HeaderName| {
                req.headers()
                    .get(n)
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            };
            (h(header::REFERER), h(header::USER_AGENT))
        },
    );
    let response = if d.kind == RequestKind::Preflight && !report_only {
        let mut r = Response::new(Either::Right(Full::new(Bytes::new())));
        *r.status_mut() = StatusCode::from_u16(d.status).unwrap_or(StatusCode::FORBIDDEN);
        headers.write_for(&d, origin, r.headers_mut());
        r
    } else {
        let mut pending = headers.pending_for(&d, origin);
        let compiled = arc_swap::Guard::into_inner(compiled);
        let mut resp = forward(req, &compiled, &state, &peer).await;
        if !report_only {
            pending.apply_with(compiled.policy.upstream_cors, resp.headers_mut());
        }
        resp
    };
    if let Some(log) = log {
        let bytes = hyper::body::Body::size_hint(response.body()).exact();
        log.end(&peer.forwarded_for, response.status().as_u16(), bytes);
    }
    Ok(response)
}

async fn forward(
    mut req: Request<Incoming>,
    compiled: &Compiled,
    state: &State,
    peer: &Peer,
) -> Response<Body> {
    let Some(up) = &compiled.upstream else {
        return plain(
            StatusCode::BAD_GATEWAY,
            "corsair: no upstream is configured\n",
        );
    };
    let pq = match (up.base.is_empty(), req.uri().path_and_query()) {
        (true, Some(pq)) => pq.clone(),
        (_, pq) => {
            match format!("{}{}", up.base, pq.map_or("/", |p| p.as_str())).parse::<PathAndQuery>() {
                Ok(p) => p,
                Err(_) => return plain(StatusCode::BAD_REQUEST, "corsair: bad request target\n"),
            }
        }
    };
    // Over HTTP/2 the client's host is the `:authority` (a `host` field, when sent too, was
    // checked to be the same): it becomes X-Forwarded-Host like an HTTP/1.1 Host.
    let authority = req
        .uri()
        .authority()
        .and_then(|a| HeaderValue::from_str(a.as_str()).ok());
    // Origin-form (`/path?query`): hyper's connection-level client writes the target as given.
    *req.uri_mut() = Uri::from(pq);
    *req.version_mut() = hyper::Version::HTTP_11;
    // A body of unknown length (chunked from the client) is sent on chunked: hyper's client
    // would drop it silently on a GET, HEAD or OPTIONS, whose requests it frames without a
    // body unless told.
    let streamed = {
        let b = req.body();
        !hyper::body::Body::is_end_stream(b) && hyper::body::Body::size_hint(b).exact().is_none()
    };
    let h = req.headers_mut();
    strip_hop_by_hop(h);
    if streamed {
        h.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
    }
    // The client's own X-Forwarded-Host never reaches the upstream, Host or not.
    let host = h.insert(header::HOST, up.host.clone()).or(authority);
    set_forwarded(h, host, peer.proto.clone(), peer.forwarded_for.clone());
    let max_body = compiled.serve.gateway.max_body_bytes;
    if req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        .is_some_and(|n| n > max_body)
    {
        return plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            "corsair: request body too large\n",
        );
    }
    let fault = Arc::new(std::sync::atomic::AtomicU8::new(super::pool::fault::NONE));
    let req = req.map(|b| super::pool::ClientBody::new(b, max_body, fault.clone()));
    let sent = tokio::time::timeout(compiled.timeout, up.pool.send(req)).await;
    // A request body that broke is the client's doing, not the upstream's.
    match fault.load(std::sync::atomic::Ordering::Relaxed) {
        super::pool::fault::TOO_LARGE => {
            return plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                "corsair: request body too large\n",
            )
        }
        super::pool::fault::MALFORMED => {
            return plain(
                StatusCode::BAD_REQUEST,
                "corsair: the request body is malformed\n",
            )
        }
        _ => {}
    }
    match sent {
        Ok(Ok(resp)) => {
            let (mut parts, body) = resp.into_parts();
            strip_hop_by_hop(&mut parts.headers);
            Response::from_parts(parts, Either::Left(body))
        }
        Ok(Err(e)) => {
            state.metrics.upstream_error("unreachable");
            tracing::warn!(error = %e, upstream = up.pool.addr(), "upstream request failed");
            plain(
                StatusCode::BAD_GATEWAY,
                "corsair: the upstream did not answer\n",
            )
        }
        Err(_) => {
            state.metrics.upstream_error("timeout");
            tracing::warn!(upstream = up.pool.addr(), timeout = ?compiled.timeout, "upstream timed \
                out");
            plain(
                StatusCode::GATEWAY_TIMEOUT,
                "corsair: the upstream took too long\n",
            )
        }
    }
}
