//! One request through the gateway: decide, answer preflights, forward the rest with streaming
//! bodies, put the policy's headers on whatever comes back (or on the gateway's own 502/504).

use super::State;
use bytes::Bytes;
use corsair_core::policy::{decide, Config, Outcome, UpstreamCors};
use corsair_tower::PolicyHeaders;
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub type Body = Either<Incoming, Full<Bytes>>;

/// The pooled HTTP client to the upstream (keep-alive, HTTP/1.1).
pub struct UpstreamClient {
    client: Client<HttpConnector, Incoming>,
}

impl UpstreamClient {
    pub fn new(connect_timeout: Duration) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(connect_timeout));
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(1024)
            .build(connector);
        UpstreamClient { client }
    }
}

/// A loaded config with each policy's header values prepared, swapped as a whole on reload.
pub struct Compiled {
    pub config: Config,
    default: PolicyHeaders,
    routes: Vec<PolicyHeaders>,
    upstream: Option<(String, String)>,
}

impl Compiled {
    pub fn new(config: Config) -> Self {
        let upstream = config
            .upstream
            .as_deref()
            .and_then(|u| url::Url::parse(u).ok())
            .map(|u| {
                let authority = match u.port() {
                    Some(p) => format!("{}:{p}", u.host_str().unwrap_or_default()),
                    None => u.host_str().unwrap_or_default().to_string(),
                };
                (authority, u.path().trim_end_matches('/').to_string())
            });
        Compiled {
            default: PolicyHeaders::new(config.policy.clone()),
            routes: config
                .routes
                .iter()
                .map(|r| PolicyHeaders::new(r.policy.clone()))
                .collect(),
            upstream,
            config,
        }
    }

    fn headers_for(&self, path: &str) -> &PolicyHeaders {
        self.config
            .route_for(path)
            .map_or(&self.default, |i| &self.routes[i])
    }
}

const HOP_BY_HOP: [HeaderName; 6] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::TE,
    header::TRAILER,
    header::UPGRADE,
];

fn strip_hop_by_hop(h: &mut HeaderMap) {
    let listed: Vec<HeaderName> = h
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for n in listed.iter().chain(HOP_BY_HOP.iter()) {
        h.remove(n);
    }
    h.remove(header::TRANSFER_ENCODING);
    h.remove(HeaderName::from_static("proxy-connection"));
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

pub async fn handle(
    req: Request<Incoming>,
    state: Arc<State>,
    peer: SocketAddr,
) -> Result<Response<Body>, Infallible> {
    let started = Instant::now();
    let compiled = state.config.load_full();
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let headers = compiled.headers_for(&path);
    let d = decide(headers.policy(), &corsair_tower::view(&req));
    let report_only = compiled.config.report_only;
    let origin = d.origin.map(str::to_string);
    let (outcome, allowed, reason, rule) = (d.outcome, d.allowed, d.reason, d.rule);
    if outcome != Outcome::NotCors {
        let kind = if outcome == Outcome::Preflight {
            "preflight"
        } else {
            "actual"
        };
        state
            .metrics
            .decision(kind, allowed, reason.id(), origin.as_deref().unwrap_or(""));
    }

    let response = if outcome == Outcome::Preflight && !report_only {
        let mut r = Response::new(Either::Right(Full::new(Bytes::new())));
        *r.status_mut() = StatusCode::from_u16(d.status).unwrap_or(StatusCode::FORBIDDEN);
        headers.write(&d, req.headers(), r.headers_mut());
        r
    } else {
        let mut pending = headers.pending(&d, req.headers());
        let mut resp = forward(req, &compiled, &state, peer).await;
        if !report_only {
            match compiled.config.upstream_cors {
                UpstreamCors::Override => {
                    corsair_tower::strip_cors_headers(resp.headers_mut());
                    pending.apply(resp.headers_mut());
                }
                UpstreamCors::Preserve
                    if resp
                        .headers()
                        .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) =>
                {
                    corsair_tower::headers::merge_vary(resp.headers_mut(), "Origin");
                }
                UpstreamCors::Preserve => pending.apply(resp.headers_mut()),
            }
        }
        resp
    };
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let status = response.status().as_u16();
    if outcome == Outcome::NotCors {
        tracing::debug!(target: "access", %method, path, status, ms, "request");
    } else if report_only && !allowed {
        tracing::warn!(target: "access", %method, path, status, ms, origin = origin.as_deref(), cors = ?outcome, reason = reason.id(), "report-only: would refuse ({})", reason.describe());
    } else {
        tracing::info!(target: "access", %method, path, status, ms, origin = origin.as_deref(), cors = ?outcome, allowed, reason = reason.id(), rule = ?rule, "cors request");
    }
    Ok(response)
}

async fn forward(
    mut req: Request<Incoming>,
    compiled: &Compiled,
    state: &State,
    peer: SocketAddr,
) -> Response<Body> {
    let Some((authority, base)) = &compiled.upstream else {
        return plain(
            StatusCode::BAD_GATEWAY,
            "corsair: no upstream is configured\n",
        );
    };
    let pq = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let uri: Uri = match format!("http://{authority}{base}{pq}").parse() {
        Ok(u) => u,
        Err(_) => return plain(StatusCode::BAD_REQUEST, "corsair: bad request target\n"),
    };
    let original_host = req.headers().get(header::HOST).cloned();
    *req.uri_mut() = uri;
    *req.version_mut() = hyper::Version::HTTP_11;
    let h = req.headers_mut();
    strip_hop_by_hop(h);
    if let Ok(v) = HeaderValue::from_str(authority) {
        h.insert(header::HOST, v);
    }
    if let Some(host) = original_host {
        h.insert(HeaderName::from_static("x-forwarded-host"), host);
    }
    h.insert(
        HeaderName::from_static("x-forwarded-proto"),
        HeaderValue::from_static("http"),
    );
    if let Ok(v) = HeaderValue::from_str(&peer.ip().to_string()) {
        h.append(HeaderName::from_static("x-forwarded-for"), v);
    }
    let timeout = Duration::from_secs_f64(compiled.config.gateway.upstream_timeout);
    match tokio::time::timeout(timeout, state.client.client.request(req)).await {
        Ok(Ok(resp)) => {
            let (mut parts, body) = resp.into_parts();
            strip_hop_by_hop(&mut parts.headers);
            Response::from_parts(parts, Either::Left(body))
        }
        Ok(Err(e)) => {
            state.metrics.upstream_error("unreachable");
            tracing::warn!(error = %e, upstream = authority, "upstream request failed");
            plain(
                StatusCode::BAD_GATEWAY,
                "corsair: the upstream did not answer\n",
            )
        }
        Err(_) => {
            state.metrics.upstream_error("timeout");
            tracing::warn!(upstream = authority, ?timeout, "upstream timed out");
            plain(
                StatusCode::GATEWAY_TIMEOUT,
                "corsair: the upstream took too long\n",
            )
        }
    }
}
