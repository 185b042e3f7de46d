//! The gateway's keep-alive connections to one upstream, in two pools per worker:
//!
//! - **hyper's pool** (`idle`): hyper HTTP/1.1 client connections for hyper's path
//!   ([`crate::hyper_path`]). A connection goes back when the response body has been read to the end
//!   (the [`PooledBody`] wrapper returns it); one whose body was abandoned is dropped and closes.
//!   A request that fails on a reused idle connection before anything was sent (the upstream
//!   closed it meanwhile) is retried once on a fresh connection.
//! - **the raw pool** (`raw`): plain sockets with their unread bytes ([`RawConn`]) for corsair's
//!   own HTTP/1.1 path ([`super::h1`]), which frames requests and responses itself.

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

/// Idle connections kept per upstream.
const MAX_IDLE: usize = 1024;
/// How long a connection still sending a request body the upstream has already answered may
/// take before it is dropped instead of returned to the pool.
const BODY_DRAIN: Duration = Duration::from_secs(30);

/// Most workers a pool keeps separate idle lists for.
const MAX_WORKERS: usize = 64;

thread_local! {
    static WORKER: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Marks the current thread as worker `id`: it takes and returns connections from its own idle
/// list, so a connection stays on the runtime that drives it.
pub fn set_worker(id: usize) {
    WORKER.with(|w| w.set(id % MAX_WORKERS));
}

pub struct Pool {
    addr: String,
    connect_timeout: Duration,
    /// Idle hyper client connections of hyper's path, one list per worker.
    idle: Vec<Mutex<Vec<SendRequest<ClientBody>>>>,
    /// Idle connections of corsair's own HTTP/1.1 path, per worker too.
    raw: Vec<Mutex<Vec<RawConn>>>,
}

/// An upstream connection of corsair's own HTTP/1.1 path: the socket and the bytes read from it
/// that no response has used yet.
pub struct RawConn {
    pub stream: tokio::net::TcpStream,
    pub buf: bytes::BytesMut,
}

/// Why the upstream gave no response.
#[derive(Debug)]
pub enum UpstreamError {
    Connect(String),
    Request(String),
}

impl std::fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpstreamError::Connect(e) => write!(f, "cannot connect: {e}"),
            UpstreamError::Request(e) => write!(f, "request failed: {e}"),
        }
    }
}

impl Pool {
    pub fn new(addr: String, connect_timeout: Duration) -> Arc<Pool> {
        Arc::new(Pool {
            addr,
            connect_timeout,
            idle: (0..MAX_WORKERS).map(|_| Mutex::new(Vec::new())).collect(),
            raw: (0..MAX_WORKERS).map(|_| Mutex::new(Vec::new())).collect(),
        })
    }

    pub fn addr(&self) -> &str {
        &self.addr
    }

    fn list(&self) -> &Mutex<Vec<SendRequest<ClientBody>>> {
        &self.idle[WORKER.with(|w| w.get())]
    }

    fn checkout(&self) -> Option<SendRequest<ClientBody>> {
        let mut idle = self.list().lock().unwrap_or_else(|e| e.into_inner());
        while let Some(s) = idle.pop() {
            if !s.is_closed() {
                return Some(s);
            }
        }
        None
    }

    /// Returns a connection whose response is read. While its request body is still going up
    /// (the upstream answered before reading it all: a 401 to a large upload), it is returned
    /// only once hyper is done sending, so the next request never waits behind that body.
    fn checkin_after(self: &Arc<Self>, s: SendRequest<ClientBody>, sent: &AtomicBool) {
        if sent.load(Ordering::Acquire) {
            self.checkin(s);
            return;
        }
        let pool = self.clone();
        let mut s = s;
        tokio::spawn(async move {
            if let Ok(Ok(())) = tokio::time::timeout(BODY_DRAIN, s.ready()).await {
                pool.checkin(s);
            }
        });
    }

    fn checkin(&self, s: SendRequest<ClientBody>) {
        if s.is_closed() {
            return;
        }
        let mut idle = self.list().lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(s);
        }
    }

    /// An idle connection of this worker's, if any.
    pub fn raw_checkout(&self) -> Option<RawConn> {
        let list = &self.raw[WORKER.with(|w| w.get())];
        list.lock().unwrap_or_else(|e| e.into_inner()).pop()
    }

    /// Keeps a connection whose last response was read to its end, with nothing after it.
    pub fn raw_checkin(&self, c: RawConn) {
        let list = &self.raw[WORKER.with(|w| w.get())];
        let mut idle = list.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(c);
        }
    }

    /// A new connection for corsair's own path.
    pub async fn raw_connect(&self) -> Result<RawConn, UpstreamError> {
        Ok(RawConn {
            stream: self.tcp().await?,
            buf: bytes::BytesMut::with_capacity(8 * 1024),
        })
    }

    async fn tcp(&self) -> Result<tokio::net::TcpStream, UpstreamError> {
        let stream = tokio::time::timeout(
            self.connect_timeout,
            tokio::net::TcpStream::connect(&self.addr),
        )
        .await
        .map_err(|_| {
            UpstreamError::Connect(format!("no connection within {:?}", self.connect_timeout))
        })?
        .map_err(|e| UpstreamError::Connect(e.to_string()))?;
        let _ = stream.set_nodelay(true);
        Ok(stream)
    }

    async fn connect(&self) -> Result<SendRequest<ClientBody>, UpstreamError> {
        let stream = self.tcp().await?;
        let (sender, conn) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| UpstreamError::Connect(e.to_string()))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }

    /// Sends a request on a pooled (or new) connection.
    pub async fn send(
        self: &Arc<Self>,
        req: Request<ClientBody>,
    ) -> Result<Response<PooledBody>, UpstreamError> {
        let mut req = req;
        let sent = req.body().sent.clone();
        let mut reused = true;
        loop {
            let mut sender = match self.checkout() {
                Some(s) => s,
                None => {
                    reused = false;
                    self.connect().await?
                }
            };
            if sender.ready().await.is_err() {
                if reused {
                    continue;
                }
                return Err(UpstreamError::Request(
                    "the new connection closed at once".into(),
                ));
            }
            match sender.try_send_request(req).await {
                Ok(resp) => {
                    // An empty body may never be polled; the connection is free already.
                    let sender = if resp.body().is_end_stream() {
                        self.checkin_after(sender, &sent);
                        None
                    } else {
                        Some(sender)
                    };
                    return Ok(resp.map(|body| PooledBody {
                        body,
                        sender,
                        sent,
                        pool: self.clone(),
                    }));
                }
                Err(mut e) => match e.take_message() {
                    // Nothing was sent: the idle connection had been closed by the upstream.
                    Some(back) if reused => req = back,
                    _ => return Err(UpstreamError::Request(e.error().to_string())),
                },
            }
        }
    }
}

/// Why a client's request body stopped on its way upstream ([`ClientBody`]).
pub mod fault {
    /// It did not.
    pub const NONE: u8 = 0;
    /// It passed `[gateway] max_body_bytes`.
    pub const TOO_LARGE: u8 = 1;
    /// The client's framing was broken (a malformed chunked body, a short read).
    pub const MALFORMED: u8 = 2;
}

/// A client's request body on its way upstream: at most `left` bytes, then an error; and why it
/// failed, if it did, so that the gateway answers the client's fault as one (413, 400) rather
/// than as the upstream's (502).
pub struct ClientBody {
    body: Incoming,
    left: u64,
    fault: Arc<std::sync::atomic::AtomicU8>,
    /// Set once the body has been read to its end (at once for a request without one).
    sent: Arc<AtomicBool>,
}

impl ClientBody {
    pub fn new(body: Incoming, limit: u64, fault: Arc<std::sync::atomic::AtomicU8>) -> Self {
        let sent = Arc::new(AtomicBool::new(body.is_end_stream()));
        ClientBody {
            body,
            left: limit,
            fault,
            sent,
        }
    }
}

impl Body for ClientBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let set =
            |f: &std::sync::atomic::AtomicU8, v| f.store(v, std::sync::atomic::Ordering::Relaxed);
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let len = frame.data_ref().map_or(0, |d| d.len() as u64);
                if len > this.left {
                    set(&this.fault, fault::TOO_LARGE);
                    return Poll::Ready(Some(
                        Err("the request body is over max_body_bytes".into()),
                    ));
                }
                this.left -= len;
                if this.body.is_end_stream() {
                    this.sent.store(true, Ordering::Release);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(None) => {
                this.sent.store(true, Ordering::Release);
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(e))) => {
                set(&this.fault, fault::MALFORMED);
                Poll::Ready(Some(Err(Box::new(e))))
            }
            other => other.map(|o| o.map(|r| r.map_err(|e| Box::new(e) as Self::Error))),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A response body that hands its connection back to the pool once fully read.
pub struct PooledBody {
    body: Incoming,
    sender: Option<SendRequest<ClientBody>>,
    /// Whether the request's body is all sent ([`ClientBody::sent`]).
    sent: Arc<AtomicBool>,
    pool: Arc<Pool>,
}

impl Body for PooledBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = &mut *self;
        let r = Pin::new(&mut this.body).poll_frame(cx);
        // The body is over at `None`, or as soon as a known length has been read (hyper's server
        // stops polling then).
        if matches!(r, Poll::Ready(None)) || this.body.is_end_stream() {
            if let Some(s) = this.sender.take() {
                this.pool.checkin_after(s, &this.sent);
            }
        }
        r
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
