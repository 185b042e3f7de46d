//! A [tower] layer that enforces a corsair CORS policy, for axum 0.8, hyper 1 and anything else
//! built on tower.
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use corsair_policy::PolicySpec;
//! use corsair_tower::CorsLayer;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let spec = PolicySpec {
//!     origins: vec!["https://app.example.com".into(), "https://*.example.com".into()],
//!     methods: vec!["GET".into(), "POST".into(), "PUT".into()],
//!     request_headers: vec!["Content-Type".into(), "Authorization".into()],
//!     credentials: true,
//!     max_age: Some(600),
//!     ..Default::default()
//! };
//! // Refused here, with every problem listed, if the policy is insecure or broken.
//! let layer = CorsLayer::new(spec.build().map_err(|p| format!("{p:?}"))?.0);
//! let app: Router = Router::new().route("/items", get(|| async { "[]" })).layer(layer);
//! # Ok(()) }
//! ```
//!
//! What it does:
//! - answers preflights itself, before the inner service runs, so authentication behind it never
//!   sees them (browsers send no credentials on a preflight);
//! - adds the CORS headers to every response of an allowed origin, error responses from the
//!   inner service included, replacing any CORS headers the inner service set;
//! - adds `Vary: Origin` (merged into an existing `Vary`, never duplicated) whenever the answer
//!   depends on the origin;
//! - leaves requests without `Origin` alone, but for that `Vary`.
//!
//! `Router::layer` puts the layer on every route. To run it once around the whole router (it
//! then also answers preflights for paths no route matches, and skips axum's per-route boxing),
//! wrap the router: `axum::serve(listener, CorsLayer::new(p).layer(router).into_make_service())`
//! with `tower_layer::Layer` and `axum::ServiceExt` in scope.
//!
//! The policy is a [`corsair_policy::Policy`], which can only be obtained by validation: a
//! wildcard with credentials, the `null` origin, a public-suffix wildcard and the like are
//! errors when the policy is built, never a panic when a request comes in.
//!
//! ## Coming from tower-http
//!
//! | tower-http `CorsLayer` | corsair |
//! |---|---|
//! | `.allow_origin(["https://a".parse()?])` | `origins = ["https://a"]` |
//! | `.allow_origin(AllowOrigin::predicate(...))` | `origins = ["https://*.example.com"]`, or an anchored `origin_regex` |
//! | `.allow_origin(Any)` + `.allow_credentials(true)` (panics at startup) | refused by `PolicySpec::build` with the reason |
//! | `.allow_methods([Method::GET, ...])` | `methods = ["GET", ...]` |
//! | `.allow_headers([AUTHORIZATION, ...])` | `request_headers = ["Authorization", ...]` |
//! | `.expose_headers(...)`, `.max_age(...)` | `expose_headers`, `max_age` |
//! | `.vary(...)` | automatic |
//! | `CorsLayer::permissive()` | `origins = ["*"], methods = ["*"], request_headers = ["*"]` (no credentials) |
//!
//! [tower]: https://docs.rs/tower
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod headers;

pub use headers::PolicyHeaders;

use corsair_policy::{decide, Policy, RequestKind, RequestView};
use http::{HeaderMap, HeaderValue, Request, Response};
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// The layer: wraps services in [`Cors`].
#[derive(Clone, Debug)]
pub struct CorsLayer {
    headers: Arc<PolicyHeaders>,
}

impl CorsLayer {
    /// A layer enforcing `policy`.
    #[must_use]
    pub fn new(policy: Policy) -> Self {
        CorsLayer {
            headers: Arc::new(PolicyHeaders::new(policy)),
        }
    }

    /// The policy enforced.
    pub fn policy(&self) -> &Policy {
        self.headers.policy()
    }
}

impl<S> tower_layer::Layer<S> for CorsLayer {
    type Service = Cors<S>;
    fn layer(&self, inner: S) -> Cors<S> {
        Cors {
            inner,
            headers: self.headers.clone(),
        }
    }
}

/// The service: answers preflights, decorates responses.
#[derive(Clone, Debug)]
pub struct Cors<S> {
    inner: S,
    headers: Arc<PolicyHeaders>,
}

/// The headers of a request a decision reads.
pub fn view<B>(req: &Request<B>) -> RequestView<'_> {
    view_with_origin(req).0
}

/// [`view`], and the `Origin` value itself, to echo without looking it up again.
pub fn view_with_origin<B>(req: &Request<B>) -> (RequestView<'_>, Option<&HeaderValue>) {
    let h = req.headers();
    let mut origin = None;
    let mut v = RequestView {
        method: req.method().as_str(),
        origin: None,
        request_method: None,
        request_headers: None,
    };
    // One pass over a request's few headers costs less than three hashed lookups. The first
    // value of each wins, as `HeaderMap::get` would have it.
    for (name, value) in h {
        let slot = if name == http::header::ORIGIN {
            if origin.is_none() {
                origin = Some(value);
            }
            &mut v.origin
        } else if name == http::header::ACCESS_CONTROL_REQUEST_METHOD {
            &mut v.request_method
        } else if name == http::header::ACCESS_CONTROL_REQUEST_HEADERS {
            &mut v.request_headers
        } else {
            continue;
        };
        if slot.is_none() {
            *slot = Some(HeaderValue::as_bytes(value));
        }
    }
    (v, origin)
}

impl<S, ReqB, ResB> tower_service::Service<Request<ReqB>> for Cors<S>
where
    S: tower_service::Service<Request<ReqB>, Response = Response<ResB>>,
    ResB: Default,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = CorsFuture<S::Future, ResB>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        let (view, origin) = view_with_origin(&req);
        let d = decide(self.headers.policy(), &view);
        tracing::debug!(outcome = ?d.kind, allowed = d.allowed, reason = d.reason.id(), origin = d.origin, "cors \
            decision");
        if d.kind == RequestKind::Preflight {
            let mut resp = Response::new(ResB::default());
            *resp.status_mut() =
                http::StatusCode::from_u16(d.status).unwrap_or(http::StatusCode::FORBIDDEN);
            self.headers.write_for(&d, origin, resp.headers_mut());
            return CorsFuture {
                state: State::Preflight {
                    response: Some(resp),
                },
            };
        }
        let pending = self.headers.pending_for(&d, origin);
        CorsFuture {
            state: State::Inner {
                future: self.inner.call(req),
                pending,
            },
        }
    }
}

pin_project! {
    /// The future of [`Cors`]: a ready preflight answer, or the inner future whose response gets
    /// the CORS headers.
    pub struct CorsFuture<F, B> {
        #[pin]
        state: State<F, B>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, B> {
        Preflight { response: Option<Response<B>> },
        Inner { #[pin] future: F, pending: headers::Pending },
    }
}

impl<F, ResB, E> Future for CorsFuture<F, ResB>
where
    F: Future<Output = Result<Response<ResB>, E>>,
    ResB: Default,
{
    type Output = Result<Response<ResB>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Preflight { response } => {
                Poll::Ready(Ok(response.take().expect("polled after completion")))
            }
            StateProj::Inner { future, pending } => {
                let mut resp = std::task::ready!(future.poll(cx))?;
                pending.apply(resp.headers_mut());
                Poll::Ready(Ok(resp))
            }
        }
    }
}

/// Removes every CORS response header (an inner service's own CORS handling), by the core's
/// one list of their names.
pub fn strip_cors_headers(headers: &mut HeaderMap) {
    // A scan of the names first: most responses have no CORS header to remove.
    if !headers
        .keys()
        .any(|n| n.as_str().starts_with("access-control-"))
    {
        return;
    }
    for name in corsair_model::header::CORS_RESPONSE_HEADERS {
        headers.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_cors_headers_removes_only_cors_headers() {
        let mut h = HeaderMap::new();
        h.insert("access-control-allow-origin", HeaderValue::from_static("*"));
        h.insert("access-control-max-age", HeaderValue::from_static("5"));
        h.insert("content-type", HeaderValue::from_static("text/plain"));
        strip_cors_headers(&mut h);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key("content-type"));
        let before = h.clone();
        strip_cors_headers(&mut h);
        assert_eq!(h, before);
    }

    #[test]
    fn view_reads_the_first_value_of_each_cors_header_in_any_order() {
        let req = Request::builder()
            .method("OPTIONS")
            .header("access-control-request-headers", "x-a")
            .header("accept", "*/*")
            .header("Origin", "https://first.example")
            .header("access-control-request-method", "PUT")
            .header("origin", "https://second.example")
            .header("access-control-request-headers", "x-b")
            .body(())
            .unwrap();
        let v = view(&req);
        assert_eq!(v.method, "OPTIONS");
        assert_eq!(v.origin, Some(&b"https://first.example"[..]));
        assert_eq!(v.request_method, Some(&b"PUT"[..]));
        assert_eq!(v.request_headers, Some(&b"x-a"[..]));
        let empty = Request::new(());
        let none = view(&empty);
        assert!(
            none.origin.is_none()
                && none.request_method.is_none()
                && none.request_headers.is_none()
        );
    }
}
