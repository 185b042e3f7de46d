//! corsair-tower vs tower-http's `CorsLayer` with the same policy, per request: a preflight, an
//! allowed actual request, a refused origin, and an adversarial Access-Control-Request-Headers
//! (a megabyte of commas). Requests are built outside the timed section.
//!
//! cargo bench -p corsair-tower --bench layer
#![allow(missing_docs)] // criterion's and the examples' generated items

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use http::{HeaderValue, Method, Request, Response};
use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tower::{Layer, Service};

const APP: &str = "https://app.example.com";

fn inner() -> impl Service<Request<()>, Response = Response<()>, Error = Infallible> + Clone {
    tower::service_fn(|_req: Request<()>| async {
        let mut r = Response::new(());
        r.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Ok::<_, Infallible>(r)
    })
}

/// The benchmarks' policy, `benches/policy.toml`.
fn corsair_layer() -> corsair_tower::CorsLayer {
    let text = include_str!("../../../benches/policy.toml");
    let (file, _) = corsair_policy::load(text, None, &Default::default()).unwrap();
    corsair_tower::CorsLayer::new(file.policy)
}

fn tower_http_layer() -> tower_http::cors::CorsLayer {
    use http::header::{AUTHORIZATION, CONTENT_TYPE};
    tower_http::cors::CorsLayer::new()
        .allow_origin([
            HeaderValue::from_static(APP),
            HeaderValue::from_static("https://admin.example.com"),
        ])
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([CONTENT_TYPE, AUTHORIZATION])
        .expose_headers([http::HeaderName::from_static("x-total-count")])
        .allow_credentials(true)
        .max_age(Duration::from_secs(600))
}

fn run<S: Service<Request<()>, Response = Response<()>>>(
    svc: &mut S,
    req: Request<()>,
) -> Response<()>
where
    S::Error: std::fmt::Debug,
{
    let mut cx = Context::from_waker(Waker::noop());
    let mut fut = pin!(svc.call(req));
    match fut.as_mut().poll(&mut cx) {
        Poll::Ready(r) => r.unwrap(),
        Poll::Pending => panic!("the benchmark services are always ready"),
    }
}

fn preflight() -> Request<()> {
    Request::builder()
        .method("OPTIONS")
        .uri("/items")
        .header("origin", APP)
        .header("access-control-request-method", "PUT")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .body(())
        .unwrap()
}

fn actual(origin: &'static str) -> Request<()> {
    Request::builder()
        .uri("/items")
        .header("origin", origin)
        .body(())
        .unwrap()
}

fn adversarial() -> Request<()> {
    let commas = HeaderValue::from_bytes(&vec![b','; 1 << 20]).unwrap();
    Request::builder()
        .method("OPTIONS")
        .uri("/items")
        .header("origin", APP)
        .header("access-control-request-method", "PUT")
        .header("access-control-request-headers", commas)
        .body(())
        .unwrap()
}

fn bench(c: &mut Criterion) {
    type Case = (&'static str, fn() -> Request<()>);
    let cases: [Case; 4] = [
        ("preflight", preflight),
        ("allowed actual", || actual(APP)),
        ("refused origin", || actual("https://evil.example.org")),
        ("adversarial ACRH (1 MiB of commas)", adversarial),
    ];
    for (name, make) in cases {
        let mut g = c.benchmark_group(name);
        let mut ours = corsair_layer().layer(inner());
        let mut theirs = tower_http_layer().layer(inner());
        let mut bare = inner();
        // Both must actually work on this request before they are timed.
        let _ = futures_ready(&mut ours);
        g.bench_function("corsair-tower", |b| {
            b.iter_batched(make, |r| run(&mut ours, r), BatchSize::SmallInput)
        });
        g.bench_function("tower-http", |b| {
            b.iter_batched(make, |r| run(&mut theirs, r), BatchSize::SmallInput)
        });
        g.bench_function("no CORS layer (baseline)", |b| {
            b.iter_batched(make, |r| run(&mut bare, r), BatchSize::SmallInput)
        });
        g.finish();
    }
}

fn futures_ready<S: Service<Request<()>>>(svc: &mut S) -> bool {
    let mut cx = Context::from_waker(Waker::noop());
    matches!(svc.poll_ready(&mut cx), Poll::Ready(Ok(_)))
}

criterion_group!(benches, bench);
criterion_main!(benches);
