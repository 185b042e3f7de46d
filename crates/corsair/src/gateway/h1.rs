//! corsair's own HTTP/1.1 proxy path: one task per client connection reads a request head,
//! decides, answers a preflight or writes the request to a pooled upstream connection, and
//! copies the response back with the policy's headers, all without a message type, a header
//! map or a second task in between.
//!
//! It takes the plain requests that are nearly all of a gateway's traffic: HTTP/1.1, an
//! origin-form target, no body or a `Content-Length` one. The first request that is anything
//! else (HTTP/2's preface, HTTP/1.0, `Transfer-Encoding`, `Expect`, `Upgrade`, a `Connection`
//! option other than `close`/`keep-alive`, more than one `Content-Length`) hands the connection,
//! with the bytes read so far, to hyper, which serves it from then on. Response framing follows
//! RFC 9112 §6.3; a chunked response is decoded and re-encoded, never passed through unchecked.

use super::pool::{RawConn, UpstreamError};
use super::proxy::{self, Compiled, Peer};
use super::State;
use bytes::{Buf, Bytes, BytesMut};
use corsair_core::http1::{
    inspect_response, name_is, route_request, Chunked, Framing, RequestFacts as Facts, RequestRoute,
};
use corsair_core::policy::{decide, Decision, Merge, Outcome, RequestView, Upstream, Writes};
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

/// Most header lines in a request or response head (hyper's limit too).
const MAX_HEADERS: usize = 100;
/// Largest upstream response head.
const MAX_RESPONSE_HEAD: usize = 64 * 1024;
/// Bytes read from a socket at a time for a body.
const READ_SIZE: usize = 16 * 1024;
/// Bytes read at a time for a head (most are a few hundred bytes; idle connections should be
/// cheap to hold).
const HEAD_READ_SIZE: usize = 4 * 1024;
/// A request body up to this size on a preflight is read and dropped; a larger one closes the
/// connection after the answer.
const MAX_DISCARD: u64 = 64 * 1024;

/// How long, and how many bytes, a connection closed with input unread is drained for.
const LINGER: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 1 << 20;

/// How a connection ended on this path.
pub enum End {
    /// Closed (by either side, or after an error answer).
    Closed,
    /// A request this path does not take: hyper serves the connection from here, starting with
    /// the bytes already read.
    Handoff(TcpStream, BytesMut),
}

/// A deadline per connection with one timer, re-armed only when it fires: a request costs a
/// clock read, not a timer registration. The timer fires at least every `period` (the shortest
/// timeout in use), so it is never late for a deadline set later.
struct Clock {
    sleep: Pin<Box<tokio::time::Sleep>>,
    period: Duration,
    deadline: Instant,
    /// A timeout to start counting the first time the work has to wait.
    lazy: Option<Duration>,
}

impl Clock {
    fn new(period: Duration) -> Self {
        let now = Instant::now();
        Clock {
            sleep: Box::pin(tokio::time::sleep_until((now + period).into())),
            period,
            deadline: now + period,
            lazy: None,
        }
    }

    /// Sets the deadline `timeout` from the first time the next work has to wait: work that
    /// is ready at once costs no clock read. `timeout` is at least the period.
    fn start(&mut self, timeout: Duration) {
        self.lazy = Some(timeout.max(self.period));
    }

    /// Runs `f` until the deadline; `None` when it passed first.
    async fn within<F: Future>(&mut self, f: F) -> Option<F::Output> {
        let mut f = pin!(f);
        std::future::poll_fn(|cx| {
            if let Poll::Ready(v) = f.as_mut().poll(cx) {
                return Poll::Ready(Some(v));
            }
            if let Some(t) = self.lazy.take() {
                self.deadline = Instant::now() + t;
            }
            while self.sleep.as_mut().poll(cx).is_ready() {
                let now = Instant::now();
                if now >= self.deadline {
                    return Poll::Ready(None);
                }
                let next = (now + self.period).min(self.deadline);
                self.sleep.as_mut().reset(next.into());
            }
            Poll::Pending
        })
        .await
    }
}

/// Where a slice of a head lies in its bytes.
type Span = (u32, u32);

/// A parsed head (request or response) kept as offsets into a copy of its bytes, so it is
/// parsed once and outlives the read buffer: no reparse, no shared buffer to allocate.
#[derive(Default)]
struct Parsed {
    bytes: Vec<u8>,
    /// The method of a request, the reason phrase of a response.
    first: Span,
    /// The target of a request.
    target: Span,
    /// A response's status code.
    code: u16,
    /// The minor HTTP version.
    version: u8,
    headers: Vec<(Span, Span)>,
}

impl Parsed {
    /// Copies `src[..len]` and the offsets of the parts httparse found in it.
    fn fill(
        &mut self,
        src: &[u8],
        len: usize,
        first: &[u8],
        target: &[u8],
        headers: &[httparse::Header<'_>],
    ) {
        let base = src.as_ptr() as usize;
        let span = |s: &[u8]| -> Span {
            if s.is_empty() {
                (0, 0)
            } else {
                ((s.as_ptr() as usize - base) as u32, s.len() as u32)
            }
        };
        self.first = span(first);
        self.target = span(target);
        self.headers.clear();
        self.headers.extend(
            headers
                .iter()
                .map(|h| (span(h.name.as_bytes()), span(h.value))),
        );
        self.bytes.clear();
        self.bytes.extend_from_slice(&src[..len]);
    }

    fn get(&self, s: Span) -> &[u8] {
        &self.bytes[s.0 as usize..(s.0 + s.1) as usize]
    }

    /// A part httparse checked to be a token or ASCII text.
    fn str(&self, s: Span) -> &str {
        std::str::from_utf8(self.get(s)).unwrap_or("")
    }

    /// (name, value) pairs; names are tokens, compared with [`eq`].
    fn headers(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.headers
            .iter()
            .map(|&(n, v)| (self.get(n), self.get(v)))
    }
}

fn uninit_headers<'b>() -> [std::mem::MaybeUninit<httparse::Header<'b>>; MAX_HEADERS] {
    [const { std::mem::MaybeUninit::uninit() }; MAX_HEADERS]
}

enum Head {
    Ready(Facts),
    /// Not for this path.
    Handoff,
    /// Nothing more will come (the client closed, went silent, or the gateway is stopping).
    Gone,
    /// Answered with this status and text, then closed: 400 for a head that is not HTTP (or
    /// a smuggling attempt), 431 for one over the limit.
    Refused(u16, &'static str),
}

const BAD: Head = Head::Refused(400, "corsair: malformed request\n");
const TOO_LARGE: Head = Head::Refused(431, "corsair: request head too large\n");

/// A header name compared with a lowercase one.
fn eq(a: impl AsRef<[u8]>, b: &str) -> bool {
    name_is(a.as_ref(), b)
}

/// `Date` for the gateway's own answers, formatted once a second per thread.
fn date(out: &mut Vec<u8>) {
    thread_local! {
        static CACHE: std::cell::RefCell<(u64, String)> = const { std::cell::RefCell::new((0, String::new())) };
    }
    let now = std::time::SystemTime::now();
    let secs = now
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.0 != secs || c.1.is_empty() {
            *c = (secs, httpdate::fmt_http_date(now));
        }
        line(out, b"date", c.1.as_bytes());
    });
}

fn line(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

fn status_line(out: &mut Vec<u8>, status: u16, reason: &[u8]) {
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(itoa::Buffer::new().format(status).as_bytes());
    out.push(b' ');
    out.extend_from_slice(reason);
    out.extend_from_slice(b"\r\n");
}

fn canonical_reason(status: u16) -> &'static [u8] {
    hyper::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
        .as_bytes()
}

/// Hop-by-hop headers, never forwarded in either direction (the framing headers are written
/// anew by this path).
fn is_hop_by_hop(n: &[u8]) -> bool {
    eq(n, "connection")
        || eq(n, "keep-alive")
        || eq(n, "te")
        || eq(n, "trailer")
        || eq(n, "upgrade")
        || eq(n, "transfer-encoding")
        || eq(n, "proxy-connection")
        || eq(n, "proxy-authenticate")
}

/// Adds a decision's headers for an actual response: all of them but `Vary`, which is merged.
/// Returns whether the decision wants `Vary: Origin`.
fn write_cors(out: &mut Vec<u8>, d: &Decision<'_>) -> bool {
    let mut vary = false;
    for (n, v) in d.headers.iter() {
        if n == "vary" {
            vary = true;
        } else {
            line(out, n.as_bytes(), v.as_bytes());
        }
    }
    vary
}

/// Appends `data` as one chunk of a chunked body (nothing for no data: an empty chunk ends it).
fn chunk(out: &mut Vec<u8>, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// The gateway's own short answer (400, 431, 502, 504), with the policy's headers when a
/// decision was made.
fn plain(out: &mut Vec<u8>, status: u16, text: &str, d: Option<&Decision<'_>>, close: bool) {
    out.clear();
    status_line(out, status, canonical_reason(status));
    date(out);
    line(out, b"content-type", b"text/plain; charset=utf-8");
    line(
        out,
        b"content-length",
        itoa::Buffer::new().format(text.len()).as_bytes(),
    );
    if let Some(d) = d {
        if write_cors(out, d) {
            line(out, b"vary", b"Origin");
        }
    }
    if close {
        line(out, b"connection", b"close");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(text.as_bytes());
}

/// Reads into `buf` within the clock; `Ok(0)` at the end of the stream.
async fn read_some<R: AsyncRead + Unpin>(
    clock: &mut Clock,
    io: &mut R,
    buf: &mut BytesMut,
) -> Result<usize, ()> {
    if buf.capacity() - buf.len() < 1024 {
        buf.reserve(HEAD_READ_SIZE);
    }
    match clock.within(io.read_buf(buf)).await {
        Some(Ok(n)) => Ok(n),
        _ => Err(()),
    }
}

/// Whether an idle upstream connection is still fit to carry a request: nothing arrived on it
/// while it waited (the reactor's readiness is read without a system call; only a connection
/// marked readable is read, once). An upstream that closed it, or sent bytes no request asked
/// for, makes it unfit.
fn still_open(c: &RawConn) -> bool {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match c.stream.poll_read_ready(&mut cx) {
        Poll::Pending => true,
        Poll::Ready(Err(_)) => false,
        Poll::Ready(Ok(())) => {
            let mut byte = [0u8; 1];
            matches!(c.stream.try_read(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
        }
    }
}

/// Writes all of `bytes`; `stall` is how long the other side may take none of them.
async fn send<W: AsyncWrite + Unpin>(
    clock: &mut Clock,
    stall: Duration,
    io: &mut W,
    bytes: &[u8],
) -> Result<(), ()> {
    clock.start(stall);
    match clock.within(io.write_all(bytes)).await {
        Some(Ok(())) => Ok(()),
        _ => Err(()),
    }
}

/// Reads more of a body; `false` at its end or on a stall or error.
async fn more<R: AsyncRead + Unpin>(
    clock: &mut Clock,
    stall: Duration,
    io: &mut R,
    buf: &mut BytesMut,
) -> bool {
    matches!(read_body(clock, stall, io, buf).await, Ok(n) if n > 0)
}

/// Reads part of a body: `stall` is how long the other side may send nothing, each time.
async fn read_body<R: AsyncRead + Unpin>(
    clock: &mut Clock,
    stall: Duration,
    io: &mut R,
    buf: &mut BytesMut,
) -> Result<usize, ()> {
    clock.start(stall);
    if buf.capacity() - buf.len() < 4096 {
        buf.reserve(READ_SIZE);
    }
    match clock.within(io.read_buf(buf)).await {
        Some(Ok(n)) => Ok(n),
        _ => Err(()),
    }
}

/// One client connection.
pub struct Conn {
    stream: TcpStream,
    buf: BytesMut,
    out: Vec<u8>,
    req: Vec<u8>,
    clock: Clock,
    header_timeout: Duration,
    max_head: usize,
    state: Arc<State>,
    peer: Arc<Peer>,
    stop: Arc<Stop>,
    /// Registered with `stop` once, woken when the gateway stops.
    stopped: Pin<Box<tokio::sync::futures::OwnedNotified>>,
    head: Parsed,
    response: Parsed,
    /// The config this connection loaded, and its generation.
    config: (u64, Arc<Compiled>),
    /// The upstream connection of this client's last request, kept for its next one (and
    /// returned to the pool when the client goes): no pool round trip per request.
    upstream: Option<(Arc<super::pool::Pool>, RawConn)>,
    /// The counter of the last decision: a kept-alive connection's requests mostly come from
    /// one origin and get the same answer.
    metric: Option<Metric>,
    /// The connection will close with client input unread (a refused head, a body not read).
    linger: bool,
}

struct Metric {
    origin: Vec<u8>,
    kind: &'static str,
    allowed: bool,
    reason: &'static str,
    counter: Arc<std::sync::atomic::AtomicU64>,
}

/// A worker's stop signal: the flag for connections to check, the notification to wake the
/// idle ones.
#[derive(Default)]
pub struct Stop {
    flag: std::sync::atomic::AtomicBool,
    notify: Arc<tokio::sync::Notify>,
}

impl Stop {
    pub fn stop(&self) {
        self.flag.store(true, std::sync::atomic::Ordering::Release);
        self.notify.notify_waiters();
    }

    fn stopped(&self) -> bool {
        self.flag.load(std::sync::atomic::Ordering::Acquire)
    }
}

impl Conn {
    pub fn new(
        stream: TcpStream,
        state: Arc<State>,
        peer: Arc<Peer>,
        stop: Arc<Stop>,
        gateway: &corsair_core::policy::file::Gateway,
    ) -> Self {
        let header_timeout = Duration::from_secs_f64(gateway.header_read_timeout);
        let upstream_timeout = Duration::from_secs_f64(gateway.upstream_timeout);
        let config = (
            state.generation.load(std::sync::atomic::Ordering::Acquire),
            state.config.load_full(),
        );
        Conn {
            stream,
            buf: BytesMut::with_capacity(HEAD_READ_SIZE),
            out: Vec::with_capacity(1024),
            req: Vec::with_capacity(1024),
            clock: Clock::new(header_timeout.min(upstream_timeout)),
            header_timeout,
            max_head: gateway.max_header_bytes.max(8192),
            peer,
            state,
            stopped: Box::pin(stop.notify.clone().notified_owned()),
            stop,
            head: Parsed::default(),
            response: Parsed::default(),
            config,
            upstream: None,
            metric: None,
            linger: false,
        }
    }

    /// Serves requests until the connection closes or a request goes to hyper.
    pub async fn serve(mut self) -> End {
        let handoff = self.serve_requests().await;
        if let Some((pool, c)) = self.upstream.take() {
            pool.raw_checkin(c);
        }
        if !handoff && self.linger {
            // Closing with input unread would reset the connection, and a client could lose
            // the answer: say the answer is complete, then read and drop what is still coming
            // for a while (nginx's lingering close).
            let _ = self.stream.shutdown().await;
            let mut sink = [0u8; 8192];
            let mut left = LINGER_BYTES;
            let _ = tokio::time::timeout(LINGER, async {
                while left > 0 {
                    match self.stream.read(&mut sink).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => left = left.saturating_sub(n),
                    }
                }
            })
            .await;
        }
        if handoff {
            End::Handoff(self.stream, self.buf)
        } else {
            End::Closed
        }
    }

    /// `true` when hyper is to take the connection.
    async fn serve_requests(&mut self) -> bool {
        loop {
            let facts = match self.read_head().await {
                Head::Ready(f) => f,
                Head::Handoff => return true,
                Head::Gone => return false,
                Head::Refused(status, text) => {
                    self.linger = true;
                    plain(&mut self.out, status, text, None, true);
                    let _ = send(
                        &mut self.clock,
                        self.header_timeout,
                        &mut self.stream,
                        &self.out,
                    )
                    .await;
                    return false;
                }
            };
            let head = std::mem::take(&mut self.head);
            let result = self.request(&head, &facts).await;
            self.head = head;
            match result {
                Ok(true) if !facts.close => {}
                _ => return false,
            }
        }
    }

    /// Reads until a whole request head is in the buffer.
    async fn read_head(&mut self) -> Head {
        self.clock.start(self.header_timeout);
        loop {
            if !self.buf.is_empty() {
                let mut hs = uninit_headers();
                let mut req = httparse::Request::new(&mut []);
                match req.parse_with_uninit_headers(&self.buf, &mut hs) {
                    Ok(httparse::Status::Complete(n)) if n > self.max_head => return TOO_LARGE,
                    Ok(httparse::Status::Complete(n)) => {
                        let route = route_request(
                            req.version.unwrap_or(0),
                            req.method.unwrap_or(""),
                            req.path.unwrap_or(""),
                            req.headers.iter().map(|h| (h.name.as_bytes(), h.value)),
                        );
                        let f = match route {
                            RequestRoute::Take(f) => f,
                            RequestRoute::Elsewhere => return Head::Handoff,
                            RequestRoute::Refuse => return BAD,
                        };
                        let (method, target) = (req.method.unwrap_or(""), req.path.unwrap_or(""));
                        self.head.fill(
                            &self.buf,
                            n,
                            method.as_bytes(),
                            target.as_bytes(),
                            req.headers,
                        );
                        self.buf.advance(n);
                        return Head::Ready(f);
                    }
                    Ok(httparse::Status::Partial) => {
                        if self.buf.len() > self.max_head {
                            return TOO_LARGE;
                        }
                    }
                    Err(httparse::Error::TooManyHeaders) => return TOO_LARGE,
                    // HTTP/2 with prior knowledge ("PRI * HTTP/2.0"): hyper's.
                    Err(httparse::Error::Version) if self.buf.starts_with(b"PRI ") => {
                        return Head::Handoff
                    }
                    Err(_) => return BAD,
                }
            }
            let idle = self.buf.is_empty();
            let read = if idle {
                // Between requests: a stopping gateway closes idle connections.
                if self.stop.stopped() {
                    return Head::Gone;
                }
                let stopped = self.stopped.as_mut();
                let (clock, stream, buf) = (&mut self.clock, &mut self.stream, &mut self.buf);
                tokio::select! {
                    biased;
                    r = read_some(clock, stream, buf) => r,
                    _ = stopped => return Head::Gone,
                }
            } else {
                read_some(&mut self.clock, &mut self.stream, &mut self.buf).await
            };
            match read {
                Ok(0) | Err(()) => return Head::Gone,
                Ok(_) => {}
            }
        }
    }

    /// Handles one request whose head is `head`. `Ok(true)` when the connection can carry
    /// another request.
    async fn request(&mut self, head: &Parsed, facts: &Facts) -> Result<bool, ()> {
        let (method, target) = (head.str(head.first), head.str(head.target));
        let mut view = RequestView {
            method,
            origin: None,
            request_method: None,
            request_headers: None,
        };
        for (name, value) in head.headers() {
            let slot = if eq(name, "origin") {
                &mut view.origin
            } else if eq(name, "access-control-request-method") {
                &mut view.request_method
            } else if eq(name, "access-control-request-headers") {
                &mut view.request_headers
            } else {
                continue;
            };
            if slot.is_none() {
                *slot = Some(value);
            }
        }
        let path = target
            .as_bytes()
            .iter()
            .position(|&b| b == b'?')
            .map_or(target, |i| &target[..i]);
        let generation = self
            .state
            .generation
            .load(std::sync::atomic::Ordering::Acquire);
        if generation != self.config.0 {
            self.config = (generation, self.state.config.load_full());
        }
        let compiled = Arc::clone(&self.config.1);
        let policy_headers = compiled.headers_for(path);
        let d = decide(policy_headers.policy(), &view);
        self.count(&d);
        let report_only = compiled.config.report_only;
        let log = proxy::AccessLog::begin(&d, report_only, method, path);

        let (status, keep) = if d.outcome == Outcome::Preflight && !report_only {
            self.out.clear();
            status_line(&mut self.out, d.status, canonical_reason(d.status));
            date(&mut self.out);
            if d.status != 204 {
                line(&mut self.out, b"content-length", b"0");
            }
            for (n, v) in d.headers.iter() {
                line(&mut self.out, n.as_bytes(), v.as_bytes());
            }
            let discard = facts.content_length <= MAX_DISCARD;
            let close = facts.close || !discard;
            self.linger |= !discard;
            if close {
                line(&mut self.out, b"connection", b"close");
            }
            self.out.extend_from_slice(b"\r\n");
            let drained = !discard || self.discard_body(facts.content_length).await;
            send(
                &mut self.clock,
                self.header_timeout,
                &mut self.stream,
                &self.out,
            )
            .await?;
            (d.status, drained && !close)
        } else {
            self.forward(head, &d, &compiled, facts).await?
        };
        if let Some(log) = log {
            log.end(status);
        }
        Ok(keep)
    }

    /// Reads more of the client's request body.
    async fn client_more(&mut self) -> bool {
        more(
            &mut self.clock,
            self.header_timeout,
            &mut self.stream,
            &mut self.buf,
        )
        .await
    }

    /// Reads more of the upstream's response body.
    async fn upstream_more(&mut self, conn: &mut RawConn) -> bool {
        more(
            &mut self.clock,
            self.header_timeout,
            &mut conn.stream,
            &mut conn.buf,
        )
        .await
    }

    /// Counts a CORS decision, with the counter of the last one when it is the same.
    fn count(&mut self, d: &Decision<'_>) {
        let Some(kind) = proxy::metric_kind(d) else {
            return;
        };
        let (origin, reason) = (d.origin.unwrap_or(""), d.reason.id());
        if let Some(m) = &self.metric {
            if m.kind == kind
                && m.allowed == d.allowed
                && m.reason == reason
                && m.origin == origin.as_bytes()
            {
                m.counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return;
            }
        }
        let counter = self.state.metrics.counter(kind, d.allowed, reason, origin);
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.metric = Some(Metric {
            origin: origin.as_bytes().to_vec(),
            kind,
            allowed: d.allowed,
            reason,
            counter,
        });
    }

    /// Reads and drops a request body of `len` bytes.
    async fn discard_body(&mut self, mut len: u64) -> bool {
        loop {
            let n = (self.buf.len() as u64).min(len) as usize;
            self.buf.advance(n);
            len -= n as u64;
            if len == 0 {
                return true;
            }
            if !self.client_more().await {
                return false;
            }
        }
    }

    /// Forwards an actual request; returns the status sent and whether the connection can go on.
    async fn forward(
        &mut self,
        req: &Parsed,
        d: &Decision<'_>,
        compiled: &Arc<Compiled>,
        facts: &Facts,
    ) -> Result<(u16, bool), ()> {
        let Some(up) = compiled.upstream() else {
            return self
                .error(
                    502,
                    "corsair: no upstream is configured\n",
                    d,
                    compiled,
                    facts,
                )
                .await;
        };
        // The request head for the upstream, and as much of the body as has arrived.
        self.req.clear();
        let r = &mut self.req;
        r.extend_from_slice(req.get(req.first));
        r.push(b' ');
        r.extend_from_slice(up.base.as_bytes());
        r.extend_from_slice(req.get(req.target));
        r.extend_from_slice(b" HTTP/1.1\r\n");
        line(r, b"host", up.host.as_bytes());
        let mut forwarded_host = false;
        for (n, value) in req.headers() {
            if eq(n, "host") {
                if !forwarded_host {
                    line(r, b"x-forwarded-host", value);
                    forwarded_host = true;
                }
            } else if !(is_hop_by_hop(n) || eq(n, "x-forwarded-host") || eq(n, "x-forwarded-proto"))
            {
                line(r, n, value);
            }
        }
        line(r, b"x-forwarded-proto", b"http");
        line(r, b"x-forwarded-for", self.peer.forwarded_for.as_bytes());
        r.extend_from_slice(b"\r\n");
        let in_buffer = (self.buf.len() as u64).min(facts.content_length) as usize;
        r.extend_from_slice(&self.buf[..in_buffer]);
        self.buf.advance(in_buffer);
        let body_left = facts.content_length - in_buffer as u64;

        let pool = &up.pool;
        // This client's own upstream connection first, if it is to the same upstream.
        let (mut held, held_pool) = match self.upstream.take() {
            Some((p, c)) if Arc::ptr_eq(&p, pool) => (Some(c), Some(p)),
            Some((p, c)) => {
                p.raw_checkin(c);
                (None, None)
            }
            None => (None, None),
        };
        let mut reused = true;
        // A request that was sent but got no answer is sent again only if it is safe to repeat
        // (RFC 9110 §9.2.2) and all of it is in hand.
        let resend = body_left == 0
            && matches!(
                req.get(req.first),
                b"GET" | b"HEAD" | b"OPTIONS" | b"PUT" | b"DELETE" | b"TRACE"
            );
        let conn = loop {
            let mut idle = std::iter::from_fn(|| held.take().or_else(|| pool.raw_checkout()));
            let mut conn = match idle.find(still_open) {
                Some(c) => c,
                None => {
                    reused = false;
                    match pool.raw_connect().await {
                        Ok(c) => c,
                        Err(e) => {
                            return self.unreachable(&e, d, compiled, facts).await;
                        }
                    }
                }
            };
            // A reused connection the upstream closed meanwhile fails here or with no response
            // byte at all; the request is sent again on a fresh one when it is all in hand.
            let sent = send(
                &mut self.clock,
                self.header_timeout,
                &mut conn.stream,
                &self.req,
            )
            .await
            .is_ok()
                && (body_left == 0 || self.copy_body(&mut conn, body_left).await);
            let answered = if sent {
                self.response_head(&mut conn, compiled).await
            } else {
                Ok(None)
            };
            match answered {
                Ok(Some(n)) => break (conn, n),
                Ok(None) if reused && resend => continue,
                Ok(None) => {
                    let why = if sent { "closed" } else { "write failed" };
                    return self
                        .unreachable(&UpstreamError::Request(why.into()), d, compiled, &CLOSING)
                        .await;
                }
                Err(Timeout) => {
                    self.state.metrics.upstream_error("timeout");
                    tracing::warn!(upstream = pool.addr(), timeout = ?compiled.timeout(), "upstream timed out");
                    return self
                        .error(
                            504,
                            "corsair: the upstream took too long\n",
                            d,
                            compiled,
                            &CLOSING,
                        )
                        .await;
                }
            }
        };
        let (mut up_conn, head_len) = conn;
        let is_head = req.get(req.first) == b"HEAD";
        let (status, keep, reusable) = self
            .respond(&mut up_conn, head_len, is_head, d, compiled, facts)
            .await?;
        if reusable {
            self.upstream = Some((held_pool.unwrap_or_else(|| Arc::clone(pool)), up_conn));
        }
        Ok((status, keep))
    }

    /// 502 for an upstream that could not be reached or gave no answer.
    async fn unreachable(
        &mut self,
        e: &UpstreamError,
        d: &Decision<'_>,
        compiled: &Compiled,
        facts: &Facts,
    ) -> Result<(u16, bool), ()> {
        self.state.metrics.upstream_error("unreachable");
        let addr = compiled.upstream().map_or("-", |u| u.pool.addr());
        tracing::warn!(error = %e, upstream = addr, "upstream request failed");
        self.error(
            502,
            "corsair: the upstream did not answer\n",
            d,
            compiled,
            facts,
        )
        .await
    }

    /// 502 for an upstream answer that is not usable HTTP/1.1; the client's connection closes.
    async fn bad_answer(
        &mut self,
        text: &str,
        d: &Decision<'_>,
        compiled: &Compiled,
    ) -> Result<(u16, bool, bool), ()> {
        self.state.metrics.upstream_error("unreachable");
        tracing::warn!(text, "the upstream's response is not valid HTTP/1.1");
        let (status, keep) = self.error(502, text, d, compiled, &CLOSING).await?;
        Ok((status, keep, false))
    }

    /// The gateway's own error answer; the connection goes on only if no request body is left
    /// unread.
    async fn error(
        &mut self,
        status: u16,
        text: &str,
        d: &Decision<'_>,
        compiled: &Compiled,
        facts: &Facts,
    ) -> Result<(u16, bool), ()> {
        let cors = (!compiled.config.report_only).then_some(d);
        let close = facts.close || facts.content_length > 0;
        self.linger |= facts.content_length > 0;
        plain(&mut self.out, status, text, cors, close);
        send(
            &mut self.clock,
            self.header_timeout,
            &mut self.stream,
            &self.out,
        )
        .await?;
        Ok((status, !close))
    }

    /// Copies `len` more request body bytes from the client to the upstream.
    async fn copy_body(&mut self, conn: &mut RawConn, mut len: u64) -> bool {
        loop {
            if self.buf.is_empty() && !self.client_more().await {
                return false;
            }
            let n = (self.buf.len() as u64).min(len) as usize;
            if send(
                &mut self.clock,
                self.header_timeout,
                &mut conn.stream,
                &self.buf[..n],
            )
            .await
            .is_err()
            {
                return false;
            }
            self.buf.advance(n);
            len -= n as u64;
            if len == 0 {
                return true;
            }
        }
    }

    /// Reads the upstream's response head (skipping interim 1xx answers). `Ok(None)` when the
    /// upstream closed or failed before a byte of it.
    async fn response_head(
        &mut self,
        conn: &mut RawConn,
        compiled: &Compiled,
    ) -> Result<Option<usize>, Timeout> {
        self.clock.start(compiled.timeout());
        loop {
            if !conn.buf.is_empty() {
                let mut hs = uninit_headers();
                let mut resp = httparse::Response::new(&mut []);
                let parsed = httparse::ParserConfig::default()
                    .parse_response_with_uninit_headers(&mut resp, &conn.buf, &mut hs);
                match parsed {
                    Ok(httparse::Status::Complete(n)) => match resp.code {
                        Some(c) if (100..200).contains(&c) && c != 101 => {
                            conn.buf.advance(n);
                            continue;
                        }
                        Some(c) => {
                            let reason = resp.reason.unwrap_or("");
                            self.response
                                .fill(&conn.buf, n, reason.as_bytes(), b"", resp.headers);
                            self.response.code = c;
                            self.response.version = resp.version.unwrap_or(0);
                            conn.buf.advance(n);
                            return Ok(Some(n));
                        }
                        None => return Ok(Some(0)),
                    },
                    Ok(httparse::Status::Partial) if conn.buf.len() <= MAX_RESPONSE_HEAD => {}
                    _ => return Ok(Some(0)),
                }
            }
            let fresh = conn.buf.is_empty();
            match self.clock.within(conn.stream.read_buf(&mut conn.buf)).await {
                None => return Err(Timeout),
                Some(Ok(n)) if n > 0 => {}
                // Closed or reset: "no response" only if nothing of it had come.
                Some(_) if fresh => return Ok(None),
                Some(_) => return Ok(Some(0)),
            }
        }
    }

    /// Sends the upstream's response to the client with the policy's headers. Returns the
    /// status, whether the client connection goes on, and whether the upstream connection can
    /// be reused. A head length of 0 means the upstream's answer was not HTTP: 502.
    async fn respond(
        &mut self,
        conn: &mut RawConn,
        head_len: usize,
        head_request: bool,
        d: &Decision<'_>,
        compiled: &Compiled,
        facts: &Facts,
    ) -> Result<(u16, bool, bool), ()> {
        if head_len == 0 {
            return self
                .bad_answer("corsair: the upstream's answer was not HTTP\n", d, compiled)
                .await;
        }
        let resp = std::mem::take(&mut self.response);
        let r = self
            .send_response(conn, &resp, head_request, d, compiled, facts)
            .await;
        self.response = resp;
        r
    }

    async fn send_response(
        &mut self,
        conn: &mut RawConn,
        resp: &Parsed,
        head_request: bool,
        d: &Decision<'_>,
        compiled: &Compiled,
        facts: &Facts,
    ) -> Result<(u16, bool, bool), ()> {
        let status = resp.code;
        if status < 100 {
            return self
                .bad_answer("corsair: the upstream's status is not HTTP\n", d, compiled)
                .await;
        }
        if status == 101 {
            return self
                .bad_answer(
                    "corsair: the upstream switched protocols unasked\n",
                    d,
                    compiled,
                )
                .await;
        }
        let head = match inspect_response(status, resp.version, head_request, resp.headers()) {
            Ok(h) => h,
            Err(why) => {
                tracing::warn!(why, "the upstream's response framing is ambiguous");
                return self
                    .bad_answer(
                        "corsair: the upstream sent conflicting Content-Length headers\n",
                        d,
                        compiled,
                    )
                    .await;
            }
        };
        let framing = head.framing;
        let upstream_close = head.close;
        let mut vary_lines = head.vary_lines;
        // A body the upstream ends by closing goes to the client chunked: the client's
        // connection stays open, and an upstream failure mid-body shows as a missing last chunk.
        let client_close = facts.close;

        let connection_names = &head.connection_options;
        // The policy's headers merged into the upstream's: one plan, shared with hyper's path
        // and corsair-tower.
        let plan = Merge::plan(
            Writes::of(d),
            compiled.config.upstream_cors,
            compiled.config.report_only,
            Upstream {
                allow_origin: head.allow_origin,
                varies_on_origin: head.varies_on_origin,
            },
        );
        let (drops, vary_origin) = (plan.drops_any(), plan.vary_origin());
        let mut merged = false;
        let out = &mut self.out;
        out.clear();
        status_line(out, status, resp.get(resp.first));
        for (n, value) in resp.headers() {
            if is_hop_by_hop(n)
                || (eq(n, "content-length") && framing != Framing::None)
                || (drops && plan.drops(n))
                || connection_names.iter().any(|c| n.eq_ignore_ascii_case(c))
            {
                continue;
            }
            if vary_origin && eq(n, "vary") {
                vary_lines -= 1;
                if vary_lines == 0 {
                    out.extend_from_slice(n);
                    out.extend_from_slice(b": ");
                    out.extend_from_slice(value);
                    out.extend_from_slice(if value.trim_ascii().is_empty() {
                        &b"Origin\r\n"[..]
                    } else {
                        &b", Origin\r\n"[..]
                    });
                    merged = true;
                    continue;
                }
            }
            line(out, n, value);
        }
        if plan.adds() {
            write_cors(out, d);
        }
        if vary_origin && !merged {
            line(out, b"vary", b"Origin");
        }
        if !head.date {
            date(out);
        }
        match framing {
            Framing::Length(l) => line(
                out,
                b"content-length",
                itoa::Buffer::new().format(l).as_bytes(),
            ),
            Framing::Chunked | Framing::UntilClose => line(out, b"transfer-encoding", b"chunked"),
            Framing::None => {}
        }
        if client_close {
            line(out, b"connection", b"close");
        }
        out.extend_from_slice(b"\r\n");

        // The body.
        let complete = match framing {
            Framing::None => {
                send(
                    &mut self.clock,
                    self.header_timeout,
                    &mut self.stream,
                    &self.out,
                )
                .await?;
                true
            }
            Framing::Length(mut left) => {
                let n = (conn.buf.len() as u64).min(left) as usize;
                self.out.extend_from_slice(&conn.buf[..n]);
                conn.buf.advance(n);
                left -= n as u64;
                send(
                    &mut self.clock,
                    self.header_timeout,
                    &mut self.stream,
                    &self.out,
                )
                .await?;
                while left > 0 {
                    if !self.upstream_more(conn).await {
                        return Err(());
                    }
                    let n = (conn.buf.len() as u64).min(left) as usize;
                    send(
                        &mut self.clock,
                        self.header_timeout,
                        &mut self.stream,
                        &conn.buf[..n],
                    )
                    .await?;
                    conn.buf.advance(n);
                    left -= n as u64;
                }
                true
            }
            Framing::Chunked => {
                let mut dec = Chunked::default();
                let mut sent = false;
                loop {
                    let done = match dec.decode(&conn.buf, &mut self.out) {
                        Ok((used, done)) => {
                            conn.buf.advance(used);
                            done
                        }
                        Err(why) => {
                            tracing::warn!(why, "the upstream's chunked body is malformed");
                            if sent {
                                // Cut the client off: a truncated body must not look whole.
                                return Err(());
                            }
                            return self
                                .bad_answer(
                                    "corsair: the upstream's chunked body is malformed\n",
                                    d,
                                    compiled,
                                )
                                .await;
                        }
                    };
                    if done || self.out.len() >= READ_SIZE {
                        send(
                            &mut self.clock,
                            self.header_timeout,
                            &mut self.stream,
                            &self.out,
                        )
                        .await?;
                        self.out.clear();
                        sent = true;
                    }
                    if done {
                        break;
                    }
                    if !self.upstream_more(conn).await {
                        return Err(());
                    }
                }
                true
            }
            Framing::UntilClose => {
                chunk(&mut self.out, &conn.buf);
                conn.buf.clear();
                loop {
                    send(
                        &mut self.clock,
                        self.header_timeout,
                        &mut self.stream,
                        &self.out,
                    )
                    .await?;
                    self.out.clear();
                    match read_body(
                        &mut self.clock,
                        self.header_timeout,
                        &mut conn.stream,
                        &mut conn.buf,
                    )
                    .await
                    {
                        Ok(r) if r > 0 => {}
                        Ok(_) => break,
                        Err(()) => return Err(()),
                    }
                    chunk(&mut self.out, &conn.buf);
                    conn.buf.clear();
                }
                send(
                    &mut self.clock,
                    self.header_timeout,
                    &mut self.stream,
                    b"0\r\n\r\n",
                )
                .await?;
                false
            }
        };
        let reusable = complete && !upstream_close && conn.buf.is_empty();
        Ok((status, !client_close, reusable))
    }
}

struct Timeout;

/// For an answer after which the connection closes.
const CLOSING: Facts = Facts {
    content_length: 0,
    close: true,
};

/// A stream that first returns bytes already read from it: how hyper gets a connection whose
/// first bytes this path has read.
pub struct Rewind<T> {
    pre: Bytes,
    inner: T,
}

impl<T> Rewind<T> {
    pub fn new(inner: T, pre: BytesMut) -> Self {
        Rewind {
            pre: pre.freeze(),
            inner,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Rewind<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if !self.pre.is_empty() {
            let n = self.pre.len().min(buf.remaining());
            buf.put_slice(&self.pre[..n]);
            self.pre.advance(n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Rewind<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
