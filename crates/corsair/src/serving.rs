//! What `corsair serve` and `corsair proxy` share as long-running servers: stopping on SIGTERM
//! or Ctrl-C, noticing that their file should be read again (SIGHUP, or a new modification
//! time, checked every second), and the admin server for `/metrics` and `/healthz`.

use bytes::Bytes;
use hyper_util::rt::TokioIo;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::net::TcpListener;

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn mtime(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Calls `reload` with the reason ("SIGHUP" or "file changed") each time `path` should be read
/// again. Never returns.
pub async fn watch_file(path: PathBuf, mut reload: impl FnMut(&'static str)) {
    #[cfg(unix)]
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut last = mtime(&path);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        #[cfg(unix)]
        let by_signal = async {
            match hup.as_mut() {
                Some(h) => {
                    h.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let by_signal = std::future::pending::<()>();
        let reason = tokio::select! {
            _ = by_signal => "SIGHUP",
            _ = tick.tick() => {
                let now = mtime(&path);
                if now == last { continue; }
                last = now;
                "file changed"
            }
        };
        reload(reason);
    }
}

/// Serves `/metrics` (what `metrics` renders, in Prometheus' text format) and `/healthz`.
pub async fn admin_server(listener: TcpListener, metrics: Arc<dyn Fn() -> String + Send + Sync>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let svc =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let metrics = metrics.clone();
                    async move {
                        let (status, body) = match req.uri().path() {
                            "/metrics" => (200, metrics()),
                            "/healthz" => (200, "ok\n".to_string()),
                            _ => (404, "try /metrics or /healthz\n".to_string()),
                        };
                        hyper::Response::builder()
                            .status(status)
                            .header("content-type", "text/plain; version=0.0.4")
                            .body(http_body_util::Full::new(Bytes::from(body)))
                    }
                });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
