//! The test server's connection, with two liberties hyper does not take: a request may carry
//! the control bytes Fetch allows in a header value (0x01 to 0x08, 0x0B, 0x0C, 0x0E to 0x1F,
//! 0x7F; hyper's parser refuses them, browsers send them), which the server reads as `?`; and a
//! response header value may hold any control byte, NUL included, written by [`marked`] (hyper
//! refuses them in a value; a hostile server sends them).

use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How a control byte is written in a response header value handed to hyper: `<corsair-xHH>`.
const MARK: &[u8] = b"<corsair-x";

/// A response header value with the bytes hyper refuses written as marks, which the
/// connection turns back into the bytes.
pub fn marked(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    for &c in v {
        if (c < 0x20 && c != b'\t') || c == 0x7f {
            out.extend_from_slice(MARK);
            out.extend_from_slice(format!("{c:02x}>").as_bytes());
        } else {
            out.push(c);
        }
    }
    out
}

pub struct Wire<S> {
    inner: S,
    /// Transformed bytes not yet taken by `inner`.
    pending: Vec<u8>,
}

impl<S> Wire<S> {
    pub fn new(inner: S) -> Wire<S> {
        Wire {
            inner,
            pending: Vec::new(),
        }
    }
}

fn lenient(b: u8) -> u8 {
    match b {
        0x01..=0x08 | 0x0b | 0x0c | 0x0e..=0x1f | 0x7f => b'?',
        b => b,
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Wire<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        for b in &mut buf.filled_mut()[before..] {
            *b = lenient(*b);
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> Wire<S> {
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        while !self.pending.is_empty() {
            match Pin::new(&mut self.inner).poll_write(cx, &self.pending) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()))
                }
                Poll::Ready(Ok(n)) => {
                    self.pending.drain(..n);
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Wire<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.drain(cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
        let mut i = 0;
        while i < buf.len() {
            let byte = buf[i..]
                .strip_prefix(MARK)
                .filter(|r| r.len() >= 3 && r[2] == b'>')
                .and_then(|r| u8::from_str_radix(std::str::from_utf8(&r[..2]).ok()?, 16).ok());
            if let Some(b) = byte {
                self.pending.push(b);
                i += MARK.len() + 3;
            } else {
                self.pending.push(buf[i]);
                i += 1;
            }
        }
        // Taken: what is pending goes out now or at the next write or flush.
        let _ = self.drain(cx);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut self.inner).poll_flush(cx),
            other => other,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut self.inner).poll_shutdown(cx),
            other => other,
        }
    }
}
