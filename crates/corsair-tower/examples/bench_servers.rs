//! The servers `benches/gateway.sh` measures side by side, each on 127.0.0.1 with one worker
//! thread (so it can be pinned to one core like nginx's single worker):
//!
//! - `upstream PORT`: a plain hyper HTTP/1.1 server answering every request with a small JSON body;
//! - `proxy PORT UPSTREAM_PORT`: a minimal hyper reverse proxy with no CORS (the baseline);
//! - `axum PORT none|corsair|corsair-outer|tower-http|static-headers|handler-headers`: the same
//!   axum app without CORS, with corsair-tower (per route, or around the whole router), with
//!   tower-http's `CorsLayer` configured with the same policy, or with the four headers of an
//!   allowed request written as constants, by a middleware or by the handler itself (no
//!   decision: the floor for any CORS layer).
//!
//! cargo run --release -p corsair-tower --example bench_servers -- upstream 9000
#![allow(missing_docs)] // criterion's and the examples' generated items

use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::convert::Infallible;
use std::time::Duration;

const BODY: &[u8] = b"{\"items\":[1,2,3]}";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: bench_servers upstream PORT | proxy PORT UPSTREAM_PORT | axum PORT \
        none|corsair|tower-http";
    let port: u16 = args.get(1).and_then(|p| p.parse().ok()).expect(usage);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind");
        match args.first().map(String::as_str) {
            Some("upstream") => upstream(listener).await,
            Some("proxy") => {
                proxy(
                    listener,
                    args.get(2).and_then(|p| p.parse().ok()).expect(usage),
                )
                .await
            }
            Some("axum") => {
                axum_app(listener, args.get(2).map(String::as_str).unwrap_or("none")).await
            }
            _ => panic!("{usage}"),
        }
    });
}

async fn upstream(listener: tokio::net::TcpListener) {
    loop {
        let Ok((s, _)) = listener.accept().await else {
            continue;
        };
        let _ = s.set_nodelay(true);
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(|_req| async {
                let mut r = hyper::Response::new(Full::new(Bytes::from_static(BODY)));
                r.headers_mut()
                    .insert("content-type", "application/json".parse().unwrap());
                Ok::<_, Infallible>(r)
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(s), svc)
                .await;
        });
    }
}

async fn proxy(listener: tokio::net::TcpListener, upstream_port: u16) {
    let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
    connector.set_nodelay(true);
    let client: Client<_, hyper::body::Incoming> = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(1024)
        .build(connector);
    loop {
        let Ok((s, _)) = listener.accept().await else {
            continue;
        };
        let _ = s.set_nodelay(true);
        let client = client.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(
                move |mut req: hyper::Request<hyper::body::Incoming>| {
                    let client = client.clone();
                    async move {
                        let pq = req
                            .uri()
                            .path_and_query()
                            .map_or("/", |p| p.as_str())
                            .to_string();
                        *req.uri_mut() = format!("http://127.0.0.1:{upstream_port}{pq}")
                            .parse()
                            .unwrap();
                        match client.request(req).await {
                            Ok(r) => Ok::<_, Infallible>(r.map(http_body_util::Either::Left)),
                            Err(_) => Ok(hyper::Response::builder()
                                .status(502)
                                .body(http_body_util::Either::Right(Full::new(Bytes::new())))
                                .unwrap()),
                        }
                    }
                },
            );
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(s), svc)
                .await;
        });
    }
}

async fn axum_app(listener: tokio::net::TcpListener, cors: &str) {
    if cors == "handler-headers" {
        // The handler itself answers with the four headers: the bytes alone, no layer at all.
        let app = Router::new().route(
            "/api/items",
            get(|| async {
                use http::header::*;
                (
                    [
                        (CONTENT_TYPE, HeaderValue::from_static("application/json")),
                        (
                            ACCESS_CONTROL_ALLOW_ORIGIN,
                            HeaderValue::from_static("https://app.example.com"),
                        ),
                        (
                            ACCESS_CONTROL_ALLOW_CREDENTIALS,
                            HeaderValue::from_static("true"),
                        ),
                        (
                            ACCESS_CONTROL_EXPOSE_HEADERS,
                            HeaderValue::from_static("X-Total-Count"),
                        ),
                        (VARY, HeaderValue::from_static("Origin")),
                    ],
                    BODY,
                )
            }),
        );
        axum::serve(listener, app).await.unwrap();
        return;
    }
    let app = Router::new().route(
        "/api/items",
        get(|| async { ([("content-type", "application/json")], BODY) }).put(|| async { "ok" }),
    );
    // The benchmarks' policy, `benches/policy.toml`.
    let policy = || {
        let text = include_str!("../../../benches/policy.toml");
        corsair_policy::load(text, None, &Default::default())
            .unwrap()
            .0
            .policy
    };
    if cors == "corsair-outer" {
        // The layer around the whole Router: one service per connection, no per-route boxing.
        use tower_layer::Layer;
        let svc = corsair_tower::CorsLayer::new(policy()).layer(app);
        axum::serve(
            listener,
            axum::ServiceExt::<axum::extract::Request>::into_make_service(svc),
        )
        .await
        .unwrap();
        return;
    }
    let app = match cors {
        "none" => app,
        // No decision at all: the four headers an allowed actual request gets, written as
        // constants. The floor for any CORS layer: what the bytes themselves cost.
        "static-headers" => app.layer(axum::middleware::map_response(
            |mut r: axum::response::Response| async move {
                let h = r.headers_mut();
                h.insert(
                    http::header::ACCESS_CONTROL_ALLOW_ORIGIN,
                    http::HeaderValue::from_static("https://app.example.com"),
                );
                h.insert(
                    http::header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                    http::HeaderValue::from_static("true"),
                );
                h.insert(
                    http::header::ACCESS_CONTROL_EXPOSE_HEADERS,
                    http::HeaderValue::from_static("X-Total-Count"),
                );
                h.insert(http::header::VARY, http::HeaderValue::from_static("Origin"));
                r
            },
        )),
        "corsair" => app.layer(corsair_tower::CorsLayer::new(policy())),
        "tower-http" => {
            use http::header::{AUTHORIZATION, CONTENT_TYPE};
            use http::{HeaderValue, Method};
            app.layer(
                tower_http::cors::CorsLayer::new()
                    .allow_origin([
                        HeaderValue::from_static("https://app.example.com"),
                        HeaderValue::from_static("https://admin.example.com"),
                    ])
                    .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
                    .allow_headers([CONTENT_TYPE, AUTHORIZATION])
                    .expose_headers([http::HeaderName::from_static("x-total-count")])
                    .allow_credentials(true)
                    .max_age(Duration::from_secs(600)),
            )
        }
        other => panic!("unknown CORS variant {other}"),
    };
    axum::serve(listener, app).await.unwrap();
}
