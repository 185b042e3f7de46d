//! The exchange for a request whose header values hold bytes the `http` crate refuses but Fetch
//! allows in a value (every byte but NUL, CR and LF: 0x01 to 0x08, 0x0B, 0x0C, 0x0E to 0x1F and
//! 0x7F). A browser sends them after a preflight; hyper cannot, so such a request is written by
//! hand, on its own connection, and its answer read with corsair-http1's parser (through the
//! caller's [`Lenient`](super::lenient::Lenient), as hyper's answers are).

use super::errors::net;
use super::{MAX_HEAD, SAMPLE};
use bytes::Bytes;
use corsair_http1::{parse_response, Head, ResponseParse};
use corsair_model::fetch::{NetError, Outgoing};
use corsair_model::ResponseHead;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Whether `out` needs this path: a header value with a byte the `http` crate refuses.
pub(super) fn needed(out: &Outgoing) -> bool {
    out.headers
        .iter()
        .any(|(_, v)| hyper::header::HeaderValue::from_str(v).is_err())
}

/// The request head, as hyper would write it: request line, `Host`, `User-Agent`, the
/// request's headers in order, and `Content-Length` for a body.
pub(super) fn head(
    out: &Outgoing,
    target: &str,
    host: &str,
    ua: &str,
) -> Result<Vec<u8>, NetError> {
    let mut w = format!(
        "{} {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {ua}\r\n",
        out.method.as_str()
    )
    .into_bytes();
    for (n, v) in &out.headers {
        if v.bytes().any(|b| matches!(b, 0 | b'\r' | b'\n')) {
            return Err(net(
                "ERR_INVALID_ARGUMENT",
                format!("the value of {n} holds NUL, CR or LF, which no browser sends"),
            ));
        }
        w.extend_from_slice(n.as_bytes());
        w.extend_from_slice(b": ");
        w.extend_from_slice(v.as_bytes());
        w.extend_from_slice(b"\r\n");
    }
    if let Some(b) = &out.body {
        w.extend_from_slice(format!("Content-Length: {}\r\n", b.len()).as_bytes());
    }
    w.extend_from_slice(b"\r\n");
    Ok(w)
}

/// Writes `head` and the body on `io`, and reads the answer's head and what of its body came
/// with it (at most [`SAMPLE`] bytes). The caller bounds it with its timeout.
pub(super) async fn exchange<T>(
    mut io: T,
    head: Vec<u8>,
    out: &Outgoing,
) -> Result<(ResponseHead, Bytes), NetError>
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let reset = |e: std::io::Error| net("ERR_CONNECTION_RESET", e.to_string());
    io.write_all(&head).await.map_err(reset)?;
    if let Some(b) = &out.body {
        io.write_all(b.as_ref()).await.map_err(reset)?;
    }
    io.flush().await.map_err(reset)?;
    let mut buf = Vec::with_capacity(8 * 1024);
    let mut parsed = Head::default();
    let len = loop {
        match parse_response(&buf, MAX_HEAD, &mut parsed) {
            ResponseParse::Ready(n) => break n,
            ResponseParse::Interim(n) => {
                buf.drain(..n);
                continue;
            }
            ResponseParse::NotHttp => {
                return Err(net(
                    "ERR_INVALID_HTTP_RESPONSE",
                    "the answer is not an HTTP/1 response head".into(),
                ))
            }
            ResponseParse::Partial => {}
        }
        let mut chunk = [0u8; 8 * 1024];
        let n = io.read(&mut chunk).await.map_err(reset)?;
        if n == 0 {
            return Err(net(
                "ERR_EMPTY_RESPONSE",
                "the server closed the connection before answering".into(),
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = ResponseHead {
        status: parsed.code(),
        headers: parsed
            .headers()
            .map(|(n, v)| {
                (
                    String::from_utf8_lossy(n).to_ascii_lowercase(),
                    super::lenient::unescape(v),
                )
            })
            .collect(),
    };
    let mut body = buf.split_off(len);
    body.truncate(SAMPLE);
    Ok((head, Bytes::from(body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outgoing(value: &str) -> Outgoing {
        Outgoing {
            kind: corsair_model::fetch::ExchangeKind::Actual,
            method: "PUT".into(),
            url: url::Url::parse("http://127.0.0.1:1/a").unwrap(),
            headers: vec![("X-Test".into(), value.into())],
            body: None,
        }
    }

    #[tokio::test]
    async fn a_control_byte_goes_out_as_is_and_the_answer_is_read() {
        let out = outgoing("a\u{1}b\u{7f}");
        assert!(needed(&out));
        assert!(!needed(&outgoing("a\tb")));
        let head = head(&out, "/a", "127.0.0.1:1", "ua").unwrap();
        let (mut ours, mut theirs) = tokio::io::duplex(64 * 1024);
        let server = tokio::spawn(async move {
            let mut got = vec![0u8; 4096];
            let n = theirs.read(&mut got).await.unwrap();
            got.truncate(n);
            theirs
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: *\r\nContent-Length: 2\r\n\r\nok")
                .await
                .unwrap();
            got
        });
        let (resp, body) = exchange(&mut ours, head, &out).await.unwrap();
        let sent = server.await.unwrap();
        assert!(
            sent.windows(13).any(|w| w == b"X-Test: a\x01b\x7f\r"),
            "{}",
            String::from_utf8_lossy(&sent)
        );
        assert_eq!(resp.status, 200);
        assert_eq!(resp.get("access-control-allow-origin").unwrap().value, "*");
        assert_eq!(&body[..], b"ok");
    }

    #[test]
    fn nul_cr_and_lf_are_refused() {
        for v in ["a\0", "a\rb", "a\nb"] {
            let e = head(&outgoing(v), "/", "h", "ua").unwrap_err();
            assert_eq!(e.code, "ERR_INVALID_ARGUMENT");
        }
    }
}
