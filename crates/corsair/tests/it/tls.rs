//! HTTPS checks: a private CA via --cacert, --insecure, and --resolve to reach a name that
//! only the certificate knows, all on loopback.

use std::process::Command;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Starts a TLS server for `api.test` on 127.0.0.1 answering every request with a CORS
/// response for `page`; returns its port and the CA certificate PEM.
fn tls_server(page: &str) -> (u16, String) {
    let (acceptor, pem) = crate::support::tls_acceptor("api.test");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nAccess-Control-Allow-Origin: \
        {page}\r\nConnection: close\r\n\r\n"
    );
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            // Bounded: this test makes a handful of connections.
            for _ in 0..8 {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                let reply = reply.clone();
                tokio::spawn(async move {
                    if let Ok(mut tls) = acceptor.accept(stream).await {
                        let mut buf = [0u8; 4096];
                        let _ = tls.read(&mut buf).await;
                        let _ = tls.write_all(reply.as_bytes()).await;
                        let _ = tls.shutdown().await;
                    }
                });
            }
        });
    });
    (port, pem)
}

fn check(args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let o = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args(args)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    (o.status.code(), v)
}

#[test]
fn https_with_private_ca_resolve_and_insecure() {
    let page = "https://app.test";
    let (port, pem) = tls_server(page);
    let dir = std::env::temp_dir().join(format!("corsair-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, pem).unwrap();
    let url = format!("https://api.test:{port}/data");
    let resolve = format!("api.test:{port}:127.0.0.1");
    // The server stands in for a public API (on loopback, Chromium's Local Network Access would
    // refuse a public page).
    let base = [
        "check",
        "--target-space",
        "public",
        url.as_str(),
        "--origin",
        page,
        "--resolve",
        resolve.as_str(),
        "--format",
        "json",
        "--timeout",
        "5",
    ];

    let (code, v) = check(&base);
    assert_eq!(code, Some(2), "{v}");
    assert_eq!(v["net_error"]["code"], "ERR_CERT_AUTHORITY_INVALID");
    assert!(v["net_error"]["detail"]
        .as_str()
        .unwrap()
        .contains("--cacert"));

    let mut with_ca = base.to_vec();
    with_ca.extend(["--cacert", ca.to_str().unwrap()]);
    let (code, v) = check(&with_ca);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["allowed"], true);
    assert!(v["exchanges"][0]["curl"]
        .as_str()
        .unwrap()
        .contains("--cacert"));

    let mut insecure = base.to_vec();
    insecure.push("--insecure");
    let (code, v) = check(&insecure);
    assert_eq!(code, Some(0), "{v}");
    let _ = std::fs::remove_dir_all(&dir);
}
