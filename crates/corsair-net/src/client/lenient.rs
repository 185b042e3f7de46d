//! Reading a response head as browsers do: a header value may hold control bytes (0x01 to
//! 0x08, 0x0B, 0x0C, 0x0E to 0x1F, 0x7F). Chromium, Firefox and WebKit parse
//! `Access-Control-Allow-Origin: *\x0b` and then refuse the value as CORS; hyper's parser
//! refuses the whole response. [`Lenient`] escapes those bytes in the first response head it
//! reads, as `0xFF 0xFE (0x80 | byte)` (obs-text, which hyper keeps), and [`unescape`] turns a
//! value back into the bytes the server sent. NUL stays: Chromium fails a response with NUL in
//! a header as invalid, and so does hyper. Later heads on a kept-alive connection are read as
//! hyper reads them.

use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

const ESCAPE: [u8; 2] = [0xff, 0xfe];

fn escaped(b: u8) -> bool {
    matches!(b, 0x01..=0x08 | 0x0b | 0x0c | 0x0e..=0x1f | 0x7f)
}

pub(super) struct Lenient<S> {
    inner: S,
    /// Escaped bytes not yet handed out.
    out: Vec<u8>,
    /// The last bytes of the head seen, to find its end; `None` once it has ended.
    tail: Option<u32>,
}

impl<S> Lenient<S> {
    pub(super) fn new(inner: S) -> Lenient<S> {
        Lenient {
            inner,
            out: Vec::new(),
            tail: Some(0),
        }
    }
}

/// A header value as the server sent it, escapes undone.
pub(super) fn unescape(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i..].starts_with(&ESCAPE) && i + 2 < v.len() {
            out.push(v[i + 2] & 0x7f);
            i += 3;
        } else {
            out.push(v[i]);
            i += 1;
        }
    }
    out
}

impl<S: AsyncRead + Unpin> AsyncRead for Lenient<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.out.is_empty() {
            if self.tail.is_none() {
                return Pin::new(&mut self.inner).poll_read(cx, buf);
            }
            let mut raw = [0u8; 8 * 1024];
            let mut rb = ReadBuf::new(&mut raw);
            match Pin::new(&mut self.inner).poll_read(cx, &mut rb) {
                Poll::Ready(Ok(())) => {}
                other => return other,
            }
            let this = &mut *self;
            for &b in rb.filled() {
                match this.tail.as_mut() {
                    Some(t) => {
                        *t = (*t << 8) | u32::from(b);
                        let ended = *t == u32::from_be_bytes(*b"\r\n\r\n") || *t & 0xffff == 0x0a0a;
                        if escaped(b) {
                            this.out.extend_from_slice(&ESCAPE);
                            this.out.push(0x80 | b);
                        } else {
                            this.out.push(b);
                        }
                        if ended {
                            this.tail = None;
                        }
                    }
                    None => this.out.push(b),
                }
            }
            if self.out.is_empty() {
                // End of stream.
                return Poll::Ready(Ok(()));
            }
        }
        let n = self.out.len().min(buf.remaining());
        buf.put_slice(&self.out[..n]);
        self.out.drain(..n);
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Lenient<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn control_bytes_in_the_head_are_escaped_and_the_body_is_not() {
        let (mut theirs, ours) = tokio::io::duplex(1024);
        theirs
            .write_all(b"HTTP/1.1 200 OK\r\nA: *\x0b\x7f\r\n\r\nbody\x0b")
            .await
            .unwrap();
        drop(theirs);
        let mut got = Vec::new();
        Lenient::new(ours).read_to_end(&mut got).await.unwrap();
        assert_eq!(
            got,
            b"HTTP/1.1 200 OK\r\nA: *\xff\xfe\x8b\xff\xfe\xff\r\n\r\nbody\x0b".to_vec()
        );
        assert_eq!(unescape(b"*\xff\xfe\x8b\xff\xfe\xff"), b"*\x0b\x7f");
        assert_eq!(unescape("é".as_bytes()), "é".as_bytes());
    }
}
