//! What `corsair serve` and `corsair proxy` share as long-running servers: stopping on SIGTERM
//! or Ctrl-C, noticing that their file should be read again (SIGHUP, or a new modification
//! time, checked every second), and the admin server for `/metrics`, `/healthz` and `/readyz`.

use bytes::Bytes;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper_util::rt::TokioIo;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::net::TcpListener;

/// Which of a server's addresses a [`BindError`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Listener {
    /// The address clients connect to (`listen`).
    Main,
    /// The admin address (`/metrics`, `/healthz`).
    Admin,
}

/// A listening address that cannot be bound (in use, or not an address of this host): the one
/// error `corsair serve`, `proxy` and `dev` start with.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {}{addr}: {source}", if *.listener == Listener::Admin { "admin address " } else { "" })]
pub struct BindError {
    /// Which address.
    pub listener: Listener,
    /// The address.
    pub addr: std::net::SocketAddr,
    /// The operating system's error.
    pub source: std::io::Error,
}

impl BindError {
    /// A `map_err` for binding `addr` as `listener`.
    pub fn on(
        listener: Listener,
        addr: std::net::SocketAddr,
    ) -> impl FnOnce(std::io::Error) -> BindError {
        move |source| BindError {
            listener,
            addr,
            source,
        }
    }
}

/// Set once the server is stopping: `/readyz` then answers 503, so a load balancer stops
/// sending while requests in flight finish.
static STOPPING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Resolves on SIGTERM or Ctrl-C, and marks the server as stopping.
pub async fn shutdown_signal() {
    wait_for_signal().await;
    STOPPING.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Accepts connections on `listener` until `stop` resolves, each handed to `on_conn` on a task
/// of its own: the accept loop of `corsair proxy`, `dev`, `ui` and the demo's servers. An
/// accept error (out of file descriptors, say) waits 50 ms and tries again: it neither spins
/// nor stops serving.
pub async fn accept_until<F, Fut>(
    listener: &tokio::net::TcpListener,
    stop: impl std::future::Future<Output = ()>,
    mut on_conn: F,
) where
    F: FnMut(tokio::net::TcpStream, std::net::SocketAddr) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            a = listener.accept() => match a {
                Ok((stream, peer)) => {
                    tokio::spawn(on_conn(stream, peer));
                }
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            },
        }
    }
}

async fn wait_for_signal() {
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

/// SIGHUP, caught from now on. A server takes it before it says it is ready: until a handler
/// is installed SIGHUP ends the process, and a reload asked for early would kill the server
/// instead (a test that signalled right after "ready" saw it under load). Call it inside the
/// runtime that will run [`watch_file`].
pub fn hangups() -> Option<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
}

/// Calls `reload` with the reason ("SIGHUP" on `hup`, taken from [`hangups`], or "file
/// changed") each time `path` should be read again. Never returns.
pub async fn watch_file(
    path: PathBuf,
    mut hup: Option<tokio::signal::unix::Signal>,
    mut reload: impl FnMut(&'static str),
) {
    let mut last = mtime(&path);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        let by_signal = async {
            match hup.as_mut() {
                Some(h) => {
                    h.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
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

/// Serves `/metrics` (what `metrics` renders, in Prometheus' text format), `/healthz` (the
/// liveness probe: 200 while the process serves) and `/readyz` (the readiness probe: 200, then
/// 503 from the moment the server is told to stop, while it drains).
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
                            "/readyz" if STOPPING.load(std::sync::atomic::Ordering::Relaxed) => {
                                (503, "draining\n".to_string())
                            }
                            "/readyz" => (200, "ready\n".to_string()),
                            _ => (404, "try /metrics, /healthz or /readyz\n".to_string()),
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

fn is_hop_by_hop(n: &HeaderName) -> bool {
    corsair_http1::is_hop_by_hop(n.as_str().as_bytes())
}

/// Tells the upstream about the client, by the one rule of [`corsair_http1::FORWARDED_BY_PROXY`]
/// and [`corsair_http1::FORWARDED_CHAIN`] (`corsair serve`'s own HTTP/1.1 path writes the same
/// bytes): the client's `X-Forwarded-Host` and `X-Forwarded-Proto` are replaced by `host` (the
/// `Host` the client sent, when it sent one) and `proto`, and `peer` is appended to
/// `X-Forwarded-For`.
pub fn set_forwarded(
    h: &mut HeaderMap,
    host: Option<HeaderValue>,
    proto: HeaderValue,
    peer: HeaderValue,
) {
    // `insert` replaces every line of the name the client sent; without a Host, the client's
    // X-Forwarded-Host goes all the same.
    let forwarded_host = HeaderName::from_static("x-forwarded-host");
    match host {
        Some(host) => h.insert(forwarded_host, host),
        None => h.remove(forwarded_host),
    };
    h.insert(HeaderName::from_static("x-forwarded-proto"), proto);
    h.append(
        HeaderName::from_static(corsair_http1::FORWARDED_CHAIN),
        peer,
    );
}

/// Removes the headers that describe one connection (RFC 9110 §7.6.1), and those its
/// `Connection` lines name: each side of a proxy has its own. `corsair serve` and `corsair dev`
/// both forward through it.
pub fn strip_hop_by_hop(h: &mut HeaderMap) {
    // One pass over the few names first: most messages carry none of these, and eight hashed
    // removals cost more than the scan.
    if !h.keys().any(is_hop_by_hop) {
        return;
    }
    // The names every `Connection` line lists are hop-by-hop too.
    let listed: Vec<HeaderName> = h
        .get_all(header::CONNECTION)
        .iter()
        .flat_map(|v| v.as_bytes().split(|&b| b == b','))
        .filter_map(|n| HeaderName::from_bytes(n.trim_ascii()).ok())
        .collect();
    for name in listed {
        h.remove(name);
    }
    for n in corsair_http1::HOP_BY_HOP {
        h.remove(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    #[test]
    fn hop_by_hop_headers_and_those_connection_names_are_dropped() {
        let mut h = hyper::HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("close, x-private"),
        );
        h.insert("x-private", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert(header::TE, HeaderValue::from_static("trailers"));
        h.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        h.insert("proxy-connection", HeaderValue::from_static("keep-alive"));
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1, "{h:?}");
        assert!(h.contains_key(header::CONTENT_TYPE));

        let mut plain = hyper::HeaderMap::new();
        plain.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        plain.insert("x-other", HeaderValue::from_static("1"));
        let before = plain.clone();
        strip_hop_by_hop(&mut plain);
        assert_eq!(plain, before);
    }

    #[test]
    fn the_proxy_sets_forwarded_host_and_proto_and_appends_to_the_chain() {
        let mut h = hyper::HeaderMap::new();
        h.insert("x-forwarded-host", HeaderValue::from_static("evil.example"));
        h.insert("X-Forwarded-Proto", HeaderValue::from_static("https"));
        h.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.9"));
        let v = HeaderValue::from_static;
        set_forwarded(&mut h, Some(v("app.test:5173")), v("http"), v("127.0.0.1"));
        let all = |n: &str| {
            h.get_all(n)
                .iter()
                .map(|v| v.to_str().unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(all("x-forwarded-host"), ["app.test:5173"]);
        assert_eq!(all("x-forwarded-proto"), ["http"]);
        assert_eq!(all("x-forwarded-for"), ["203.0.113.9", "127.0.0.1"]);
        // No Host from the client: its X-Forwarded-Host is still dropped.
        set_forwarded(&mut h, None, v("http"), v("127.0.0.1"));
        assert!(h.get("x-forwarded-host").is_none());
    }

    #[test]
    fn a_taken_address_names_itself_and_which_listener_it_was() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let main = std::net::TcpListener::bind(addr)
            .map_err(BindError::on(Listener::Main, addr))
            .unwrap_err();
        assert!(
            main.to_string()
                .starts_with(&format!("cannot listen on {addr}: ")),
            "{main}"
        );
        let admin = std::net::TcpListener::bind(addr)
            .map_err(BindError::on(Listener::Admin, addr))
            .unwrap_err();
        assert!(
            admin
                .to_string()
                .starts_with(&format!("cannot listen on admin address {addr}: ")),
            "{admin}"
        );
    }

    #[tokio::test]
    async fn the_accept_loop_hands_each_connection_over_and_ends_when_told() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (seen_tx, mut seen_rx) = tokio::sync::mpsc::unbounded_channel();
        let server = tokio::spawn(async move {
            let stop = async {
                let _ = stop_rx.await;
            };
            accept_until(&listener, stop, move |_, peer| {
                let seen = seen_tx.clone();
                async move {
                    let _ = seen.send(peer);
                }
            })
            .await;
        });
        let client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let peer = seen_rx.recv().await.unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        stop_tx.send(()).unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(5), server)
            .await
            .expect("the loop ends once stop resolves")
            .unwrap();
    }
}
