//! Cost of one browser decision: classify a request and run the CORS check, and a whole
//! preflighted fetch through the state machine.
#![allow(missing_docs)] // criterion's and the examples' generated items

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
    let origin = Origin::parse_lenient("https://app.example.com").unwrap();
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

fn bench_policy(c: &mut Criterion) {
    use corsair_core::policy::{decide, RequestView};
    // The benchmarks' policy, `benches/policy.toml`, and a subdomain pattern.
    let text = include_str!("../../../benches/policy.toml");
    let (file, _) = corsair_core::policy::load(text, None, &Default::default()).unwrap();
    let mut spec = file.policy.spec().clone();
    spec.origins.push("https://*.example.com".into());
    let policy = spec.build().unwrap().0;
    let actual = RequestView {
        method: "GET",
        origin: Some(b"https://app.example.com"),
        ..Default::default()
    };
    let sub = RequestView {
        method: "GET",
        origin: Some(b"https://eu.shop.example.com"),
        ..Default::default()
    };
    let refused = RequestView {
        method: "GET",
        origin: Some(b"https://evil.example.org"),
        ..Default::default()
    };
    let pre = RequestView {
        method: "OPTIONS",
        origin: Some(b"https://app.example.com"),
        request_method: Some(b"PUT"),
        request_headers: Some(b"authorization,content-type"),
    };
    c.bench_function("policy decide: allowed actual (exact origin)", |b| {
        b.iter(|| decide(&policy, black_box(&actual)).allowed)
    });
    c.bench_function("policy decide: allowed actual (subdomain pattern)", |b| {
        b.iter(|| decide(&policy, black_box(&sub)).allowed)
    });
    c.bench_function("policy decide: refused origin", |b| {
        b.iter(|| decide(&policy, black_box(&refused)).allowed)
    });
    c.bench_function("policy decide: preflight", |b| {
        b.iter(|| decide(&policy, black_box(&pre)).allowed)
    });
}

criterion_group!(benches, bench, bench_policy);
criterion_main!(benches);
