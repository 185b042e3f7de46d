//! `corsair serve`: a reverse proxy that enforces a CORS policy in front of any HTTP upstream.
//!
//! Preflights are answered here; everything else is streamed to the upstream and back, with the
//! policy's CORS headers on every response (the upstream's errors and the gateway's own 502/504
//! included). The policy reloads on SIGHUP and when its file changes, without dropping
//! connections; a broken new file is refused and the old policy keeps serving.
//!
//! Two engines serve HTTP/1.1 (`[gateway] http1`): corsair's own (`h1`: one read, one write per
//! request, the head forwarded as bytes) and hyper's, which also serves HTTP/2 and TLS
//! (`hyper_path`). Both answer from the same compiled policy, write the same access log
//! (`access_log`) and count into the same metrics. [`config`] reads and checks the serving
//! part of `corsair.toml`; [`run`] is the whole server.

mod access_log;
pub mod config;
mod error;
mod h1;
mod hyper_path;
mod metrics;
mod pool;
mod tls;
mod watchdog;

use crate::config::{ConfigFile, GatewaySettings, Http1};
pub use access_log::Format as AccessLogFormat;
use arc_swap::ArcSwap;
use corsair_net::serving::{BindError, Listener};
pub use error::{LoadError, StartError};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use metrics::Metrics;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
pub use tls::TlsError;
use tokio::net::{TcpListener, TcpStream};

/// Everything a request handler needs, shared by all connections.
pub(crate) struct State {
    pub config: ArcSwap<hyper_path::Compiled>,
    /// Bumped after each reload: connections keep the config they loaded until it moves.
    pub generation: std::sync::atomic::AtomicU64,
    pub metrics: Metrics,
    /// `--upstream`, which wins over the file on every reload too.
    pub upstream_override: Option<String>,
    /// With `[tls]`: the acceptor, swapped when the certificate is reloaded.
    pub tls: Option<Arc<arc_swap::ArcSwap<tokio_rustls::TlsAcceptor>>>,
}

/// How to start the gateway.
pub struct Settings {
    /// The policy file, read again on SIGHUP and when it changes.
    pub config_path: PathBuf,
    /// The validated file; its `listen` and `admin` are resolved into the fields below.
    pub config: ConfigFile,
    /// Where clients connect.
    pub listen: SocketAddr,
    /// Where `/metrics`, `/healthz` and `/readyz` are served, if anywhere.
    pub admin: Option<SocketAddr>,
    /// The `[env.NAME]` overlay in force (`--env`).
    pub env: Option<String>,
    /// `--upstream`, which wins over the file's, on every reload too.
    pub upstream_override: Option<String>,
}

/// Runs the gateway: one current-thread runtime per worker thread, all accepting on the same
/// listening socket (thread per core, no work stealing), plus the admin server, the policy
/// watcher and the signal handler on the first worker. Returns after a graceful shutdown.
pub fn run(settings: Settings, workers: usize) -> Result<(), StartError> {
    let gateway = settings.config.serve.gateway.clone();
    let tls_files = settings
        .config
        .serve
        .tls
        .as_ref()
        .map(|t| tls::Files::new(t, &settings.config_path));
    let tls = match &tls_files {
        Some(f) => Some(Arc::new(ArcSwap::from_pointee(
            f.load().map_err(StartError::Tls)?,
        ))),
        None => None,
    };
    let state = Arc::new(State {
        tls: tls.clone(),
        config: ArcSwap::from_pointee(hyper_path::Compiled::new(settings.config, None)),
        generation: Default::default(),
        metrics: Metrics::default(),
        upstream_override: settings.upstream_override.clone(),
    });
    if gateway.access_log {
        crate::access_log::init(
            gateway.access_log_format,
            gateway.access_log_path.as_deref().map(std::path::Path::new),
        )?;
    }
    let listener = std::net::TcpListener::bind(settings.listen)
        .map_err(BindError::on(Listener::Main, settings.listen))?;
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;
    let admin = match settings.admin {
        Some(a) => {
            let l = std::net::TcpListener::bind(a).map_err(BindError::on(Listener::Admin, a))?;
            l.set_nonblocking(true)?;
            Some(l)
        }
        None => None,
    };
    // The main runtime, and SIGHUP caught in it, before the gateway says it is ready.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (policy_hup, tls_hups) = rt.block_on(async {
        let tls = tls_files.as_ref().map_or(Vec::new(), |f| {
            f.watched()
                .iter()
                .map(|_| corsair_net::serving::hangups())
                .collect()
        });
        (corsair_net::serving::hangups(), tls)
    });
    tracing::info!(listen = %local, workers, upstream = state.config.load().serve.upstream.as_deref().unwrap_or("-"), "corsair \
        serve ready");
    // The address lines are for scripts that start the gateway on port 0.
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("listening on {scheme}://{local}");
    if let Some(l) = &admin {
        println!("metrics on http://{}/metrics", l.local_addr()?);
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut threads = Vec::new();
    for id in 1..workers.max(1) {
        let listener = listener.try_clone()?;
        let (state, stop, gateway) = (state.clone(), stop_rx.clone(), gateway.clone());
        threads.push(
            std::thread::Builder::new()
                .name(format!("corsair-worker-{id}"))
                .spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("worker runtime");
                    rt.block_on(worker(id, listener, state, stop, gateway));
                })?,
        );
    }
    // The admin server has a thread of its own: it answers (`/readyz` 503) while every worker
    // drains, until the process exits.
    if let Some(l) = admin {
        let metrics = state.clone();
        std::thread::Builder::new()
            .name("corsair-admin".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("admin runtime");
                rt.block_on(async move {
                    if let Ok(l) = TcpListener::from_std(l) {
                        corsair_net::serving::admin_server(
                            l,
                            Arc::new(move || metrics.metrics.render()),
                        )
                        .await;
                    }
                });
            })?;
    }
    rt.block_on(async {
        if let (Some(files), Some(acceptor)) = (tls_files, tls) {
            tokio::spawn(tls::watch(files, acceptor, tls_hups));
        }
        tokio::spawn(watch_policy(
            state.clone(),
            settings.config_path.clone(),
            settings.env.clone(),
            policy_hup,
        ));
        tokio::spawn(async move {
            corsair_net::serving::shutdown_signal().await;
            let _ = stop_tx.send(true);
        });
        worker(0, listener, state.clone(), stop_rx, gateway).await;
    });
    for t in threads {
        let _ = t.join();
    }
    crate::access_log::sync();
    Ok(())
}

/// One worker: accepts connections until told to stop, then lets its requests finish.
async fn worker(
    id: usize,
    listener: std::net::TcpListener,
    state: Arc<State>,
    mut stop: tokio::sync::watch::Receiver<bool>,
    gateway: GatewaySettings,
) {
    pool::set_worker(id);
    let Ok(listener) = TcpListener::from_std(listener) else {
        return;
    };
    let flusher = tokio::spawn(crate::access_log::flusher());
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .max_buf_size(gateway.max_header_bytes.max(8192));
    let stall = Duration::from_secs_f64(gateway.stall_timeout);
    // One clone per connection, to wait for at shutdown.
    let live = Arc::new(());
    let h1_stop = Arc::new(h1::Stop::default());
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let state = state.clone();
                let activity = watchdog::Activity::new();
                let peer = Arc::new(hyper_path::Peer {
                    forwarded_for: hyper::header::HeaderValue::from_str(&peer.ip().to_string()).unwrap_or(hyper::header::HeaderValue::from_static("unknown")),
                    proto: hyper::header::HeaderValue::from_static(if state.tls.is_some() { "https" } else { "http" }),
                    activity: activity.clone(),
                });
                let hyper_conn = {
                    let builder = builder.clone();
                    let (state, peer, stop) = (state.clone(), peer.clone(), stop.clone());
                    move |io: h1::Rewind<TcpStream>| {
                        // Silence is counted from the handoff: the connection was busy on
                        // corsair's own path until now, which its watchdog never saw.
                        activity.touch();
                        serve_hyper(builder, io, state, peer, stop, stall)
                    }
                };
                let live = live.clone();
                if let Some(tls) = &state.tls {
                    // Over TLS, hyper serves every connection: HTTP/2 or HTTP/1.1 by ALPN.
                    let acceptor = tls.load_full();
                    let (builder, state, peer, stop) = (builder.clone(), state.clone(), peer.clone(), stop.clone());
                    tokio::spawn(async move {
                        let _live = live;
                        let Ok(Ok(stream)) = tokio::time::timeout(stall, acceptor.accept(stream)).await else {
                            tracing::debug!("TLS handshake failed or stalled");
                            return;
                        };
                        peer.activity.touch();
                        serve_hyper(builder, stream, state, peer, stop, stall).await;
                    });
                    continue;
                }
                if gateway.http1 == Http1::Hyper {
                    tokio::spawn(async move {
                        let _live = live;
                        hyper_conn(h1::Rewind::new(stream, bytes::BytesMut::new())).await;
                    });
                    continue;
                }
                let conn = h1::Conn::new(stream, state, peer, h1_stop.clone(), &gateway);
                tokio::spawn(async move {
                    let _live = live;
                    if let h1::End::Handoff(stream, read) = conn.serve().await {
                        hyper_conn(h1::Rewind::new(stream, read)).await;
                    }
                });
            }
            _ = stop.changed() => break,
        }
    }
    if id == 0 {
        tracing::info!("shutting down: no new connections, waiting for requests in flight");
    }
    drop(listener);
    h1_stop.stop();
    let grace = Duration::from_secs_f64(gateway.shutdown_grace);
    // Connections close once idle now that `stop` is set.
    let drained = async {
        while Arc::strong_count(&live) > 1 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    if tokio::time::timeout(grace, drained).await.is_err() {
        tracing::warn!(
            ?grace,
            worker = id,
            "requests still in flight after the grace period; closing them"
        );
    }
    flusher.abort();
    crate::access_log::flush_thread_at_exit();
}

/// Serves a connection with hyper (HTTP/1.1 or HTTP/2) until it ends, until it stays silent
/// for `stall` (its watchdog is `peer.activity`), or, once the gateway stops, until its requests
/// in flight are done.
async fn serve_hyper<I>(
    builder: auto::Builder<TokioExecutor>,
    io: I,
    state: Arc<State>,
    peer: Arc<hyper_path::Peer>,
    mut stop: tokio::sync::watch::Receiver<bool>,
    stall: Duration,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let activity = peer.activity.clone();
    let svc =
        hyper::service::service_fn(move |req| hyper_path::handle(req, state.clone(), peer.clone()));
    let io = TokioIo::new(watchdog::Watched::new(io, activity.clone()));
    let conn = builder.serve_connection_with_upgrades(io, svc);
    let mut conn = std::pin::pin!(conn);
    let mut stopping = false;
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                break;
            }
            // On shutdown: finish the requests in flight, then close.
            _ = stop.wait_for(|s| *s), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = activity.expired(stall) => {
                tracing::debug!("closed a connection silent for {stall:?}");
                break;
            }
        }
    }
}

/// Reloads the policy on SIGHUP and when the file's modification time changes (checked every
/// second). A file that does not validate is refused and logged; the old policy stays.
async fn watch_policy(
    state: Arc<State>,
    path: PathBuf,
    env: Option<String>,
    hup: Option<tokio::signal::unix::Signal>,
) {
    let file = path.clone();
    corsair_net::serving::watch_file(path, hup, move |reason| {
        match crate::config::load(&file, env.as_deref()) {
            Ok((mut config, warnings)) => {
                if let Some(u) = &state.upstream_override {
                    config.serve.upstream = Some(u.clone());
                }
                for w in &warnings {
                    tracing::warn!("{}", config::render(&file, w));
                }
                let old = state.config.load();
                if config.serve.listen != old.serve.listen {
                    tracing::warn!(
                        "the new file changes `listen`; that takes a restart and is ignored \
                    until then"
                    );
                }
                // Of `[gateway]`, a reload takes `max_body_bytes` only; the other keys (timeouts,
                // limits, http1, the access log) keep their values until a restart, on both paths.
                let was = &old.serve.gateway;
                let kept = GatewaySettings {
                    max_body_bytes: config.serve.gateway.max_body_bytes,
                    ..was.clone()
                };
                if config.serve.gateway != kept {
                    tracing::warn!(
                        "the new file changes [gateway] keys other than max_body_bytes (timeouts, \
                        limits, http1, the access log); those take a restart and are ignored until \
                        then"
                    );
                }
                config.serve.gateway = kept;
                let compiled = hyper_path::Compiled::new(config, Some(&old));
                state.config.store(Arc::new(compiled));
                state
                    .generation
                    .fetch_add(1, std::sync::atomic::Ordering::Release);
                state.metrics.reload(true);
                tracing::info!(reason, file = %file.display(), "policy reloaded");
            }
            Err(errors) => {
                state.metrics.reload(false);
                tracing::error!(
                    reason,
                    "policy reload refused; the previous policy keeps serving:\n{errors}"
                );
            }
        }
    })
    .await
}
