//! Sustained load through `corsair serve` (bounded: 8 s or 60 000 requests, loopback only)
//! while the upstream is killed and restarted and the policy is reloaded. Every response must be
//! either a 200 with the CORS headers, or, while the upstream is down, a 502 with the CORS
//! headers; the gateway's memory must stay flat.

use crate::support::Gateway;
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::rt::TokioIo;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const APP: &str = "https://app.example.com";

/// An upstream answering 200 to everything, on `port`, until the sender fires.
fn upstream(rt: &tokio::runtime::Runtime, port: u16) -> tokio::sync::oneshot::Sender<()> {
    let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind(("127.0.0.1", port)))
        .expect("rebind the upstream port");
    rt.spawn(async move {
        let mut conns = Vec::new();
        loop {
            tokio::select! {
                _ = &mut rx => break,
                Ok((s, _)) = listener.accept() => {
                    conns.push(tokio::spawn(async move {
                        let svc = hyper::service::service_fn(|_req| async {
                            Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(bytes::Bytes::from_static(b"ok"))))
                        });
                        let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(s), svc).await;
                    }));
                }
            }
        }
        // Killed: drop the listener and every open connection.
        for c in conns {
            c.abort();
        }
    });
    tx
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[test]
fn survives_upstream_restart_and_policy_reload_under_load() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut kill = Some(upstream(&rt, port));

    let dir = std::env::temp_dir().join(format!("corsair-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("corsair.toml");
    let policy = |extra: &str| {
        format!(
            "upstream = \"http://127.0.0.1:{port}\"\n[policy]\norigins = \
            [\"{APP}\"{extra}]\ncredentials = true\nmethods = [\"GET\", \"PUT\"]\n"
        )
    };
    std::fs::write(&cfg, policy("")).unwrap();
    let mut gateway = Gateway::start_logging(&cfg, &[], "warn");
    let addr = gateway.addr.clone();

    let ok = Arc::new(AtomicU64::new(0));
    let bad_gateway = Arc::new(AtomicU64::new(0));
    let unexpected = Arc::new(AtomicU64::new(0));
    let ok_after_restart = Arc::new(AtomicU64::new(0));
    let restarted = Arc::new(AtomicBool::new(false));
    let budget = Arc::new(AtomicI64::new(60_000));
    // Set once the reloaded policy is seen: the load goes on at least until then.
    let reloaded = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + Duration::from_secs(8);
    let first_error = Arc::new(std::sync::Mutex::new(None::<String>));
    let mut workers = Vec::new();
    for _ in 0..16 {
        let reloaded = reloaded.clone();
        let (addr, ok, bg, un, oar, rs, budget, fe) = (
            addr.clone(),
            ok.clone(),
            bad_gateway.clone(),
            unexpected.clone(),
            ok_after_restart.clone(),
            restarted.clone(),
            budget.clone(),
            first_error.clone(),
        );
        workers.push(rt.spawn(async move {
            let mut sender: Option<hyper::client::conn::http1::SendRequest<Empty<bytes::Bytes>>> =
                None;
            while Instant::now() < deadline
                && (budget.fetch_sub(1, Ordering::Relaxed) > 0 || !reloaded.load(Ordering::Relaxed))
            {
                if sender.as_ref().is_none_or(|s| s.is_closed()) {
                    let stream = match tokio::net::TcpStream::connect(&addr).await {
                        Ok(s) => s,
                        Err(e) => {
                            un.fetch_add(1, Ordering::Relaxed);
                            fe.lock()
                                .unwrap()
                                .get_or_insert(format!("connect to the gateway: {e}"));
                            continue;
                        }
                    };
                    let (s, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                        .await
                        .unwrap();
                    tokio::spawn(conn);
                    sender = Some(s);
                }
                let req = hyper::Request::builder()
                    .uri("/data")
                    .header("host", &addr)
                    .header("origin", APP)
                    .body(Empty::new())
                    .unwrap();
                match sender.as_mut().unwrap().send_request(req).await {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        let acao = resp
                            .headers()
                            .get("access-control-allow-origin")
                            .is_some_and(|v| v == APP);
                        let _ = resp.into_body().collect().await;
                        match (status, acao) {
                            (200, true) => {
                                ok.fetch_add(1, Ordering::Relaxed);
                                if rs.load(Ordering::Relaxed) {
                                    oar.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                            (502, true) => {
                                bg.fetch_add(1, Ordering::Relaxed);
                            }
                            other => {
                                un.fetch_add(1, Ordering::Relaxed);
                                fe.lock()
                                    .unwrap()
                                    .get_or_insert(format!("response {other:?}"));
                            }
                        }
                    }
                    Err(e) => {
                        // The gateway closed a keep-alive connection: reconnect, not an error of
                        // the request (it was never answered), unless it keeps happening.
                        sender = None;
                        if !e.is_canceled() && !e.is_incomplete_message() {
                            un.fetch_add(1, Ordering::Relaxed);
                            fe.lock().unwrap().get_or_insert(format!("request: {e}"));
                        }
                    }
                }
            }
        }));
    }
    let pid = gateway.child.id();
    std::thread::sleep(Duration::from_millis(700));
    let rss_early = rss_kib(pid);
    // Kill the upstream for half a second, then bring it back on the same port.
    kill.take().unwrap().send(()).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let _upstream_again = upstream(&rt, port);
    restarted.store(true, Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(500));
    // Reload the policy mid-run.
    std::fs::write(&cfg, policy(", \"https://partner.example.com\"")).unwrap();
    // The reload takes effect while the load runs (the file watcher checks every second).
    let partner_allowed = || {
        rt.block_on(async {
            let stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
            let (mut s, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .unwrap();
            tokio::spawn(conn);
            let req = hyper::Request::builder()
                .uri("/data")
                .header("host", &addr)
                .header("origin", "https://partner.example.com")
                .body(Empty::<bytes::Bytes>::new())
                .unwrap();
            s.send_request(req)
                .await
                .unwrap()
                .headers()
                .contains_key("access-control-allow-origin")
        })
    };
    let waited = Instant::now();
    let mut partner = partner_allowed();
    while !partner && waited.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
        partner = partner_allowed();
    }
    reloaded.store(true, Ordering::Relaxed);
    for w in workers {
        rt.block_on(w).unwrap();
    }
    let rss_late = rss_kib(pid);
    assert!(partner, "the reloaded policy was not in force within 5 s");
    let _ = gateway.child.kill();
    let _ = gateway.child.wait();
    let (ok, bg, un) = (
        ok.load(Ordering::Relaxed),
        bad_gateway.load(Ordering::Relaxed),
        unexpected.load(Ordering::Relaxed),
    );
    println!(
        "gateway load: {ok} ok, {bg} 502 while the upstream was down, {un} unexpected; RSS {} KiB \
            early on, {} KiB at the end",
        rss_early, rss_late
    );
    assert_eq!(
        un,
        0,
        "unexpected results, first: {:?}",
        first_error.lock().unwrap()
    );
    assert!(ok > 2000, "too little traffic got through: {ok}");
    assert!(bg > 0, "the upstream outage was not seen");
    assert!(
        ok_after_restart.load(Ordering::Relaxed) > 500,
        "traffic did not recover after the restart"
    );
    assert!(
        rss_late < rss_early + 16 * 1024,
        "memory grew from {rss_early} KiB to {rss_late} KiB"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
