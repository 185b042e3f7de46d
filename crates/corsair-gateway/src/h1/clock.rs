//! Timeouts of one connection with one timer, and the two IO helpers every read and write of
//! the connection goes through, bounded by the stall timeout.

use bytes::BytesMut;
use std::future::Future;
use std::pin::{pin, Pin};
use std::task::Poll;
use std::time::Duration;
// tokio's clock (std's `Instant` outside tests), so tests can pause time.
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

/// Bytes read from a socket at a time for a body.
pub const READ_SIZE: usize = 16 * 1024;
/// Bytes read at a time for a head (most are a few hundred bytes; idle connections should be
/// cheap to hold).
pub const HEAD_READ_SIZE: usize = 4 * 1024;

/// A read or write failed, stalled past its timeout, or found the stream closed mid-message:
/// the connection cannot be used any more.
#[derive(Debug, PartialEq, Eq)]
pub struct Broken;

/// A deadline per connection with one timer, re-armed only when it fires: a request costs a
/// clock read, not a timer registration. The timer fires at least every `period` (the shortest
/// timeout in use), so it is never late for a deadline set later.
pub struct Clock {
    sleep: Pin<Box<tokio::time::Sleep>>,
    period: Duration,
    deadline: Instant,
    /// A timeout to start counting the first time the work has to wait.
    lazy: Option<Duration>,
    /// How long the other side may take none of our bytes, or send none, in any one read or
    /// write (`[gateway] stall_timeout`).
    stall: Duration,
}

impl Clock {
    /// A clock for timeouts no shorter than `period`, and `stall` for each read and write.
    pub fn new(period: Duration, stall: Duration) -> Self {
        let now = Instant::now();
        Clock {
            sleep: Box::pin(tokio::time::sleep_until(now + period)),
            period,
            deadline: now + period,
            lazy: None,
            stall,
        }
    }

    /// Sets the deadline `timeout` from the first time the next work has to wait: work that
    /// is ready at once costs no clock read. `timeout` is at least the period.
    pub fn start(&mut self, timeout: Duration) {
        self.lazy = Some(timeout.max(self.period));
    }

    /// Runs `f` until the deadline; `None` when it passed first.
    pub async fn within<F: Future>(&mut self, f: F) -> Option<F::Output> {
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
                self.sleep.as_mut().reset(next);
            }
            Poll::Pending
        })
        .await
    }

    /// Writes all of `bytes` to the other side, which may stall for at most the stall timeout:
    /// each write that takes some of them starts the count again, so a slow reader that keeps
    /// reading is never cut off.
    pub async fn write<W: AsyncWrite + Unpin>(
        &mut self,
        io: &mut W,
        mut bytes: &[u8],
    ) -> Result<(), Broken> {
        while !bytes.is_empty() {
            self.start(self.stall);
            match self.within(io.write(bytes)).await {
                Some(Ok(n)) if n > 0 => bytes = &bytes[n..],
                _ => return Err(Broken),
            }
        }
        Ok(())
    }

    /// Reads more of a body into `buf`, waiting at most the stall timeout; `Ok(0)` at the end of
    /// the stream.
    pub async fn read<R: AsyncRead + Unpin>(
        &mut self,
        io: &mut R,
        buf: &mut BytesMut,
    ) -> Result<usize, Broken> {
        self.start(self.stall);
        if buf.capacity() - buf.len() < 4096 {
            buf.reserve(READ_SIZE);
        }
        match self.within(io.read_buf(buf)).await {
            Some(Ok(n)) => Ok(n),
            _ => Err(Broken),
        }
    }

    /// Reads more of a body: `false` at its end, or when the other side failed or stalled.
    pub async fn more<R: AsyncRead + Unpin>(&mut self, io: &mut R, buf: &mut BytesMut) -> bool {
        matches!(self.read(io, buf).await, Ok(n) if n > 0)
    }

    /// Reads more of a head into `buf`, within the deadline already started (a head has a
    /// deadline as a whole, not per read); `Ok(0)` at the end of the stream.
    pub async fn read_head<R: AsyncRead + Unpin>(
        &mut self,
        io: &mut R,
        buf: &mut BytesMut,
    ) -> Result<usize, Broken> {
        if buf.capacity() - buf.len() < 1024 {
            buf.reserve(HEAD_READ_SIZE);
        }
        match self.within(io.read_buf(buf)).await {
            Some(Ok(n)) => Ok(n),
            _ => Err(Broken),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[tokio::test(start_paused = true)]
    async fn ready_work_never_times_out() {
        let mut c = Clock::new(10 * MS, 10 * MS);
        c.start(10 * MS);
        tokio::time::advance(50 * MS).await;
        assert_eq!(c.within(async { 7 }).await, Some(7));
    }

    #[tokio::test(start_paused = true)]
    async fn a_deadline_counts_from_the_first_wait() {
        let mut c = Clock::new(10 * MS, 10 * MS);
        c.start(30 * MS);
        let started = tokio::time::Instant::now();
        assert_eq!(c.within(std::future::pending::<()>()).await, None);
        let waited = started.elapsed();
        assert!(waited >= 30 * MS && waited < 45 * MS, "{waited:?}");
        // A timeout under the period is raised to it.
        c.start(MS);
        let started = tokio::time::Instant::now();
        assert_eq!(c.within(std::future::pending::<()>()).await, None);
        assert!(started.elapsed() >= 10 * MS);
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_reader_breaks_a_write_and_a_silent_writer_a_read() {
        let mut c = Clock::new(10 * MS, 20 * MS);
        // 64 bytes of room, 1 MiB to write, nobody reading: the write stalls.
        let (mut a, mut b) = tokio::io::duplex(64);
        assert_eq!(c.write(&mut a, &[0u8; 1 << 20]).await, Err(Broken));
        let mut buf = BytesMut::new();
        // The other side sends nothing: the read stalls too.
        assert_eq!(
            c.read(&mut b, &mut buf).await.map(|_| ()),
            Ok(()),
            "64 bytes were there"
        );
        assert_eq!(c.read(&mut b, &mut buf).await, Err(Broken));
        drop(a);
        assert_eq!(
            c.read(&mut b, &mut buf).await,
            Ok(0),
            "the end of the stream"
        );
        assert!(!c.more(&mut b, &mut buf).await);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_but_steady_writer_is_not_a_stall() {
        let mut c = Clock::new(10 * MS, 20 * MS);
        let (mut a, mut b) = tokio::io::duplex(1024);
        let writer = tokio::spawn(async move {
            for _ in 0..5 {
                tokio::time::sleep(15 * MS).await;
                a.write_all(b"x").await.unwrap();
            }
        });
        let mut buf = BytesMut::new();
        while c.more(&mut b, &mut buf).await {}
        assert_eq!(&buf[..], b"xxxxx", "75 ms in all, but never 20 ms silent");
        writer.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_but_steady_reader_is_not_a_stall() {
        // 64 bytes of room and a reader taking 64 bytes every 15 ms: a 4 KiB write takes about
        // a second in all, never 20 ms without progress. One deadline for the whole write once
        // cut such a reader off.
        let mut c = Clock::new(10 * MS, 20 * MS);
        let (mut a, mut b) = tokio::io::duplex(64);
        let reader = tokio::spawn(async move {
            let mut got = 0;
            let mut buf = [0u8; 64];
            while got < 4096 {
                tokio::time::sleep(15 * MS).await;
                got += b.read(&mut buf).await.unwrap();
            }
            got
        });
        let started = tokio::time::Instant::now();
        assert_eq!(c.write(&mut a, &[7u8; 4096]).await, Ok(()));
        assert!(started.elapsed() > 500 * MS);
        assert_eq!(reader.await.unwrap(), 4096);
    }
}
