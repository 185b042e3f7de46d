//! A cheap header-read timeout: one timer per connection, re-armed only when it fires, instead
//! of hyper's timer per request (which costs about 2 µs a request). A connection that has moved
//! no byte either way for the timeout while no request of its own is being handled is closed:
//! that covers a slow request head (slowloris), idle keep-alive connections and a client that
//! stopped reading its response, but not a long download that keeps going.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What a connection's reads and requests report to its watchdog.
pub struct Activity {
    epoch: Instant,
    /// Milliseconds since `epoch` of the last byte read or written.
    last_read_ms: AtomicU64,
    /// Requests being handled right now.
    pub busy: AtomicUsize,
}

impl Activity {
    pub fn new() -> Arc<Activity> {
        Arc::new(Activity {
            epoch: Instant::now(),
            last_read_ms: AtomicU64::new(0),
            busy: AtomicUsize::new(0),
        })
    }

    /// Records activity now.
    pub fn touch(&self) {
        self.last_read_ms
            .store(self.epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    /// Resolves when the connection has been silent for `timeout` with nothing in progress.
    pub async fn expired(&self, timeout: Duration) {
        loop {
            let last =
                self.epoch + Duration::from_millis(self.last_read_ms.load(Ordering::Relaxed));
            tokio::time::sleep_until((last + timeout).into()).await;
            let silent = self.epoch.elapsed().saturating_sub(Duration::from_millis(
                self.last_read_ms.load(Ordering::Relaxed),
            ));
            if silent >= timeout && self.busy.load(Ordering::Relaxed) == 0 {
                return;
            }
            if self.busy.load(Ordering::Relaxed) > 0 {
                // A request is being answered: look again one period later.
                self.touch();
            }
        }
    }
}

/// A stream that records when it last moved a byte either way.
pub struct Watched<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S> Watched<S> {
    pub fn new(inner: S, activity: Arc<Activity>) -> Self {
        Watched { inner, activity }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, data);
        // A response body the client is taking is progress too: a long download is not
        // silence.
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
