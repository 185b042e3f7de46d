//! The closed loop under a fuzzer: for any policy that validates and any request a page can make,
//! the browser model must allow exactly what the policy's decisions allow
//! (`corsair_core::policy::proof`). The input picks policy values and a request from pools and
//! adds free text as one more origin, method and header name, so the fuzzer reaches values the
//! pools do not hold.
#![no_main]

use corsair_core::policy::{proof, PolicySpec};
use corsair_core::{Credentials, RequestSpec};
use libfuzzer_sys::fuzz_target;

const ORIGINS: &[&str] = &[
    "*", "https://app.example", "https://*.example.com", "https://*.example.com:*",
    "http://localhost:*", "http://127.0.0.1:5173", "http://*.localhost:*",
];
const METHODS: &[&str] = &["*", "GET", "PUT", "DELETE", "PATCH", "patch", "X-CUSTOM"];
const HEADERS: &[&str] = &["*", "Authorization", "Content-Type", "X-Token"];
const PAGES: &[&str] = &[
    "https://app.example", "https://a.example.com", "https://example.com", "http://localhost:3000",
    "http://127.0.0.1:5173", "https://evil.example", "http://app.localhost:8080", "null",
];
const REQUEST_METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "patch"];
const REQUEST_HEADERS: &[(&str, &str)] = &[
    ("Content-Type", "application/json"), ("Content-Type", "text/plain"),
    ("Authorization", "Bearer x"), ("X-Token", "1"), ("Accept", "*/*"),
];

fn pick<'a>(pool: &[&'a str], mask: u8) -> Vec<String> {
    pool.iter().enumerate().filter(|(i, _)| mask & (1 << (i % 8)) != 0).map(|(_, s)| s.to_string()).collect()
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let (b, rest) = data.split_at(8);
    let text = String::from_utf8_lossy(rest);
    let mut free = text.split('\n');
    let (extra_origin, extra_method, extra_header) =
        (free.next().unwrap_or(""), free.next().unwrap_or(""), free.next().unwrap_or(""));
    let mut spec = PolicySpec {
        origins: pick(ORIGINS, b[0]),
        methods: pick(METHODS, b[1]),
        request_headers: pick(HEADERS, b[2]),
        credentials: b[3] & 1 == 1,
        ..Default::default()
    };
    if b[3] & 2 != 0 && !extra_origin.is_empty() {
        spec.origins.push(extra_origin.to_string());
    }
    if b[3] & 4 != 0 && !extra_method.is_empty() {
        spec.methods.push(extra_method.to_string());
    }
    if b[3] & 8 != 0 && !extra_header.is_empty() {
        spec.request_headers.push(extra_header.to_string());
    }
    let Ok((policy, _)) = spec.build() else { return };
    let mut headers: Vec<(String, String)> = REQUEST_HEADERS
        .iter()
        .enumerate()
        .filter(|(i, _)| b[6] & (1 << i) != 0)
        .map(|(_, (n, v))| (n.to_string(), v.to_string()))
        .collect();
    headers.dedup_by(|a, b| a.0 == b.0);
    if b[7] & 1 != 0 && !extra_header.is_empty() {
        headers.push((extra_header.to_string(), "1".into()));
    }
    let method = if b[7] & 2 != 0 && !extra_method.is_empty() {
        extra_method.to_string()
    } else {
        REQUEST_METHODS[b[5] as usize % REQUEST_METHODS.len()].to_string()
    };
    let origin = if b[7] & 4 != 0 && !extra_origin.is_empty() && !extra_origin.contains('*') {
        extra_origin.to_string()
    } else {
        PAGES[b[4] as usize % PAGES.len()].to_string()
    };
    let req = RequestSpec {
        url: "https://api.example.test/items".into(),
        origin,
        method,
        headers,
        credentials: [Credentials::Omit, Credentials::SameOrigin, Credentials::Include][usize::from(b[7] >> 6) % 3],
        ..Default::default()
    };
    if let Err(d) = proof::run_all(&policy, &req) {
        panic!("{spec:?}\n{req:?}\n{d}");
    }
});
