//! The allowed path allocates nothing beyond what the inner service allocates: the decision
//! borrows, the header values are prepared once, the echoed origin is the request's own value.

#![allow(unsafe_code)] // a counting global allocator is the one way to count allocations

use corsair_policy::PolicySpec;
use http::{HeaderValue, Request, Response};
use std::alloc::{GlobalAlloc, Layout, System};
use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use tower::{Layer, Service};

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn inner() -> impl Service<Request<()>, Response = Response<()>, Error = Infallible> + Clone {
    tower::service_fn(|_req: Request<()>| async {
        let mut r = Response::new(());
        r.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Ok::<_, Infallible>(r)
    })
}

fn allocations<S: Service<Request<()>, Response = Response<()>>>(
    svc: &mut S,
    req: Request<()>,
) -> usize {
    let before = ALLOCS.load(Ordering::Relaxed);
    let resp = {
        let mut fut = pin!(svc.call(req));
        match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(Ok(r)) => r,
            _ => panic!("ready"),
        }
    };
    let after = ALLOCS.load(Ordering::Relaxed);
    assert!(!resp.headers().is_empty());
    after - before
}

#[test]
fn allowed_actual_request_adds_no_allocation() {
    let spec = PolicySpec {
        origins: vec![
            "https://app.example.com".into(),
            "https://*.example.com".into(),
        ],
        expose_headers: vec!["X-Total-Count".into()],
        credentials: true,
        ..Default::default()
    };
    let mut layered = corsair_tower::CorsLayer::new(spec.build().unwrap().0).layer(inner());
    let mut bare = inner();
    // hyper parses header values as slices of its shared read buffer, so cloning one (to echo the
    // origin) only bumps a reference count; build the requests the same way.
    let shared = |s: &str| {
        let buf = bytes::Bytes::from(format!("GET / HTTP/1.1\r\norigin: {s}\r\n").into_bytes());
        let start = buf.len() - 2 - s.len();
        let v = buf.slice(start..start + s.len());
        drop(buf.clone()); // as hyper keeps the buffer shared
        HeaderValue::from_maybe_shared(v).unwrap()
    };
    let app = shared("https://app.example.com");
    let eu = shared("https://eu.shop.example.com");
    let req = || {
        Request::builder()
            .uri("/x")
            .header("origin", app.clone())
            .body(())
            .unwrap()
    };
    // Warm up once: the first clone of a prepared header value may share its buffer.
    let _ = allocations(&mut layered, req());
    let base = allocations(&mut bare, req());
    let with_layer = allocations(&mut layered, req());
    assert_eq!(
        with_layer,
        base,
        "the layer allocated {} times",
        with_layer - base
    );
    let sub = || {
        Request::builder()
            .uri("/x")
            .header("origin", eu.clone())
            .body(())
            .unwrap()
    };
    assert_eq!(allocations(&mut layered, sub()), base);
}
