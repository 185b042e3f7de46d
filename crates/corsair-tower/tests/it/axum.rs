//! The layer in a real axum 0.8 app: preflights answered before authentication, headers on
//! error responses, the inner service's own CORS headers replaced (removed for refused origins),
//! `Vary` merged, non-CORS
//! requests left alone. Table-driven: (request) → expected response headers.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use corsair_tower::CorsLayer;
use tower::ServiceExt;

const APP: &str = "https://app.example.com";

/// The sample policy of the tests (`tests/fixtures/sample-policy.toml`).
fn layer() -> CorsLayer {
    let text = include_str!("../../../../tests/fixtures/sample-policy.toml");
    let (file, warnings) = corsair_policy::load(text, None, &Default::default()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    CorsLayer::new(file.policy)
}

async fn require_auth(req: Request<Body>, next: Next) -> Response {
    if req.headers().contains_key("authorization") {
        next.run(req).await
    } else {
        (StatusCode::UNAUTHORIZED, "login first").into_response()
    }
}

fn app() -> Router {
    Router::new()
        .route(
            "/items",
            get(|| async { ([("x-total-count", "3")], "[1,2,3]") })
                .put(|| async { StatusCode::NO_CONTENT }),
        )
        .route(
            "/boom",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
        )
        .route(
            "/self-cors",
            get(|| async {
                (
                    [
                        ("access-control-allow-origin", "*"),
                        ("vary", "Accept-Encoding"),
                    ],
                    "x",
                )
            }),
        )
        .route(
            "/vary-origin",
            get(|| async { ([("vary", "origin")], "x") }),
        )
        .layer(middleware::from_fn(require_auth))
        .layer(layer())
}

async fn send(method: &str, path: &str, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap) {
    let mut b = Request::builder().method(method).uri(path);
    for (n, v) in headers {
        b = b.header(*n, *v);
    }
    let resp = app().oneshot(b.body(Body::empty()).unwrap()).await.unwrap();
    (resp.status(), resp.headers().clone())
}

fn get_all(h: &HeaderMap, name: &str) -> Vec<String> {
    h.get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn preflight_is_answered_before_authentication() {
    let (status, h) = send(
        "OPTIONS",
        "/items",
        &[
            ("origin", APP),
            ("access-control-request-method", "PUT"),
            (
                "access-control-request-headers",
                "authorization,content-type",
            ),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(get_all(&h, "access-control-allow-origin"), [APP]);
    assert_eq!(get_all(&h, "access-control-allow-credentials"), ["true"]);
    assert_eq!(
        get_all(&h, "access-control-allow-methods"),
        ["GET, POST, PUT, DELETE"]
    );
    assert_eq!(
        get_all(&h, "access-control-allow-headers"),
        ["Content-Type, Authorization"]
    );
    assert_eq!(get_all(&h, "access-control-max-age"), ["600"]);
    assert_eq!(
        get_all(&h, "vary"),
        ["Origin, Access-Control-Request-Method, Access-Control-Request-Headers"]
    );
}

#[tokio::test]
async fn table_of_requests_and_expected_headers() {
    type Row<'a> = (
        &'a str,
        &'a str,
        &'a [(&'a str, &'a str)],
        StatusCode,
        Option<&'a str>,
        &'a [&'a str],
    );
    let auth = ("authorization", "Bearer t");
    let rows: &[Row] = &[
        // method, path, request headers, status, ACAO, Vary
        (
            "GET",
            "/items",
            &[("origin", APP), auth],
            StatusCode::OK,
            Some(APP),
            &["Origin"],
        ),
        (
            "GET",
            "/items",
            &[("origin", "https://deep.sub.example.com"), auth],
            StatusCode::OK,
            Some("https://deep.sub.example.com"),
            &["Origin"],
        ),
        (
            "GET",
            "/items",
            &[("origin", "https://evil.example.org"), auth],
            StatusCode::OK,
            None,
            &["Origin"],
        ),
        ("GET", "/items", &[auth], StatusCode::OK, None, &["Origin"]),
        (
            "GET",
            "/items",
            &[("origin", APP)],
            StatusCode::UNAUTHORIZED,
            Some(APP),
            &["Origin"],
        ),
        (
            "GET",
            "/boom",
            &[("origin", APP), auth],
            StatusCode::INTERNAL_SERVER_ERROR,
            Some(APP),
            &["Origin"],
        ),
        (
            "GET",
            "/self-cors",
            &[("origin", APP), auth],
            StatusCode::OK,
            Some(APP),
            &["Accept-Encoding, Origin"],
        ),
        // A refused origin gets none of the inner service's own CORS headers either: the
        // policy is the one source of truth (the inner `*` would let any site read).
        (
            "GET",
            "/self-cors",
            &[("origin", "https://evil.example.org"), auth],
            StatusCode::OK,
            None,
            &["Accept-Encoding, Origin"],
        ),
        (
            "GET",
            "/self-cors",
            &[auth],
            StatusCode::OK,
            None,
            &["Accept-Encoding, Origin"],
        ),
        (
            "GET",
            "/vary-origin",
            &[("origin", APP), auth],
            StatusCode::OK,
            Some(APP),
            &["origin"],
        ),
        (
            "OPTIONS",
            "/items",
            &[
                ("origin", "https://evil.example.org"),
                ("access-control-request-method", "GET"),
            ],
            StatusCode::FORBIDDEN,
            None,
            &["Origin, Access-Control-Request-Method, Access-Control-Request-Headers"],
        ),
    ];
    for (i, (method, path, headers, status, acao, vary)) in rows.iter().enumerate() {
        let (s, h) = send(method, path, headers).await;
        assert_eq!(s, *status, "row {i}");
        let got = get_all(&h, "access-control-allow-origin");
        assert_eq!(got.first().map(String::as_str), *acao, "row {i}: {h:?}");
        assert!(got.len() <= 1, "row {i}: one ACAO only");
        assert_eq!(get_all(&h, "vary"), *vary, "row {i}");
        if acao.is_some() && *method == "GET" {
            assert_eq!(
                get_all(&h, "access-control-allow-credentials"),
                ["true"],
                "row {i}"
            );
            assert_eq!(
                get_all(&h, "access-control-expose-headers"),
                ["X-Total-Count"],
                "row {i}"
            );
        }
    }
}

#[tokio::test]
async fn over_a_real_socket() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app()).await });
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(
        format!(
            "OPTIONS /items HTTP/1.1\r\nHost: {addr}\r\nOrigin: \
        {APP}\r\nAccess-Control-Request-Method: DELETE\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.1 204"), "{out}");
    assert!(
        out.to_ascii_lowercase()
            .contains(&format!("access-control-allow-origin: {APP}")),
        "{out}"
    );
    server.abort();
}
