//! The bodies of answers on their way to the page.

use crate::upstream::{Pool, PoolKey, Sender};
use crate::Body;
use bytes::Bytes;
use corsair_relay::{Leak, Scanner, Secrets};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A response body on its way to the page, scanned for the injected secrets as it streams
/// (`corsair_relay::Scanner`): it goes out as it comes but for the few bytes that could
/// begin a secret, and is cut off (the connection closed mid-body, logged and counted) the
/// moment a secret shows. Trailers are dropped: a page cannot read them, and they are not
/// scanned.
pub(crate) struct Scanned {
    pub(crate) inner: Body,
    pub(crate) secrets: Arc<Secrets>,
    /// `None` once the body has ended or was cut off.
    pub(crate) scanner: Option<Scanner>,
    pub(crate) cuts: Arc<AtomicU64>,
    pub(crate) target: String,
}

impl hyper::body::Body for Scanned {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        use std::task::Poll;
        let this = self.get_mut();
        loop {
            let Some(scanner) = this.scanner.as_mut() else {
                return Poll::Ready(None);
            };
            let frame = match std::pin::Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(e))) => {
                    this.scanner = None;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => {
                    let held = this.scanner.take().map(Scanner::finish).unwrap_or_default();
                    if held.is_empty() {
                        return Poll::Ready(None);
                    }
                    return Poll::Ready(Some(Ok(hyper::body::Frame::data(Bytes::from(held)))));
                }
                Poll::Ready(Some(Ok(frame))) => frame,
            };
            let Ok(data) = frame.into_data() else {
                continue;
            };
            match scanner.push(&this.secrets, &data) {
                Ok(out) if out.is_empty() => {}
                Ok(out) => {
                    return Poll::Ready(Some(Ok(hyper::body::Frame::data(Bytes::from(out)))))
                }
                Err(Leak) => {
                    this.scanner = None;
                    this.cuts.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(target: "corsair::proxy", url = %this.target, "cut off a \
                        response body that carried an injected secret");
                    return Poll::Ready(Some(Err(Box::new(Leak))));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.scanner.is_none()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        // Every byte that is not cut off goes out: the upstream's length stands.
        self.inner.size_hint()
    }
}

/// A response body that hands its connection back to the pool once read to the end.
pub(crate) struct PooledBody {
    pub(crate) body: hyper::body::Incoming,
    pub(crate) sender: Option<Sender>,
    pub(crate) pool: Arc<Pool>,
    pub(crate) key: PoolKey,
}

impl hyper::body::Body for PooledBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, hyper::Error>>> {
        let this = &mut *self;
        let r = std::pin::Pin::new(&mut this.body).poll_frame(cx);
        if matches!(r, std::task::Poll::Ready(None)) || hyper::body::Body::is_end_stream(&this.body)
        {
            if let Some(s) = this.sender.take() {
                this.pool.checkin(this.key.clone(), s);
            }
        }
        r
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}
