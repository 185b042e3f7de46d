//! A fleet of loopback hosts for `benches/audit_fleet.sh`: one server bound to PORT on each of
//! 127.0.1.1 .. 127.0.1.HOSTS (all of 127.0.0.0/8 is this machine's), answering every path
//! `/t/N` with one of five CORS behaviours chosen by N: any origin reflected with credentials,
//! an exact allowlist of the host's own https origin, a suffix check, `*` on public data, and
//! no CORS at all. It counts the requests it answered and prints the count on stdout when its
//! standard input closes.
//!
//!   cargo run --release -p corsair --example audit_fleet -- 9000 100
#![allow(missing_docs)] // criterion's and the examples' generated items

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response};
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

fn respond(req: &Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let host = req
        .headers()
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    let origin = req
        .headers()
        .get("origin")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let n: usize = req
        .uri()
        .path()
        .strip_prefix("/t/")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let mut b = Response::builder().header("Content-Type", "application/json");
    let allowed = match n % 5 {
        0 => Some(origin.to_string()),
        1 => (origin == format!("https://{host}")).then(|| origin.to_string()),
        2 => origin.ends_with("fleet.test").then(|| origin.to_string()),
        3 => Some("*".to_string()),
        _ => None,
    };
    if let Some(a) = allowed.filter(|_| !origin.is_empty()) {
        if a != "*" {
            b = b
                .header("Access-Control-Allow-Credentials", "true")
                .header("Vary", "Origin");
        }
        b = b.header("Access-Control-Allow-Origin", a);
    }
    b.body(Full::new(Bytes::from_static(b"{\"items\":[1,2,3]}")))
        .unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: audit_fleet PORT HOSTS (HOSTS at most 254)";
    let port: u16 = args.first().and_then(|p| p.parse().ok()).expect(usage);
    let hosts: u8 = args
        .get(1)
        .and_then(|p| p.parse().ok())
        .filter(|h| (1..=254).contains(h))
        .expect(usage);
    let served = Arc::new(AtomicU64::new(0));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        for h in 1..=hosts {
            let listener = tokio::net::TcpListener::bind((format!("127.0.1.{h}"), port))
                .await
                .expect("bind");
            let served = served.clone();
            tokio::spawn(async move {
                loop {
                    let Ok((s, _)) = listener.accept().await else {
                        continue;
                    };
                    let served = served.clone();
                    tokio::spawn(async move {
                        let svc = hyper::service::service_fn(move |req| {
                            served.fetch_add(1, Ordering::Relaxed);
                            async move { Ok::<_, Infallible>(respond(&req)) }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(hyper_util::rt::TokioIo::new(s), svc)
                            .await;
                    });
                }
            });
        }
        println!("ready");
        // Serves until standard input closes (the script that started it exits).
        let _ = tokio::task::spawn_blocking(|| {
            let mut sink = String::new();
            while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {
                sink.clear();
            }
        })
        .await;
        println!("served {}", served.load(Ordering::Relaxed));
    });
}
