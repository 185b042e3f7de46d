//! A runnable axum app behind corsair-tower:
//!
//! ```sh
//! cargo run -p corsair-tower --example axum
//! corsair check http://127.0.0.1:3000/items --origin https://app.example.com -X PUT -H 'Authorization: Bearer x' --credentials
//! ```
#![allow(missing_docs)] // criterion's and the examples' generated items

use axum::routing::get;
use axum::Router;
use corsair_policy::PolicySpec;
use corsair_tower::CorsLayer;

#[tokio::main]
async fn main() {
    let spec = PolicySpec {
        origins: vec![
            "https://app.example.com".into(),
            "https://*.example.com".into(),
            "http://localhost:*".into(),
        ],
        methods: vec!["GET".into(), "POST".into(), "PUT".into(), "DELETE".into()],
        request_headers: vec!["Content-Type".into(), "Authorization".into()],
        expose_headers: vec!["X-Total-Count".into()],
        credentials: true,
        max_age: Some(600),
        ..Default::default()
    };
    let policy = match spec.build() {
        Ok((policy, warnings)) => {
            for w in warnings {
                eprintln!("warning: {}: {}", w.message, w.fix);
            }
            policy
        }
        Err(problems) => {
            for p in problems {
                eprintln!("{:?}: {} ({})", p.severity, p.message, p.fix);
            }
            std::process::exit(2);
        }
    };
    let app = Router::new()
        .route(
            "/items",
            get(|| async { ([("x-total-count", "3")], "[1,2,3]") }).put(|| async { "updated" }),
        )
        .layer(CorsLayer::new(policy));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000")
        .await
        .expect("port 3000 is free");
    println!("listening on http://127.0.0.1:3000");
    axum::serve(listener, app).await.expect("server");
}
