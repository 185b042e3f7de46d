//! The request to the upstream: its head rewritten for the upstream, its body copied, over this
//! client's last upstream connection or a pooled one, sent again on a fresh connection when a
//! reused one turns out closed and the request is safe to repeat.

use super::clock::Broken;
use super::{Answered, Conn, CLOSING};
use crate::hyper_path::Compiled;
use crate::pool::{RawConn, UpstreamError};
use bytes::Buf;
use corsair_http1::encode::{is_forwarded_by_proxy, is_hop_by_hop, line};
use corsair_http1::{name_is, parse_response, Head, RequestFacts, ResponseParse};
use corsair_policy::Decision;
use std::sync::Arc;
use std::task::Poll;
use tokio::io::AsyncReadExt;

/// Largest upstream response head.
const MAX_RESPONSE_HEAD: usize = 64 * 1024;

/// What the upstream sent back for a request.
pub(super) enum Answer {
    /// A final response head, now in `Conn::response`.
    Head,
    /// Bytes that are not an HTTP/1 response head: 502.
    NotHttp,
    /// The connection closed or failed before a byte of an answer.
    Nothing,
    /// No response head within the upstream timeout: 504.
    TimedOut,
}

/// Appends the head of `req` as the upstream gets it: the target under the upstream's `base`
/// path, its `Host`, the client's `Host` as `X-Forwarded-Host`, `X-Forwarded-Proto` and
/// `X-Forwarded-For` set by the gateway, hop-by-hop headers dropped.
pub(super) fn upstream_head(
    r: &mut Vec<u8>,
    req: &Head,
    base: &str,
    host: &[u8],
    forwarded_for: &[u8],
) {
    r.extend_from_slice(req.method().as_bytes());
    r.push(b' ');
    r.extend_from_slice(base.as_bytes());
    r.extend_from_slice(req.target().as_bytes());
    r.extend_from_slice(b" HTTP/1.1\r\n");
    line(r, b"host", host);
    let mut forwarded_host = false;
    for (n, value) in req.headers() {
        if name_is(n, "host") {
            if !forwarded_host {
                line(r, b"x-forwarded-host", value);
                forwarded_host = true;
            }
        } else if !(is_hop_by_hop(n) || is_forwarded_by_proxy(n)) {
            line(r, n, value);
        }
    }
    line(r, b"x-forwarded-proto", b"http");
    line(r, b"x-forwarded-for", forwarded_for);
    r.extend_from_slice(b"\r\n");
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

impl Conn {
    /// Forwards an actual request and relays the answer.
    pub(super) async fn forward(
        &mut self,
        req: &Head,
        d: &Decision<'_>,
        compiled: &Arc<Compiled>,
        facts: &RequestFacts,
    ) -> Result<Answered, Broken> {
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
        let method = req.method();
        // The request head for the upstream, and as much of the body as has arrived.
        self.req.clear();
        upstream_head(
            &mut self.req,
            req,
            &up.base,
            up.host.as_bytes(),
            self.peer.forwarded_for.as_bytes(),
        );
        let in_buffer = (self.buf.len() as u64).min(facts.content_length) as usize;
        self.req.extend_from_slice(&self.buf[..in_buffer]);
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
                method,
                "GET" | "HEAD" | "OPTIONS" | "PUT" | "DELETE" | "TRACE"
            );
        let mut conn = loop {
            let mut idle = std::iter::from_fn(|| held.take().or_else(|| pool.raw_checkout()));
            let mut conn = match idle.find(still_open) {
                Some(c) => c,
                None => {
                    reused = false;
                    match pool.raw_connect().await {
                        Ok(c) => c,
                        Err(e) => return self.unreachable(&e, d, compiled, facts).await,
                    }
                }
            };
            // A reused connection the upstream closed meanwhile fails here or with no response
            // byte at all; the request is sent again on a fresh one when it is all in hand.
            let sent = self.clock.write(&mut conn.stream, &self.req).await.is_ok()
                && (body_left == 0 || self.copy_body(&mut conn, body_left).await);
            let answer = if sent {
                self.response_head(&mut conn, compiled).await
            } else {
                Answer::Nothing
            };
            match answer {
                Answer::Head => break conn,
                Answer::NotHttp => {
                    return self
                        .bad_answer("corsair: the upstream's answer was not HTTP\n", d, compiled)
                        .await
                }
                Answer::Nothing if reused && resend => continue,
                Answer::Nothing => {
                    let why = if sent { "closed" } else { "write failed" };
                    let e = UpstreamError::Request(why.into());
                    return self.unreachable(&e, d, compiled, &CLOSING).await;
                }
                Answer::TimedOut => {
                    self.state.metrics.upstream_error("timeout");
                    tracing::warn!(upstream = pool.addr(), timeout = ?compiled.timeout(), "upstream \
                        timed out");
                    let text = "corsair: the upstream took too long\n";
                    return self.error(504, text, d, compiled, &CLOSING).await;
                }
            }
        };
        let is_head = method == "HEAD";
        let relayed = self.respond(&mut conn, is_head, d, compiled, facts).await?;
        if relayed.reuse_upstream {
            self.upstream = Some((held_pool.unwrap_or_else(|| Arc::clone(pool)), conn));
        }
        Ok(relayed.answered)
    }

    /// Copies `len` more request body bytes from the client to the upstream.
    async fn copy_body(&mut self, conn: &mut RawConn, mut len: u64) -> bool {
        loop {
            if self.buf.is_empty() && !self.client_more().await {
                return false;
            }
            let n = (self.buf.len() as u64).min(len) as usize;
            if self
                .clock
                .write(&mut conn.stream, &self.buf[..n])
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

    /// Reads the upstream's response head into `self.response`, skipping interim 1xx answers.
    async fn response_head(&mut self, conn: &mut RawConn, compiled: &Compiled) -> Answer {
        self.clock.start(compiled.timeout());
        loop {
            if !conn.buf.is_empty() {
                match parse_response(&conn.buf, MAX_RESPONSE_HEAD, &mut self.response) {
                    ResponseParse::Interim(n) => {
                        conn.buf.advance(n);
                        continue;
                    }
                    ResponseParse::Ready(n) => {
                        conn.buf.advance(n);
                        return Answer::Head;
                    }
                    ResponseParse::Partial => {}
                    ResponseParse::NotHttp => return Answer::NotHttp,
                }
            }
            let fresh = conn.buf.is_empty();
            match self.clock.within(conn.stream.read_buf(&mut conn.buf)).await {
                None => return Answer::TimedOut,
                Some(Ok(n)) if n > 0 => {}
                // Closed or reset: "no answer" only if nothing of it had come.
                Some(_) if fresh => return Answer::Nothing,
                Some(_) => return Answer::NotHttp,
            }
        }
    }

    /// 502 for an upstream that could not be reached or gave no answer.
    async fn unreachable(
        &mut self,
        e: &UpstreamError,
        d: &Decision<'_>,
        compiled: &Compiled,
        facts: &RequestFacts,
    ) -> Result<Answered, Broken> {
        self.state.metrics.upstream_error("unreachable");
        let addr = compiled.upstream().map_or("-", |u| u.pool.addr());
        tracing::warn!(error = %e, upstream = addr, "upstream request failed");
        let text = "corsair: the upstream did not answer\n";
        self.error(502, text, d, compiled, facts).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use corsair_http1::{parse_request, RequestParse};

    #[test]
    fn the_upstream_gets_its_host_and_the_forwarded_headers_and_no_hop_by_hop_ones() {
        let mut head = Head::default();
        let wire = b"GET /items?x=1 HTTP/1.1\r\nHost: gw.example\r\nX-Forwarded-Host: \
            evil\r\nX-Forwarded-Proto: https\r\nConnection: keep-alive\r\nKeep-Alive: 5\r\nOrigin: \
            https://app.example\r\nHost: second\r\n\r\n";
        assert!(matches!(
            parse_request(wire, 8192, &mut head),
            RequestParse::Ready { .. }
        ));
        let mut out = Vec::new();
        upstream_head(&mut out, &head, "/api", b"127.0.0.1:9000", b"10.0.0.7");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "GET /api/items?x=1 HTTP/1.1\r\nhost: 127.0.0.1:9000\r\nx-forwarded-host: \
                gw.example\r\nOrigin: https://app.example\r\nx-forwarded-proto: \
                http\r\nx-forwarded-for: 10.0.0.7\r\n\r\n"
        );
    }
}
