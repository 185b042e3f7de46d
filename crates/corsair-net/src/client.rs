//! The HTTP/1.1 client `check` and `audit` send with: hyper over TCP or rustls, one connection
//! per exchange, bounded by a timeout, with curl-like `--resolve`, `--cacert`, `--insecure` and
//! an optional HTTP proxy (`--proxy`).
//! Failures are named as Chromium names them (`ERR_CONNECTION_REFUSED`, ...).

use bytes::Bytes;
use corsair_model::fetch::{NetError, Outgoing};
use corsair_model::lna::AddressSpace;
use corsair_model::ResponseHead;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

pub use crate::error::SettingError;

mod errors;
mod lenient;
mod raw;
#[cfg(test)]
mod tests;
mod tls;

use errors::{connect_error, net, response_error, tls_error};
pub use tls::tls_connector;

/// Response headers larger than this are refused, as Chromium refuses them
/// (`ERR_RESPONSE_HEADERS_TOO_BIG` at 256 KiB).
const MAX_HEAD: usize = 256 * 1024;

/// One `--resolve HOST:PORT:ADDR[,ADDR...]` entry, as curl takes it: several addresses, and
/// entries for the same HOST:PORT add up.
#[derive(Clone, Debug)]
pub struct Resolve {
    /// The host name, in lower case.
    pub host: String,
    /// The port.
    pub port: u16,
    /// The addresses to connect to, tried in order.
    pub addrs: Vec<IpAddr>,
}

impl std::str::FromStr for Resolve {
    type Err = SettingError;
    fn from_str(s: &str) -> Result<Self, SettingError> {
        let usage = || SettingError::Resolve(s.to_string());
        let (host, rest) = s.split_once(':').ok_or_else(usage)?;
        let (port, addrs) = rest.split_once(':').ok_or_else(usage)?;
        let addrs = addrs
            .split(',')
            .map(|a| {
                a.trim()
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<IpAddr>()
                    .map_err(|_| usage())
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Resolve {
            host: host.to_ascii_lowercase(),
            port: port.parse().map_err(|_| usage())?,
            addrs,
        })
    }
}

/// How to reach servers.
pub struct Client {
    resolve: Vec<Resolve>,
    tls: TlsConnector,
    timeout: Duration,
    user_agent: String,
    /// An HTTP proxy: absolute-form requests for http targets, CONNECT for https.
    proxy: Option<(String, u16)>,
    /// Reuse connections (audit); `check` opens a fresh one per exchange, as a browser tab would.
    keep_alive: bool,
    idle: std::sync::Mutex<Idle>,
    /// Address spaces given by the user (`check --target-space`), by (host, port).
    spaces: Vec<((String, u16), AddressSpace)>,
}

impl Client {
    /// A client that resolves names with `resolve` first, trusts the web's roots plus
    /// `cacert` (or nothing at all with `insecure`), and gives up on an exchange after `timeout`.
    pub fn new(
        resolve: Vec<Resolve>,
        cacert: Option<&Path>,
        insecure: bool,
        timeout: Duration,
    ) -> Result<Client, SettingError> {
        let tls = tls_connector(cacert, insecure)?;
        Ok(Client {
            resolve,
            tls,
            timeout,
            user_agent: format!("corsair/{}", env!("CARGO_PKG_VERSION")),
            proxy: None,
            keep_alive: false,
            idle: Default::default(),
            spaces: Vec::new(),
        })
    }

    /// Keeps connections open between requests to the same host (bodies are then read, up to
    /// 1 MiB, and dropped).
    pub fn with_keep_alive(mut self) -> Client {
        self.keep_alive = true;
        self
    }

    /// Sends every request through the HTTP proxy at `url` (`http://HOST:PORT`).
    pub fn with_proxy(mut self, url: &str) -> Result<Client, SettingError> {
        let u = url::Url::parse(url).map_err(|reason| SettingError::ProxyNotUrl {
            url: url.to_string(),
            reason,
        })?;
        if u.scheme() != "http" || u.host_str().is_none() {
            return Err(SettingError::ProxyScheme(url.to_string()));
        }
        let host = u
            .host_str()
            .unwrap_or_default()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        self.proxy = Some((host, u.port_or_known_default().unwrap_or(80)));
        Ok(self)
    }

    /// Counts the server at `url`'s host and port as being in `space`, whatever its address.
    pub fn with_space(mut self, url: &url::Url, space: AddressSpace) -> Client {
        let host = url.host_str().unwrap_or_default();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = url.port_or_known_default().unwrap_or(80);
        self.spaces.push(((host.to_ascii_lowercase(), port), space));
        self
    }

    /// The address space of the server a request to `url` connects to at `addr`, as Chromium
    /// derives it: the space the user gave, else the address's own.
    fn address_space(&self, url: &url::Url, addr: SocketAddr) -> AddressSpace {
        let host = url.host_str().unwrap_or_default();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = url.port_or_known_default().unwrap_or(80);
        self.spaces
            .iter()
            .find(|(k, _)| k.0.eq_ignore_ascii_case(host) && k.1 == port)
            .map_or_else(|| AddressSpace::of_ip(addr.ip()), |(_, space)| *space)
    }

    /// The address space of the server `url` names, as a request would find it (`None`
    /// through a proxy, or when the name does not resolve).
    pub async fn space_of(&self, url: &url::Url) -> Option<AddressSpace> {
        if self.proxy.is_some() {
            return None;
        }
        let host = url.host_str()?;
        let port = url.port_or_known_default().unwrap_or(80);
        let addrs = tokio::time::timeout(self.timeout, lookup(&self.resolve, host, port))
            .await
            .ok()?
            .ok()?;
        Some(self.address_space(url, addrs[0]))
    }

    /// Runs a fetch to completion: sends what it asks for, hands back what comes.
    pub async fn drive(&self, fetch: corsair_model::Fetch) -> corsair_model::Outcome {
        self.drive_until(fetch, |_| false).await.0
    }

    /// Runs a fetch until it asks for a request `stop` holds back: that request is returned
    /// unsent beside the outcome so far (`--preflight-only` holds back the request itself).
    pub async fn drive_until(
        &self,
        mut fetch: corsair_model::Fetch,
        stop: impl Fn(&Outgoing) -> bool,
    ) -> (corsair_model::Outcome, Option<Outgoing>) {
        while let corsair_model::Next::Send(out) = fetch.poll() {
            if stop(&out) {
                let mut outcome = fetch.finish();
                // The request was handed out to send, and was not: it is no exchange.
                if outcome
                    .exchanges
                    .last()
                    .is_some_and(|e| e.response.is_none())
                {
                    outcome.exchanges.pop();
                }
                return (outcome, Some(out));
            }
            // The host is resolved once: its first address gives the address space Local
            // Network Access decides on, and the connection goes to those addresses. Through a
            // proxy Chromium cannot tell the space: unknown, and the proxy resolves.
            let addrs = if self.proxy.is_some() {
                if !fetch.connected(AddressSpace::Unknown) {
                    continue;
                }
                None
            } else {
                let host = out.url.host_str().unwrap_or_default();
                let port = out.url.port_or_known_default().unwrap_or(80);
                let found = tokio::time::timeout(self.timeout, lookup(&self.resolve, host, port))
                    .await
                    .unwrap_or_else(|_| {
                        Err(net(
                            "ERR_TIMED_OUT",
                            format!("no address for {host} within {:?}", self.timeout),
                        ))
                    });
                match found {
                    Ok(addrs) => {
                        let space = self.address_space(&out.url, addrs[0]);
                        if !fetch.connected_at(space, Some(addrs[0])) {
                            // Local Network Access refused the connection: nothing was sent.
                            continue;
                        }
                        // Only to addresses of the space judged: a name with a public and a
                        // loopback address must not reach loopback under a public verdict.
                        Some(in_space(addrs, space, |a| self.address_space(&out.url, a)))
                    }
                    Err(e) => {
                        fetch.network_error(&e.code, &e.detail);
                        continue;
                    }
                }
            };
            match self.send_to(&out, addrs).await.map(|(head, _)| head) {
                Ok(resp) => fetch.receive(resp),
                Err(e) => fetch.network_error(&e.code, &e.detail),
            }
        }
        (fetch.finish(), None)
    }

    /// Sends one request and returns its response head and the body's first `max` bytes (at
    /// most 64 KiB; read on kept-alive connections only, empty otherwise).
    pub async fn send_reading(
        &self,
        out: &Outgoing,
        max: usize,
    ) -> Result<(ResponseHead, Bytes), NetError> {
        let (head, mut body) = self.send_to(out, None).await?;
        body.truncate(max);
        Ok((head, body))
    }

    /// [`Client::send_reading`]'s exchange, connecting to `addrs` (the host already resolved) when given.
    async fn send_to(
        &self,
        out: &Outgoing,
        addrs: Option<Vec<SocketAddr>>,
    ) -> Result<(ResponseHead, Bytes), NetError> {
        match tokio::time::timeout(self.timeout, self.send_inner(out, addrs)).await {
            Ok(r) => r,
            Err(_) => Err(net(
                "ERR_TIMED_OUT",
                format!("no response within {:?}", self.timeout),
            )),
        }
    }

    async fn send_inner(
        &self,
        out: &Outgoing,
        addrs: Option<Vec<SocketAddr>>,
    ) -> Result<(ResponseHead, Bytes), NetError> {
        let url = &out.url;
        let host = url.host_str().unwrap_or_default().to_string();
        let port = url.port_or_known_default().unwrap_or(80);
        let bare_host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let https = url.scheme() == "https";
        let absolute = self.proxy.is_some() && !https;
        let key = (https, bare_host.to_ascii_lowercase(), port);
        if self.keep_alive {
            let idle = self.idle.lock().ok().and_then(|mut i| i.take(&key));
            if let Some(mut sender) = idle {
                if sender.ready().await.is_ok() {
                    let req = build_request(out, &host, port, &self.user_agent, absolute)?;
                    // A pooled connection the server has closed meanwhile: open a new one.
                    if let Ok(head) = self.exchange_on(sender, req, &key).await {
                        return Ok(head);
                    }
                }
            }
        }
        let stream = match &self.proxy {
            None => {
                let addrs = match addrs {
                    Some(a) => a,
                    None => lookup(&self.resolve, &bare_host, port).await?,
                };
                connect_to(&addrs).await?
            }
            Some((phost, pport)) => {
                let mut s = connect_to(&lookup(&self.resolve, phost, *pport).await?).await?;
                if https {
                    tunnel(&mut s, &host, port).await?;
                }
                s
            }
        };
        if raw::needed(out) {
            let (target, host_header) = request_target(out, &host, port, absolute);
            let head = raw::head(out, &target, &host_header, &self.user_agent)?;
            return if https {
                let name = tls_name(&bare_host)?;
                let tls = self.tls.connect(name, stream).await.map_err(tls_error)?;
                raw::exchange(lenient::Lenient::new(tls), head, out).await
            } else {
                raw::exchange(lenient::Lenient::new(stream), head, out).await
            };
        }
        let req = build_request(out, &host, port, &self.user_agent, absolute)?;
        let (mut sender, conn) = if https {
            let name = tls_name(&bare_host)?;
            let tls = self.tls.connect(name, stream).await.map_err(tls_error)?;
            handshake(TokioIo::new(lenient::Lenient::new(tls))).await?
        } else {
            handshake(TokioIo::new(lenient::Lenient::new(stream))).await?
        };
        if !self.keep_alive {
            // One connection per exchange, as a browser's fresh connection: the body is not read.
            let head = send_head(&mut sender, req).await;
            conn.abort();
            return head.map(|h| (h, Bytes::new()));
        }
        self.exchange_on(sender, req, &key).await
    }

    /// Sends `req` on a kept-alive connection, reads (and drops) the body so the connection can
    /// carry the next request, and puts the connection back in the pool.
    async fn exchange_on(
        &self,
        mut sender: Sender,
        req: hyper::Request<Full<Bytes>>,
        key: &PoolKey,
    ) -> Result<(ResponseHead, Bytes), NetError> {
        use http_body_util::BodyExt;
        let resp = sender.send_request(req).await.map_err(response_error)?;
        let head = head_of(&resp)?;
        let mut body = resp.into_body();
        // The first SAMPLE bytes are kept; the rest is read and dropped up to MAX_KEPT_BODY,
        // past which the connection is not worth keeping.
        let mut sample = bytes::BytesMut::new();
        let mut total = 0usize;
        let ended = loop {
            match body.frame().await {
                None => break true,
                Some(Err(_)) => break false,
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        total += data.len();
                        let room = SAMPLE.saturating_sub(sample.len());
                        sample.extend_from_slice(&data[..room.min(data.len())]);
                        if total > MAX_KEPT_BODY {
                            break false;
                        }
                    }
                }
            }
        };
        // Pooled even if not ready yet: the connection's task marks it ready a moment after the
        // body ends, and whoever takes it waits for that (`ready()`), or opens another if it closed.
        if ended && !sender.is_closed() {
            if let Ok(mut i) = self.idle.lock() {
                i.put(key, sender);
            }
        }
        Ok((head, sample.freeze()))
    }
}

/// A pooled connection's request half.
type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// Idle kept-alive connections: at most [`MAX_IDLE_PER_HOST`] per host and [`MAX_IDLE_TOTAL`]
/// in all; past that, the host least recently given a connection back gives up its oldest
/// idle one, so an audit of thousands of hosts holds a bounded number of sockets.
#[derive(Default)]
struct Idle {
    /// Each host's idle connections (oldest first) and the number of its latest `put`.
    by_host: std::collections::HashMap<PoolKey, (Vec<Sender>, u64)>,
    /// (host, the number of a `put`), in order; an entry is current when its number is the
    /// host's latest, the others are skipped.
    order: std::collections::VecDeque<(PoolKey, u64)>,
    total: usize,
    puts: u64,
}

impl Idle {
    /// The most recently returned connection of `key`.
    fn take(&mut self, key: &PoolKey) -> Option<Sender> {
        let (list, _) = self.by_host.get_mut(key)?;
        let sender = list.pop();
        if list.is_empty() {
            self.by_host.remove(key);
        }
        if sender.is_some() {
            self.total -= 1;
        }
        sender
    }

    fn put(&mut self, key: &PoolKey, sender: Sender) {
        self.puts += 1;
        let n = self.puts;
        let (list, latest) = self.by_host.entry(key.clone()).or_default();
        if list.len() >= MAX_IDLE_PER_HOST {
            return;
        }
        list.push(sender);
        *latest = n;
        self.total += 1;
        self.order.push_back((key.clone(), n));
        while self.total > MAX_IDLE_TOTAL {
            let Some((host, n)) = self.order.pop_front() else {
                break;
            };
            let Some((list, latest)) = self.by_host.get_mut(&host) else {
                continue;
            };
            if *latest != n {
                continue;
            }
            // Dropping the oldest connection closes it; the host keeps its place.
            list.remove(0);
            self.total -= 1;
            if list.is_empty() {
                self.by_host.remove(&host);
            } else {
                self.order.push_front((host, n));
            }
        }
        if self.order.len() > 4 * self.by_host.len() + 64 {
            let by_host = &self.by_host;
            self.order
                .retain(|(k, n)| by_host.get(k).is_some_and(|(_, latest)| latest == n));
        }
    }
}

/// (https, host, port).
type PoolKey = (bool, String, u16);
/// Bodies longer than this are not drained: their connection is closed instead of reused.
const MAX_KEPT_BODY: usize = 1024 * 1024;
/// The start of a body kept for whoever asks ([`Client::send_reading`]).
const SAMPLE: usize = 64 * 1024;
/// Idle connections kept per host.
const MAX_IDLE_PER_HOST: usize = 256;
/// Idle connections kept in all.
const MAX_IDLE_TOTAL: usize = 512;

/// An HTTP/1.1 connection: the request half, and the task that drives it.
async fn handshake<T>(io: TokioIo<T>) -> Result<(Sender, tokio::task::JoinHandle<()>), NetError>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::Builder::new()
        .max_buf_size(2 * MAX_HEAD)
        .max_headers(16 * 1024)
        .handshake(io)
        .await
        .map_err(|e| net("ERR_CONNECTION_FAILED", e.to_string()))?;
    let task = tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok((sender, task))
}

/// Sends `req` and returns the response head; the body is not read.
async fn send_head(
    sender: &mut Sender,
    req: hyper::Request<Full<Bytes>>,
) -> Result<ResponseHead, NetError> {
    let resp = sender.send_request(req).await.map_err(response_error)?;
    head_of(&resp)
}

fn head_of<B>(resp: &hyper::Response<B>) -> Result<ResponseHead, NetError> {
    let head = ResponseHead {
        status: resp.status().as_u16(),
        headers: resp
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_string(), lenient::unescape(v.as_bytes())))
            .collect(),
    };
    let size: usize = head
        .headers
        .iter()
        .map(|(n, v)| n.len() + v.len() + 4)
        .sum();
    if size > MAX_HEAD {
        return Err(net(
            "ERR_RESPONSE_HEADERS_TOO_BIG",
            format!("the response headers take {size} bytes; browsers give up past {MAX_HEAD}"),
        ));
    }
    Ok(head)
}

/// The addresses of `host:port`: the `--resolve` entry for it, the address itself for an IP
/// literal, else a DNS lookup. Never empty. `check`, `audit` and `proxy` all resolve here.
pub async fn lookup(
    resolve: &[Resolve],
    host: &str,
    port: u16,
) -> Result<Vec<SocketAddr>, NetError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let lower = bare.to_ascii_lowercase();
    let mut given: Vec<SocketAddr> = Vec::new();
    for r in resolve.iter().filter(|r| r.host == lower && r.port == port) {
        for a in &r.addrs {
            let a = SocketAddr::new(*a, port);
            if !given.contains(&a) {
                given.push(a);
            }
        }
    }
    let addrs: Vec<SocketAddr> = match given.is_empty() {
        false => given,
        true => match bare.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::net::lookup_host((bare, port))
                .await
                .map_err(|e| {
                    net(
                        "ERR_NAME_NOT_RESOLVED",
                        format!("cannot resolve {bare}: {e}"),
                    )
                })?
                .collect(),
        },
    };
    if addrs.is_empty() {
        return Err(net(
            "ERR_NAME_NOT_RESOLVED",
            format!("{bare} has no address"),
        ));
    }
    Ok(addrs)
}

/// The addresses of `addrs` in `space`, in their order (the first always is).
fn in_space(
    addrs: Vec<SocketAddr>,
    space: AddressSpace,
    space_of: impl Fn(SocketAddr) -> AddressSpace,
) -> Vec<SocketAddr> {
    addrs
        .into_iter()
        .filter(|&a| space_of(a) == space)
        .collect()
}

/// A TCP connection to the first of `addrs` that accepts it.
async fn connect_to(addrs: &[SocketAddr]) -> Result<TcpStream, NetError> {
    let mut last_err = net("ERR_NAME_NOT_RESOLVED", "no address".to_string());
    for &addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last_err = connect_error(addr, e),
        }
    }
    Err(last_err)
}

/// Asks an HTTP proxy for a tunnel to `host:port` and reads its answer.
async fn tunnel(s: &mut TcpStream, host: &str, port: u16) -> Result<(), NetError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let target = format!("{host}:{port}");
    s.write_all(format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").as_bytes())
        .await
        .map_err(|e| net("ERR_PROXY_CONNECTION_FAILED", e.to_string()))?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024
            || s.read(&mut byte)
                .await
                .map_err(|e| net("ERR_PROXY_CONNECTION_FAILED", e.to_string()))?
                == 0
        {
            return Err(net(
                "ERR_TUNNEL_CONNECTION_FAILED",
                "the proxy closed the connection or sent an oversized answer to CONNECT".into(),
            ));
        }
        head.push(byte[0]);
    }
    let line = String::from_utf8_lossy(&head);
    let status = line.split_whitespace().nth(1).unwrap_or_default();
    if !status.starts_with('2') {
        return Err(net(
            "ERR_TUNNEL_CONNECTION_FAILED",
            format!(
                "the proxy refused CONNECT {target}: {}",
                line.lines().next().unwrap_or_default()
            ),
        ));
    }
    Ok(())
}

/// The TLS server name of `host` (brackets removed).
fn tls_name(host: &str) -> Result<ServerName<'static>, NetError> {
    ServerName::try_from(host.to_string()).map_err(|_| {
        net(
            "ERR_INVALID_URL",
            format!("'{host}' is not a valid TLS server name"),
        )
    })
}

/// The request target (origin form, or absolute form through a proxy) and the `Host` value.
fn request_target(out: &Outgoing, host: &str, port: u16, absolute: bool) -> (String, String) {
    let url = &out.url;
    let host_header = if url.port().is_none() {
        host.to_string()
    } else {
        format!("{host}:{port}")
    };
    let mut path = if absolute {
        let mut u = url.clone();
        u.set_fragment(None);
        u.as_str().split('?').next().unwrap_or_default().to_string()
    } else {
        url.path().to_string()
    };
    if let Some(q) = url.query() {
        path.push('?');
        path.push_str(q);
    }
    (path, host_header)
}

fn build_request(
    out: &Outgoing,
    host: &str,
    port: u16,
    ua: &str,
    absolute: bool,
) -> Result<hyper::Request<Full<Bytes>>, NetError> {
    let (path, host_header) = request_target(out, host, port, absolute);
    let mut b = hyper::Request::builder()
        .method(out.method.as_str())
        .uri(path)
        .header("Host", host_header)
        .header("User-Agent", ua);
    for (n, v) in &out.headers {
        b = b.header(n.as_str(), v.as_str());
    }
    let body = out.body.clone().unwrap_or_default();
    b.body(Full::new(Bytes::from(body))).map_err(|e| {
        net(
            "ERR_INVALID_ARGUMENT",
            format!("cannot build the request: {e}"),
        )
    })
}
