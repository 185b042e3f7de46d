//! The upstream's response back to the client: the head merged with the policy's headers (one
//! plan, shared with hyper's path and corsair-tower), the body re-framed as RFC 9112 §6.3 says
//! it is delimited.

use super::clock::Broken;
use super::{encode, Answered, Conn, Next, CLOSING};
use crate::hyper_path::Compiled;
use crate::pool::RawConn;
use bytes::Buf;
use corsair_http1::encode::{content_length, is_hop_by_hop, line, status_line};
use corsair_http1::{chunk, inspect_response, name_is, Chunked, Framing, Head, RequestFacts};
use corsair_policy::{Decision, Merge, Upstream, Writes};

/// What was relayed to the client.
pub(super) struct Relayed {
    pub answered: Answered,
    /// The upstream connection can carry another request: the body was read to its end and
    /// nothing came after it.
    pub reuse_upstream: bool,
}

/// Writes the client's response head into `out`: the upstream's status and headers with the
/// hop-by-hop ones and those `plan` drops removed, the policy's headers added, `Origin` merged
/// into the last `Vary` line, `Date` when the upstream sent none, and the framing headers for
/// `framing`.
pub(super) fn client_head(
    out: &mut Vec<u8>,
    resp: &Head,
    facts: &corsair_http1::ResponseFacts<'_>,
    plan: &Merge,
    d: &Decision<'_>,
    client_close: bool,
) {
    let framing = facts.framing;
    let (drops, vary_origin) = (plan.drops_any(), plan.vary_origin());
    let mut vary_lines = facts.vary_lines;
    let mut merged = false;
    out.clear();
    status_line(out, resp.code(), resp.reason());
    for (n, value) in resp.headers() {
        if is_hop_by_hop(n)
            || (name_is(n, "content-length") && framing != Framing::None)
            || (drops && plan.drops(n))
            || facts
                .connection_options
                .iter()
                .any(|c| n.eq_ignore_ascii_case(c))
        {
            continue;
        }
        if vary_origin && name_is(n, "vary") {
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
        encode::cors(out, d);
    }
    if vary_origin && !merged {
        line(out, b"vary", b"Origin");
    }
    if !facts.date {
        encode::date(out);
    }
    match framing {
        Framing::Length(l) => content_length(out, l),
        Framing::Chunked | Framing::UntilClose => line(out, b"transfer-encoding", b"chunked"),
        Framing::None => {}
    }
    if client_close {
        line(out, b"connection", b"close");
    }
    out.extend_from_slice(b"\r\n");
}

impl Conn {
    /// Sends the upstream's response, whose head is in `self.response`, to the client.
    pub(super) async fn respond(
        &mut self,
        conn: &mut RawConn,
        head_request: bool,
        d: &Decision<'_>,
        compiled: &Compiled,
        facts: &RequestFacts,
    ) -> Result<Relayed, Broken> {
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
        resp: &Head,
        head_request: bool,
        d: &Decision<'_>,
        compiled: &Compiled,
        facts: &RequestFacts,
    ) -> Result<Relayed, Broken> {
        let status = resp.code();
        if status < 100 {
            let text = "corsair: the upstream's status is not HTTP\n";
            return self.bad_answer(text, d, compiled).await.map(not_reused);
        }
        if status == 101 {
            let text = "corsair: the upstream switched protocols unasked\n";
            return self.bad_answer(text, d, compiled).await.map(not_reused);
        }
        let head = match inspect_response(status, resp.version(), head_request, resp.headers()) {
            Ok(h) => h,
            Err(why) => {
                tracing::warn!(why, "the upstream's response framing is ambiguous");
                let text = "corsair: the upstream sent conflicting Content-Length headers\n";
                return self.bad_answer(text, d, compiled).await.map(not_reused);
            }
        };
        let plan = Merge::plan(
            Writes::of(d),
            compiled.policy.upstream_cors,
            compiled.policy.report_only,
            Upstream {
                allow_origin: head.allow_origin,
                varies_on_origin: head.varies_on_origin,
            },
        );
        // A body the upstream ends by closing goes to the client chunked: the client's
        // connection stays open, and an upstream failure mid-body shows as a missing last chunk.
        let client_close = facts.close;
        client_head(&mut self.out, resp, &head, &plan, d, client_close);
        self.answering = status;
        let complete = match head.framing {
            Framing::None => {
                self.clock.write(&mut self.stream, &self.out).await?;
                true
            }
            Framing::Length(left) => {
                self.copy_length(conn, left).await?;
                true
            }
            Framing::Chunked => match self.copy_chunked(conn).await? {
                Chunks::Done => true,
                Chunks::Malformed => {
                    let text = "corsair: the upstream's chunked body is malformed\n";
                    return self.bad_answer(text, d, compiled).await.map(not_reused);
                }
            },
            Framing::UntilClose => {
                self.copy_until_close(conn).await?;
                false
            }
        };
        Ok(Relayed {
            answered: Answered {
                status,
                next: Next::closing_if(client_close),
                bytes: match head.framing {
                    Framing::None => Some(0),
                    Framing::Length(l) => Some(l),
                    _ => None,
                },
            },
            reuse_upstream: complete && !head.close && conn.buf.is_empty(),
        })
    }

    /// Sends the head in `self.out` and a body of `left` bytes.
    async fn copy_length(&mut self, conn: &mut RawConn, mut left: u64) -> Result<(), Broken> {
        let n = (conn.buf.len() as u64).min(left) as usize;
        self.out.extend_from_slice(&conn.buf[..n]);
        conn.buf.advance(n);
        left -= n as u64;
        self.clock.write(&mut self.stream, &self.out).await?;
        while left > 0 {
            if !self.clock.more(&mut conn.stream, &mut conn.buf).await {
                return Err(Broken);
            }
            let n = (conn.buf.len() as u64).min(left) as usize;
            self.clock.write(&mut self.stream, &conn.buf[..n]).await?;
            conn.buf.advance(n);
            left -= n as u64;
        }
        Ok(())
    }

    /// Sends the head in `self.out` and a chunked body, decoded and re-encoded, one write for
    /// each read from the upstream.
    async fn copy_chunked(&mut self, conn: &mut RawConn) -> Result<Chunks, Broken> {
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
                    // Once some of it went out, cut the client off: a truncated body must not
                    // look whole.
                    return if sent {
                        Err(Broken)
                    } else {
                        Ok(Chunks::Malformed)
                    };
                }
            };
            // Everything read so far is decoded: send it before waiting for more, so that each
            // chunk reaches the client as it arrives (server-sent events, long polls).
            if !self.out.is_empty() {
                self.clock.write(&mut self.stream, &self.out).await?;
                self.out.clear();
                sent = true;
            }
            if done {
                return Ok(Chunks::Done);
            }
            if !self.clock.more(&mut conn.stream, &mut conn.buf).await {
                return Err(Broken);
            }
        }
    }

    /// Sends the head in `self.out` and a body the upstream ends by closing, as chunks.
    async fn copy_until_close(&mut self, conn: &mut RawConn) -> Result<(), Broken> {
        chunk(&mut self.out, &conn.buf);
        conn.buf.clear();
        loop {
            self.clock.write(&mut self.stream, &self.out).await?;
            self.out.clear();
            if self.clock.read(&mut conn.stream, &mut conn.buf).await? == 0 {
                break;
            }
            chunk(&mut self.out, &conn.buf);
            conn.buf.clear();
        }
        self.clock.write(&mut self.stream, b"0\r\n\r\n").await
    }

    /// 502 for an upstream answer that is not usable HTTP/1.1; the client's connection closes.
    pub(super) async fn bad_answer(
        &mut self,
        text: &str,
        d: &Decision<'_>,
        compiled: &Compiled,
    ) -> Result<Answered, Broken> {
        self.state.metrics.upstream_error("unreachable");
        tracing::warn!(text, "the upstream's response is not valid HTTP/1.1");
        self.error(502, text, d, compiled, &CLOSING).await
    }
}

/// How a chunked body went.
enum Chunks {
    Done,
    /// Malformed before any of it was sent: the client can still get a 502.
    Malformed,
}

fn not_reused(answered: Answered) -> Relayed {
    Relayed {
        answered,
        reuse_upstream: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use corsair_http1::{parse_response, ResponseParse};
    use corsair_policy::{decide, PolicySpec, RequestView, UpstreamCors};

    fn relay(upstream: &[u8], cors: UpstreamCors, client_close: bool) -> String {
        let p = PolicySpec {
            origins: vec!["https://app.example".into()],
            ..Default::default()
        }
        .build()
        .unwrap()
        .0;
        let d = decide(
            &p,
            &RequestView {
                method: "GET",
                origin: Some(b"https://app.example"),
                request_method: None,
                request_headers: None,
            },
        );
        let mut resp = Head::default();
        assert!(matches!(
            parse_response(upstream, 8192, &mut resp),
            ResponseParse::Ready(_)
        ));
        let facts = inspect_response(resp.code(), resp.version(), false, resp.headers()).unwrap();
        let plan = Merge::plan(
            Writes::of(&d),
            cors,
            false,
            Upstream {
                allow_origin: facts.allow_origin,
                varies_on_origin: facts.varies_on_origin,
            },
        );
        let mut out = Vec::new();
        client_head(&mut out, &resp, &facts, &plan, &d, client_close);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_policy_replaces_the_upstreams_cors_headers_and_vary_is_merged() {
        let head = relay(
            b"HTTP/1.1 200 OK\r\nDate: Thu, 26 Nov 2026 10:00:00 \
                GMT\r\nAccess-Control-Allow-Origin: *\r\nVary: Accept-Encoding\r\nConnection: \
                keep-alive, X-Secret\r\nX-Secret: 1\r\nContent-Length: 2\r\n\r\n",
            UpstreamCors::Override,
            false,
        );
        assert_eq!(
            head,
            "HTTP/1.1 200 OK\r\nDate: Thu, 26 Nov 2026 10:00:00 GMT\r\nVary: Accept-Encoding, \
                Origin\r\naccess-control-allow-origin: https://app.example\r\ncontent-length: 2\r\n\r\n"
        );
    }

    #[test]
    fn a_body_delimited_by_the_close_goes_out_chunked() {
        let head = relay(
            b"HTTP/1.0 200 OK\r\nAccess-Control-Allow-Origin: https://app.example\r\n\r\n",
            UpstreamCors::Preserve,
            true,
        );
        assert!(
            head.starts_with(
                "HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: \
            https://app.example\r\nvary: Origin\r\ndate: "
            ),
            "{head}"
        );
        assert!(
            head.ends_with("\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"),
            "{head}"
        );
        assert!(
            !head.contains("access-control-allow-origin"),
            "preserve keeps the upstream's: {head}"
        );
    }
}
