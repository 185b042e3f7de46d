//! Cost of one browser decision: classify a request and run the CORS check, and a whole
//! preflighted fetch through the state machine.

use corsair_core::check::cors_check;
use corsair_core::{Browser, Fetch, Next, Origin, RequestSpec, ResponseHead};
use criterion::{black_box, criterion_group, criterion_main, Criterion};

fn spec(method: &str, headers: &[(&str, &str)]) -> RequestSpec {
    RequestSpec {
        url: "https://api.example.com/v1/items?page=2".into(),
        origin: "https://app.example.com".into(),
        method: method.into(),
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    }
}

fn bench(c: &mut Criterion) {
    let simple = spec("GET", &[("Accept", "application/json")]);
    let unsafe_ = spec(
        "PUT",
        &[
            ("Content-Type", "application/json"),
            ("Authorization", "Bearer x"),
            ("X-Request-Id", "42"),
        ],
    );
    let origin = Origin::parse("https://app.example.com").unwrap();
    let ok = ResponseHead::new(
        200,
        [
            ("Access-Control-Allow-Origin", "https://app.example.com"),
            ("Vary", "Origin"),
        ],
    );
    let pre = ResponseHead::new(
        204,
        [
            ("Access-Control-Allow-Origin", "https://app.example.com"),
            ("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE"),
            (
                "Access-Control-Allow-Headers",
                "content-type, authorization, x-request-id",
            ),
            ("Access-Control-Max-Age", "600"),
        ],
    );
    c.bench_function("classify simple GET", |b| {
        b.iter(|| black_box(&simple).classify(Browser::Chromium).unwrap())
    });
    c.bench_function("classify PUT with unsafe headers", |b| {
        b.iter(|| black_box(&unsafe_).classify(Browser::Chromium).unwrap())
    });
    c.bench_function("cors check (allowed)", |b| {
        b.iter(|| cors_check(black_box(&ok), &origin, false, Browser::Chromium).is_ok())
    });
    c.bench_function("classify + cors check (simple GET)", |b| {
        b.iter(|| {
            let c = black_box(&simple).classify(Browser::Chromium).unwrap();
            cors_check(black_box(&ok), &c.origin, c.credentials, Browser::Chromium).is_ok()
        })
    });
    c.bench_function("whole preflighted fetch", |b| {
        b.iter(|| {
            let mut f = Fetch::new(black_box(&unsafe_), Browser::Chromium).unwrap();
            let mut replies = [pre.clone(), ok.clone()].into_iter();
            while let Next::Send(_) = f.poll() {
                f.receive(replies.next().unwrap());
            }
            f.finish().allowed
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
