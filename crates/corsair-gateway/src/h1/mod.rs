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
//!
//! The framing rules are the sans-IO `corsair-http1` crate's; here are the sockets:
//! - `clock`: the connection's timeouts and its stall-bounded reads and writes;
//! - `encode`: the answers this path writes itself (preflights, errors);
//! - `forward`: the request to the upstream, over a pooled connection;
//! - `respond`: the upstream's response back to the client, head merged with the policy's
//!   headers, body re-framed;
//! - `handoff`: the connection handed to hyper.

mod clock;
mod encode;
mod forward;
mod handoff;
mod respond;

pub use handoff::Rewind;
use std::borrow::Cow;

use super::pool::{Pool, RawConn};
use super::State;
use crate::hyper_path::{self, Compiled, Peer};
use bytes::{Buf, BytesMut};
use clock::{Broken, Clock, HEAD_READ_SIZE};
use corsair_http1::{
    name_is, parse_request, path_refusal, refusal, Head, RequestFacts, RequestParse,
};
use corsair_policy::{decide, Decision, RequestKind, RequestView};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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

/// Whether the client's connection carries another request after an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Next {
    KeepAlive,
    Close,
}

impl Next {
    fn closing_if(close: bool) -> Self {
        if close {
            Next::Close
        } else {
            Next::KeepAlive
        }
    }
}

/// What a request's exchange sent to the client.
#[derive(Clone, Copy, Debug)]
struct Answered {
    status: u16,
    next: Next,
    /// The body's length, when it was known up front (the access log's `bytes`).
    bytes: Option<u64>,
}

/// What reading a request head came to.
enum ReadHead {
    Ready(RequestFacts),
    /// Not for this path.
    Handoff,
    /// Nothing more will come (the client closed, went silent, or the gateway is stopping).
    Gone,
    /// Answered with this status and text, then closed: 400 for a head that is not HTTP (or
    /// a smuggling attempt), 431 for one over the limit, 413 for a body over it. `parsed`:
    /// whether `Conn::head` holds the request's head (its method and path are logged).
    Refused {
        status: u16,
        text: &'static str,
        parsed: bool,
    },
}

const BAD: ReadHead = ReadHead::Refused {
    status: 400,
    text: "corsair: malformed request\n",
    parsed: false,
};
const TOO_LARGE: ReadHead = ReadHead::Refused {
    status: 431,
    text: "corsair: request head too large\n",
    parsed: false,
};
const TOO_BIG: ReadHead = ReadHead::Refused {
    status: 413,
    text: "corsair: request body too large\n",
    parsed: true,
};

/// For an answer after which the connection closes.
const CLOSING: RequestFacts = RequestFacts {
    content_length: 0,
    close: true,
};

/// One client connection.
pub struct Conn {
    stream: TcpStream,
    buf: BytesMut,
    out: Vec<u8>,
    req: Vec<u8>,
    clock: Clock,
    /// How long a client has for a request head (and an idle connection stays open).
    head_timeout: Duration,
    max_head: usize,
    state: Arc<State>,
    peer: Arc<Peer>,
    stop: Arc<Stop>,
    /// Registered with `stop` once, woken when the gateway stops.
    stopped: Pin<Box<tokio::sync::futures::OwnedNotified>>,
    head: Head,
    response: Head,
    /// The config this connection loaded, and its generation.
    config: (u64, Arc<Compiled>),
    /// The upstream connection of this client's last request, kept for its next one (and
    /// returned to the pool when the client goes): no pool round trip per request.
    upstream: Option<(Arc<Pool>, RawConn)>,
    /// The counter of the last decision: a kept-alive connection's requests mostly come from
    /// one origin and get the same answer.
    metric: Option<Metric>,
    /// The connection will close with client input unread (a refused head, a body not read).
    linger: bool,
    /// The status of the answer whose head is going out to the client, 0 before one is: what
    /// the access line of a request cut off mid-answer says.
    answering: u16,
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
        gateway: &crate::config::GatewaySettings,
    ) -> Self {
        let stall = Duration::from_secs_f64(gateway.stall_timeout);
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
            clock: Clock::new(stall.min(upstream_timeout), stall),
            head_timeout: stall,
            max_head: gateway.max_header_bytes.max(8192),
            peer,
            state,
            stopped: Box::pin(stop.notify.clone().notified_owned()),
            stop,
            head: Head::default(),
            response: Head::default(),
            config,
            upstream: None,
            metric: None,
            linger: false,
            answering: 0,
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
                ReadHead::Ready(f) => f,
                ReadHead::Handoff => return true,
                ReadHead::Gone => return false,
                ReadHead::Refused {
                    status,
                    text,
                    parsed,
                } => {
                    let (method, path) = if parsed {
                        (self.head.method(), path_of(self.head.target()))
                    } else {
                        ("-", "-")
                    };
                    hyper_path::log_refused(
                        &self.peer.forwarded_for,
                        method,
                        path,
                        "HTTP/1.1",
                        status,
                    );
                    self.linger = true;
                    encode::plain(&mut self.out, status, text, None, true);
                    let _ = self.clock.write(&mut self.stream, &self.out).await;
                    return false;
                }
            };
            let head = std::mem::take(&mut self.head);
            let result = self.request(&head, &facts).await;
            self.head = head;
            match result {
                Ok(Next::KeepAlive) if !facts.close => {}
                _ => return false,
            }
        }
    }

    /// Reads until a whole request head is in the buffer.
    async fn read_head(&mut self) -> ReadHead {
        self.clock.start(self.head_timeout);
        loop {
            if !self.buf.is_empty() {
                match parse_request(&self.buf, self.max_head, &mut self.head) {
                    RequestParse::Ready { len, facts } => {
                        self.buf.advance(len);
                        // Requests no decision can be made on consistently, and bodies over
                        // the limit, are answered here and the connection closed.
                        let refused = refusal(self.head.method(), None, self.head.headers())
                            .or_else(|| path_refusal(self.head.target().as_bytes()));
                        if let Some(r) = refused {
                            return ReadHead::Refused {
                                status: r.status,
                                text: r.text,
                                parsed: true,
                            };
                        }
                        self.refresh_config();
                        // A path that upstreams read as different routes (see
                        // corsair_policy::route).
                        let path = path_of(self.head.target());
                        if let Err(a) = self.config.1.headers_for(path) {
                            return ReadHead::Refused {
                                status: 400,
                                text: a.answer(),
                                parsed: true,
                            };
                        }
                        if facts.content_length > self.config.1.serve.gateway.max_body_bytes {
                            return TOO_BIG;
                        }
                        return ReadHead::Ready(facts);
                    }
                    RequestParse::Partial => {}
                    RequestParse::Elsewhere => return ReadHead::Handoff,
                    RequestParse::Malformed => return BAD,
                    RequestParse::TooLarge => return TOO_LARGE,
                }
            }
            let read = if self.buf.is_empty() {
                // Between requests: a stopping gateway closes idle connections.
                if self.stop.stopped() {
                    return ReadHead::Gone;
                }
                let stopped = self.stopped.as_mut();
                let (clock, stream, buf) = (&mut self.clock, &mut self.stream, &mut self.buf);
                tokio::select! {
                    biased;
                    r = clock.read_head(stream, buf) => r,
                    _ = stopped => return ReadHead::Gone,
                }
            } else {
                self.clock.read_head(&mut self.stream, &mut self.buf).await
            };
            match read {
                Ok(0) | Err(Broken) => return ReadHead::Gone,
                Ok(_) => {}
            }
        }
    }

    /// Handles one request whose head is `head`.
    async fn request(&mut self, head: &Head, facts: &RequestFacts) -> Result<Next, Broken> {
        let (method, target) = (head.method(), head.target());
        let mut view = RequestView {
            method,
            origin: None,
            request_method: None,
            request_headers: None,
        };
        for (name, value) in head.headers() {
            let slot = if name_is(name, "origin") {
                &mut view.origin
            } else if name_is(name, "access-control-request-method") {
                &mut view.request_method
            } else if name_is(name, "access-control-request-headers") {
                &mut view.request_headers
            } else {
                continue;
            };
            if slot.is_none() {
                *slot = Some(value);
            }
        }
        let path = path_of(target);
        let compiled = Arc::clone(&self.config.1);
        // Checked when the head was read, against this same config: a path whose route
        // cannot be told was answered 400 there, and is never forwarded.
        let Ok(policy_headers) = compiled.headers_for(path) else {
            return Err(Broken);
        };
        let d = decide(policy_headers.policy(), &view);
        self.count(&d);
        let report_only = compiled.policy.report_only;
        let names = || {
            (
                Cow::Borrowed(method),
                Cow::Borrowed(path),
                d.origin.map(Cow::Borrowed),
            )
        };
        let log = hyper_path::AccessLog::begin(&d, report_only, "HTTP/1.1", names, || {
            let mut agent = (None, None);
            for (name, value) in head.headers() {
                let v = || Some(String::from_utf8_lossy(value).into_owned());
                if name_is(name, "referer") {
                    agent.0 = agent.0.or_else(v);
                } else if name_is(name, "user-agent") {
                    agent.1 = agent.1.or_else(v);
                }
            }
            agent
        });

        self.answering = 0;
        let answered = if d.kind == RequestKind::Preflight && !report_only {
            self.preflight(&d, facts).await
        } else {
            self.forward(head, &d, &compiled, facts).await
        };
        match answered {
            Ok(answered) => {
                if let Some(log) = log {
                    log.end(&self.peer.forwarded_for, answered.status, answered.bytes);
                }
                Ok(answered.next)
            }
            Err(Broken) => {
                // Cut off mid-answer (the client went, or the upstream broke mid-body): the
                // line carries the status that went out, or nginx's 499 when none did, and no
                // size.
                if let Some(log) = log {
                    let status = if self.answering == 0 {
                        499
                    } else {
                        self.answering
                    };
                    log.end(&self.peer.forwarded_for, status, None);
                }
                Err(Broken)
            }
        }
    }

    /// Takes the reloaded config, when there is one: its policy, and `max_body_bytes` (the one
    /// `[gateway]` key a reload changes, read from it where the body is checked).
    fn refresh_config(&mut self) {
        let generation = self
            .state
            .generation
            .load(std::sync::atomic::Ordering::Acquire);
        if generation != self.config.0 {
            self.config = (generation, self.state.config.load_full());
        }
    }

    /// Answers a preflight here; a small request body is read and dropped first.
    async fn preflight(
        &mut self,
        d: &Decision<'_>,
        facts: &RequestFacts,
    ) -> Result<Answered, Broken> {
        let discard = facts.content_length <= MAX_DISCARD;
        let close = facts.close || !discard;
        self.linger |= !discard;
        encode::preflight(&mut self.out, d, close);
        self.answering = d.status;
        let drained = !discard || self.discard_body(facts.content_length).await;
        self.clock.write(&mut self.stream, &self.out).await?;
        Ok(Answered {
            status: d.status,
            next: Next::closing_if(!drained || close),
            bytes: Some(0),
        })
    }

    /// Reads more of the client's request body.
    async fn client_more(&mut self) -> bool {
        self.clock.more(&mut self.stream, &mut self.buf).await
    }

    /// Counts a CORS decision, with the counter of the last one when it is the same.
    fn count(&mut self, d: &Decision<'_>) {
        let Some(kind) = hyper_path::metric_kind(d) else {
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

    /// The gateway's own error answer; the connection goes on only if no request body is left
    /// unread.
    async fn error(
        &mut self,
        status: u16,
        text: &str,
        d: &Decision<'_>,
        compiled: &Compiled,
        facts: &RequestFacts,
    ) -> Result<Answered, Broken> {
        let cors = (!compiled.policy.report_only).then_some(d);
        let close = facts.close || facts.content_length > 0;
        self.linger |= facts.content_length > 0;
        encode::plain(&mut self.out, status, text, cors, close);
        self.answering = status;
        self.clock.write(&mut self.stream, &self.out).await?;
        Ok(Answered {
            status,
            next: Next::closing_if(close),
            bytes: Some(text.len() as u64),
        })
    }
}

/// A request target's path: what comes before its query.
fn path_of(target: &str) -> &str {
    target.split_once('?').map_or(target, |(path, _)| path)
}
