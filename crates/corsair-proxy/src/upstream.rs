//! The way to the target: one lookup, every address checked, a connection to a checked address
//! (kept alive in a pool of its own per address), and the request sent.

use crate::body::PooledBody;
use crate::State;
use bytes::Bytes;
use corsair_relay::{self as relay, Refusal, Relay};
use http_body_util::Full;
use hyper::{HeaderMap, Request, Response};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use tokio::net::TcpStream;

pub(crate) enum Failure {
    Refused(Refusal),
    Upstream(String),
}

/// Resolves the target once, checks every address, connects to a checked one, and sends.
pub(crate) async fn send(
    state: &State,
    relay: &Relay,
    url: &url::Url,
    method: &hyper::Method,
    headers: &HeaderMap,
    body: Option<Bytes>,
) -> Result<Response<PooledBody>, Failure> {
    let host = url
        .host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = url.port_or_known_default().unwrap_or(80);
    let addrs: Vec<IpAddr> = corsair_net::client::lookup(&state.resolve, &host, port)
        .await
        .map_err(|e| Failure::Upstream(e.detail))?
        .into_iter()
        .map(|a| a.ip())
        .collect();
    // Every address must pass: a name with one private address among public ones is refused.
    for ip in &addrs {
        relay.check_address(url, *ip).map_err(Failure::Refused)?;
    }
    let mut b = Request::builder()
        .method(method.clone())
        .uri(match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        });
    let authority = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    };
    b = b.header("host", authority);
    let injected: Vec<(&str, &str)> = relay.injected(url).collect();
    for (n, v) in headers.iter() {
        if relay::forwards_request_header(n.as_str())
            && (n != hyper::header::ACCEPT_ENCODING || relay.secrets.is_empty())
            && !injected
                .iter()
                .any(|(i, _)| i.eq_ignore_ascii_case(n.as_str()))
        {
            b = b.header(n, v);
        }
    }
    for (n, v) in &injected {
        b = b.header(*n, *v);
    }
    if !relay.secrets.is_empty() {
        // The body is scanned for the secrets: it must come as it is (see `answer`).
        b = b.header("accept-encoding", "identity");
    }
    let mut req = b
        .body(Full::new(body.unwrap_or_default()))
        .map_err(|e| Failure::Upstream(e.to_string()))?;
    let https = url.scheme() == "https";
    let checked: Vec<SocketAddr> = addrs.iter().map(|ip| SocketAddr::new(*ip, port)).collect();
    loop {
        // A kept-alive connection to one of the addresses just checked, else a new one.
        let (mut sender, reused) = match state.pool.checkout(https, &host, &checked) {
            Some(s) => (s, true),
            None => (connect(state, https, &host, &checked).await?, false),
        };
        if sender.1.ready().await.is_err() {
            if reused {
                continue;
            }
            return Err(Failure::Upstream(
                "the new connection closed at once".into(),
            ));
        }
        match sender.1.try_send_request(req).await {
            Ok(resp) => {
                let pool = state.pool.clone();
                let key = (https, host.clone(), sender.0);
                // An empty body may never be polled; the connection is free already.
                let sender = if hyper::body::Body::is_end_stream(resp.body()) {
                    pool.checkin(key.clone(), sender.1);
                    None
                } else {
                    Some(sender.1)
                };
                return Ok(resp.map(|body| PooledBody {
                    body,
                    sender,
                    pool,
                    key,
                }));
            }
            Err(mut e) => match e.take_message() {
                // Nothing was sent: the idle connection had been closed by the upstream.
                Some(back) if reused => req = back,
                _ => return Err(Failure::Upstream(e.error().to_string())),
            },
        }
    }
}

/// A new connection to the first of `addrs` that answers (each already checked).
async fn connect(
    state: &State,
    https: bool,
    host: &str,
    addrs: &[SocketAddr],
) -> Result<(SocketAddr, Sender), Failure> {
    let mut last = String::new();
    for addr in addrs {
        let stream = match TcpStream::connect(addr).await {
            Ok(s) => s,
            Err(e) => {
                last = format!("{addr}: {e}");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let sender = if https {
            let name = ServerName::try_from(host.to_string())
                .map_err(|_| Failure::Upstream(format!("'{host}' is not a TLS server name")))?;
            let tls = state
                .tls
                .connect(name, stream)
                .await
                .map_err(|e| Failure::Upstream(format!("TLS: {e}")))?;
            handshake(TokioIo::new(tls)).await?
        } else {
            handshake(TokioIo::new(stream)).await?
        };
        return Ok((*addr, sender));
    }
    Err(Failure::Upstream(format!("cannot connect: {last}")))
}

pub(crate) type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;
pub(crate) type PoolKey = (bool, String, SocketAddr);

/// Kept-alive upstream connections, by scheme, host (the TLS name) and checked address.
#[derive(Default)]
pub(crate) struct Pool {
    idle: Mutex<std::collections::HashMap<PoolKey, Vec<Sender>>>,
}

/// Idle connections kept per upstream address.
const MAX_IDLE: usize = 256;

impl Pool {
    fn checkout(
        &self,
        https: bool,
        host: &str,
        addrs: &[SocketAddr],
    ) -> Option<(SocketAddr, Sender)> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        for addr in addrs {
            if let Some(list) = idle.get_mut(&(https, host.to_string(), *addr)) {
                while let Some(s) = list.pop() {
                    if !s.is_closed() {
                        return Some((*addr, s));
                    }
                }
            }
        }
        None
    }

    pub(crate) fn checkin(&self, key: PoolKey, s: Sender) {
        if s.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let list = idle.entry(key).or_default();
        if list.len() < MAX_IDLE {
            list.push(s);
        }
    }
}

async fn handshake<T>(io: TokioIo<T>) -> Result<Sender, Failure>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| Failure::Upstream(e.to_string()))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}
